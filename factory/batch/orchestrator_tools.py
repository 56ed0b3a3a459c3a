"""The batch orchestrator agent's six tools: thin wrappers over what the CLI uses.

Each tool is a spec (name, description, input schema; plain data in
`factory.orchestrator_specs`, which `generate` writes in the same Anthropic +
Bedrock form as agent tool specs) paired with the function that serves it;
the functions call `factory.batch.plan`, the layer under the CLI too. Inputs are
checked against the spec; every failure comes back as a tool error
(`{"ok": false, "error": ...}`), never as an exception the agent cannot read.

Each tool takes two kinds of input. Ours (a local `csv_path`, a `batch_id`) runs
the local engine. The existing step-functions-agent orchestrator's (an S3 URI, an
`execution_arn`) drives the deployed batch processor, found from the shared
stack's exports. Answers carry the fields that orchestrator's callers read as
well as ours. S3 URIs and ARNs come from a model, so each is validated before
any client is made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import csv
import datetime
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from factory import safe_io
from factory.batch.aws_run import AwsOptions, aws_client, aws_errors, download, parse_s3_uri, valid_execution_arn
from factory.errors import FactoryError
from factory.orchestrator_specs import ORCHESTRATOR_TOOL_SPECS
from factory.runtime.value_checks import object_problems

if TYPE_CHECKING:
    from factory.batch.agents import AgentSpec
    from factory.batch.plan import RunRequest

GENERATED_ENV = "SCHEMA_FACTORY_GENERATED"
STORE_ENV = "SCHEMA_FACTORY_RESULTS"
# Set by whoever deploys the tools (outside the repository): how to call agents when the input names no ARN.
INVOKE_ENV = "SCHEMA_FACTORY_INVOKE"
# The directory the tools' CSV paths must stay under (default: the working directory): a model's
# input must not read or overwrite files elsewhere.
ROOT_ENV = "SCHEMA_FACTORY_TOOL_ROOT"
# The deployment (`SchemaFactory-<env>-...` exports) the S3 and execution ARN inputs drive; default dev.
ENV_ENV = "SCHEMA_FACTORY_ENV"


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    run: Callable[[dict[str, Any]], Any]


def _generated() -> Path:
    return Path(os.environ.get(GENERATED_ENV, "generated"))


def _store_path() -> Path:
    return Path(os.environ.get(STORE_ENV, ".schema-factory/results.sqlite"))


def _path(arguments: dict[str, Any], key: str) -> Path:
    """A path from the tool's input, relative to the tools' root, refused when it resolves outside it."""
    root = Path(os.environ.get(ROOT_ENV) or Path.cwd()).resolve()
    path = (root / arguments[key]).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{key}: {arguments[key]!r} is outside {root.as_posix()} (set by {ROOT_ENV})")
    return path


def _out_path(arguments: dict[str, Any]) -> Path:
    """`output_csv` as `_path` checks it; a link there is refused, never resolved to write its target."""
    root = Path(os.environ.get(ROOT_ENV) or Path.cwd()).resolve()
    refusal = safe_io.write_refusal(root / arguments["output_csv"])
    if refusal is not None:
        raise ValueError(f"output_csv: {arguments['output_csv']!r} {refusal}")
    return _path(arguments, "output_csv")


def _agent(name: str) -> AgentSpec:
    from factory.batch.agents import resolve_agent

    return resolve_agent(name, _generated())


def _aws() -> AwsOptions:
    """The deployment the S3/ARN inputs drive: the operator's environment (region, credentials, endpoint from
    the usual AWS_* variables), never the tool input."""
    return AwsOptions(env_name=os.environ.get(ENV_ENV, "dev"))


def _one_of(arguments: dict[str, Any], *keys: str) -> str:
    """The one key of `keys` the input gives; none or several is an input error naming them."""
    given = [key for key in keys if arguments.get(key) is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {', '.join(keys)}" + (f" (got {', '.join(given)})" if given else ""))
    return given[0]


@contextlib.contextmanager
def _csv_file(arguments: dict[str, Any], *keys: str) -> Iterator[tuple[Path, str]]:
    """The CSV the input names, as a local file: a path under the root, or an S3 object downloaded to a
    temporary directory (removed afterwards). Yields (file, how to name it in messages)."""
    key = _one_of(arguments, *keys)
    if key == "csv_path":
        path = _path(arguments, key)
        yield path, path.as_posix()
        return
    uri = arguments[key]
    bucket, object_key = parse_s3_uri(uri, key)
    with tempfile.TemporaryDirectory(prefix="schema-factory-") as tmp:
        local = Path(tmp) / "input.csv"
        with aws_errors(uri):
            download(aws_client(_aws(), "s3"), bucket, object_key, local)
        yield local, uri


def _columns_csv(columns: list[str], directory: str) -> Path:
    """A header-only CSV of the given columns (the original's generate_batch_config takes only names)."""
    path = Path(directory) / "columns.csv"
    line = io.StringIO(newline="")
    csv.writer(line).writerow(columns)
    safe_io.write_bytes(path, line.getvalue().encode("utf-8"))
    return path


def _plain_types(inferred: dict[str, str]) -> dict[str, str]:
    """The existing orchestrator's `data_types`: number or string per column."""
    return {column: "number" if kind in ("integer", "number") else "string" for column, kind in inferred.items()}


def analyze_csv_structure(arguments: dict[str, Any]) -> dict[str, Any]:
    """Ours (`suggested_mapping`, ... with an agent) plus the fields of the original's analyze_csv answer."""
    from factory.batch import csv_source
    from factory.batch.analyze import SAMPLE_ROWS, TYPE_SAMPLE_ROWS, analyze_csv, infer_type

    limit = int(arguments.get("sample_rows", 5))
    with _csv_file(arguments, "csv_path", "s3_uri") as (path, source):
        if arguments.get("agent_name"):
            result = analyze_csv(path, _agent(arguments["agent_name"])).to_dict()
        else:
            columns = csv_source.header(path)
            values: dict[str, list[str]] = {column: [] for column in columns}
            samples: list[dict[str, str]] = []
            count = 0
            for row in csv_source.rows(path):
                count += 1
                if len(samples) < max(limit, SAMPLE_ROWS):
                    samples.append(row.values)
                if count <= TYPE_SAMPLE_ROWS:
                    for column in columns:
                        values[column].append(row.values[column])
            result = {"columns": columns, "row_count": count, "sample_rows": samples,
                      "inferred_types": {column: infer_type(v) for column, v in values.items()}}
        size = path.stat().st_size
    result.update({
        "column_count": len(result["columns"]), "sample_data": result["sample_rows"][:limit],
        "data_types": _plain_types(result["inferred_types"]),
        "analysis_summary": f"CSV file contains {result['row_count']} rows and {len(result['columns'])} columns",
    })
    if "s3_uri" in arguments:
        bucket, key = parse_s3_uri(arguments["s3_uri"], "s3_uri")
        result["file_info"] = {"bucket": bucket, "key": key, "size_bytes": size}
    else:
        result["file_info"] = {"path": source, "size_bytes": size}
    return result


def _output_fields(agent: AgentSpec) -> list[str]:
    return list(agent.mapping.get("structured_output_fields") or [])


def validate_agent_compatibility(arguments: dict[str, Any]) -> dict[str, Any]:
    """With a CSV, its columns are checked too; without one (the original's input), the agent alone."""
    from factory.batch.analyze import analyze_csv, batch_config
    from factory.batch.invokers import is_state_machine_arn
    from factory.runtime.agent_record_checks import check_agent_record

    agent = _agent(arguments["agent_name"])
    if arguments.get("csv_path") is not None or arguments.get("csv_s3_uri") is not None:
        with _csv_file(arguments, "csv_path", "csv_s3_uri") as (path, _source):
            mapping = batch_config(analyze_csv(path, agent), agent)
    else:
        mapping = agent.mapping
    problems = check_agent_record(agent.record, mapping, agent.name)
    structured = not check_agent_record(agent.record, agent.mapping, agent.name)
    result: dict[str, Any] = {
        "compatible": not problems, "problems": problems, "agent_name": agent.name,
        "structured_output_enabled": structured, "output_fields": _output_fields(agent),
        "column_mappings": mapping["input_mapping"]["column_mappings"],
    }
    if is_state_machine_arn(agent.record.get("state_machine_arn")):
        result["state_machine_arn"] = agent.record["state_machine_arn"]
    if problems:
        result["error"] = f"Agent {agent.name!r} cannot run this batch: " + "; ".join(problems)
    else:
        result["message"] = f"Agent {agent.name!r} is compatible with batch processing"
    return result


def _column_mappings(given: dict[str, Any]) -> dict[str, str]:
    """The original's input_mapping: {"column_mappings": {...}} or, its legacy form, the mappings themselves."""
    mappings = given.get("column_mappings", given)
    if not isinstance(mappings, dict) or not all(isinstance(v, str) for v in mappings.values()):
        raise ValueError("input_mapping: expected {\"column_mappings\": {column: field}} or {column: field}")
    return dict(mappings)


def _kept_fields(given: dict[str, Any], agent: AgentSpec) -> list[str]:
    """The original's output_mapping: structured_output_fields, else its keys (execute_batch.py does the same)."""
    fields = given["structured_output_fields"] if "structured_output_fields" in given else list(given)
    if not isinstance(fields, list) or not all(isinstance(name, str) for name in fields):
        raise ValueError("output_mapping: structured_output_fields must be a list of field names")
    known = _output_fields(agent)
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise ValueError(f"output_mapping: {unknown or fields!r} not output fields of {agent.name!r}; "
                         f"fields: {', '.join(known)}")
    return fields or known


def _mapping(arguments: dict[str, Any], path: Path, agent: AgentSpec) -> dict[str, Any]:
    """Our config as given, else the suggested one with the original's input/output mappings applied."""
    from factory.batch.analyze import analyze_csv, batch_config
    from factory.runtime.input_mapper import input_section, target_required

    if arguments.get("config") is not None:
        if arguments.get("input_mapping") is not None or arguments.get("output_mapping") is not None:
            raise ValueError("give config or input_mapping/output_mapping, not both")
        return dict(arguments["config"])
    analysis = analyze_csv(path, agent)
    mapping = batch_config(analysis, agent)
    if arguments.get("input_mapping") is not None:
        given = arguments["input_mapping"]
        # the original's forms: {"column_mappings": ...}, a flat {column: field}, or {} (same-name columns)
        section = given if "column_mappings" in given else input_section({"input_mapping": given}, analysis.columns)
        columns = _column_mappings(section)
        mapping["input_mapping"] = {key: value for key, value in mapping["input_mapping"].items()
                                    if key != "unmapped_required_fields"}
        mapping["input_mapping"]["column_mappings"] = columns
        # the rest of a full input-mapping section (as generate_batch_config writes it) is kept, not dropped
        for key in ("prompt_template", "static_values", "transformations", "field_types", "required_fields"):
            if key in given:
                mapping["input_mapping"][key] = (_transformations(given[key]) if key == "transformations"
                                                 else given[key])
        mapped = set(columns.values())
        unmapped = [name for name in target_required(input_section(mapping), agent.input_schema)
                    if name not in mapped]
        if unmapped:
            mapping["input_mapping"]["unmapped_required_fields"] = unmapped
    if arguments.get("output_mapping"):
        kept = _kept_fields(arguments["output_mapping"], agent)
        dropped = set(_output_fields(agent)) - set(kept)
        mapping["structured_output_fields"] = kept
        for key in ("output_columns", "required_output_fields"):
            if key in mapping:
                mapping[key] = [name for name in mapping[key] if name not in dropped]
    return mapping


def _transformations(given: Any) -> list[dict[str, Any]]:
    """Our transformation list, from ours or from the original's `{field: {type, config}}` form.

    The original's template names its placeholders through `config.variables`
    ({placeholder: column}); ours name the columns themselves, so each
    placeholder is replaced by its column. Every result is checked as a config's
    transformations are.
    """
    from factory.runtime.input_mapper import TEMPLATE_PLACEHOLDER, MappingConfigError, check_transformation

    specs: list[dict[str, Any]] = []
    if isinstance(given, list):
        specs = [dict(spec) if isinstance(spec, dict) else spec for spec in given]
    else:
        for field, spec in given.items():
            where = f"transformations.{field}"
            if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
                raise ValueError(f"{where}: expected {{\"type\": concat|template|jsonpath, \"config\": {{...}}}}")
            kind, config = spec.get("type"), spec.get("config", {})
            if kind == "template":
                variables = config.get("variables") or {}

                def column(match: Any, variables: Any = variables, where: str = where) -> str:
                    name = variables.get(match.group(1)) if isinstance(variables, dict) else None
                    if not isinstance(name, str) or not name or "{" in name or "}" in name:
                        raise ValueError(f"{where}: placeholder {{{match.group(1)}}} names no column in variables")
                    return "{" + name + "}"

                template = config.get("template", "")
                if not isinstance(template, str):
                    raise ValueError(f"{where}: config.template must be text")
                specs.append({"field": field, "type": kind, "template": TEMPLATE_PLACEHOLDER.sub(column, template)})
            else:
                keys = ("columns", "separator") if kind == "concat" else ("column", "path")
                specs.append({"field": field, "type": kind, **{k: config[k] for k in keys if k in config}})
    for index, spec in enumerate(specs):
        try:
            check_transformation(spec, index)
        except MappingConfigError as err:
            raise ValueError(str(err)) from None
    return specs


def _input_extras(config: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """The original generate_config's other inputs, put where our config keeps them."""
    section = dict(config["input_mapping"])
    if arguments.get("prompt_template") is not None:
        section["prompt_template"] = arguments["prompt_template"]
    if arguments.get("static_values"):
        section["static_values"] = dict(arguments["static_values"])
    if arguments.get("transformations"):
        section["transformations"] = _transformations(arguments["transformations"])
    config = {**config, "input_mapping": section}
    if arguments.get("timeout_seconds") is not None:
        config["execution_config"] = {**(config.get("execution_config") or {}),
                                      "timeout_seconds": int(arguments["timeout_seconds"])}
    return config


def generate_batch_config(arguments: dict[str, Any]) -> dict[str, Any]:
    """`config` is ours (give it back to execute_batch_processor); `input_mapping`/`output_mapping` and `summary`
    are what the original's generate_config answers, for a caller that passes those on instead."""
    agent = _agent(arguments["agent_name"])
    with contextlib.ExitStack() as stack:
        if arguments.get("csv_columns") is not None:
            _one_of(arguments, "csv_path", "csv_s3_uri", "csv_columns")
            path = _columns_csv(arguments["csv_columns"], stack.enter_context(tempfile.TemporaryDirectory()))
        else:
            path, _source = stack.enter_context(_csv_file(arguments, "csv_path", "csv_s3_uri", "csv_columns"))
        try:
            config = _input_extras(_mapping(arguments, path, agent), arguments)
            columns = _header(path)
            rows = None if arguments.get("csv_columns") is not None else _row_count(path)
        except FactoryError as err:  # name the input the model gave, not the header file made from it
            if arguments.get("csv_columns") is None:
                raise
            raise FactoryError([dataclasses.replace(problem, file="csv_columns") if problem.file == path.as_posix()
                                else problem for problem in err.problems]) from None
    section = config["input_mapping"]
    filled = {*section["column_mappings"].values(), *(section.get("static_values") or {}),
              *(spec.get("field") for spec in section.get("transformations") or [] if isinstance(spec, dict))}
    unmapped = [name for name in section.get("unmapped_required_fields", []) if name not in filled]
    if unmapped:
        section["unmapped_required_fields"] = unmapped
    else:
        section.pop("unmapped_required_fields", None)
    notes = _config_notes(section, columns, agent, arguments)
    max_concurrency = int(arguments.get("max_concurrency", 10))
    fields = list(config.get("structured_output_fields") or [])
    output_mapping = {"structured_output_fields": fields, "include_original": True, "add_metadata": True}
    return {
        "config": config, "unmapped_required_fields": unmapped,
        "input_mapping": {"column_mappings": config["input_mapping"]["column_mappings"]},
        "output_mapping": output_mapping,
        "execution_config": {"max_concurrency": max_concurrency, **(config.get("execution_config") or {})},
        "summary": {"target_agent": agent.name, "mapped_columns": len(config["input_mapping"]["column_mappings"]),
                    "output_fields": len(fields),
                    "max_concurrency": max_concurrency, "include_original_data": True},
        "message": "Batch processor configuration generated successfully",
        "cost_estimate": _cost_estimate(rows, agent),
        **({"notes": notes} if notes else {}),
    }


def _row_count(path: Path) -> int:
    from factory.batch import csv_source

    return sum(1 for _row in csv_source.rows(path))


def _cost_estimate(rows: int | None, agent: AgentSpec) -> dict[str, Any]:
    """For the CSV's rows; per 1,000 rows when only its columns were given."""
    from factory.batch.cost import estimate

    kind = "tool" if agent.target_type == "tool" else "agent"
    answer = estimate(1000 if rows is None else rows, kind).as_dict()
    if rows is None:
        answer["note"] = "per 1,000 rows (only the CSV's columns were given); " + str(answer["note"])
    return answer


def _header(path: Path) -> list[str]:
    from factory.batch import csv_source

    return list(csv_source.header(path))


def _config_notes(section: dict[str, Any], columns: list[str], agent: AgentSpec,
                  arguments: dict[str, Any]) -> list[str]:
    """What the config does not do that the caller may expect: said, not hidden."""
    from factory.runtime.input_mapper import target_properties

    notes = []
    present = set(columns)
    absent = [column for column in section["column_mappings"] if column not in present]
    if absent:
        notes.append(f"column(s) not in the CSV: {', '.join(map(repr, absent))}")
    if agent.generated:
        taken = set(target_properties(section, agent.input_schema))
        unknown = [field for field in section["column_mappings"].values() if taken and field not in taken]
        if unknown:
            notes.append(f"field(s) {agent.name!r} does not take: {', '.join(map(repr, unknown))}")
    if arguments.get("include_original") is False or arguments.get("add_metadata") is False:
        notes.append("results always carry the input columns and the _status, _error, _execution_time_ms and "
                     "_timestamp columns")
    return notes


def _tool_invoke(arguments: dict[str, Any]) -> str | None:
    """How the tool calls the agent: an ARN from the input, else the operator's setting, else the record's ARN.

    The tool's input comes from a model that reads CSV cells, so it may name
    only a state machine ARN: code on this machine (exec:, module:function)
    or a URL to send rows to is the operator's choice, in SCHEMA_FACTORY_INVOKE.
    """
    from factory.batch.invokers import is_state_machine_arn

    given = arguments.get("invoke")
    if given is not None and not is_state_machine_arn(given):
        raise ValueError(f"invoke must be a state machine ARN, not {given!r} (the operator sets other kinds in "
                         f"{INVOKE_ENV})")
    return given or os.environ.get(INVOKE_ENV) or None


def _concurrency(arguments: dict[str, Any]) -> int:
    if arguments.get("concurrency") is not None and arguments.get("max_concurrency") is not None:
        raise ValueError("give concurrency or max_concurrency, not both")
    return int(arguments.get("concurrency") or arguments.get("max_concurrency") or 10)


def _run_request(arguments: dict[str, Any], path: Path, **fields: Any) -> RunRequest:
    """The tool's input as the CLI's request: the original's input/output mappings applied to the suggested
    config, else the `config` as given, else none (the plan suggests one, as the CLI does)."""
    from factory.batch.engine import RunOptions
    from factory.batch.plan import RunRequest

    config = _mapping(arguments, path, _agent(arguments["agent_name"])) if (
        arguments.get("input_mapping") is not None or arguments.get("output_mapping")) else arguments.get("config")
    timeout = ((config or {}).get("execution_config") or {}).get("timeout_seconds")
    options = RunOptions(concurrency=_concurrency(arguments))
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        options = dataclasses.replace(options, timeout=float(timeout))  # generate_batch_config's timeout_seconds
    return RunRequest(path, arguments["agent_name"], _generated(), config=config, store_path=_store_path(),
                      options=options, **fields)


def execute_batch_processor(arguments: dict[str, Any]) -> dict[str, Any]:
    key = _one_of(arguments, "csv_path", "csv_s3_uri")
    if key == "csv_s3_uri":
        return _execute_on_step_functions(arguments)
    if arguments.get("fileProcessingId") is not None:
        raise ValueError("fileProcessingId is passed to the deployed batch processor: give csv_s3_uri")
    from factory.batch.plan import plan_local, run_plan

    path = _path(arguments, "csv_path")
    request = _run_request(arguments, path, invoke=_tool_invoke(arguments),
                           out_path=_out_path(arguments) if arguments.get("output_csv") else None)
    report = run_plan(plan_local(request)).report()
    return {key: report[key] for key in ("batch_id", "rows", "counts", "results_csv")}


def _execute_on_step_functions(arguments: dict[str, Any]) -> dict[str, Any]:
    """Start the deployed batch processor on an S3 CSV through `start_on_step_functions`, as
    `batch run --engine stepfunctions` does for a local one: the same target, checks and request.

    What is the tool's own: the CSV is downloaded to read its header, the
    object itself is what the batch processor reads; the input's `invoke` is
    the only ARN it may add (the operator's SCHEMA_FACTORY_INVOKE names how
    the local engine calls, not this one); and the answer has the fields the
    existing orchestrator's callers read.
    """
    from factory.batch.aws_run import S3Object
    from factory.batch.plan import start_on_step_functions

    if arguments.get("output_csv") is not None:
        raise ValueError("output_csv is for the local engine; get_batch_results returns the S3 results")
    invoke = _tool_invoke(arguments) if arguments.get("invoke") else None
    aws = _aws()
    with _csv_file(arguments, "csv_s3_uri") as (path, uri):
        s3_csv = S3Object(*parse_s3_uri(uri, "csv_s3_uri"))
        started = start_on_step_functions(_run_request(arguments, path, invoke=invoke, aws=aws), s3_csv,
                                          arguments.get("fileProcessingId"))
    with aws_errors("stepfunctions"):
        described = aws_client(aws, "stepfunctions").describe_execution(executionArn=started.execution_arn)
    return {
        "execution_arn": started.execution_arn, "execution_name": started.execution_name,
        "status": described["status"], "start_time": started.start_date.isoformat(),
        "state_machine_arn": started.state_machine_arn, "input_config": started.request,
        "csv_s3_uri": started.csv_uri,
        "message": f"Batch processing started successfully. Execution ID: {started.execution_name}",
        "monitor_command": f"Use 'monitor_batch_execution' with execution_arn: {started.execution_arn}",
    }


def _batch_execution(execution_arn: str) -> tuple[dict[str, Any], Any]:
    """DescribeExecution of an execution of the deployed batch processor, and nothing else: the ARN is
    checked against the shared stack's export before it is described."""
    from factory.batch.aws_run import discover_target, state_machine_of

    aws = _aws()
    with aws_errors("cloudformation"):
        target = discover_target(aws_client(aws, "cloudformation"), aws.env_name, None, None)
    if state_machine_of(execution_arn) != target.state_machine_arn:
        raise ValueError(f"execution_arn: {execution_arn!r} is not an execution of the batch processor "
                         f"{target.state_machine_arn}")
    with aws_errors(execution_arn):
        described = aws_client(aws, "stepfunctions").describe_execution(executionArn=execution_arn)
    return described, target


def _execution_output(described: dict[str, Any]) -> dict[str, Any]:
    try:
        output = json.loads(described.get("output") or "{}")
    except ValueError:
        return {}
    return output if isinstance(output, dict) else {}


_STATUS_MESSAGES = {"RUNNING": "Batch processing is running...",
                    "SUCCEEDED": "Batch processing completed successfully!", "FAILED": "Batch processing failed",
                    "TIMED_OUT": "Batch processing timed out", "ABORTED": "Batch processing was aborted"}


def _monitor_execution(execution_arn: str) -> dict[str, Any]:
    """The fields of the original's monitor_execution answer, plus `state` and `counts` as the local answer has."""
    described, _target = _batch_execution(valid_execution_arn(execution_arn, "execution_arn"))
    status, started = described["status"], described["startDate"]
    stopped = described.get("stopDate")
    now = datetime.datetime.now(started.tzinfo or datetime.timezone.utc)
    result: dict[str, Any] = {
        "execution_arn": execution_arn, "status": status, "state": status, "start_time": started.isoformat(),
        "duration_seconds": round(((stopped or now) - started).total_seconds(), 2), "is_running": status == "RUNNING",
        "message": _STATUS_MESSAGES.get(status, status),
    }
    if stopped:
        result["end_time"] = stopped.isoformat()
    if status == "RUNNING":
        result["polling_guidance"] = {"status": "in_progress", "recommended_wait_seconds": 30}
    elif status == "SUCCEEDED":
        result["next_step"] = "Use 'get_batch_results' to retrieve the output"
        result["output_summary"] = _execution_output(described)
        result["counts"] = result["output_summary"].get("counts")
    if described.get("error") or described.get("cause"):
        result["error"], result["cause"] = described.get("error"), described.get("cause", "Unknown error")
    return result


def monitor_batch_execution(arguments: dict[str, Any]) -> dict[str, Any]:
    if _one_of(arguments, "batch_id", "execution_arn") == "execution_arn":
        return _monitor_execution(arguments["execution_arn"])
    from factory.batch.plan import local_batches

    (entry,) = local_batches(arguments["batch_id"], _store_path())
    return {"batch_id": entry["batch_id"], "state": entry["state"], "agent_name": entry["agent"],
            "counts": entry["counts"]}


def _execution_results(arguments: dict[str, Any]) -> dict[str, Any]:
    """The fields of the original's get_results answer: `output_csv_uri`, `summary.total_rows`, ...; with
    output_csv, the CSV is downloaded there too (from the batch bucket only)."""
    from factory.batch.aws_run import discover_target

    if arguments.get("execution_id") is not None:
        aws = _aws()
        with aws_errors("cloudformation"):
            target = discover_target(aws_client(aws, "cloudformation"), aws.env_name, None, None)
        head, _, machine = target.state_machine_arn.rpartition(":stateMachine:")
        execution_arn = f"{head}:execution:{machine}:{arguments['execution_id']}"
    else:
        execution_arn = arguments["execution_arn"]
    described, target = _batch_execution(valid_execution_arn(execution_arn, "execution_arn"))
    status = described["status"]
    if status != "SUCCEEDED":
        raise ValueError(f"Execution status is {status}, not SUCCEEDED: wait for it to finish "
                         "(monitor_batch_execution)")
    output = _execution_output(described)
    counts = output.get("counts") or {}
    uri = output.get("output_csv_uri") or output.get("output_location") or output.get("csv_uri") or ""
    total = output.get("total_rows", output.get("rows", 0))
    succeeded = output.get("successful_rows", counts.get("SUCCESS", 0) + counts.get("PARTIAL", 0))
    failed = output.get("failed_rows", counts.get("FAILED", 0))
    result: dict[str, Any] = {
        "execution_arn": execution_arn, "status": "SUCCESS", "output_csv_uri": uri, "total_rows": total,
        "summary": {"total_rows": total, "successful_rows": succeeded, "failed_rows": failed,
                    "success_rate": f"{100 * succeeded / total:.1f}%" if total else "N/A",
                    "processing_time": str(described["stopDate"] - described["startDate"])},
        "columns": output.get("column_names", []), "counts": counts,
        "execution_details": {"start_time": described["startDate"].isoformat(),
                              "end_time": described["stopDate"].isoformat(),
                              "execution_id": execution_arn.rsplit(":", 1)[1]},
        "message": f"Successfully retrieved results. Output saved to: {uri}",
    }
    if failed:
        result["failure_info"] = (f"{failed} rows failed processing. Check the _status and _error columns in the "
                                  "output CSV for details.")
    if arguments.get("output_csv") is not None:
        bucket, key = parse_s3_uri(uri, "the execution's output_csv_uri")
        if bucket != target.bucket:
            raise ValueError(f"the results CSV {uri!r} is not in the batch bucket {target.bucket!r}")
        out = _out_path(arguments)
        from factory.batch.local_run import check_out_path

        check_out_path(out, {"the result store": _store_path()}, flag="output_csv")
        with aws_errors(uri):
            download(aws_client(_aws(), "s3"), bucket, key, out)
        result["results_csv"] = out.as_posix()
    return result


def get_batch_results(arguments: dict[str, Any]) -> dict[str, Any]:
    if _one_of(arguments, "batch_id", "execution_arn", "execution_id") != "batch_id":
        return _execution_results(arguments)
    from factory.batch.local_store import LocalResultStore
    from factory.batch.plan import batch_results

    if arguments.get("output_csv") is None:
        raise ValueError("output_csv: required with batch_id (where to write the results CSV)")
    store_path = _store_path()
    written = batch_results(arguments["batch_id"], store_path, _out_path(arguments), AwsOptions())
    limit = int(arguments.get("preview_rows", 5))
    first_page = next(LocalResultStore(store_path).pages(arguments["batch_id"], page_size=max(limit, 1)), [])
    return {"results_csv": written["results_csv"], "rows": written["rows"], "counts": written["counts"],
            "preview": first_page[:limit]}


_RUNS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "analyze_csv_structure": analyze_csv_structure,
    "validate_agent_compatibility": validate_agent_compatibility,
    "generate_batch_config": generate_batch_config,
    "execute_batch_processor": execute_batch_processor,
    "monitor_batch_execution": monitor_batch_execution,
    "get_batch_results": get_batch_results,
}
ORCHESTRATOR_TOOLS: tuple[Tool, ...] = tuple(
    Tool(spec["name"], spec["description"], spec["input_schema"], _RUNS[spec["name"]]) for spec in ORCHESTRATOR_TOOL_SPECS
)
TOOLS_BY_NAME = {tool.name: tool for tool in ORCHESTRATOR_TOOLS}


def call_tool(name: str, arguments: Any) -> dict[str, Any]:
    """Run one tool; every failure becomes a tool error the agent can read."""
    tool = TOOLS_BY_NAME.get(name) if isinstance(name, str) else None
    if tool is None:
        return {"ok": False, "error": f"unknown tool {name!r}; tools: {', '.join(TOOLS_BY_NAME)}"}
    problems = object_problems(arguments, tool.input_schema)
    unknown = sorted(set(arguments) - set(tool.input_schema["properties"])) if isinstance(arguments, dict) else []
    problems += [f"{key}: not an input of {name}" for key in unknown]
    if problems:
        return {"ok": False, "error": "invalid input: " + "; ".join(problems)}
    try:
        return {"ok": True, "result": tool.run(arguments)}
    except FactoryError as err:
        return {"ok": False, "error": "; ".join(p.render() for p in err.problems)}
    except Exception as err:  # noqa: BLE001 - the agent gets the message, not a stack trace
        return {"ok": False, "error": f"{type(err).__name__}: {err}"}


def _apply_polling(content: Any, metadata: Any) -> None:
    """The existing agents add {"polling_metadata": {"interval", "max_attempts"}} to a polled tool's call (their
    tool config's polling_interval); a running execution's guidance then names that wait, as theirs does."""
    guidance = content.get("polling_guidance") if isinstance(content, dict) else None
    if not isinstance(guidance, dict) or not isinstance(metadata, dict):
        return
    interval, attempts = metadata.get("interval"), metadata.get("max_attempts")
    if isinstance(interval, int) and not isinstance(interval, bool) and 0 < interval <= 3600:
        guidance["recommended_wait_seconds"] = interval
    if isinstance(attempts, int) and not isinstance(attempts, bool) and 0 < attempts <= 1000:
        guidance["max_attempts"] = attempts


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: {"tool": name, "input": {...}} (also accepts "name"/"arguments").

    The existing step-functions-agent agents call a tool Lambda with {"name", "id", "input"} and put
    its answer in the conversation as is, so such a call (it has "id") is answered as they answer:
    {"type": "tool_result", "name", "tool_use_id", "content": <the result, or {"error", "message"}, as JSON>}.
    """
    name = event.get("tool") or event.get("name") or ""
    answer = call_tool(name, event.get("input", event.get("arguments", {})))
    if "id" not in event:
        return answer
    content = answer["result"] if answer["ok"] else {"error": answer["error"], "message": answer["error"]}
    _apply_polling(content, event.get("polling_metadata"))
    return {"type": "tool_result", "name": name, "tool_use_id": str(event["id"]) if event["id"] else None,
            "content": json.dumps(content, ensure_ascii=False, default=str)}
