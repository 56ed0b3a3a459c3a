"""Semantic rules a canonical schema must satisfy beyond its meta-schema.

Each rule returns problems rather than raising, so one run reports them all.
Rules are about what the generated artifacts need: names that are safe as
Python identifiers, file names and tool names; patterns that compile; enum
values and defaults that fit their type; placeholders that name real fields.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator

from factory import mustache, rules
import factory.runtime.bounded_regex as bounded_regex
from factory.errors import Problem, json_path
from factory.names import (
    EXTRACTION_NAME_MAX,
    METADATA_COLUMNS,
    RESERVED_INPUT_FIELDS,
    SEMVER_RE,
    agent_name,
)
from factory.schema.model import CanonicalSchema, ObjectSchema, PropertySchema

EXTRACTION_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}\Z")
FIELD_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}\Z")
AGENT_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}\Z")
KNOWN_FORMATS = ("date", "date-time", "time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname")

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}

Path_ = tuple[str | int, ...]


def check_schema(display: str, path: Path, document: Any, schema: CanonicalSchema) -> list[Problem]:
    """Every rule for one schema file."""
    problems = list(_check_text(display, document, ()))
    problems += _check_names(display, path, schema)
    problems += _check_fields(display, ("input_schema",), schema.input_schema, top_level_input=True)
    problems += _check_fields(display, ("output_schema",), schema.output_schema, top_level_input=False)
    problems += _check_browser(display, schema)
    problems += _check_workflow(display, schema)
    problems += _check_batch(display, schema)
    return problems


def check_schema_set(schemas: list[tuple[str, CanonicalSchema]]) -> list[Problem]:
    """Rules across files: two schemas may not generate the same artifacts."""
    problems = []
    owners: dict[str, str] = {}
    agents: dict[str, str] = {}
    for display, schema in schemas:
        other = owners.setdefault(schema.extraction_name, display)
        if other != display:
            problems.append(
                Problem(display, "$.extraction_name", rules.DUPLICATE_NAME,
                        f"extraction_name {schema.extraction_name!r} is also declared in {other}",
                        "one schema file per extraction; bump 'version' in place instead of copying")
            )
        name = agent_name(schema)
        other = agents.setdefault(name, display)
        if other != display:
            problems.append(
                Problem(display, "$.agent.name", rules.DUPLICATE_AGENT,
                        f"agent name {name!r} is also used by {other}", "choose another agent.name")
            )
    return problems


def _check_text(display: str, node: Any, where: Path_) -> Iterator[Problem]:
    """Strings must be encodable: a lone surrogate cannot be written as UTF-8."""
    if isinstance(node, str):
        try:
            node.encode("utf-8")
        except UnicodeEncodeError:
            yield Problem(display, json_path(where), rules.TEXT, "contains a lone UTF-16 surrogate (\\ud800-\\udfff)",
                          "remove the escape or write the full surrogate pair")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _check_text(display, key, where)
            yield from _check_text(display, value, where + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _check_text(display, value, where + (index,))


def _check_names(display: str, path: Path, schema: CanonicalSchema) -> list[Problem]:
    problems = []
    name = schema.extraction_name
    if not EXTRACTION_NAME_RE.match(name):
        problems.append(Problem(display, "$.extraction_name", rules.NAME_FORMAT,
                                f"extraction_name {name!r} must match ^[a-z][a-z0-9_]{{1,62}}$",
                                "use lower snake case, e.g. 'broadband_availability'"))
    elif keyword.iskeyword(name):
        problems.append(Problem(display, "$.extraction_name", rules.NAME_KEYWORD,
                                f"extraction_name {name!r} is a Python keyword", "choose a descriptive name"))
    elif len(name) > EXTRACTION_NAME_MAX:
        problems.append(Problem(display, "$.extraction_name", rules.NAME_LENGTH,
                                f"extraction_name is {len(name)} characters; at most {EXTRACTION_NAME_MAX} fit the "
                                "64-character tool name limit of 'print_<name>_output'", "shorten it"))
    elif path.suffix == ".json" and path.stem != name:
        problems.append(Problem(display, "$.extraction_name", rules.FILE_NAME,
                                f"file is named {path.name!r} but extraction_name is {name!r}",
                                f"rename the file to {name}.json"))
    if not SEMVER_RE.match(schema.version):
        problems.append(Problem(display, "$.version", rules.VERSION_FORMAT,
                                f"version {schema.version!r} is not MAJOR.MINOR.PATCH", "e.g. '1.0.0'"))
    if schema.agent.name is not None and not AGENT_NAME_RE.match(schema.agent.name):
        problems.append(Problem(display, "$.agent.name", rules.AGENT_NAME_FORMAT,
                                f"agent.name {schema.agent.name!r} must match ^[a-z][a-z0-9-]{{1,62}}$",
                                "use lower kebab case"))
    return problems


def _check_fields(display: str, where: Path_, obj: ObjectSchema | PropertySchema, *, top_level_input: bool) -> list[Problem]:
    problems = []
    properties = obj.properties or {}
    for field in obj.required:
        if field not in properties:
            problems.append(Problem(display, json_path(where + ("required",)), rules.REQUIRED_UNDECLARED,
                                    f"required field {field!r} is not declared in properties",
                                    "declare it or remove it from 'required'"))
    for field, prop in properties.items():
        at = where + ("properties", field)
        problems += _check_field_name(display, at, field, top_level_input=top_level_input)
        problems += _check_property(display, at, prop)
    return problems


def _check_field_name(display: str, at: Path_, field: str, *, top_level_input: bool) -> list[Problem]:
    if field in METADATA_COLUMNS:
        return [Problem(display, json_path(at), rules.FIELD_RESERVED,
                        f"field name {field!r} collides with the output metadata column of the same name",
                        "rename the field; names starting with '_' are reserved")]
    if not FIELD_NAME_RE.match(field):
        return [Problem(display, json_path(at), rules.FIELD_NAME,
                        f"field name {field!r} is not a safe identifier",
                        "use letters, digits and '_', starting with a letter, at most 64 characters")]
    if keyword.iskeyword(field):
        return [Problem(display, json_path(at), rules.FIELD_KEYWORD,
                        f"field name {field!r} is a Python keyword", "choose another name")]
    if top_level_input and field in RESERVED_INPUT_FIELDS:
        return [Problem(display, json_path(at), rules.FIELD_RESERVED,
                        f"input field name {field!r} is reserved for the browser parameters of the input tool",
                        "choose another name")]
    return []


def _patterns_usable(schema: dict[str, Any]) -> bool:
    """Whether every `pattern` in the property (nested ones too) may run; jsonschema would run them all
    on the default, and a refused one is reported at its own place."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            pattern = node.get("pattern")
            if isinstance(pattern, str) and bounded_regex.refusal(pattern) is not None:
                return False
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _check_property(display: str, at: Path_, prop: PropertySchema) -> list[Problem]:
    problems = []
    if prop.pattern is not None:
        if prop.type != "string":
            problems.append(Problem(display, json_path(at + ("pattern",)), rules.PATTERN_TYPE,
                                    "'pattern' applies only to strings", "remove it or make the type string"))
        try:
            bounded_regex.compile_bounded(prop.pattern)
        except bounded_regex.UnsafePattern as err:
            problems.append(Problem(display, json_path(at + ("pattern",)), rules.PATTERN_UNSAFE,
                                    f"pattern {err.reason}, which can make one match take minutes",
                                    bounded_regex.FIX_HINT))
        except re.error as err:
            problems.append(Problem(display, json_path(at + ("pattern",)), rules.PATTERN_COMPILE,
                                    f"pattern does not compile: {err}", "fix the regular expression"))
    if prop.enum is not None:
        for index, value in enumerate(prop.enum):
            if not _fits_type(value, prop.type):
                problems.append(Problem(display, json_path(at + ("enum", index)), rules.ENUM_TYPE,
                                        f"enum value {value!r} is not of type {prop.type}",
                                        f"use {prop.type} values or change the type"))
        if len({repr(v) for v in prop.enum}) != len(prop.enum):
            problems.append(Problem(display, json_path(at + ("enum",)), rules.ENUM_DUPLICATE,
                                    "enum lists a value twice", "remove the duplicate"))
    if prop.format is not None and prop.format not in KNOWN_FORMATS:
        problems.append(Problem(display, json_path(at + ("format",)), rules.FORMAT_UNKNOWN,
                                f"unknown format {prop.format!r}", "one of: " + ", ".join(KNOWN_FORMATS)))
    for low, high, label in ((prop.minimum, prop.maximum, "minimum/maximum"),
                             (prop.min_length, prop.max_length, "minLength/maxLength"),
                             (prop.min_items, prop.max_items, "minItems/maxItems")):
        if low is not None and high is not None and low > high:
            problems.append(Problem(display, json_path(at), rules.BOUNDS,
                                    f"{label}: lower bound {low} exceeds upper bound {high}", "swap or fix the bounds"))
    if prop.items is not None and prop.type != "array":
        problems.append(Problem(display, json_path(at + ("items",)), rules.ITEMS_TYPE,
                                "'items' applies only to arrays", "remove it or make the type array"))
    if prop.properties is not None and prop.type != "object":
        problems.append(Problem(display, json_path(at + ("properties",)), rules.PROPERTIES_TYPE,
                                "'properties' applies only to objects", "remove it or make the type object"))
    if prop.has_default and _patterns_usable(prop.to_json_schema()):
        errors = list(Draft202012Validator(prop.to_json_schema()).iter_errors(prop.default))
        if errors:
            problems.append(Problem(display, json_path(at + ("default",)), rules.DEFAULT_INVALID,
                                    f"default {prop.default!r} does not satisfy its property: {errors[0].message}",
                                    "change the default or the property"))
    if prop.properties is not None or prop.required:
        problems += _check_fields(display, at, prop, top_level_input=False)
    if prop.items is not None:
        problems += _check_property(display, at + ("items",), prop.items)
    return problems


def _fits_type(value: Any, type_name: str) -> bool:
    if isinstance(value, bool) and type_name in ("number", "integer"):
        return False
    if type_name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _PYTHON_TYPES[type_name])


def _check_browser(display: str, schema: CanonicalSchema) -> list[Problem]:
    problems = []
    config = schema.browser_config
    if config.timeout <= 0:
        problems.append(Problem(display, "$.browser_config.timeout", rules.TIMEOUT,
                                f"timeout must be > 0 seconds, got {config.timeout}", "e.g. 300"))
    url = urlsplit(config.starting_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        problems.append(Problem(display, "$.browser_config.starting_url", rules.STARTING_URL,
                                f"starting_url {config.starting_url!r} is not an http(s) URL",
                                "write the full URL, e.g. https://example.com/search"))
    return problems


def _check_workflow(display: str, schema: CanonicalSchema) -> list[Problem]:
    if schema.workflow is None:
        return []
    problems = []
    inputs = schema.input_schema.properties
    for index, step in enumerate(schema.workflow):
        at: Path_ = ("workflow", index)
        if step.action in ("act", "act_with_schema") and not (step.prompt or "").strip():
            problems.append(Problem(display, json_path(at + ("prompt",)), rules.WORKFLOW_PROMPT,
                                    f"an {step.action} step needs a prompt", "say what the browser should do"))
        for key, text in (("prompt", step.prompt), ("description", step.description)):
            if text is None:
                continue
            try:
                found = mustache.tags(text)
            except mustache.MustacheSyntaxError as err:
                problems.append(Problem(display, json_path(at + (key,)), rules.WORKFLOW_MUSTACHE,
                                        f"invalid Mustache: {err}", "close every {{#section}} and tag"))
                continue
            for tag in found:
                if tag.kind == "partial":
                    problems.append(Problem(display, json_path(at + (key,)), rules.WORKFLOW_MUSTACHE,
                                            "partials are not supported", "inline the text"))
                elif tag.name not in inputs:
                    problems.append(Problem(display, json_path(at + (key,)), rules.WORKFLOW_PLACEHOLDER,
                                            f"placeholder {{{{{tag.name}}}}} names no input field",
                                            "declared input fields: " + ", ".join(inputs)))
    if not any(step.action == "act_with_schema" for step in schema.workflow):
        problems.append(Problem(display, "$.workflow", rules.WORKFLOW_EXTRACT,
                                "the workflow has no act_with_schema step, so nothing returns the output schema",
                                "add an act_with_schema step; its schema is filled in from output_schema"))
    return problems


def _check_batch(display: str, schema: CanonicalSchema) -> list[Problem]:
    problems = []
    inputs = schema.input_schema.properties
    columns: dict[str, str] = {}
    for field, column in schema.batch.csv_columns.items():
        at = json_path(("batch", "csv_columns", field))
        if field not in inputs:
            problems.append(Problem(display, at, rules.BATCH_FIELD, f"{field!r} is not an input field",
                                    "declared input fields: " + ", ".join(inputs)))
        other = columns.setdefault(column, field)
        if other != field:
            problems.append(Problem(display, at, rules.BATCH_COLUMN,
                                    f"CSV column {column!r} is mapped to both {other!r} and {field!r}",
                                    "map each column to one field"))
    return problems
