"""The generic output mapper: a response -> one result row, by configuration (docs/runtime.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from factory.runtime.mapping_choice import choose_output_mapping, parse_target
from factory.runtime.output_mapping.expressions import OutputMappingConfigError
from factory.runtime.output_mapping.config import load_output_mapping_set, load_output_mappings
from factory.runtime.output_mapping.methods import OutputMappings, is_empty
from factory.runtime.output_mapping.sources import Context
from factory.runtime.output_mapping.structured import build_row, extract_structured_output

__all__ = [
    "OutputMappings",
    "extract_fields",
    "load_output_mapping_set",
    "load_output_mappings",
    "map_output",
    "map_response",
]


def extract_fields(response: Any, mappings: OutputMappings) -> dict[str, Any]:
    """{field: first non-empty value over its methods}; fields no method found are left out."""
    context = Context(response, mappings.structured_tools)
    values: dict[str, Any] = {}
    for mapping in mappings.fields:
        for method in mapping.methods:
            value = method.extract(context)
            if not is_empty(value):
                values[mapping.name] = value
                break
    return values


def map_output(
    response: Any,
    mappings: OutputMappings,
    output_schema: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One response -> one result row; never raises for what the response lacks or holds."""
    try:
        values = extract_fields(response, mappings)
    except RecursionError:
        return build_row(
            None, mappings.names, mappings.required, None, ["the response is nested too deeply"], now
        )
    problems = (
        []
        if values
        else [f"no extraction method found a value in the response (tried: {mappings.describe()})"]
    )
    schema = output_schema if output_schema is not None else mappings.output_schema
    return build_row(values if values else None, mappings.names, mappings.required, schema, problems, now)


def map_response(
    response: Any,
    config: dict[str, Any] | None,
    target: dict[str, Any] | None = None,
    registered_schema: dict[str, Any] | None = None,
    output_schema: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One row the way a batch maps it: config output_mappings, registered schema, or structured output
    (`config`'s `structured_output_fields`); a config that cannot work is a FAILED row naming the place."""
    try:
        parsed_target = parse_target(target) if target is not None else None
        choice = choose_output_mapping(config, parsed_target, registered_schema)
    except (OutputMappingConfigError, ValueError) as err:
        return build_row(None, [], [], None, [f"output mapping: {err}"], now)
    if choice.mappings is not None:
        return map_output(response, choice.mappings, output_schema, now)
    return extract_structured_output(response, config or {}, output_schema, now)
