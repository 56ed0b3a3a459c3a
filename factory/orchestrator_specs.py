"""The batch orchestrator agent's six tool specs, as plain data.

The specs are generated into `tool_specs/_batch_orchestrator.json`, and the
tools in `factory.batch.orchestrator_tools` check their inputs against the
same values. Keeping them here, with no code, lets the generator read them
without importing the batch engine, and an edit to a tool's body does not
touch the generator's fingerprint.
"""

from __future__ import annotations

from typing import Any

_CSV = {"type": "string", "minLength": 1, "description": "Path of the CSV file (header row first)."}
_AGENT = {"type": "string", "minLength": 1, "description": "Agent name or extraction name."}
_BATCH = {"type": "string", "minLength": 1, "description": "Batch id returned by execute_batch_processor."}


def _spec(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"name": name, "description": description,
            "input_schema": {"type": "object", "properties": properties, "required": required}}


ORCHESTRATOR_TOOL_SPECS: tuple[dict[str, Any], ...] = (
    _spec("analyze_csv_structure",
          "Columns, row count, sample rows, inferred types and a suggested column-to-field mapping of a CSV for an agent.",
          {"csv_path": _CSV, "agent_name": _AGENT}, ["csv_path", "agent_name"]),
    _spec("validate_agent_compatibility",
          "Check that an agent takes structured output and that the CSV supplies every required input field.",
          {"csv_path": _CSV, "agent_name": _AGENT}, ["csv_path", "agent_name"]),
    _spec("generate_batch_config",
          "A batch config (column mappings, output fields, extraction methods) for running a CSV through an agent.",
          {"csv_path": _CSV, "agent_name": _AGENT}, ["csv_path", "agent_name"]),
    _spec("execute_batch_processor",
          "Run every row of a CSV through an agent and write the results CSV; returns the batch id and counts.",
          {"csv_path": _CSV, "agent_name": _AGENT,
           "config": {"type": "object", "description": "Batch config from generate_batch_config; default: suggested."},
           "invoke": {"type": "string", "description": "State machine ARN of the agent; default: the operator's "
                      "SCHEMA_FACTORY_INVOKE, else the agent record's state_machine_arn."},
           "concurrency": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
           "output_csv": {"type": "string", "description": "Where to write the results CSV."}},
          ["csv_path", "agent_name"]),
    _spec("monitor_batch_execution", "State and counts by status of a batch.",
          {"batch_id": _BATCH}, ["batch_id"]),
    _spec("get_batch_results", "Write a batch's results as CSV and return counts and the first rows.",
          {"batch_id": _BATCH, "output_csv": {"type": "string", "minLength": 1},
           "preview_rows": {"type": "integer", "minimum": 0, "maximum": 100, "default": 5}},
          ["batch_id", "output_csv"]),
)
