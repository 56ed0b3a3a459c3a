"""Straightforward reference implementations of the runtime's per-row work.

These are the mappers and the renderer as they were before they were compiled
into plans: every row recomputes everything from the mapping and schema, and
every string leaf of a template goes through chevron. The property tests
compare the compiled paths with them on random rows and mappings, and
bench/runtime.py times both side by side.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import chevron

from factory.runtime.csv_source import strip_bom_keys
from factory.runtime.input_mapper import (
    InputRowError,
    check_transformation,
    field_sources,
    follow_path,
    input_section,
    is_absent,
    parse_jsonpath,
    target_properties,
    target_required,
)
from factory.runtime.output_mapper import (
    PLACES,
    build_row,
    locate_structured_output,
    output_fields,
    required_output_fields,
    tool_names_of,
)
from factory.runtime.template_renderer import prepare_variables
from factory.runtime.value_checks import property_problems

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f", "off"})
_TEMPLATE_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


# --- input mapper ----------------------------------------------------------------------------


def coerce(value: Any, json_type: str | None) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if json_type == "integer":
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f"{value!r} is not an integer") from None
            if not number.is_integer():
                raise ValueError(f"{value!r} is not an integer") from None
            return int(number)
    if json_type == "number":
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"{value!r} is not a number") from None
    if json_type == "boolean":
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ValueError(f"{value!r} is not a boolean (use true/false or yes/no)")
    if json_type in ("object", "array"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg})") from None
        expected = dict if json_type == "object" else list
        if not isinstance(parsed, expected):
            raise ValueError(f"is JSON but not an {json_type}")
        return parsed
    return text


def apply_transformation(spec: dict[str, Any], row: dict[str, Any]) -> tuple[Any, list[str]]:
    kind = spec["type"]
    if kind == "concat":
        missing = [column for column in spec["columns"] if column not in row]
        if missing:
            return None, [
                f"column {column!r} (used by {spec['field']}) is not in the row" for column in missing
            ]
        parts = [str(row[column]).strip() for column in spec["columns"] if not is_absent(row[column])]
        return spec.get("separator", " ").join(parts), []
    if kind == "template":
        problems = []

        def fill(match: re.Match[str]) -> str:
            column = match.group(1)
            if column not in row:
                problems.append(f"column {column!r} (used by {spec['field']}) is not in the row")
                return ""
            cell = row[column]
            return "" if cell is None else str(cell)

        return _TEMPLATE_PLACEHOLDER.sub(fill, spec["template"]), problems
    column = spec["column"]
    cell = row.get(column)
    if is_absent(cell):
        return None, []
    try:
        document = json.loads(cell) if isinstance(cell, str) else cell
    except json.JSONDecodeError as exc:
        return None, [f"column {column!r}: is not valid JSON ({exc.msg}) for {spec['field']}"]
    return follow_path(document, parse_jsonpath(spec["path"])), []


def map_row(row: dict[str, Any], section: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    data: dict[str, Any] = {}
    problems: list[str] = []
    for field, value in (section.get("static_values") or {}).items():
        data[field] = value
    for column, field in (section.get("column_mappings") or {}).items():
        cell = row.get(column)
        if not is_absent(cell):
            data[field] = cell
    for index, spec in enumerate(section.get("transformations") or []):
        check_transformation(spec, index)
        value, found = apply_transformation(spec, row)
        problems.extend(found)
        if not is_absent(value):
            data[spec["field"]] = value
    return data, problems


def transform_input(
    row: dict[str, Any],
    mapping: dict[str, Any],
    input_schema: dict[str, Any] | None = None,
    row_number: int | None = None,
) -> dict[str, Any]:
    section = input_section(mapping)
    properties = target_properties(section, input_schema)
    sources = field_sources(section)
    raw, problems = map_row(strip_bom_keys(row), section)
    for field, prop in properties.items():
        if field not in raw and isinstance(prop, dict) and "default" in prop:
            raw[field] = prop["default"]
            sources.setdefault(field, "schema default")
    data: dict[str, Any] = {}
    failed: set[str] = set()
    for field, value in raw.items():
        prop = properties.get(field, {})
        source = sources.get(field, "input")
        try:
            typed = coerce(value, prop.get("type"))
        except ValueError as exc:
            problems.append(f"{source} ({field}): {exc}")
            failed.add(field)
            continue
        found = property_problems(field, typed, prop)
        problems.extend(f"{source} ({message})" for message in found)
        data[field] = typed
    for field in target_required(section, input_schema):
        if field not in data and field not in failed:
            source = sources.get(field)
            if source:
                problems.append(f"{source} ({field}): required value is empty")
            else:
                problems.append(f"{field}: required field has no column mapped to it")
    if problems:
        raise InputRowError(row_number, problems)
    return {"prompt": build_prompt(data, mapping, section), "data": data}


def build_prompt(data: dict[str, Any], mapping: dict[str, Any], section: dict[str, Any]) -> str:
    template = section.get("prompt_template") or mapping.get("prompt_template")
    if template:
        return _TEMPLATE_PLACEHOLDER.sub(lambda match: _text(data.get(match.group(1))), template)
    name = mapping.get("extraction_name")
    inputs = json.dumps(data, ensure_ascii=False, sort_keys=False)
    return f"Run {name} with these inputs: {inputs}" if name else inputs


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- output mapper ---------------------------------------------------------------------------


def extract_structured_output(
    response: Any,
    mapping: dict[str, Any],
    output_schema: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    fields = output_fields(mapping, output_schema)
    required = required_output_fields(mapping, output_schema)
    located = locate_structured_output(response, tool_names_of(mapping))
    if located.found:
        problems = [f"{located.problem} at {located.where}"] if located.problem else []
        return build_row(located.value, fields, required, output_schema, problems, now)
    if located.problem:
        reason = f"{located.problem} at {located.where}"
    else:
        reason = f"no structured output in the agent response; looked for {PLACES} under " + ", ".join(
            located.looked or ("$ (not an object)",)
        )
    return build_row(None, fields, required, output_schema, [reason], now)


# --- template renderer -----------------------------------------------------------------------


def render_leaves(node: Any, variables: dict[str, str]) -> Any:
    if isinstance(node, str):
        return chevron.render(node, variables)
    if isinstance(node, list):
        return [render_leaves(item, variables) for item in node]
    if isinstance(node, dict):
        rendered = {}
        for key, value in node.items():
            if key == "schema" and node.get("action") == "act_with_schema":
                rendered[key] = value
            else:
                rendered[key] = render_leaves(value, variables)
        return rendered
    return node


def render_script(template_item: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    variables = prepare_variables(template_item.get("variables", []), values)
    return render_leaves(template_item["template"], variables)
