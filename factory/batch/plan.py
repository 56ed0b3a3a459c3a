"""One batch layer under both front ends: resolve (agent, mapping, invoker, store), run, report.

`schema-factory batch ...` and the orchestrator agent's tools both call these
functions, so they cannot drift apart: the same records (verified against the
manifest), the same rule for how an agent is called, the same result store
and the same report. Nothing here prints or exits; an interruption is a value
(`RunOutcome.interrupted`) the CLI turns into exit status 130.

How an agent is called comes from the person running the command, never from
repository data: `--invoke` (any kind), else the spec stored with the batch
being resumed (which came from `--invoke` earlier), else the agent record's
`state_machine_arn`, accepted only when it is a state machine ARN.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from factory.batch.agents import AgentSpec
from factory.batch.aws_run import AwsOptions, S3Object, aws_client, aws_errors
from factory.batch.engine import RunOptions, RunSummary
from factory.batch.invokers import Invoker, is_state_machine_arn, make_invoker, record_invoke_spec
from factory.batch.local_run import (
    LocalRunRequest,
    RunHooks,
    check_columns,
    check_out_path,
    check_ready,
    default_out_path,
    load_mapping,
    run_local,
    suggested_mapping,
)
from factory.batch.local_store import DEFAULT_STORE, DONE_STATUSES, LocalResultStore, describe_state, effective_state
from factory.batch.targets import (
    DEFAULT_SCHEMAS,
    OutputPlan,
    OutputSchemas,
    check_foreign_ready,
    config_for_csv,
    default_registry,
    effective_mapping,
    output_plan,
    resolve_target,
)
from factory.errors import FactoryError, Problem
from factory.registry.options import RegistryOptions

DEFAULT_GENERATED = Path("generated")


@dataclass(frozen=True)
class RunRequest:
    """Everything a front end can say about a batch run, before anything is resolved."""

    csv_path: Path | None = None
    agent_name: str | None = None
    generated_dir: Path = DEFAULT_GENERATED
    config_path: Path | None = None
    config: dict[str, Any] | None = None
    out_path: Path | None = None
    invoke: str | None = None  # from the person running the command (--invoke), never from a file
    resume_id: str | None = None
    store_path: Path = DEFAULT_STORE
    options: RunOptions = field(default_factory=RunOptions)
    aws: AwsOptions = field(default_factory=AwsOptions)
    schemas_dir: Path | None = DEFAULT_SCHEMAS  # where targets' registered output schemas are (<agent>.yaml)
    registry: RegistryOptions | None = field(default_factory=default_registry)  # then their AgentRegistry record

    @cached_property
    def schemas(self) -> OutputSchemas:
        """Registered output schemas, schemas_dir first, each registry read once for this request."""
        return OutputSchemas(self.schemas_dir, self.registry)


@dataclass(frozen=True)
class LocalPlan:
    """A resolved local run: nothing left to decide, nothing called yet."""

    request: RunRequest
    csv_path: Path
    agent: AgentSpec
    mapping: dict[str, Any]
    out_path: Path
    invoke: str
    invoke_origin: str
    store: LocalResultStore
    column_pairs: tuple[tuple[str, str], ...] = ()
    output: OutputPlan | None = None

    @property
    def resume_command(self) -> Callable[[str], str]:
        return lambda batch_id: resume_command(batch_id, self.request)


@dataclass(frozen=True)
class RunOutcome:
    summary: RunSummary
    plan: LocalPlan
    results_csv: Path | None

    @property
    def interrupted(self) -> bool:
        return self.summary.interrupted

    @property
    def all_succeeded(self) -> bool:
        """Every row of the batch is stored as SUCCESS or PARTIAL, none failed or missing."""
        counts = self.summary.counts
        done = sum(counts.get(status, 0) for status in DONE_STATUSES)
        return not self.interrupted and done == sum(counts.values()) == self.summary.total

    def report(self) -> dict[str, Any]:
        summary = self.summary
        return {
            "batch_id": summary.batch_id, "rows": summary.total, "skipped": summary.skipped,
            "counts": summary.counts, "interrupted": summary.interrupted, "elapsed_s": round(summary.elapsed_s, 3),
            "results_csv": self.results_csv.as_posix() if self.results_csv else None,
            "invoke": self.plan.invoke, "invoke_from": self.plan.invoke_origin,
            "resume": resume_command(summary.batch_id, self.plan.request),
            "report": report_command(summary.batch_id, self.plan.request.store_path),
        }


def report_command(batch_id: str, store_path: Path) -> str:
    """The shell line that draws a finished batch's report page (`batch report`), every argument quoted."""
    argv = ["schema-factory", "batch", "report", batch_id]
    if store_path != DEFAULT_STORE:
        argv += ["--store", store_path.as_posix()]
    return shlex.join(argv)


def resume_command(batch_id: str, request: RunRequest) -> str:
    """A shell line that resumes the batch, every argument quoted: safe to paste whatever the values hold."""
    argv = ["schema-factory", "batch", "run", "--resume", batch_id, "--store", request.store_path.as_posix()]
    if request.generated_dir != DEFAULT_GENERATED:
        argv += ["--generated", request.generated_dir.as_posix()]
    if request.invoke:
        argv += ["--invoke", request.invoke]  # not needed (the batch stores it), but says what will run
    for flag, value in _aws_call_options(request.aws).items():  # stored too; shown, so the line says where
        argv += [f"--{flag.replace('_', '-')}", value]
    defaults = RunOptions()
    for flag, name in (("--concurrency", "concurrency"), ("--timeout", "timeout"), ("--retries", "retries")):
        value = getattr(request.options, name)
        if value != getattr(defaults, name):  # how the run was asked to call the agent: the resume asks the same
            argv += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join(argv + _lookup_flags(request))


AWS_CALL_OPTIONS = ("region", "profile", "endpoint_url")  # how the agent is reached: stored with a local batch


def _aws_call_options(aws: AwsOptions) -> dict[str, str]:
    return {name: value for name in AWS_CALL_OPTIONS if (value := getattr(aws, name)) is not None}


def _with_stored_aws(request: RunRequest, stored: Any) -> RunRequest:
    """A resumed batch reaches its agent as it was started (region, profile, endpoint); a flag given now wins."""
    if not isinstance(stored, dict):
        return request
    given = {name: value for name in AWS_CALL_OPTIONS
             if getattr(request.aws, name) is None and isinstance(value := stored.get(name), str)}
    return replace(request, aws=replace(request.aws, **given)) if given else request


def _lookup_flags(request: RunRequest) -> list[str]:
    """Where the batch's registered output schema was looked up, when not the default: a resume looks there too."""
    flags = ["--schemas", request.schemas_dir.as_posix()] if request.schemas_dir not in (None, DEFAULT_SCHEMAS) \
        else []
    if request.registry is None:
        return flags + ["--registry-backend", "none"]
    default, given = RegistryOptions(None), request.registry
    for flag, name in (("--registry-env", "env_name"), ("--registry-backend", "backend"),
                       ("--registry-file", "registry_file"), ("--registry-endpoint-url", "endpoint_url"),
                       ("--agent-table", "agent_table")):
        value = getattr(given, name)
        if value is not None and value != getattr(default, name):
            flags += [flag, value.as_posix() if isinstance(value, Path) else str(value)]
    return flags


def resolve_invoke(request: RunRequest, agent: AgentSpec, stored: str | None) -> tuple[str, str]:
    """The invoke spec and where it came from; data (a record, a config) may only name a validated ARN."""
    if request.invoke:
        return request.invoke, "--invoke"
    if stored:
        return stored, "the --invoke stored with the batch"
    if agent.generated:
        return record_invoke_spec(agent.record, agent.source or agent.name), "the agent record's state_machine_arn"
    return target_invoke_spec(agent), "the config's target.arn"


def target_invoke_spec(agent: AgentSpec) -> str:
    """A target we did not make is called at its config `arn`: a state machine's for an agent, a function's
    for a tool (checked again here, whole), never anything that runs code here or names a URL."""
    target = agent.target
    arn = target.arn if target else None
    where = "the batch config"
    if arn is None:
        raise FactoryError(Problem(where, "$.target.arn", "invoke",
                                   f"{agent.target_type} {agent.name!r} has no arn in the config's target",
                                   "add target.arn, or say how to call it with --invoke"))
    if not target_arn_kind_ok(agent, arn):
        raise FactoryError(Problem(where, "$.target.arn", "invoke", f"not a {agent.target_type}'s ARN: {arn!r}",
                                   "give a state machine ARN for an agent, a Lambda function ARN for a tool"))
    return arn


def target_arn_kind_ok(agent: AgentSpec, arn: str) -> bool:
    """A tool is called by a whole Lambda function ARN, an agent by a whole state machine ARN."""
    from factory.runtime.target_kinds import kind_of

    return kind_of(agent.target_type).arn_ok(arn)


def state_machine_client(options: AwsOptions) -> Any:
    """A Step Functions client for agent calls; missing region or credentials stop the run before any row."""
    import boto3

    from factory.batch.aws_run import AGENT_ALTERNATIVE

    with aws_errors("stepfunctions", AGENT_ALTERNATIVE):
        session = boto3.session.Session(profile_name=options.profile, region_name=options.region)
        if session.get_credentials() is None:
            raise FactoryError(Problem("stepfunctions", "$", "aws-credentials", "no AWS credentials found",
                                       f"configure AWS credentials (or AWS_PROFILE), or {AGENT_ALTERNATIVE}"))
    return aws_client(options, "stepfunctions", AGENT_ALTERNATIVE)


def lambda_client(options: AwsOptions, timeout: float) -> Any:
    """A Lambda client for tool calls: it waits as long as one call may take; the engine does the retrying."""
    import boto3
    from botocore.config import Config

    from factory.batch.aws_run import AGENT_ALTERNATIVE

    with aws_errors("lambda", AGENT_ALTERNATIVE):
        session = boto3.session.Session(profile_name=options.profile, region_name=options.region)
        if session.get_credentials() is None:
            raise FactoryError(Problem("lambda", "$", "aws-credentials", "no AWS credentials found",
                                       f"configure AWS credentials (or AWS_PROFILE), or {AGENT_ALTERNATIVE}"))
        return session.client("lambda", endpoint_url=options.endpoint_url,
                              config=Config(read_timeout=timeout + 5, connect_timeout=5,
                                            retries={"mode": "standard", "max_attempts": 1}))


def make_plan_invoker(plan: LocalPlan) -> Invoker:
    options = plan.request.options
    return make_invoker(plan.invoke, sfn_client=lambda: state_machine_client(plan.request.aws),
                        lambda_client=lambda: lambda_client(plan.request.aws, options.timeout))


def _mapping(request: RunRequest, csv_path: Path, agent: AgentSpec) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    config = _config(request)
    if config is not None:
        return config_for_csv(config, csv_path), ()
    registered = None if agent.generated else request.schemas.find(agent.name)
    mapping, pairs = suggested_mapping(csv_path, agent, registered)
    return mapping, tuple(pairs)


def _config(request: RunRequest) -> dict[str, Any] | None:
    """The person's batch config (given or read from --config), before any target is resolved."""
    if request.config is not None:
        return request.config
    if request.config_path is not None:
        return load_mapping(request.config_path, None)
    return None


def _config_file(request: RunRequest) -> str:
    return request.config_path.as_posix() if request.config_path is not None else "batch config"


def _need(value: Any, what: str) -> Any:
    if value is None:
        raise FactoryError(Problem("batch run", "$", "usage", f"{what} is required", "give CSV_PATH and --agent "
                                   "(or --resume BATCH_ID)"))
    return value


def plan_local(request: RunRequest) -> LocalPlan:
    """Resolve a local run (new or resumed) and check it before any agent is called."""
    store = LocalResultStore(request.store_path)
    pairs: tuple[tuple[str, str], ...] = ()
    config_file = _config_file(request)
    if request.resume_id:
        info = store.batch(request.resume_id)
        mapping = info.config["mapping"]
        config_file = "the batch config stored with " + request.resume_id
        csv_path = Path(info.csv_path)
        agent = resolve_target(request.agent_name or info.agent_name, request.generated_dir, mapping, config_file,
                               request.schemas)
        out_path = request.out_path or Path(info.config["out"])
        stored = info.config.get("invoke")
        request = _with_stored_aws(request, info.config.get("aws"))
    else:
        csv_path = _need(request.csv_path, "CSV_PATH")
        agent = resolve_target(_need(request.agent_name, "--agent"), request.generated_dir, _config(request),
                               config_file, request.schemas)
        mapping, pairs = _mapping(request, csv_path, agent)
        out_path, stored = request.out_path or default_out_path(csv_path), None
    output = output_plan(agent, mapping, config_file, request.schemas)
    mapping = effective_mapping(mapping, output)
    invoke, origin = resolve_invoke(request, agent, stored)
    source = csv_path.as_posix()
    if agent.generated:
        check_ready(agent, mapping, source)
    else:
        check_foreign_ready(mapping, source)
    check_csv_columns(mapping, csv_path)
    check_out_path(out_path, {"the input CSV": csv_path, "the result store": request.store_path})
    return LocalPlan(request, csv_path, agent, mapping, out_path, invoke, origin, store, pairs, output)


def check_csv_columns(mapping: dict[str, Any], csv_path: Path) -> None:
    """Every mapped column is present, and none would collide with a result column (output or `_meta`)."""
    from factory.batch import csv_source

    columns = csv_source.header(csv_path)
    csv_source.check_result_columns(csv_path, columns, list(mapping.get("structured_output_fields") or []))
    check_columns(mapping, columns, csv_path.as_posix())


def run_plan(plan: LocalPlan, hooks: RunHooks = RunHooks()) -> RunOutcome:
    """Run the plan; the invoker is built first, so a bad spec stops the run before a batch is recorded."""
    invoker = make_plan_invoker(plan)
    config = {"mapping": plan.mapping, "out": plan.out_path.resolve().as_posix(), "invoke": plan.invoke,
              "aws": _aws_call_options(plan.request.aws)}
    request = LocalRunRequest(plan.csv_path, plan.agent, plan.mapping, plan.out_path, plan.request.options,
                              plan.request.resume_id, plan.output)
    summary, aggregate = run_local(request, invoker, plan.store, hooks, config)
    return RunOutcome(summary, plan, plan.out_path if aggregate is not None else None)


@dataclass(frozen=True)
class StartedBatch:
    """A batch processor execution just started: what the CLI prints and the orchestrator tool answers."""

    execution_arn: str
    execution_name: str
    state_machine_arn: str
    csv_uri: str  # where the batch processor reads the CSV
    request: dict[str, Any]  # the execution input, as sent
    start_date: Any  # StartExecution's startDate (a datetime)
    columns: tuple[tuple[str, str], ...] = ()  # (column, field) pairs of a suggested mapping

    def report(self) -> dict[str, Any]:
        return {"execution_arn": self.execution_arn, "csv_uri": self.csv_uri,
                "columns": [list(pair) for pair in self.columns]}


def run_on_step_functions(request: RunRequest) -> dict[str, Any]:
    """`batch run --engine stepfunctions`: start, and report what the CLI prints."""
    return start_on_step_functions(request).report()


def start_on_step_functions(request: RunRequest, s3_csv: S3Object | None = None,
                            file_processing_id: str | None = None) -> StartedBatch:
    """Resolve the target as a local run does, check the mapping and the CSV, then stage the CSV and start.

    The CLI and the orchestrator tool both call this, so they send the same
    request for the same inputs. `request.csv_path` is the CSV the checks read;
    with `s3_csv` (the tool's S3 input) that file is its local copy and the
    object itself is what the batch processor reads (copied into its bucket
    when elsewhere); without it the file is uploaded. `file_processing_id` is a
    caller's tracking id, passed on in the request.
    """
    from factory.batch.aws_run import discover_target, start_batch

    csv_path = _need(request.csv_path, "CSV_PATH")
    config_file = _config_file(request)
    agent = resolve_target(_need(request.agent_name, "--agent"), request.generated_dir, _config(request),
                           config_file, request.schemas)
    mapping, pairs = _mapping(request, csv_path, agent)
    output = output_plan(agent, mapping, config_file, request.schemas)
    source = s3_csv.uri if s3_csv is not None else csv_path.as_posix()
    if agent.generated:
        check_ready(agent, mapping, source)
    else:
        check_foreign_ready(mapping, source)
    check_csv_columns(effective_mapping(mapping, output), csv_path)  # the result columns this run writes
    extra = step_functions_target(request, agent, mapping, output)
    if file_processing_id is not None:
        extra["fileProcessingId"] = file_processing_id
    aws = request.aws
    with aws_errors("cloudformation"):
        target = discover_target(aws_client(aws, "cloudformation"), aws.env_name, aws.state_machine_arn, aws.bucket)
    with aws_errors("s3/stepfunctions"):
        started = start_batch(aws_client(aws, "s3"), aws_client(aws, "stepfunctions"), target,
                              s3_csv if s3_csv is not None else csv_path, effective_mapping(mapping, output),
                              agent.name, request.options.concurrency, extra)
    return StartedBatch(started["execution_arn"], started["execution_name"], target.state_machine_arn,
                        started["csv_uri"], started["request"], started["start_date"], pairs)


def step_functions_target(request: RunRequest, agent: AgentSpec, mapping: dict[str, Any],
                          output: OutputPlan) -> dict[str, Any]:
    """What the batch state machine needs beyond our own request: the target's ARN (always for a target we
    did not make; for ours when one is known, else the machine derives `<agent_name>-<env>`), and the
    configuration or registered output schema its rows are mapped by (the Lambda reads neither schemas/ nor
    the AgentRegistry)."""
    from factory.runtime.mapping_choice import SOURCE_CONFIG, SOURCE_REGISTRY

    extra: dict[str, Any] = {}
    arn = step_functions_arn(request, agent)
    if arn is not None:
        extra["target"] = {"type": agent.target_type, "name": agent.name, "arn": arn}
    if output.choice.source == SOURCE_CONFIG:
        extra["output_mappings"] = mapping["output_mappings"]
    elif output.choice.source == SOURCE_REGISTRY:
        extra["registered_schema"] = output.registered  # from schemas/ or the AgentRegistry record
    return extra


def step_functions_arn(request: RunRequest, agent: AgentSpec) -> str | None:
    """The ARN the batch processor calls, in the local engine's order: `--invoke`, else the config's
    `target.arn` (a target we did not make), else our record's `state_machine_arn` when it is one.
    The engine only starts executions and invokes functions, so anything but an ARN of the target's
    kind is refused."""
    if request.invoke:
        arn = request.invoke
    elif not agent.generated:
        arn = target_invoke_spec(agent)
    else:
        recorded = agent.record.get("state_machine_arn")
        return recorded if is_state_machine_arn(recorded) else None
    if not target_arn_kind_ok(agent, arn):
        raise FactoryError(Problem("--invoke", "$", "invoke", f"the Step Functions engine calls "
                                   f"{agent.target_type}s by their ARN, not {arn!r}",
                                   "give a state machine ARN for an agent, a Lambda function ARN for a tool"))
    return arn


def execution_state(execution_arn: str, aws: AwsOptions) -> dict[str, Any]:
    """State, summary and error of one batch processor execution."""
    from factory.batch.aws_run import execution_status

    with aws_errors("stepfunctions"):
        return execution_status(aws_client(aws, "stepfunctions"), execution_arn)


def local_batches(batch_id: str | None, store_path: Path) -> list[dict[str, Any]]:
    """State and counts of one local batch, or of every local batch in the store (none when it does not exist:
    reading never creates a store, so a mistyped --store is not left behind as an empty one)."""
    if not store_path.exists():
        if batch_id:
            raise FactoryError(Problem(store_path.as_posix(), "$", "batch-unknown",
                                       f"no result store here, so no batch {batch_id!r}",
                                       "pass the --store the batch ran with"))
        return []
    store = LocalResultStore(store_path)
    infos = [store.batch(batch_id)] if batch_id else store.batches()
    return [{"batch_id": i.batch_id, "agent": i.agent_name, "state": effective_state(i),
             "state_detail": describe_state(i), "created_at": i.created_at, "counts": store.counts(i.batch_id),
             **({"report": report_command(i.batch_id, store_path)} if effective_state(i) == "finished" else {})}
            for i in infos]


def batch_results(batch_id: str, store_path: Path, output: Path, aws: AwsOptions) -> dict[str, Any]:
    """Write a batch's results CSV (rows in input order): a local batch id or an execution ARN."""
    from factory.batch import csv_source
    from factory.batch.aws_run import download_results, is_execution_arn
    from factory.batch.local_run import write_results

    check_out_path(output, {"the result store": store_path}, flag="--output")
    if is_execution_arn(batch_id):
        with aws_errors("s3/stepfunctions"):
            status = download_results(aws_client(aws, "s3"), aws_client(aws, "stepfunctions"), batch_id, output)
        return {"results_csv": output.as_posix(), "rows": status["summary"].get("rows"),
                "counts": status["summary"].get("counts")}
    store = LocalResultStore(store_path)
    info = store.batch(batch_id)
    columns = csv_source.header(Path(info.csv_path)) if Path(info.csv_path).is_file() else None
    summary = write_results(store, batch_id, info.config["mapping"], columns, output)
    return {"results_csv": output.as_posix(), "rows": summary.rows, "counts": summary.counts, "batch_id": batch_id}
