"""Turn one CSV row into the agent's input: the input-mapper Lambda (docs/runtime.md)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any, Callable, Sequence

from factory.runtime.bounded_parse import json_loads
from factory.runtime.csv_source import BOM, strip_bom_keys
from factory.runtime.json_text import chunk_encoder
from factory.runtime.plan_cache import PlanCache
from factory.runtime.value_checks import JSON_TYPES, compile_property_check, required_fields, text_test
from factory.runtime.vocabulary import FALSE_WORDS, TRUE_WORDS, parse_integer, parse_number

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
    """The included columns when given, else every column of the CSV but the excluded ones."""
    for key in COLUMN_LIST_KEYS & section.keys():
        if not isinstance(section[key], list) or not all(isinstance(name, str) for name in section[key]):
            raise MappingConfigError(f"input_mapping.{key} must be a list of CSV column names")
    if section.get("include_columns"):
        return list(dict.fromkeys(section["include_columns"]))
    if columns is None:
        raise MappingConfigError(
            "input_mapping.exclude_columns needs the CSV's columns; give include_columns"
        )
    excluded = set(section.get("exclude_columns") or ())
    return [column for column in columns if column not in excluded]


def input_section(mapping: dict[str, Any], columns: Sequence[str] | None = None) -> dict[str, Any]:
    """Accept the whole batch mapping or just its `input_mapping`; the section in our form, from the
    existing system's forms too (docs/runtime.md, `input_mapper.py`)."""
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
    """The batch mapping with its `input_mapping` in our form (`input_section`), for a CSV with `columns`."""
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


def _as_parsed(parse: Callable[[str], Any], what: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not {what}") from None

    return convert


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
    "integer": _as_parsed(parse_integer, "an integer"),
    "number": _as_parsed(parse_number, "a number"),
    "boolean": _as_boolean,
    "object": _as_json("object"),
    "array": _as_json("array"),
}


def coercer(json_type: Any) -> Callable[[Any], Any]:
    """The conversion of CSV text to `json_type`; other values pass unchanged, text is stripped."""
    return _COERCERS.get(json_type, _as_text) if isinstance(json_type, str) else _as_text


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
    """Refuse a malformed transformation before any row runs (the kinds and their needs: _TRANSFORMS)."""
    where = f"transformations[{index}]"
    if not isinstance(spec, dict) or not spec.get("field"):
        raise MappingConfigError(f"{where}: needs a 'field'")
    kind = spec.get("type")
    if kind not in _TRANSFORMS:
        raise MappingConfigError(f"{where}: unknown type {kind!r}; use one of {', '.join(_TRANSFORMS)}")
    needs = _TRANSFORMS[kind][0](spec)
    if needs:
        raise MappingConfigError(f"{where}: {kind} needs {needs}")


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


def _asked_cells(row: dict[str, Any], columns: Sequence[Any], field: Any) -> tuple:
    """(the cells of `columns`, problems), asked column by column: a row that is not a plain dict
    (its own idea of a missing key) or lacks a column, which is None and a problem naming it."""
    problems = [_missing_column(column, field) for column in columns if column not in row]
    return tuple(row[column] if column in row else None for column in columns), problems


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
        if row.__class__ is dict:  # the cells picked in C
            try:
                cells = cells_of(row)
            except KeyError:
                return None, _asked_cells(row, columns, field)[1]
        else:
            cells, missing = _asked_cells(row, columns, field)
            if missing:
                return None, missing
        parts = []
        for cell in cells:
            if cell.__class__ is str:
                cell = cell.strip()
                if cell:
                    parts.append(cell)
            elif not is_absent(cell):
                parts.append(str(cell).strip())
        return separator.join(parts), _NONE

    return apply


def _template(spec: dict[str, Any]) -> Transform:
    """`{column}` placeholders split out once into a str.format pattern over the cells (None: "")."""
    pieces = TEMPLATE_PLACEHOLDER.split(spec["template"])
    literals, columns, field = pieces[0::2], pieces[1::2], spec["field"]
    if not columns:
        text = pieces[0]
        return lambda row: (text, _NONE)
    pattern = "{!s}".join(literal.replace("{", "{{").replace("}", "}}") for literal in literals)
    cells_of = _cells_getter(columns)

    def apply(row: dict[str, Any]) -> tuple[Any, Sequence[str]]:
        if row.__class__ is dict:  # the cells picked in C
            try:
                cells, problems = cells_of(row), _NONE
            except KeyError:
                cells, problems = _asked_cells(row, columns, field)
        else:
            cells, problems = _asked_cells(row, columns, field)
        if None in cells:
            cells = tuple("" if cell is None else cell for cell in cells)
        return pattern.format(*cells), problems

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


def _jsonpath_needs(spec: dict[str, Any]) -> str | None:
    if not spec.get("column"):
        return "a 'column'"
    parse_jsonpath(str(spec.get("path", "")))  # MappingConfigError naming the path it cannot read
    return None


def _concat_needs(spec: dict[str, Any]) -> str | None:
    return None if isinstance(spec.get("columns"), list) and spec["columns"] else "a non-empty 'columns' list"


# Each transformation: what its spec needs (a reason when it is missing, else None), and its builder.
_Needs = Callable[[dict[str, Any]], "str | None"]
_TRANSFORMS: dict[str, tuple[_Needs, Callable[[dict[str, Any]], Transform]]] = {
    "concat": (_concat_needs, _concat),
    "template": (
        lambda spec: None if isinstance(spec.get("template"), str) else "a 'template' string",
        _template,
    ),
    "jsonpath": (_jsonpath_needs, _jsonpath),
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_ENCODE = chunk_encoder()  # the chunks of json.dumps(data, ensure_ascii=False)


def _transformer(
    reads: _Reads, data: RowMapper, mapping: dict[str, Any], section: dict[str, Any]
) -> Callable[[dict[str, Any], int | None], dict[str, Any]]:
    """`transform(row, row_number)`: the row's data and its prompt, `prompt_template` with `{field}`
    placeholders or "Run <extraction_name> with these inputs: <the data's JSON>" (written as the row
    is typed)."""
    template = section.get("prompt_template") or mapping.get("prompt_template")
    if template:
        fill = _prompt_filler(template)

        def filled(row: dict[str, Any], row_number: int | None = None) -> dict[str, Any]:
            typed = data(row, row_number)
            return {"prompt": fill(typed), "data": typed}

        return filled
    name = mapping.get("extraction_name")
    return _row_mapper(reads, f"Run {name} with these inputs: " if name else "")


def _prompt_filler(template: Any) -> Callable[[dict[str, Any]], str]:
    """`{field}` placeholders split out once; a template that is not text is refused when a prompt is
    asked for (a tool's input never needs one)."""
    if not isinstance(template, str):
        return lambda data: _refuse_template(template)
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


def _refuse_template(template: Any) -> str:
    raise TypeError(
        f"prompt_template must be text with {{field}} placeholders, not {type(template).__name__}"
    )


FAILED = object()  # a field step's answer when the value cannot be converted
Step = Callable[[Any, list], Any]


def _any_text_passes(prop: dict[str, Any]) -> bool:
    """True when every string meets `prop`: no type other than string, no string constraint."""
    json_type = prop.get("type")
    if json_type not in (None, "string") and not (isinstance(json_type, str) and json_type not in JSON_TYPES):
        return False
    return not (
        "enum" in prop or prop.get("pattern") or any(key in prop for key in ("minLength", "maxLength"))
    )


def field_step(field: Any, source: str, prop: dict[str, Any]) -> Step:
    """`step(value, problems)`: the typed value, or FAILED when it does not convert; problems are
    appended, naming the source (a value that converts but fails its check is kept: the row fails)."""
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


@dataclass(frozen=True)
class Typed:
    """A static value or schema default typed once, and the problems each row that uses it reports."""

    value: Any
    problems: tuple[str, ...]


def _typed(step: Step, value: Any) -> Typed:
    problems: list[str] = []
    return Typed(step(value, problems), tuple(problems))


_STEP = object()  # the text rule of a field whose text goes through its step (a typed field)
RowMapper = Callable[[dict[str, Any], "int | None"], dict[str, Any]]


@dataclass(frozen=True)
class InputPlan:
    """One mapping and input schema, compiled: `transform(row, row_number)` is the agent's input,
    {"prompt", "data"}, `data` the typed data alone (a tool's input); InputRowError for a bad row."""

    data: RowMapper
    transform: Callable[[dict[str, Any], "int | None"], dict[str, Any]]


@dataclass(frozen=True)
class _Reads:
    """Where a row's values come from (mapped `columns`, then `transformations`) and, in that order,
    (field, text rule, step) for each: stripped text is kept as it is (rule None), when it passes a
    `text_test`, or goes through the step as any other value (_STEP)."""

    statics: dict[Any, Typed]
    columns: tuple[Any, ...]
    transformations: tuple[Transform, ...]
    rules: tuple[tuple[Any, Any, Step], ...]
    defaults: tuple[tuple[Any, Typed], ...]
    required: tuple[tuple[Any, str], ...]


def _prepared(reads: _Reads) -> tuple:
    """The row pass's constants, worked out once (see `_row_mapper`)."""
    statics = {field: typed.value for field, typed in reads.statics.items()}
    static_problems = {field: typed.problems for field, typed in reads.statics.items() if typed.problems}
    fields, text_rules, steps = (tuple(part) for part in zip(*reads.rules)) if reads.rules else ((), (), ())
    required = frozenset(field for field, _message in reads.required)
    return statics, static_problems, fields, text_rules, steps, required


def _reader(reads: _Reads) -> Callable[[dict[str, Any]], tuple[tuple, Sequence[str]]]:
    """`read(row)`: the values of the row's mapped columns then transformations, and the problems of
    transformations; a BOM a reader kept on the header's first key is ignored."""
    columns, transformations, no_problems = reads.columns, reads.transformations, _NONE
    read_columns = _cells_getter(columns) if columns else lambda row: ()
    bom, strip_keys = BOM, strip_bom_keys

    def unmarked(row: dict[str, Any]) -> dict[str, Any]:
        for first in row:  # only the first key can carry it: the others are not scanned per row
            return strip_keys(row) if isinstance(first, str) and first[:1] == bom else row
        return row

    def read(row: dict[str, Any]) -> tuple[tuple, Sequence[str]]:
        if transformations or row.__class__ is not dict:  # these read columns by name with .get
            row = unmarked(row)
        try:  # the cells, picked in C from a plain dict
            values = read_columns(row) if row.__class__ is dict else tuple(map(row.get, columns))
        except KeyError:  # a missing column, or one a BOM hides
            row = unmarked(row)
            values = tuple(map(row.get, columns))
        problems: Sequence[str] = no_problems
        for apply in transformations:
            value, missing = apply(row)
            values += (value,)
            if missing:
                problems = [*problems, *missing]
        return values, problems

    return read


def _json_pairs(reads: _Reads) -> tuple[dict[Any, str], list[str] | None, dict[Any, str | None]] | None:
    """To write the data's JSON as the row is typed: each field's `"key": `, the statics' JSON pairs
    (None if one is not text) and each default's (None: not text). None when a field can be written
    twice in a row or a key is not text; the encoder writes the JSON then."""
    written = [*reads.statics, *(field for field, _rule, _step in reads.rules)]
    keys = [*written, *(field for field, _default in reads.defaults)]
    if len(set(written)) != len(written) or any(key.__class__ is not str for key in keys):
        return None
    keyed = {field: encode_basestring(field) + ": " for field in keys}

    def pair(field: Any, value: Any) -> str | None:
        return keyed[field] + encode_basestring(value) if value.__class__ is str else None

    statics = [pair(field, typed.value) for field, typed in reads.statics.items()]
    defaults = {field: pair(field, typed.value) for field, typed in reads.defaults}
    return keyed, None if None in statics else statics, defaults  # type: ignore[return-value]


def _row_mapper(reads: _Reads, prefix: str | None = None) -> RowMapper:
    """One row -> its typed data; with `prefix`, {"prompt": prefix + the data's JSON, "data"} (see _Reads)."""
    statics, static_problems, fields, text_rules, steps, required = _prepared(reads)
    read, defaults, as_step, encode_text = _reader(reads), reads.defaults, _STEP, encode_basestring
    pairs = _json_pairs(reads) if prefix is not None else None
    keyed, static_parts, default_parts = pairs or ({}, None, {})
    keys = tuple(keyed.get(field, "") for field in fields)  # each field's `"key": `, in the zip below

    def data(row: dict[str, Any], row_number: int | None = None) -> dict[str, Any]:
        values, problems = read(row)
        typed: dict[Any, Any] = statics.copy()
        found: dict[Any, Sequence[str]] | None = dict(static_problems) if static_problems else None
        parts = None if static_parts is None else static_parts.copy()  # the JSON pairs so far
        for field, rule, step, key, value in zip(fields, text_rules, steps, keys, values):
            if value.__class__ is str:
                value = value.strip()
                if not value:
                    continue
                if rule is None or (rule is not as_step and rule(value)):
                    typed[field] = value
                    if parts is not None:
                        parts.append(key + encode_text(value))
                    if found:
                        found.pop(field, None)
                    continue
            elif value is None or (isinstance(value, str) and not value.strip()):
                continue
            trouble: list[str] = []
            typed[field] = value = step(value, trouble)
            if parts is not None:
                parts = parts + [key + encode_text(value)] if value.__class__ is str else None
            if trouble:
                found = found or {}
                found[field] = trouble
            elif found:
                found.pop(field, None)
        for field, default in defaults:
            if field not in typed:
                typed[field] = default.value
                if parts is not None:
                    part = default_parts[field]
                    parts = None if part is None else parts + [part]
                if default.problems:
                    found = found or {}
                    found[field] = default.problems
        if found or problems or not typed.keys() >= required:
            _refuse(reads, row_number, typed, found or {}, list(problems))
        if prefix is None:
            return typed
        text = "".join(_ENCODE(typed, 0)) if parts is None else "{" + ", ".join(parts) + "}"
        return {"prompt": prefix + text, "data": typed}

    return data


def _refuse(
    reads: _Reads,
    row_number: int | None,
    data: dict[Any, Any],
    found: dict[Any, Sequence[str]],
    problems: list[str],
) -> None:
    """Raise the row's InputRowError: transformation problems, each field's in place, then required."""
    for field in data:
        problems.extend(found.get(field, ()))
    problems.extend(message for field, message in reads.required if field not in data)
    raise InputRowError(row_number, problems)


def _field_rules(
    properties: dict[str, Any], sources: dict[str, str]
) -> tuple[dict[Any, Step], dict[Any, Any]]:
    """Each field's step and text rule (a `Source`'s): None when any text passes, its check, or _STEP."""
    steps: dict[Any, Step] = {}
    text_rules: dict[Any, Any] = {}
    for field in [*properties, *sources]:
        if field in steps:
            continue
        prop = properties.get(field, {})
        if not isinstance(prop, dict):
            raise MappingConfigError(f"input schema property {field!r} must be an object, not {prop!r}")
        steps[field] = field_step(field, sources.get(field, "input"), prop)
        if coercer(prop.get("type")) is _as_text:  # text is only stripped
            text_rules[field] = None if _any_text_passes(prop) else text_test(field, prop)
        else:
            text_rules[field] = _STEP
    return steps, text_rules


def _required(section: dict[str, Any], input_schema: Any, sources: dict[str, str]) -> list[tuple[Any, str]]:
    required = []
    for field in target_required(section, input_schema):
        source = sources.get(field)
        message = (
            f"{source} ({field}): required value is empty"
            if source
            else f"{field}: required field has no column mapped to it"
        )
        required.append((field, message))
    return required


def compile_input_plan(mapping: dict[str, Any], input_schema: dict[str, Any] | None = None) -> InputPlan:
    """Everything `transform` needs, worked out once; MappingConfigError for a malformed mapping."""
    section = input_section(mapping)
    properties = target_properties(section, input_schema)
    sources = field_sources(section)
    columns = tuple((section.get("column_mappings") or {}).items())
    transformations = []
    for index, spec in enumerate(section.get("transformations") or []):
        check_transformation(spec, index)
        transformations.append((spec["field"], _TRANSFORMS[spec["type"]][1](spec)))
    defaults = []
    for field, prop in properties.items():
        if isinstance(prop, dict) and "default" in prop:
            defaults.append((field, prop["default"]))
            sources.setdefault(field, "schema default")
    steps, text_rules = _field_rules(properties, sources)
    fields = [*(field for _column, field in columns), *(field for field, _apply in transformations)]
    reads = _Reads(
        statics={
            field: _typed(steps[field], value)
            for field, value in (section.get("static_values") or {}).items()
        },
        columns=tuple(column for column, _field in columns),
        transformations=tuple(apply for _field, apply in transformations),
        rules=tuple((field, text_rules[field], steps[field]) for field in fields),
        defaults=tuple((field, _typed(steps[field], value)) for field, value in defaults),
        required=tuple(_required(section, input_schema, sources)),
    )
    data = _row_mapper(reads)
    return InputPlan(data=data, transform=_transformer(reads, data, mapping, section))


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
