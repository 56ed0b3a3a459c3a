"""Turn one CSV row into the agent's input: the input-mapper Lambda.

The mapping is the batch mapping's `input_mapping` (or the whole batch mapping,
from which that section is taken):

    column_mappings: {csv column: field}        # the generated part
    field_types:     {field: json type}         # used when no input schema is given
    required_fields: [field, ...]
    static_values:   {field: value}             # optional: a default for every row
    transformations:                            # optional, applied in order
      - {field: f, type: concat, columns: [a, b], separator: " "}
      - {field: f, type: template, template: "{a}, {b}"}     # {csv column} placeholders
      - {field: f, type: jsonpath, column: c, path: "$.x.y[0]"}  # into a JSON-valued cell
    prompt_template: "Check {postcode}"         # optional; {field} placeholders

Precedence per field: schema `default` < static value < column <
transformation; an empty cell counts as absent, so a static value or the
schema's default fills an empty column.
Values are coerced to the input schema's types ("23" -> 23, "yes" -> True) and
then checked against it; every problem of a row is reported at once, naming
the CSV column it came from.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Iterable

from factory.runtime.csv_source import strip_bom_keys
from factory.runtime.value_checks import property_problems, required_fields

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f", "off"})
TRANSFORMATION_TYPES = ("concat", "template", "jsonpath")
_TEMPLATE_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_JSONPATH_TOKEN = re.compile(r"\.([A-Za-z_][\w-]*)|\[(-?\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class InputRowError(ValueError):
    """A row cannot become valid agent input; `problems` name the columns."""

    def __init__(self, row_number: int | None, problems: list[str]) -> None:
        self.row_number = row_number
        self.problems = problems
        where = f"row {row_number}" if row_number is not None else "row"
        super().__init__(f"{where}: " + "; ".join(problems))


class MappingConfigError(ValueError):
    """The mapping itself is wrong (not one row): unknown transformation, bad path."""


def input_section(mapping: dict[str, Any]) -> dict[str, Any]:
    """Accept the whole batch mapping or just its `input_mapping`."""
    section = mapping.get("input_mapping", mapping)
    if not isinstance(section, dict):
        raise MappingConfigError("input_mapping must be an object")
    return section


def target_properties(section: dict[str, Any], input_schema: dict[str, Any] | None) -> dict[str, dict]:
    if input_schema and input_schema.get("properties"):
        return input_schema["properties"]
    return {field: {"type": json_type} for field, json_type in (section.get("field_types") or {}).items()}


def target_required(section: dict[str, Any], input_schema: dict[str, Any] | None) -> list[str]:
    names = required_fields(input_schema) if input_schema else []
    for name in section.get("required_fields") or []:
        if name not in names:
            names.append(name)
    return names


def is_absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def coerce(value: Any, json_type: str | None) -> Any:
    """The CSV text as the schema's type; ValueError with a short reason if it is not one."""
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


def parse_jsonpath(path: str) -> list[str | int]:
    """`$.a.b[0]['c d']` -> ["a", "b", 0, "c d"]; MappingConfigError for anything else."""
    if not path.startswith("$"):
        raise MappingConfigError(f"jsonpath {path!r} must start with '$'")
    tokens: list[str | int] = []
    position = 1
    while position < len(path):
        match = _JSONPATH_TOKEN.match(path, position)
        if not match:
            raise MappingConfigError(f"jsonpath {path!r}: cannot parse at {path[position:]!r}")
        name, index, single, double = match.groups()
        tokens.append(
            int(index) if index is not None else next(t for t in (name, single, double) if t is not None)
        )
        position = match.end()
    return tokens


def follow_path(document: Any, tokens: list[str | int]) -> Any:
    for token in tokens:
        if isinstance(token, int) and isinstance(document, list) and -len(document) <= token < len(document):
            document = document[token]
        elif isinstance(token, str) and isinstance(document, dict) and token in document:
            document = document[token]
        else:
            return None
    return document


def check_transformation(spec: Any, index: int) -> None:
    """Refuse a malformed transformation before any row runs."""
    where = f"transformations[{index}]"
    if not isinstance(spec, dict) or not spec.get("field"):
        raise MappingConfigError(f"{where}: needs a 'field'")
    kind = spec.get("type")
    if kind not in TRANSFORMATION_TYPES:
        raise MappingConfigError(
            f"{where}: unknown type {kind!r}; use one of {', '.join(TRANSFORMATION_TYPES)}"
        )
    if kind == "concat" and not (isinstance(spec.get("columns"), list) and spec["columns"]):
        raise MappingConfigError(f"{where}: concat needs a non-empty 'columns' list")
    if kind == "template" and not isinstance(spec.get("template"), str):
        raise MappingConfigError(f"{where}: template needs a 'template' string")
    if kind == "jsonpath":
        if not spec.get("column"):
            raise MappingConfigError(f"{where}: jsonpath needs a 'column'")
        parse_jsonpath(str(spec.get("path", "")))


def apply_transformation(spec: dict[str, Any], row: dict[str, Any]) -> tuple[Any, list[str]]:
    """(value, problems) for one transformation over the raw row."""
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


def field_sources(section: dict[str, Any]) -> dict[str, str]:
    """Where each field comes from, for error messages: "column 'X'" or a transformation."""
    sources = {field: "static value" for field in section.get("static_values") or {}}
    for column, field in (section.get("column_mappings") or {}).items():
        sources[field] = f"column {column!r}"
    for spec in section.get("transformations") or []:
        if isinstance(spec, dict) and spec.get("field"):
            sources[spec["field"]] = f"{spec.get('type')} transformation"
    return sources


def map_row(row: dict[str, Any], section: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Raw (uncoerced) field values from one row, and problems found on the way."""
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
    """One CSV row -> {"prompt": str, "data": {field: typed value}}; InputRowError if invalid."""
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


# --- the `validate` action: before any row runs ---------------------------------


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
    section = input_section(mapping)
    try:
        for index, spec in enumerate(section.get("transformations") or []):
            check_transformation(spec, index)
    except MappingConfigError as exc:
        problems.append(str(exc))
    mapped = mapped_fields(section)
    for field in target_required(section, record_input_schema(record)):
        if field not in mapped:
            problems.append(f"required input field {field!r} is not mapped from any column")
    return problems


def newest_version(versions: Iterable[str]) -> str | None:
    def key(version: str) -> tuple:
        parts = re.findall(r"\d+", version)
        return tuple(int(part) for part in parts[:3])

    versions = list(versions)
    return max(versions, key=key) if versions else None


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


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry.

    {"action": "validate", "agent_name", "agent_version"?, "mapping"} -> {"valid", "errors"}
    {"row", "mapping", "input_schema"?, "row_number"?} -> {"prompt", "data"}
    A bad row raises InputRowError, which the state machine catches as the row's failure.
    """
    if event.get("action") == "validate":
        import boto3

        table = boto3.resource("dynamodb").Table(os.environ["AGENT_REGISTRY_TABLE"])
        record = load_agent_record(table, event["agent_name"], event.get("agent_version"))
        errors = check_agent_record(record, event["mapping"], event["agent_name"])
        return {"valid": not errors, "errors": errors}
    return transform_input(event["row"], event["mapping"], event.get("input_schema"), event.get("row_number"))
