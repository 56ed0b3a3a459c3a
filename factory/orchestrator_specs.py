"""The batch orchestrator agent's six tool specs, as plain data.

The specs are generated into `tool_specs/_batch_orchestrator.json`, and the
tools in `factory.batch.orchestrator_tools` check their inputs against the
same values. Keeping them here, with no code, lets the generator read them
without importing the batch engine, and an edit to a tool's body does not
touch the generator's fingerprint.
"""

from __future__ import annotations

from typing import Any

_CSV = {"type": "string", "minLength": 1, "description": "Path of a local CSV file (header row first); runs on the "
        "local engine."}
_S3_CSV = {"type": "string", "minLength": 1, "description": "S3 URI (s3://bucket/key) of the CSV; runs on the "
           "deployed batch processor (Step Functions)."}
_AGENT = {"type": "string", "minLength": 1, "description": "Agent name or extraction name."}
_BATCH = {"type": "string", "minLength": 1, "description": "Local batch id returned by execute_batch_processor."}
_EXECUTION = {"type": "string", "minLength": 1, "description": "Execution ARN returned by execute_batch_processor "
              "for an S3 CSV."}
_MAPPINGS = {
    "input_mapping": {"type": "object", "description": "CSV column to agent input field: {\"column_mappings\": "
                      "{column: field}} or {column: field}."},
    "output_mapping": {"type": "object", "description": "Output fields to keep: {\"structured_output_fields\": "
                       "[...]} or {field: ...}; default: every field of the agent."},
}


def _spec(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"name": name, "description": description,
            "input_schema": {"type": "object", "properties": properties, "required": required}}


# Each tool takes our inputs (local CSV path, batch id: the local engine) and the existing
# step-functions-agent orchestrator's (S3 URI, execution ARN: the deployed Step Functions engine).
ORCHESTRATOR_TOOL_SPECS: tuple[dict[str, Any], ...] = (
    _spec("analyze_csv_structure",
          "Columns, row count, sample rows and inferred types of a CSV (csv_path or s3_uri); with agent_name, "
          "also a suggested column-to-field mapping.",
          {"csv_path": _CSV, "s3_uri": _S3_CSV, "agent_name": _AGENT,
           "sample_rows": {"type": "integer", "minimum": 0, "maximum": 100, "default": 5}}, []),
    _spec("validate_agent_compatibility",
          "Check that an agent takes structured output and, given a CSV (csv_path or csv_s3_uri), that the CSV "
          "supplies every required input field.",
          {"agent_name": _AGENT, "csv_path": _CSV, "csv_s3_uri": _S3_CSV}, ["agent_name"]),
    _spec("generate_batch_config",
          "A batch config (column mappings, output fields, extraction methods) for running a CSV (csv_path, "
          "csv_s3_uri or csv_columns) through an agent.",
          {"agent_name": _AGENT, "csv_path": _CSV, "csv_s3_uri": _S3_CSV,
           "csv_columns": {"type": "array", "items": {"type": "string"}, "description": "The CSV's column names."},
           **_MAPPINGS, "max_concurrency": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
           "prompt_template": {"type": "string", "description": "The prompt an agent is sent, with {field} "
                               "placeholders; default: the row's fields as JSON."},
           "static_values": {"type": "object", "description": "{field: value} given to every row."},
           "transformations": {"type": ["array", "object"], "description": "Fields built from columns: "
                               "[{field, type: concat|template|jsonpath, ...}] or the original's "
                               "{field: {type, config}}."},
           "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 86400, "default": 300,
                               "description": "Seconds one agent call may take (local engine)."},
           "include_original": {"type": "boolean", "default": True,
                                "description": "Results always carry the input columns; kept for the original's "
                                "callers."},
           "add_metadata": {"type": "boolean", "default": True,
                            "description": "Results always carry _status, _error, _execution_time_ms and "
                            "_timestamp; kept for the original's callers."}},
          ["agent_name"]),
    _spec("execute_batch_processor",
          "Run every row of a CSV through an agent. csv_path: on the local engine, returns the batch id and counts. "
          "csv_s3_uri: starts the deployed batch processor, returns the execution ARN.",
          {"agent_name": _AGENT, "csv_path": _CSV, "csv_s3_uri": _S3_CSV,
           "config": {"type": "object", "description": "Batch config from generate_batch_config; default: suggested."},
           **_MAPPINGS,
           "invoke": {"type": "string", "description": "State machine ARN of the agent; default: the operator's "
                      "SCHEMA_FACTORY_INVOKE, else the agent record's state_machine_arn."},
           "concurrency": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
           "max_concurrency": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
           "output_csv": {"type": "string", "description": "Where to write the results CSV (local engine)."},
           "fileProcessingId": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$",
                                "description": "Caller's tracking id, passed on to the batch processor."}},
          ["agent_name"]),
    _spec("monitor_batch_execution", "State and counts by status of a batch (batch_id) or execution (execution_arn).",
          {"batch_id": _BATCH, "execution_arn": _EXECUTION}, []),
    _spec("get_batch_results",
          "Results of a batch: batch_id writes the results CSV to output_csv and returns counts and the first rows; "
          "execution_arn or execution_id returns the results CSV's S3 URI and row counts.",
          {"batch_id": _BATCH, "execution_arn": _EXECUTION,
           "execution_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,80}$",
                            "description": "Execution name of a batch processor execution."},
           "output_csv": {"type": "string", "minLength": 1, "description": "Where to write the results CSV."},
           "output_format": {"type": "string", "enum": ["csv", "json"], "description": "The results file is "
                             "CSV and this answer JSON, whichever is asked (the original takes both)."},
           "preview_rows": {"type": "integer", "minimum": 0, "maximum": 100, "default": 5}},
          []),
)
