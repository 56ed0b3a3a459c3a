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

The mapping and input schema are compiled once into an `InputPlan` (sources,
conversions, precompiled checks, transformations, the prompt's pieces);
`transform_input` finds the plan by the config's content, so a Lambda
container or the local engine compiles each config once. A malformed
transformation is refused (MappingConfigError) while building the plan, which
is never kept, so every row is refused, as before.

A plan's `transform` is a fast path for the common row (a plain dict that
passes): values typed as they are read, statics and defaults typed at compile
time, the default prompt's JSON written as the values are stored. Any row
with a problem goes to the general `InputPlan.transform`, so its errors are
exactly the general path's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Callable, Sequence

from json.encoder import encode_basestring

from factory.runtime.bounded_parse import json_loads
from factory.runtime.csv_source import BOM, strip_bom_keys
from factory.runtime.json_text import dumps_function, flat_text_object
from factory.runtime.plan_cache import PlanCache
from factory.runtime.value_checks import (
    JSON_TYPES,
    compile_property_check,
    pattern_search,
    property_problems,
    required_fields,
)
from factory.runtime.vocabulary import FALSE_WORDS, TRUE_WORDS, parse_integer, parse_number

TRANSFORMATION_TYPES = ("concat", "template", "jsonpath")
TEMPLATE_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
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


# The keys of our input mapping form; a section with none of them may be the existing system's form.
SECTION_KEYS = frozenset(
    "column_mappings transformations static_values field_types required_fields prompt_template".split()
)


COLUMN_LIST_KEYS = frozenset({"include_columns", "exclude_columns"})


def listed_columns(section: dict[str, Any], columns: Sequence[str] | None) -> list[str]:
    """The original's `{"include_columns": [...], "exclude_columns": [...]}` (its input_mapper.py):
    the included columns when given, else every column of the CSV but the excluded ones."""
    for key in COLUMN_LIST_KEYS & section.keys():
        if not isinstance(section[key], list) or not all(isinstance(name, str) for name in section[key]):
            raise MappingConfigError(f"input_mapping.{key} must be a list of CSV column names")
    if section.get("include_columns"):
        return list(dict.fromkeys(section["include_columns"]))
    if columns is None:
        raise MappingConfigError("input_mapping.exclude_columns needs the CSV's columns; give include_columns")
    excluded = set(section.get("exclude_columns") or ())
    return [column for column in columns if column not in excluded]


def input_section(mapping: dict[str, Any], columns: Sequence[str] | None = None) -> dict[str, Any]:
    """Accept the whole batch mapping or just its `input_mapping`; the section in our form.

    A request's or config's `input_mapping` may also be written as the existing
    step-functions-agent batch processor takes it (its orchestrator writes
    them): a flat `{csv column: field}` (none of our keys, only text to text)
    is `column_mappings`; `{}` maps each of the CSV's `columns` (when known) to
    the field of the same name, and `{"include_columns": [...]}` or
    `{"exclude_columns": [...]}` those columns (or all but those) the same way.
    Anything else is ours, as written.
    """
    if "input_mapping" not in mapping:
        return mapping
    section = mapping["input_mapping"]
    if not isinstance(section, dict):
        raise MappingConfigError("input_mapping must be an object")
    if not section:
        return {"column_mappings": {column: column for column in columns}} if columns else section
    if section.keys() <= COLUMN_LIST_KEYS:
        return {"column_mappings": {column: column for column in listed_columns(section, columns)}}
    if SECTION_KEYS.isdisjoint(section) and all(
        isinstance(column, str) and isinstance(field, str) for column, field in section.items()
    ):
        return {"column_mappings": dict(section)}
    return section


def normalised_mapping(mapping: dict[str, Any], columns: Sequence[str] | None = None) -> dict[str, Any]:
    """The batch mapping with its `input_mapping` in our form (`input_section`), for a CSV with `columns`.

    Done once where a request or config meets its CSV's header, so every later
    reader (checks, the plan, the stored config) sees one form.
    """
    if "input_mapping" not in mapping:
        return mapping
    section = input_section(mapping, columns)
    return mapping if section is mapping["input_mapping"] else {**mapping, "input_mapping": section}


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


def _as_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _as_integer(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return parse_integer(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an integer") from None


def _as_number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return parse_number(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


def _as_boolean(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not a boolean (use true/false or yes/no)")


def _as_json(json_type: str) -> Callable[[Any], Any]:
    expected = dict if json_type == "object" else list

    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            parsed = json_loads(value.strip())
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg})") from None
        if not isinstance(parsed, expected):
            raise ValueError(f"is JSON but not an {json_type}")
        return parsed

    return convert


_COERCERS: dict[str, Callable[[Any], Any]] = {
    "integer": _as_integer,
    "number": _as_number,
    "boolean": _as_boolean,
    "object": _as_json("object"),
    "array": _as_json("array"),
}


def coercer(json_type: Any) -> Callable[[Any], Any]:
    """The conversion of CSV text to `json_type`; other values pass unchanged, text is stripped."""
    return _COERCERS.get(json_type, _as_text) if isinstance(json_type, str) else _as_text


def coerce(value: Any, json_type: str | None) -> Any:
    """The CSV text as the schema's type; ValueError with a short reason if it is not one."""
    return coercer(json_type)(value)


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


def field_sources(section: dict[str, Any]) -> dict[str, str]:
    """Where each field comes from, for error messages: "column 'X'" or a transformation."""
    sources = {field: "static value" for field in section.get("static_values") or {}}
    for column, field in (section.get("column_mappings") or {}).items():
        sources[field] = f"column {column!r}"
    for spec in section.get("transformations") or []:
        if isinstance(spec, dict) and spec.get("field"):
            sources[spec["field"]] = f"{spec.get('type')} transformation"
    return sources


# --- the compiled plan: everything a row needs, worked out once per mapping and schema ---------

Transform = Callable[[dict[str, Any]], "tuple[Any, Sequence[str]]"]
_NONE: tuple[str, ...] = ()


def _missing_column(column: Any, field: Any) -> str:
    return f"column {column!r} (used by {field}) is not in the row"


def _cells_getter(columns: Sequence[Any]) -> Callable[[dict[str, Any]], tuple]:
    """`tuple(row[column] for column in columns)` in C (KeyError for a missing column)."""
    if len(columns) == 1:
        only = itemgetter(columns[0])
        return lambda row: (only(row),)
    return itemgetter(*columns)


def _concat(spec: dict[str, Any]) -> Transform:
    columns, field, separator = spec["columns"], spec["field"], spec.get("separator", " ")
    cells_of = _cells_getter(columns)

    def apply(row: dict[str, Any]) -> tuple[Any, Sequence[str]]:
        try:
            if row.__class__ is not dict:  # a mapping with its own idea of a missing key: ask it
                raise KeyError
            cells: Sequence[Any] = cells_of(row)
        except KeyError:
            missing = [_missing_column(column, field) for column in columns if column not in row]
            if missing:
                return None, missing
            cells = [row[column] for column in columns]
        parts: list[str] = []
        for cell in cells:
            if cell.__class__ is str:
                cell = cell.strip()
                if cell:
                    parts.append(cell)
            elif isinstance(cell, str):  # a str subclass: its own strip says absent, str() gives the text
                if not cell.strip() == "":
                    parts.append(str(cell).strip())
            elif cell is not None:
                parts.append(str(cell).strip())
        return separator.join(parts), _NONE

    def fast(row: dict[str, Any]) -> Any:
        """For a plain dict row: the text, KeyError for a missing column (a problem: the general path)."""
        parts = []
        for cell in cells_of(row):
            if cell.__class__ is not str:
                return apply(row)[0]  # every column is there: no problem to report
            cell = cell.strip()
            if cell:
                parts.append(cell)
        return separator.join(parts)

    apply.fast = fast  # type: ignore[attr-defined]
    return apply


def _template(spec: dict[str, Any]) -> Transform:
    """`{column}` placeholders split out once into a str.format pattern over the cells."""
    pieces = TEMPLATE_PLACEHOLDER.split(spec["template"])
    literals, columns, field = pieces[0::2], pieces[1::2], spec["field"]
    if not columns:
        text = pieces[0]
        return lambda row: (text, _NONE)
    pattern = "{}".join(literal.replace("{", "{{").replace("}", "}}") for literal in literals)
    cells_of = _cells_getter(columns)
    as_text = "{!s}".join(literal.replace("{", "{{").replace("}", "}}") for literal in literals)  # str(cell)

    def apply(row: dict[str, Any]) -> tuple[Any, Sequence[str]]:
        problems: Sequence[str] = _NONE
        try:
            if row.__class__ is not dict:  # a mapping with its own idea of a missing key: ask it
                raise KeyError
            cells: Sequence[Any] = cells_of(row)
        except KeyError:
            problems = [_missing_column(column, field) for column in columns if column not in row]
            cells = [row[column] if column in row else None for column in columns]
        if None in cells:  # identity first: a row's values (text, JSON) are never equal to None otherwise
            return pattern.format(*["" if cell is None else str(cell) for cell in cells]), problems
        return as_text.format(*cells), problems

    def fast(row: dict[str, Any]) -> Any:
        """For a plain dict row: the text, KeyError for a missing column (a problem: the general path)."""
        cells = cells_of(row)
        if None in cells:
            return pattern.format(*["" if cell is None else str(cell) for cell in cells])
        return as_text.format(*cells)

    apply.fast = fast  # type: ignore[attr-defined]
    return apply


def _jsonpath(spec: dict[str, Any]) -> Transform:
    column, field, tokens = spec["column"], spec["field"], parse_jsonpath(spec["path"])

    def apply(row: dict[str, Any]) -> tuple[Any, Sequence[str]]:
        cell = row.get(column)
        if is_absent(cell):
            return None, _NONE
        try:
            document = json_loads(cell) if isinstance(cell, str) else cell
        except json.JSONDecodeError as exc:
            return None, [f"column {column!r}: is not valid JSON ({exc.msg}) for {field}"]
        return follow_path(document, tokens), _NONE

    return apply


_TRANSFORMS = {"concat": _concat, "template": _template, "jsonpath": _jsonpath}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_DUMPS = dumps_function()  # json.dumps(data, ensure_ascii=False)


def _prompt_builder(mapping: dict[str, Any], section: dict[str, Any]) -> Callable[[dict[str, Any]], str]:
    """`prompt_template` with `{field}` placeholders, or "Run <extraction_name> with these inputs: <json>"."""
    template = section.get("prompt_template") or mapping.get("prompt_template")
    if template:
        if not isinstance(template, str):  # refused by re when the first row is built, as it always was
            return lambda data: TEMPLATE_PLACEHOLDER.sub(
                lambda match: _text(data.get(match.group(1))), template
            )
        pieces = TEMPLATE_PLACEHOLDER.split(template)
        literals, names = pieces[0::2], pieces[1::2]
        tail = list(zip(names, literals[1:]))

        def fill(data: dict[str, Any]) -> str:
            out = [literals[0]]
            for name, literal in tail:
                out.append(_text(data.get(name)))
                out.append(literal)
            return "".join(out)

        return fill
    name = mapping.get("extraction_name")
    if name:
        prefix = f"Run {name} with these inputs: "
        return lambda data: prefix + (flat_text_object(data) or _DUMPS(data))
    return lambda data: flat_text_object(data) or _DUMPS(data)


FAILED = object()  # a field step's answer when the value cannot be converted
Step = Callable[[Any, list], Any]


def _any_text_passes(prop: dict[str, Any]) -> bool:
    """True when every string meets `prop`: no type other than string, no string constraint."""
    json_type = prop.get("type")
    if json_type is not None and json_type != "string":
        if not (isinstance(json_type, str) and json_type not in JSON_TYPES):
            return False
    return not (
        "enum" in prop or prop.get("pattern") or any(key in prop for key in ("minLength", "maxLength"))
    )


def field_step(field: Any, source: str, prop: Any) -> Step:
    """`step(value, problems)`: the typed value, or FAILED; problems are appended, naming the source.

    Conversion errors make the field FAILED; check problems are reported but
    the value is kept, as the row fails anyway.
    """
    if not isinstance(prop, dict):  # not a property object: fails as it always did, when a value meets it
        convert: Callable[[Any], Any] = lambda value: coerce(value, prop.get("type"))  # noqa: E731
        check: Callable[[Any], Sequence[str]] = lambda value: property_problems(
            field, value, prop
        )  # noqa: E731
    else:
        convert, check = coercer(prop.get("type")), compile_property_check(field, prop)

    def step(value: Any, problems: list) -> Any:
        try:
            typed = convert(value)
        except ValueError as exc:
            problems.append(f"{source} ({field}): {exc}")
            return FAILED
        found = check(typed)
        if found:
            problems.extend([f"{source} ({message})" for message in found])
        return typed

    return step


def _rows_without_bom(row: dict[str, Any]) -> dict[str, Any]:
    """`strip_bom_keys(row)`, skipped when no key holds a BOM at all (one C-level join)."""
    try:
        if BOM not in "".join(row):
            return row
    except TypeError:  # a key that is not text
        pass
    return strip_bom_keys(row)


@dataclass(frozen=True)
class InputPlan:
    """One mapping and input schema, compiled: `transform` turns a row into the agent's input."""

    static_values: tuple[tuple[Any, Any], ...]
    columns: tuple[tuple[Any, Any], ...]
    transformations: tuple[tuple[Any, Transform], ...]
    defaults: tuple[tuple[Any, Any], ...]
    steps: dict[Any, Step]
    text_fields: frozenset
    text_checks: dict[Any, Callable[[str], Sequence[str]]]
    required: tuple[tuple[Any, str], ...]
    prompt: Callable[[dict[str, Any]], str]

    def transform(self, row: dict[str, Any], row_number: int | None = None) -> dict[str, Any]:
        """One CSV row -> {"prompt": str, "data": {field: typed value}}; InputRowError if invalid."""
        data = InputPlan.data(self, row, row_number)
        return {"prompt": self.prompt(data), "data": data}

    def data(self, row: dict[str, Any], row_number: int | None = None) -> dict[str, Any]:
        """One CSV row -> {field: typed value}, a tool's input (no prompt written); InputRowError if invalid."""
        row = _rows_without_bom(row)
        raw = dict(self.static_values)
        get = row.get
        for column, field in self.columns:
            cell = get(column)
            if cell is not None and not (isinstance(cell, str) and not cell.strip()):
                raw[field] = cell
        problems: list[str] = []
        for field, apply in self.transformations:
            value, found = apply(row)
            if found:
                problems.extend(found)
            if value is not None and not (isinstance(value, str) and not value.strip()):
                raw[field] = value
        for field, default in self.defaults:
            if field not in raw:
                raw[field] = default
        data: dict[str, Any] = {}
        failed = []
        steps, text_fields, text_checks = self.steps, self.text_fields, self.text_checks
        for field, value in raw.items():
            if isinstance(value, str):  # text into a text field: strip, then the check alone
                if field in text_fields:  # any string passes
                    data[field] = value.strip()
                    continue
                check = text_checks.get(field)
                if check is not None:
                    stripped = value.strip()
                    if not check(stripped):
                        data[field] = stripped
                        continue
            typed = steps[field](value, problems)
            if typed is FAILED:
                failed.append(field)
            else:
                data[field] = typed
        for field, message in self.required:
            if field not in data and field not in failed:
                problems.append(message)
        if problems:
            raise InputRowError(row_number, problems)
        return data


# --- the fast path: one fused pass for rows that pass, the plan's own `transform` for the rest ----

_NO_CONSTANT = object()  # a static value or default that does not pass its field's step as it is
_IMMUTABLE = (str, int, float, bool, type(None))


class _UseGeneral(Exception):
    """Raised inside the fast path to hand the row to the plan's own `transform`."""


_USE_GENERAL = _UseGeneral  # raised as a class: a fresh instance only for a row that fails


def _default_prompt_prefix(mapping: dict[str, Any], section: dict[str, Any]) -> str | None:
    """The text before the JSON of the data in the default prompt; None when a prompt_template is set."""
    if section.get("prompt_template") or mapping.get("prompt_template"):
        return None
    name = mapping.get("extraction_name")
    return f"Run {name} with these inputs: " if name else ""


def _never(text: str) -> bool:
    return False


def _text_passes(plan: InputPlan, field: Any, prop: Any) -> Callable[[str], Any] | None:
    """For stripped text of `field`: None if any text passes as it is, else a test (truthy: passes as it is).

    A field whose text is typed by its step gets a test that always says no.
    A plain string (or untyped) property whose only rule is a valid pattern
    is tested by the pattern's own `search`, which is what its check does.
    """
    if field in plan.text_fields:
        return None
    check = plan.text_checks.get(field)
    if check is None:
        return _never
    if (
        isinstance(prop, dict)
        and prop.get("type") in (None, "string")
        and not any(key in prop for key in ("enum", "minLength", "maxLength", "minimum", "maximum"))
        and isinstance(prop.get("pattern"), str)
        and prop["pattern"]
    ):
        try:
            return pattern_search(prop["pattern"])
        except re.error:
            pass
    return lambda text: not check(text)


def _constant(plan: InputPlan, field: Any, value: Any) -> Any:
    """`value` as `transform` would type it for `field`, worked out once; _NO_CONSTANT when it fails.

    Only values that cannot be shared wrongly between rows: immutable ones,
    or the very object the mapping holds (which `transform` shares as well).
    """
    try:
        typed = InputPlan.data(
            InputPlan(
                static_values=((field, value),),
                columns=(),
                transformations=(),
                defaults=(),
                steps=plan.steps,
                text_fields=plan.text_fields,
                text_checks=plan.text_checks,
                required=(),
                prompt=lambda data: "",
            ),
            {},
        )[field]
    except Exception:  # noqa: BLE001 - a value that fails (or raises) is left to the general path
        return _NO_CONSTANT
    if typed.__class__ not in _IMMUTABLE and typed is not value:
        return _NO_CONSTANT
    return typed


def _fast_apply(apply: Transform) -> Callable[[dict[str, Any]], Any]:
    """A transformation for the fast path: the value alone, _UseGeneral (or KeyError) on a problem."""
    fast = getattr(apply, "fast", None)
    if fast is not None:
        return fast

    def checked(row: dict[str, Any]) -> Any:
        value, found = apply(row)
        if found:
            raise _UseGeneral
        return value

    return checked


def _fast_transform(
    plan: InputPlan, properties: dict[str, Any], prompt_prefix: str | None, with_prompt: bool = True
) -> Callable[..., dict[str, Any]] | None:
    """`plan.transform` as one pass for a plain dict row that passes; None when the plan has no such path.

    Without `with_prompt` it is `plan.data`: the typed data alone, a tool's
    input, with no prompt written (a third of a tool row's time).

    Each column and transformation value is typed as soon as it is read
    (statics and defaults were typed at compile time), into `data` in the
    order `transform` builds it: statics, columns, transformations, defaults,
    a later source overwriting an earlier one in place. Any problem, a
    non-dict row, a BOM in a key or an error hands the row to the plan's own
    `transform`, which finds the same problems in the same order, so a
    failing row reads exactly as before. The default prompt's JSON, when
    every key and value is text, is each field's key written once joined to
    its value's `encode_basestring`: the encoder's own text, no encoder built.
    """
    general = (InputPlan.transform if with_prompt else InputPlan.data).__get__(plan)
    statics = []
    for field, value in plan.static_values:
        typed = _constant(plan, field, value)
        if typed is _NO_CONSTANT:
            return None
        statics.append((field, typed))
    constants = [*statics, *[(field, _constant(plan, field, value)) for field, value in plan.defaults]]
    fields = [field for _column, field in plan.columns] + [field for field, _apply in plan.transformations]
    text_start = (  # the default prompt's JSON is written here while every key and value is text
        with_prompt
        and prompt_prefix is not None
        and all(field.__class__ is str for field in fields)
        and all(field.__class__ is str and value.__class__ is str for field, value in constants)
    )
    # each field's JSON key and separator, written once: a row's prompt joins them to its values
    keys: dict[Any, str] = {
        field: encode_basestring(field) + ": " for field in fields + [f for f, _v in constants] if text_start
    }
    written = [field for field, _value in statics] + fields
    # no field written twice: each value's JSON is written as it is stored, in the order of `data`
    incremental = text_start and len(set(written)) == len(written)
    encode_text = encode_basestring
    static_parts = [keys[field] + encode_text(value) for field, value in statics] if incremental else []

    def entry(field: Any) -> tuple[Callable[[str], Any] | None, Step, str]:
        return _text_passes(plan, field, properties.get(field, {})), plan.steps[field], keys.get(field, "")

    columns = [(column, field, *entry(field)) for column, field in plan.columns]
    transformations = [(field, _fast_apply(apply), *entry(field)) for field, apply in plan.transformations]
    defaults = [
        (field, typed, keys[field] + encode_text(typed) if incremental else "")
        for field, typed in constants[len(statics) :]
    ]
    required = tuple(field for field, _message in plan.required)
    prompt, statics_dict, use_general = plan.prompt, dict(statics), _USE_GENERAL
    prefix = prompt_prefix or ""  # used only when the default prompt is (text_start)

    def transform(row: dict[str, Any], row_number: int | None = None) -> dict[str, Any]:
        """One CSV row -> {"prompt": str, "data": {field: typed value}}; InputRowError if invalid."""
        if row.__class__ is dict:
            try:
                if BOM in "".join(row):
                    raise use_general
                data = statics_dict.copy()
                text_only = text_start
                parts = static_parts.copy()
                get = row.get
                for column, field, passes, step, key in columns:
                    value = get(column)
                    if value.__class__ is str:
                        text = value.strip()
                        if not text:
                            continue
                        if passes is None or passes(text):
                            data[field] = text
                            if incremental:
                                parts.append(key + encode_text(text))
                            continue
                    elif value is None:
                        continue
                    elif isinstance(value, str):
                        raise use_general
                    problems: list[str] = []
                    typed = step(value, problems)
                    if problems:
                        raise use_general
                    if typed.__class__ is not str:
                        text_only = False
                    elif incremental:
                        parts.append(key + encode_text(typed))
                    data[field] = typed
                for field, apply, passes, step, key in transformations:
                    value = apply(row)
                    if value.__class__ is str:
                        text = value.strip()
                        if not text:
                            continue
                        if passes is None or passes(text):
                            data[field] = text
                            if incremental:
                                parts.append(key + encode_text(text))
                            continue
                    elif value is None:
                        continue
                    elif isinstance(value, str):
                        raise use_general
                    problems = []
                    typed = step(value, problems)
                    if problems:
                        raise use_general
                    if typed.__class__ is not str:
                        text_only = False
                    elif incremental:
                        parts.append(key + encode_text(typed))
                    data[field] = typed
                for field, typed, part in defaults:
                    if field not in data:
                        if typed is _NO_CONSTANT:
                            raise use_general
                        data[field] = typed
                        if incremental:
                            parts.append(part)
                for field in required:
                    if field not in data:
                        raise use_general
                if not with_prompt:
                    return data
                if text_only:
                    if incremental:
                        text = ", ".join(parts)
                    else:
                        text = ", ".join([keys[field] + encode_text(value) for field, value in data.items()])
                    return {"prompt": prefix + "{" + text + "}", "data": data}
                return {"prompt": prompt(data), "data": data}
            except Exception:  # noqa: BLE001 - the general path fails (or not) exactly as it always did
                pass
        return general(row, row_number)  # outside the handler: its errors carry no extra context

    return transform


def compile_input_plan(mapping: dict[str, Any], input_schema: dict[str, Any] | None = None) -> InputPlan:
    """Everything `transform` needs, worked out once; MappingConfigError for a malformed mapping."""
    section = input_section(mapping)
    properties = target_properties(section, input_schema)
    sources = field_sources(section)
    static_values = tuple((section.get("static_values") or {}).items())
    columns = tuple((column, field) for column, field in (section.get("column_mappings") or {}).items())
    transformations = []
    for index, spec in enumerate(section.get("transformations") or []):
        check_transformation(spec, index)
        transformations.append((spec["field"], _TRANSFORMS[spec["type"]](spec)))
    defaults = []
    for field, prop in properties.items():
        if isinstance(prop, dict) and "default" in prop:
            defaults.append((field, prop["default"]))
            sources.setdefault(field, "schema default")
    steps: dict[Any, Step] = {}
    text_fields, text_checks = set(), {}
    for field in [*properties, *sources]:
        if field not in steps:
            prop = properties.get(field, {})
            steps[field] = field_step(field, sources.get(field, "input"), prop)
            if isinstance(prop, dict) and coercer(prop.get("type")) is _as_text:  # text is only stripped
                if _any_text_passes(prop):
                    text_fields.add(field)
                else:
                    text_checks[field] = compile_property_check(field, prop)
    required = []
    for field in target_required(section, input_schema):
        source = sources.get(field)
        message = (
            f"{source} ({field}): required value is empty"
            if source
            else f"{field}: required field has no column mapped to it"
        )
        required.append((field, message))
    plan = InputPlan(
        static_values=static_values,
        columns=columns,
        transformations=tuple(transformations),
        defaults=tuple(defaults),
        steps=steps,
        text_fields=frozenset(text_fields),
        text_checks=text_checks,
        required=tuple(required),
        prompt=_prompt_builder(mapping, section),
    )
    prefix = _default_prompt_prefix(mapping, section)
    fast = _fast_transform(plan, properties, prefix)
    if fast is not None:  # instance attributes: `plan.transform` and `plan.data` are the fast paths
        object.__setattr__(plan, "transform", fast)
        object.__setattr__(plan, "data", _fast_transform(plan, properties, prefix, with_prompt=False))
    return plan


_PLANS: PlanCache[InputPlan] = PlanCache(compile_input_plan)


def input_plan(mapping: dict[str, Any], input_schema: dict[str, Any] | None = None) -> InputPlan:
    """The compiled plan for this mapping and schema, built once per container (keyed by content)."""
    return _PLANS.get(mapping, input_schema)


def transform_input(
    row: dict[str, Any],
    mapping: dict[str, Any],
    input_schema: dict[str, Any] | None = None,
    row_number: int | None = None,
) -> dict[str, Any]:
    """One CSV row -> {"prompt": str, "data": {field: typed value}}; InputRowError if invalid."""
    return input_plan(mapping, input_schema).transform(row, row_number)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: {"row", "mapping", "input_schema"?, "row_number"?} -> {"prompt", "data"}.

    A bad row raises InputRowError, which the state machine catches as the row's failure.
    """
    return transform_input(event["row"], event["mapping"], event.get("input_schema"), event.get("row_number"))
