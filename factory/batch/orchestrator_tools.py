"""The batch orchestrator agent's six tools: thin wrappers over what the CLI uses.

Each tool is a spec (name, description, input schema; plain data in
`factory.orchestrator_specs`, which `generate` writes in the same Anthropic +
Bedrock form as agent tool specs) paired with the function that serves it;
the functions call `factory.batch.plan`, the layer under the CLI too. Inputs are
checked against the spec; every failure comes back as a tool error
(`{"ok": false, "error": ...}`), never as an exception the agent cannot read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from factory.batch.aws_run import AwsOptions
from factory.errors import FactoryError
from factory.orchestrator_specs import ORCHESTRATOR_TOOL_SPECS
from factory.runtime.value_checks import object_problems

if TYPE_CHECKING:
    from factory.batch.agents import AgentSpec

GENERATED_ENV = "SCHEMA_FACTORY_GENERATED"
STORE_ENV = "SCHEMA_FACTORY_RESULTS"
# Set by whoever deploys the tools (outside the repository): how to call agents when the input names no ARN.
INVOKE_ENV = "SCHEMA_FACTORY_INVOKE"
# The directory the tools' CSV paths must stay under (default: the working directory): a model's
# input must not read or overwrite files elsewhere.
ROOT_ENV = "SCHEMA_FACTORY_TOOL_ROOT"


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


def _agent(name: str) -> AgentSpec:
    from factory.batch.agents import resolve_agent

    return resolve_agent(name, _generated())


def analyze_csv_structure(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.analyze import analyze_csv

    return analyze_csv(_path(arguments, "csv_path"), _agent(arguments["agent_name"])).to_dict()


def validate_agent_compatibility(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.analyze import analyze_csv, batch_config
    from factory.runtime.agent_record_checks import check_agent_record

    agent = _agent(arguments["agent_name"])
    mapping = batch_config(analyze_csv(_path(arguments, "csv_path"), agent), agent)
    problems = check_agent_record(agent.record, mapping, agent.name)
    return {"compatible": not problems, "problems": problems, "agent_name": agent.name,
            "column_mappings": mapping["input_mapping"]["column_mappings"]}


def generate_batch_config(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.analyze import analyze_csv, batch_config

    agent = _agent(arguments["agent_name"])
    analysis = analyze_csv(_path(arguments, "csv_path"), agent)
    return {"config": batch_config(analysis, agent), "unmapped_required_fields": analysis.unmapped_required}


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


def execute_batch_processor(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.engine import RunOptions
    from factory.batch.plan import RunRequest, plan_local, run_plan

    concurrency = int(arguments.get("concurrency", 10))
    request = RunRequest(
        _path(arguments, "csv_path"), arguments["agent_name"], _generated(), config=arguments.get("config"),
        out_path=_path(arguments, "output_csv") if arguments.get("output_csv") else None,
        invoke=_tool_invoke(arguments), store_path=_store_path(), options=RunOptions(concurrency=concurrency),
    )
    report = run_plan(plan_local(request)).report()
    return {key: report[key] for key in ("batch_id", "rows", "counts", "results_csv")}


def monitor_batch_execution(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.plan import local_batches

    (entry,) = local_batches(arguments["batch_id"], _store_path())
    return {"batch_id": entry["batch_id"], "state": entry["state"], "agent_name": entry["agent"],
            "counts": entry["counts"]}


def get_batch_results(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.local_store import LocalResultStore
    from factory.batch.plan import batch_results

    store_path = _store_path()
    written = batch_results(arguments["batch_id"], store_path, _path(arguments, "output_csv"), AwsOptions())
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
    tool = TOOLS_BY_NAME.get(name)
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


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: {"tool": name, "input": {...}} (also accepts "name"/"arguments")."""
    name = event.get("tool") or event.get("name") or ""
    return call_tool(name, event.get("input", event.get("arguments", {})))
