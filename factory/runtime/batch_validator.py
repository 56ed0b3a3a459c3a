"""Check a batch before any row runs: the state machine's first Lambda.

One call answers "would every row fail?": the agent is registered with
structured output enabled, every required input is mapped, and the CSV in S3
has a readable header containing the mapped columns. It also returns the
header as `input_columns`, the order the aggregator writes input columns in
(DynamoDB maps keep no order, so the header is carried through the run), and
the agent record's input and output schemas, which every row's mappers use.
"""

from __future__ import annotations

import os
import re
from typing import Any

from factory.runtime.csv_source import HEADER_PROBE_BYTES, CsvInputError, header_from_probe
from factory.runtime.agent_record_checks import (
    check_agent_record,
    load_agent_record,
    record_input_schema,
    structured_output_config,
)
from factory.runtime.input_mapper import input_section, target_required
from factory.runtime.result_store import from_dynamodb

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def referenced_columns(section: dict[str, Any]) -> dict[str, str]:
    """{csv column: the field it feeds} for every column the mapping reads."""
    columns = {column: field for column, field in (section.get("column_mappings") or {}).items()}
    for spec in section.get("transformations") or []:
        if not isinstance(spec, dict):
            continue
        names = list(spec.get("columns") or [])
        names += _PLACEHOLDER.findall(spec.get("template") or "")
        names += [spec["column"]] if spec.get("column") else []
        for name in names:
            columns.setdefault(name, spec.get("field", "?"))
    return columns


def validate_batch(
    record: dict[str, Any] | None, mapping: dict[str, Any], header: list[str], agent_name: str = ""
) -> dict[str, Any]:
    """{"valid", "errors", "warnings", "input_columns"} for a batch about to start."""
    errors = check_agent_record(record, mapping, agent_name)
    warnings = []
    section = input_section(mapping)
    required = set(target_required(section, record_input_schema(record) if record else None))
    static = set((section.get("static_values") or {}).keys())
    present = set(header)
    for column, field in referenced_columns(section).items():
        if column in present:
            continue
        if field in required and field not in static:
            errors.append(f"CSV has no column {column!r}, which feeds the required field {field!r}")
        else:
            warnings.append(f"CSV has no column {column!r} (field {field!r} will be empty)")
    schemas = (structured_output_config(record) or {}).get("schemas") or {} if record else {}
    return {
        "valid": not errors,
        "errors": errors,
        "warnings": warnings,
        "input_columns": list(header),
        "input_schema": from_dynamodb(schemas.get("input") or {}),
        "output_schema": from_dynamodb(schemas.get("output") or {}),
    }


def read_s3_header(s3_client: Any, bucket: str, key: str) -> list[str]:
    size = s3_client.head_object(Bucket=bucket, Key=key)["ContentLength"]
    if size == 0:
        raise CsvInputError("CSV is empty: no header row")
    end = min(size, HEADER_PROBE_BYTES) - 1
    data = s3_client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{end}")["Body"].read()
    return header_from_probe(data, complete=size <= HEADER_PROBE_BYTES)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """{"agent_name", "agent_version"?, "mapping", "csv": {"bucket", "key"}} -> validation result."""
    import boto3

    try:
        header = read_s3_header(boto3.client("s3"), event["csv"]["bucket"], event["csv"]["key"])
    except CsvInputError as exc:
        return {
            "valid": False,
            "errors": [str(exc)],
            "warnings": [],
            "input_columns": [],
            "input_schema": {},
            "output_schema": {},
        }
    table = boto3.resource("dynamodb").Table(os.environ["AGENT_REGISTRY_TABLE"])
    record = load_agent_record(table, event["agent_name"], event.get("agent_version"))
    return validate_batch(record, event["mapping"], header, event["agent_name"])
