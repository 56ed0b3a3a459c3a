"""An agent's registered output schema (`schemas/<agent>.yaml`) as an output mapping (docs/runtime.md)."""

from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple

from factory.runtime.output_mapping.expressions import (
    OutputMappingConfigError,
    compile_expression,
    compile_regex,
    place,
)
from factory.runtime.output_mapping.config import load_output_mapping_set
from factory.runtime.output_mapping.methods import FIELD_NAME, OutputMappings
from factory.runtime.plan_cache import PlanCache
from factory.runtime.vocabulary import METADATA_COLUMNS

OUTPUT_FORMATS = ("messages", "structured_output", "json")
FIELD_TYPES = ("string", "number", "integer", "boolean", "object", "array")
EXTRACTION_TYPES = ("tool_result", "structured")
TYPE_TRANSFORMS = {"number": ["to_number"], "integer": ["to_number"], "boolean": ["to_bool"]}
DOCUMENT_KEYS = ("agent", "version", "output_format", "description", "fields")
FIELD_KEYS = ("name", "type", "required", "description", "extraction")
ENTRY_KEYS = {"tool_result": ("type", "tool", "pattern"), "structured": ("type", "path")}
AGENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}\Z")
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
VERSION = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?\Z")


class DocumentProblem(NamedTuple):
    """One thing wrong: `path` as a JSONPath into the document ($.fields[0].extraction[1].pattern)."""

    path: str
    message: str
    hint: str = ""


def _unknown_keys(node: dict[str, Any], allowed: tuple[str, ...], where: str) -> list[DocumentProblem]:
    return [
        DocumentProblem(place(where, str(key)), f"unknown key {key!r}", "allowed: " + ", ".join(allowed))
        for key in node
        if key not in allowed
    ]


def _at(where: str, key: str, message: str, hint: str = "") -> list[DocumentProblem]:
    """One problem at `where`'s `key`."""
    return [DocumentProblem(place(where, key), message, hint)]


def _version_hint(version: Any) -> str:
    return 'quote it: version: "1.0"' if isinstance(version, (int, float)) else 'e.g. "1.0" or "1.2.0"'


def _matches(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and bool(pattern.match(value))


# The checks of single keys: (key, is it good, message for the bad value, its hint).
Check = tuple[str, Callable[[Any], bool], str, Callable[[Any], str]]
DOCUMENT_CHECKS: tuple[Check, ...] = (
    ("agent", _matches(AGENT_NAME), "agent {!r} is not an agent name",
     lambda _: "the agent's registry name, e.g. broadband-agent-rust"),
    ("version", _matches(VERSION), "version {!r} is not MAJOR.MINOR[.PATCH] text", _version_hint),
    ("output_format", OUTPUT_FORMATS.__contains__, "output_format {!r} is not known",
     lambda _: "one of " + ", ".join(OUTPUT_FORMATS)),
)  # fmt: skip
FIELD_CHECKS: tuple[Check, ...] = (
    (
        "type",
        FIELD_TYPES.__contains__,
        "type {!r} is not known",
        lambda _: "one of " + ", ".join(FIELD_TYPES),
    ),
)
ENTRY_CHECKS: dict[str, tuple[Check, ...]] = {
    "tool_result": (
        ("tool", _matches(TOOL_NAME), "tool {!r} is not a tool name",
         lambda _: "the name the agent calls the tool by, e.g. browser_broadband"),
    ),
    "structured": (),
}  # fmt: skip


def _checked(node: dict[str, Any], checks: tuple[Check, ...], where: str) -> list[DocumentProblem]:
    return [
        DocumentProblem(place(where, key), message.format(node.get(key)), hint(node.get(key)))
        for key, good, message, hint in checks
        if not good(node.get(key))
    ]


def _entry_problems(entry: Any, output_format: Any, where: str) -> list[DocumentProblem]:
    if not isinstance(entry, dict) or entry.get("type") not in EXTRACTION_TYPES:
        hint = 'e.g. {type: structured, path: "$.exchange"}'
        return _at(where, "type", "an extraction entry needs type tool_result or structured", hint)
    entry_type = entry["type"]  # the document's own vocabulary: tool_result or structured
    problems = _unknown_keys(entry, ENTRY_KEYS[entry_type], where)
    if entry_type == "tool_result" and output_format == "json":
        hint = "use type: structured with a path, or output_format: messages"
        problems += _at(where, "type", "a json output has no tool results", hint)
    problems.extend(_checked(entry, ENTRY_CHECKS[entry_type], where))
    if entry_type == "structured":
        try:
            compile_expression(entry.get("path"), place(where, "path"))
        except OutputMappingConfigError as err:
            problems.append(DocumentProblem(err.where, err.detail, "e.g. $.speeds.download"))
        return problems
    try:
        pattern = compile_regex(entry.get("pattern"), place(where, "pattern"))
    except OutputMappingConfigError as err:
        problems.append(DocumentProblem(err.where, err.detail, "a Python regular expression"))
    else:
        if pattern.groups > 1:
            message = f"the pattern has {pattern.groups} groups; the value is group 1"
            problems += _at(where, "pattern", message, "make the other groups non-capturing: (?:...)")
    return problems


def _name_problem(name: Any, where: str, seen: set[str]) -> list[DocumentProblem]:
    if not isinstance(name, str) or not FIELD_NAME.match(name) or name in METADATA_COLUMNS:
        hint = "letters, digits and _, starting with a letter, at most 64"
        return _at(where, "name", f"field name {name!r} cannot be a CSV column", hint)
    if name in seen:
        return _at(where, "name", f"field {name!r} is described twice", "merge the two entries")
    seen.add(name)
    return []


def _field_problems(spec: Any, output_format: Any, where: str, seen: set[str]) -> list[DocumentProblem]:
    if not isinstance(spec, dict):
        return [DocumentProblem(where, "a field must be an object", "{name, type, extraction}")]
    problems = _unknown_keys(spec, FIELD_KEYS, where) + _name_problem(spec.get("name"), where, seen)
    problems.extend(_checked(spec, FIELD_CHECKS, where))
    if "required" in spec and not isinstance(spec["required"], bool):
        problems += _at(where, "required", "required must be true or false")
    extraction = spec.get("extraction")
    if not isinstance(extraction, list) or not extraction:
        hint = "tool_result {tool, pattern} or structured {path}"
        return problems + _at(where, "extraction", "needs a non-empty list of extraction entries", hint)
    for index, entry in enumerate(extraction):
        problems.extend(_entry_problems(entry, output_format, place(where, "extraction", index)))
    return problems


def document_problems(document: Any) -> list[DocumentProblem]:
    """Everything wrong with a parsed output-schema document, each with its JSONPath."""
    if not isinstance(document, dict):
        hint = "agent, version, output_format, fields"
        return [DocumentProblem("$", "an output schema must be a mapping", hint)]
    problems = _unknown_keys(document, DOCUMENT_KEYS, "$") + _checked(document, DOCUMENT_CHECKS, "$")
    fields = document.get("fields")
    if not isinstance(fields, list) or not fields:
        return problems + _at("$", "fields", "needs a non-empty list of fields", "{name, type, extraction}")
    seen: set[str] = set()
    for index, spec in enumerate(fields):
        problems.extend(_field_problems(spec, document.get("output_format"), place("$.fields", index), seen))
    return problems


def mapping_config(document: dict[str, Any]) -> dict[str, Any]:
    """The field-keyed `output_mappings` equivalent of a valid document."""
    structured_method = "direct" if document["output_format"] == "json" else "structured_output"
    section: dict[str, Any] = {}
    for spec in document["fields"]:
        transforms = TYPE_TRANSFORMS.get(spec["type"])
        methods = []
        for entry in spec["extraction"]:
            if entry["type"] == "tool_result":
                method = {"method": "tool_result", "tool_name": entry["tool"], "pattern": entry["pattern"]}
            else:
                method = {"method": structured_method, "expression": entry["path"]}
            if transforms:
                method["transforms"] = list(transforms)
            methods.append(method)
        section[spec["name"]] = {"required": bool(spec.get("required", False)), "methods": methods}
    return section


def output_schema(document: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of the row values: the declared types, checked by the row builder."""
    fields = document["fields"]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {spec["name"]: {"type": spec["type"]} for spec in fields},
    }
    required = [spec["name"] for spec in fields if spec.get("required")]
    if required:
        schema["required"] = required
    return schema


def _compile(document: dict[str, Any]) -> OutputMappings:
    problems = document_problems(document)
    if problems:
        first = problems[0]
        raise OutputMappingConfigError("output_schema" + first.path[1:], first.message)
    compiled = load_output_mapping_set(mapping_config(document)).any_target
    assert compiled is not None
    target_type = "tool" if document["output_format"] == "json" else "agent"
    return OutputMappings(compiled.fields, compiled.structured_tools, target_type, output_schema(document))


_COMPILED: PlanCache[OutputMappings] = PlanCache(_compile)


def compile_output_schema(document: Any) -> OutputMappings:
    """The compiled mapping of a registered output schema, once per distinct document."""
    return _COMPILED.get(document)
