"""Check a batch before any row runs: the state machine's first Lambda (docs/runtime.md)."""

from __future__ import annotations

import os
from typing import Any

from factory.runtime.csv_source import HEADER_PROBE_BYTES, CsvInputError, header_from_probe
from factory.runtime.agent_record_checks import (
    check_agent_record,
    load_agent_record,
    mapping_problems,
    record_input_schema,
    structured_output_config,
)
from factory.runtime.input_mapper import (
    TEMPLATE_PLACEHOLDER,
    MappingConfigError,
    input_section,
    normalised_mapping,
    target_required,
)
from factory.runtime.mapping_choice import SOURCE_STRUCTURED, choose_output_mapping, TargetError, parse_target
from factory.runtime.output_mapping.expressions import OutputMappingConfigError
from factory.runtime.result_store import from_dynamodb
from factory.runtime.target_kinds import DEFAULT_KIND, KINDS, kind_of


def referenced_columns(section: dict[str, Any]) -> dict[str, str]:
    """{csv column: the field it feeds} for every column the mapping reads."""
    columns = {column: field for column, field in (section.get("column_mappings") or {}).items()}
    for spec in section.get("transformations") or []:
        if not isinstance(spec, dict):
            continue
        names = list(spec.get("columns") or [])
        names += TEMPLATE_PLACEHOLDER.findall(spec.get("template") or "")
        names += [spec["column"]] if spec.get("column") else []
        for name in names:
            columns.setdefault(name, spec.get("field", "?"))
    return columns


def plan_target(
    record: dict[str, Any] | None,
    mapping: dict[str, Any],
    target: dict[str, Any] | None,
    output_mappings: Any = None,
    registered_schema: dict[str, Any] | None = None,
    agent_name: str = "",
) -> tuple[list[str], dict[str, Any]]:
    """(errors, {"output_source", "output_fields"}) for the batch's target."""
    config = mapping if output_mappings is None else {**mapping, "output_mappings": output_mappings}
    try:
        choice = choose_output_mapping(config, parse_target(target) if target else None, registered_schema)
    except (OutputMappingConfigError, ValueError) as err:
        return [f"output mapping: {err}"], {}
    if choice.source == SOURCE_STRUCTURED:
        if not kind_of((target or {}).get("type")).registry_lookup:
            return [
                f"tool {agent_name!r} has no structured output: give output_mappings or a registered output schema"
            ], {}
        errors = check_agent_record(record, mapping, agent_name)
        fields = [str(name) for name in mapping.get("structured_output_fields") or []]
    else:
        errors = check_agent_record(record, mapping, agent_name) if record else mapping_problems(mapping)
        fields = list(choice.mappings.names) if choice.mappings else []
    return errors, {"output_source": choice.source, "output_fields": fields}


def validate_batch(
    record: dict[str, Any] | None,
    mapping: dict[str, Any],
    header: list[str],
    agent_name: str = "",
    target: dict[str, Any] | None = None,
    output_mappings: Any = None,
    registered_schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The validator's answer (`answer`) for a batch about to start; its `mapping` has the input mapping in
    our form for this CSV (`normalised_mapping`; a malformed one kept and reported), as every row uses it."""
    try:
        mapping = normalised_mapping(mapping, header)
    except MappingConfigError:
        pass
    errors, plan = plan_target(record, mapping, target, output_mappings, registered_schema, agent_name)
    warnings = []
    section = input_section(mapping)
    required = set(target_required(section, record_input_schema(record) if record else None))
    static = set((section.get("static_values") or {}).keys())
    for column, field in referenced_columns(section).items():
        if column in header:
            continue
        if field in required and field not in static:
            errors.append(f"CSV has no column {column!r}, which feeds the required field {field!r}")
        else:
            warnings.append(f"CSV has no column {column!r} (field {field!r} will be empty)")
    schemas = (structured_output_config(record) or {}).get("schemas") or {} if record else {}
    return answer(
        errors,
        (target or {}).get("type"),
        mapping,
        warnings=warnings,
        input_columns=list(header),
        input_schema=from_dynamodb(schemas.get("input") or {}),
        output_schema=from_dynamodb(schemas.get("output") or {}),
        **plan,
    )


def read_s3_header(s3_client: Any, bucket: str, key: str) -> list[str]:
    size = s3_client.head_object(Bucket=bucket, Key=key)["ContentLength"]
    if size == 0:
        raise CsvInputError("CSV is empty: no header row")
    end = min(size, HEADER_PROBE_BYTES) - 1
    data = s3_client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{end}")["Body"].read()
    return header_from_probe(data, complete=size <= HEADER_PROBE_BYTES)


def answer(errors: list[str], kind: str | None, mapping: Any, **found: Any) -> dict[str, Any]:
    """{"valid", "errors", "warnings", "input_columns", "input_schema", "output_schema", "output_source",
    "output_fields", "payload_form", "mapping"}: what `found` gives, else a refused batch's empty answer."""
    return {
        "valid": not errors,
        "errors": errors,
        "warnings": [],
        "input_columns": [],
        "input_schema": {},
        "output_schema": {},
        "output_source": SOURCE_STRUCTURED,
        "output_fields": [],
        "payload_form": kind_of(kind).payload_form,
        "mapping": mapping,
        **found,
    }


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """{"agent_name", "agent_version"?, "mapping", "csv": {"bucket", "key"}, "target"?, "output_mappings"?,
    "registered_schema"?} -> the answer with "target" parsed; a malformed target is `target_problem`
    (the machine's BatchRequestInvalid) before anything is read (docs/runtime.md)."""
    import boto3

    raw = event.get("target")
    try:
        target = parse_target(raw if raw is not None else {"type": DEFAULT_KIND, "name": event["agent_name"]})
        if target.arn is None and not KINDS[target.type].arn_derived:
            raise TargetError(
                "$.target.arn", f"a {target.type} is called by its ARN", KINDS[target.type].arn_example
            )
    except TargetError as exc:
        return {**answer([str(exc)], DEFAULT_KIND, event["mapping"]), "target_problem": str(exc)}
    try:
        header = read_s3_header(boto3.client("s3"), event["csv"]["bucket"], event["csv"]["key"])
    except CsvInputError as exc:
        return {**answer([str(exc)], target.type, event["mapping"]), "target": target.as_dict()}
    record = None
    if KINDS[target.type].registry_lookup:
        table = boto3.resource("dynamodb").Table(os.environ["AGENT_REGISTRY_TABLE"])
        record = load_agent_record(table, event["agent_name"], event.get("agent_version"))
    result = validate_batch(
        record,
        event["mapping"],
        header,
        event["agent_name"],
        target.as_dict(),
        event.get("output_mappings"),
        event.get("registered_schema"),
    )
    return {**result, "target": target.as_dict()}
