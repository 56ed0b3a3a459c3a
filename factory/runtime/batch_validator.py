"""Check a batch before any row runs: the state machine's first Lambda.

The details: docs/runtime.md, `batch_validator.py`.
"""

from __future__ import annotations

import os
import re
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
    MappingConfigError,
    input_section,
    normalised_mapping,
    target_required,
)
from factory.runtime.mapping_choice import (
    SOURCE_STRUCTURED,
    MappingChoice,
    choose_output_mapping,
    TargetError,
    parse_target,
)
from factory.runtime.output_mapping.expressions import OutputMappingConfigError
from factory.runtime.result_store import from_dynamodb
from factory.runtime.target_kinds import DEFAULT_KIND, KINDS, kind_of

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


def payload_form(kind: str | None) -> str:
    """The form of each row's request for a target of this kind (factory.runtime.target_kinds)."""
    return kind_of(kind).payload_form


def output_choice(
    mapping: dict[str, Any],
    target: dict[str, Any] | None,
    output_mappings: Any = None,
    registered_schema: dict[str, Any] | None = None,
) -> MappingChoice:
    """The batch's output mapping (OutputMappingConfigError or TargetError when it cannot work)."""
    config = dict(mapping)
    if output_mappings is not None:
        config["output_mappings"] = output_mappings
    return choose_output_mapping(config, parse_target(target) if target else None, registered_schema)


def plan_target(
    record: dict[str, Any] | None,
    mapping: dict[str, Any],
    target: dict[str, Any] | None,
    output_mappings: Any = None,
    registered_schema: dict[str, Any] | None = None,
    agent_name: str = "",
) -> tuple[list[str], dict[str, Any]]:
    """(errors, {"output_source", "output_fields", "payload_form"}) for the batch's target."""
    try:
        choice = output_choice(mapping, target, output_mappings, registered_schema)
    except (OutputMappingConfigError, ValueError) as err:
        return [f"output mapping: {err}"], {}
    kind = (target or {}).get("type", DEFAULT_KIND)
    if choice.source == SOURCE_STRUCTURED:
        if not kind_of(kind).registry_lookup:
            return [
                f"tool {agent_name!r} has no structured output: give output_mappings or a registered output schema"
            ], {}
        errors = check_agent_record(record, mapping, agent_name)
        fields = [str(name) for name in mapping.get("structured_output_fields") or []]
    else:
        errors = check_agent_record(record, mapping, agent_name) if record else mapping_problems(mapping)
        fields = list(choice.mappings.names) if choice.mappings else []
    plan = {"output_source": choice.source, "output_fields": fields, "payload_form": payload_form(kind)}
    return errors, plan


def validate_batch(
    record: dict[str, Any] | None,
    mapping: dict[str, Any],
    header: list[str],
    agent_name: str = "",
    target: dict[str, Any] | None = None,
    output_mappings: Any = None,
    registered_schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """{"valid", "errors", "warnings", "input_columns", ..., "output_source", "output_fields",
    "payload_form", "mapping"} for a batch about to start.

    `mapping` is the batch mapping with its input mapping in our form for this
    CSV (`input_mapper.normalised_mapping`: the existing system's flat and empty
    forms); the state machine maps every row with it.
    """
    mapping = normalised_input(mapping, header)
    errors, plan = plan_target(record, mapping, target, output_mappings, registered_schema, agent_name)
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
        "output_source": plan.get("output_source", SOURCE_STRUCTURED),
        "output_fields": plan.get("output_fields", []),
        "payload_form": plan.get("payload_form", payload_form((target or {}).get("type"))),
        "mapping": mapping,
    }


def normalised_input(mapping: dict[str, Any], header: list[str]) -> dict[str, Any]:
    """`normalised_mapping`, or the mapping as it is when its input mapping is malformed (reported later)."""
    try:
        return normalised_mapping(mapping, header)
    except MappingConfigError:
        return mapping


def read_s3_header(s3_client: Any, bucket: str, key: str) -> list[str]:
    size = s3_client.head_object(Bucket=bucket, Key=key)["ContentLength"]
    if size == 0:
        raise CsvInputError("CSV is empty: no header row")
    end = min(size, HEADER_PROBE_BYTES) - 1
    data = s3_client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{end}")["Body"].read()
    return header_from_probe(data, complete=size <= HEADER_PROBE_BYTES)


def invalid(errors: list[str], kind: str, mapping: Any) -> dict[str, Any]:
    """The answer for a batch refused before its CSV and record are read."""
    return {
        "valid": False,
        "errors": errors,
        "warnings": [],
        "input_columns": [],
        "input_schema": {},
        "output_schema": {},
        "output_source": SOURCE_STRUCTURED,
        "output_fields": [],
        "payload_form": payload_form(kind),
        "mapping": mapping,
    }


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """{"agent_name", "agent_version"?, "mapping", "csv": {"bucket", "key"}, "target"?, "output_mappings"?,
    "registered_schema"?} -> validation result, with "target" (the parsed target, {type, name, arn?}).

    The request's target is checked here, once, by the rule the local engine uses: a malformed one
    comes back as `target_problem` (the state machine's BatchRequestInvalid) before anything is read.
    Only a kind with a registry lookup (an agent) is looked up in AgentRegistry."""
    import boto3

    raw = event.get("target")
    try:
        target = parse_target(raw if raw is not None else {"type": DEFAULT_KIND, "name": event["agent_name"]})
        if target.arn is None and not KINDS[target.type].arn_derived:
            raise TargetError(
                "$.target.arn", f"a {target.type} is called by its ARN", KINDS[target.type].arn_example
            )
    except TargetError as exc:
        return {**invalid([str(exc)], DEFAULT_KIND, event["mapping"]), "target_problem": str(exc)}
    try:
        header = read_s3_header(boto3.client("s3"), event["csv"]["bucket"], event["csv"]["key"])
    except CsvInputError as exc:
        return {**invalid([str(exc)], target.type, event["mapping"]), "target": target.as_dict()}
    record = None
    if KINDS[target.type].registry_lookup:
        table = boto3.resource("dynamodb").Table(os.environ["AGENT_REGISTRY_TABLE"])
        record = load_agent_record(table, event["agent_name"], event.get("agent_version"))
    answer = validate_batch(
        record,
        event["mapping"],
        header,
        event["agent_name"],
        target.as_dict(),
        event.get("output_mappings"),
        event.get("registered_schema"),
    )
    return {**answer, "target": target.as_dict()}
