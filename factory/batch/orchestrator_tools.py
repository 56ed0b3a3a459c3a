"""The batch orchestrator agent's six tools: thin wrappers over what the CLI uses.

Each tool is a spec (name, description, input schema) beside the function
that serves it, so the spec cannot drift from the code; `generate` writes the
specs in the same Anthropic + Bedrock form as agent tool specs. Inputs are
checked against the spec; every failure comes back as a tool error
(`{"ok": false, "error": ...}`), never as an exception the agent cannot read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from factory.errors import FactoryError
from factory.runtime.value_checks import object_problems

GENERATED_ENV = "SCHEMA_FACTORY_GENERATED"
STORE_ENV = "SCHEMA_FACTORY_RESULTS"


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    run: Callable[[dict[str, Any]], Any]


def _generated() -> Path:
    return Path(os.environ.get(GENERATED_ENV, "generated"))


def _store_path(arguments: dict[str, Any]) -> Path:
    return Path(arguments.get("store") or os.environ.get(STORE_ENV, ".schema-factory/results.sqlite"))


def _agent(name: str):
    from factory.batch.agents import resolve_agent

    return resolve_agent(name, _generated())


def analyze_csv_structure(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.analyze import analyze_csv

    return analyze_csv(Path(arguments["csv_path"]), _agent(arguments["agent_name"])).to_dict()


def validate_agent_compatibility(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.analyze import analyze_csv, batch_config
    from factory.runtime.agent_record_checks import check_agent_record

    agent = _agent(arguments["agent_name"])
    mapping = batch_config(analyze_csv(Path(arguments["csv_path"]), agent), agent)
    problems = check_agent_record(agent.record, mapping, agent.name)
    return {"compatible": not problems, "problems": problems, "agent_name": agent.name,
            "column_mappings": mapping["input_mapping"]["column_mappings"]}


def generate_batch_config(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.analyze import analyze_csv, batch_config

    agent = _agent(arguments["agent_name"])
    analysis = analyze_csv(Path(arguments["csv_path"]), agent)
    return {"config": batch_config(analysis, agent), "unmapped_required_fields": analysis.unmapped_required}


def execute_batch_processor(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.engine import RunOptions
    from factory.batch.invokers import make_invoker
    from factory.batch.local_run import LocalRunRequest, default_out_path, run_local, suggested_mapping
    from factory.batch.local_store import LocalResultStore

    agent = _agent(arguments["agent_name"])
    csv_path = Path(arguments["csv_path"])
    mapping = arguments.get("config") or suggested_mapping(csv_path, agent, quiet=True)
    spec = arguments.get("invoke") or agent.record.get("state_machine_arn")
    if not spec:
        raise ValueError(f"agent {agent.name!r} has no state_machine_arn; pass 'invoke'")
    concurrency = int(arguments.get("concurrency", 10))
    invoker = make_invoker(spec, concurrency=concurrency, sfn_client=lambda: __import__("boto3").client("stepfunctions"))
    out = Path(arguments.get("output_csv") or default_out_path(csv_path))
    request = LocalRunRequest(csv_path, agent, mapping, out, RunOptions(concurrency=concurrency))
    summary, aggregate = run_local(request, invoker, LocalResultStore(_store_path(arguments)), quiet=True,
                                   resume_hint=lambda batch_id: f"resume batch {batch_id}")
    return {"batch_id": summary.batch_id, "rows": summary.total, "counts": summary.counts,
            "results_csv": out.as_posix() if aggregate else None}


def monitor_batch_execution(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch.local_store import LocalResultStore

    store = LocalResultStore(_store_path(arguments))
    info = store.batch(arguments["batch_id"])
    return {"batch_id": info.batch_id, "state": info.state, "agent_name": info.agent_name,
            "counts": store.counts(info.batch_id)}


def get_batch_results(arguments: dict[str, Any]) -> dict[str, Any]:
    from factory.batch import csv_source
    from factory.batch.local_run import write_results
    from factory.batch.local_store import LocalResultStore

    store = LocalResultStore(_store_path(arguments))
    info = store.batch(arguments["batch_id"])
    out = Path(arguments["output_csv"])
    columns = csv_source.header(Path(info.csv_path)) if Path(info.csv_path).is_file() else None
    summary = write_results(store, info.batch_id, info.config["mapping"], columns, out)
    limit = int(arguments.get("preview_rows", 5))
    first_page = next(store.pages(info.batch_id, page_size=max(limit, 1)), [])
    return {"results_csv": out.as_posix(), "rows": summary.rows, "counts": summary.counts,
            "preview": first_page[:limit]}


_CSV = {"type": "string", "minLength": 1, "description": "Path of the CSV file (header row first)."}
_AGENT = {"type": "string", "minLength": 1, "description": "Agent name or extraction name."}
_BATCH = {"type": "string", "minLength": 1, "description": "Batch id returned by execute_batch_processor."}

ORCHESTRATOR_TOOLS: tuple[Tool, ...] = (
    Tool("analyze_csv_structure",
         "Columns, row count, sample rows, inferred types and a suggested column-to-field mapping of a CSV for an agent.",
         {"type": "object", "properties": {"csv_path": _CSV, "agent_name": _AGENT}, "required": ["csv_path", "agent_name"]},
         analyze_csv_structure),
    Tool("validate_agent_compatibility",
         "Check that an agent takes structured output and that the CSV supplies every required input field.",
         {"type": "object", "properties": {"csv_path": _CSV, "agent_name": _AGENT}, "required": ["csv_path", "agent_name"]},
         validate_agent_compatibility),
    Tool("generate_batch_config",
         "A batch config (column mappings, output fields, extraction methods) for running a CSV through an agent.",
         {"type": "object", "properties": {"csv_path": _CSV, "agent_name": _AGENT}, "required": ["csv_path", "agent_name"]},
         generate_batch_config),
    Tool("execute_batch_processor",
         "Run every row of a CSV through an agent and write the results CSV; returns the batch id and counts.",
         {"type": "object", "properties": {
             "csv_path": _CSV, "agent_name": _AGENT,
             "config": {"type": "object", "description": "Batch config from generate_batch_config; default: suggested."},
             "invoke": {"type": "string", "description": "How to call the agent (module:function, URL, exec:CMD, ARN)."},
             "concurrency": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
             "output_csv": {"type": "string", "description": "Where to write the results CSV."}},
          "required": ["csv_path", "agent_name"]},
         execute_batch_processor),
    Tool("monitor_batch_execution", "State and counts by status of a batch.",
         {"type": "object", "properties": {"batch_id": _BATCH}, "required": ["batch_id"]},
         monitor_batch_execution),
    Tool("get_batch_results", "Write a batch's results as CSV and return counts and the first rows.",
         {"type": "object", "properties": {
             "batch_id": _BATCH, "output_csv": {"type": "string", "minLength": 1},
             "preview_rows": {"type": "integer", "minimum": 0, "maximum": 100, "default": 5}},
          "required": ["batch_id", "output_csv"]},
         get_batch_results),
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
