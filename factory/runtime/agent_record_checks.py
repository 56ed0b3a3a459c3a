"""Would every row fail? An agent record and batch mapping checked before any row runs (docs/runtime.md)."""

from __future__ import annotations

import json

import re
from typing import Any, Iterable

from factory.runtime.input_mapper import (
    TEMPLATE_PLACEHOLDER,
    MappingConfigError,
    check_transformation,
    input_section,
    target_properties,
    target_required,
)


def structured_output_config(record: dict[str, Any]) -> dict[str, Any] | None:
    """The record's structured-output block; older records spell it `structuredOutput`."""
    block = record.get("structured_output")
    if block is None:
        block = record.get("structuredOutput")
    if isinstance(block, str):  # AgentRegistry items hold it as JSON text, as the existing system does
        try:
            block = json.loads(block)
        except ValueError:
            return None
    return block if isinstance(block, dict) else None


def record_input_schema(record: dict[str, Any]) -> dict[str, Any] | None:
    block = structured_output_config(record) or {}
    schemas = block.get("schemas") or {}
    schema = schemas.get("input") or schemas.get("inputSchema") or record.get("input_schema")
    return schema if isinstance(schema, dict) else None


def mapped_fields(section: dict[str, Any]) -> set[str]:
    fields = set((section.get("column_mappings") or {}).values())
    fields.update((section.get("static_values") or {}).keys())
    fields.update(
        spec["field"]
        for spec in section.get("transformations") or []
        if isinstance(spec, dict) and "field" in spec
    )
    return fields


def check_agent_record(
    record: dict[str, Any] | None, mapping: dict[str, Any], agent_name: str = ""
) -> list[str]:
    """Problems that would make every row fail; empty when the batch may start."""
    if record is None:
        return [f"agent {agent_name!r} is not in AgentRegistry; register it first"]
    problems = []
    block = structured_output_config(record)
    enabled = block.get("enabled") if block else None
    if enabled is not True and str(enabled).lower() != "true":
        problems.append(
            f"agent {record.get('agent_name', agent_name)!r} does not have structured_output.enabled"
        )
    return problems + mapping_problems(mapping, record_input_schema(record))


def mapping_problems(mapping: dict[str, Any], input_schema: dict[str, Any] | None = None) -> list[str]:
    """What makes every row fail on the mapping's side: a bad transformation, a required field no column
    maps. The same for our agents (with the record's input schema) and for targets without a record."""
    problems = []
    try:
        section = input_section(mapping)
    except MappingConfigError as exc:
        return [str(exc)]
    try:
        for index, spec in enumerate(section.get("transformations") or []):
            check_transformation(spec, index)
    except MappingConfigError as exc:
        problems.append(str(exc))
    mapped = mapped_fields(section)
    for field in target_required(section, input_schema):
        if field not in mapped:
            problems.append(f"required input field {field!r} is not mapped from any column")
    return problems + prompt_problems(mapping, section, input_schema)


def prompt_problems(
    mapping: dict[str, Any], section: dict[str, Any], input_schema: dict[str, Any] | None
) -> list[str]:
    """A `{name}` in the prompt template that names no input field would be sent empty on every row."""
    template = section.get("prompt_template") or mapping.get("prompt_template")
    if template is None:
        return []
    if not isinstance(template, str):
        return ["prompt_template must be a string with {field} placeholders"]
    known = mapped_fields(section) | set(target_properties(section, input_schema))
    unknown = [name for name in dict.fromkeys(TEMPLATE_PLACEHOLDER.findall(template)) if name not in known]
    if not unknown:
        return []
    fields = sorted(known)
    shown = ", ".join(fields[:20]) + (f" and {len(fields) - 20} more" if len(fields) > 20 else "")
    return [
        f"prompt_template placeholder {{{name}}} names no input field (fields: {shown or 'none'})"
        for name in unknown
    ]


def newest_version(versions: Iterable[str]) -> str | None:
    """The highest version by its first three numbers (`1.10` after `1.9`)."""
    return max(
        versions, key=lambda version: [int(part) for part in re.findall(r"\d+", version)[:3]], default=None
    )


def load_agent_record(table: Any, agent_name: str, version: str | None = None) -> dict[str, Any] | None:
    """The agent's record from AgentRegistry; without a version the newest active one."""
    if version:
        return table.get_item(Key={"agent_name": agent_name, "version": version}, ConsistentRead=True).get(
            "Item"
        )
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "agent_name = :name",
        "ExpressionAttributeValues": {":name": agent_name},
    }
    while True:
        page = table.query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    active = {item["version"]: item for item in items if item.get("status", "active") == "active"}
    chosen = newest_version(active)
    return active[chosen] if chosen else None
