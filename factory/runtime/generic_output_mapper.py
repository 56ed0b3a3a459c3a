"""Config-driven output mapping: for each output field, extraction methods tried in order.

    output_mappings:
      exchange_code:                      # output field -> methods; first non-empty value wins
        - method: structured_output       # the located structured output's `key` (default: the field)
        - method: tool_result             # the last tool_result of the tool named `tool_name`
          tool_name: bt_checker
          expression: "$.content | parse('Exchange: (.+)') | strip()"
        - method: jmespath                # a JMESPath over the whole response, then transforms
          path: "result.summary"
          transforms: [strip, {parse_text: "Exchange: (.+)"}, lower]
        - method: results_array           # an element of an array: by `match` or `index`, then `value`
          path: results
          match: {name: exchange}
          value: value
        - method: direct                  # response[key] (default: the field), as it is
      fttp_avail:
        required: true                    # list form: [{field, required?, methods: [...]}]
        methods: [...]

A tool_result expression runs over the view {"content": text, "json": parsed
content or null, "is_error": bool}; its language and the transforms are in
`output_expressions`.

Every config error (unknown method or transform, a regex or JMESPath that does
not compile, a missing tool_name) is found at load time, with its location;
expressions are compiled once. Values then go through the same row builder as
the plain mapper (`_status`, `_error`, `_timestamp`; dicts/lists as JSON text).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable

from factory.runtime.output_expressions import (
    OutputMappingConfigError,
    compile_expression,
    compile_jmespath,
    compile_transform,
    parse_json_value,
)
from factory.runtime.output_mapper import (
    message_blocks,
    tool_use_of,
    build_row,
    locate_structured_output,
    tool_names_of,
)

METHODS = ("structured_output", "tool_result", "jmespath", "results_array", "direct")
MISSING = object()


# --- compiled methods ----------------------------------------------------------


@dataclass(frozen=True)
class Method:
    kind: str
    extract: Callable[["Context"], Any]


@dataclass(frozen=True)
class FieldMapping:
    name: str
    required: bool
    methods: tuple[Method, ...]


@dataclass(frozen=True)
class OutputMappings:
    fields: tuple[FieldMapping, ...]
    tool_names: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [mapping.name for mapping in self.fields]

    @property
    def required(self) -> list[str]:
        return [mapping.name for mapping in self.fields if mapping.required]


class Context:
    """One response, with the expensive lookups done at most once."""

    def __init__(self, response: Any, tool_names: tuple[str, ...]) -> None:
        self.response = parse_json_value(response) if isinstance(response, str) else response
        self.tool_names = tool_names
        self._structured: Any = MISSING
        self._tool_results: dict[str, Any] = {}

    @property
    def structured(self) -> dict[str, Any] | None:
        if self._structured is MISSING:
            located = locate_structured_output(self.response, self.tool_names)
            self._structured = located.value if located.found and not located.problem else None
        return self._structured

    def tool_result(self, tool_name: str) -> dict[str, Any] | None:
        if tool_name not in self._tool_results:
            self._tool_results[tool_name] = find_tool_result(self.response, tool_name)
        return self._tool_results[tool_name]


def _result_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            item.get("text")
            for item in content
            if isinstance(item, dict) and isinstance(item.get("text"), str)
        ]
        jsons = [json.dumps(item["json"]) for item in content if isinstance(item, dict) and "json" in item]
        return "\n".join(texts + jsons) if texts or jsons else None
    if content is None:
        return None
    return json.dumps(content)


def find_tool_result(response: Any, tool_name: str) -> dict[str, Any] | None:
    """The view {"content", "json", "is_error"} of the last result of `tool_name` in messages."""
    messages = response.get("messages") if isinstance(response, dict) else None
    if not isinstance(messages, list):
        return None
    ids = set()
    for message in messages:
        for block in message_blocks(message):
            use = tool_use_of(block)
            if use and use[0] == tool_name:
                ids.add(block.get("id") or (block.get("toolUse") or {}).get("toolUseId"))
    for message in reversed(messages):
        for block in reversed(message_blocks(message)):
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_result":
                use_id, content, is_error = (
                    block.get("tool_use_id"),
                    block.get("content"),
                    block.get("is_error", False),
                )
            elif isinstance(block.get("toolResult"), dict):
                inner = block["toolResult"]
                use_id, content, is_error = (
                    inner.get("toolUseId"),
                    inner.get("content"),
                    inner.get("status") == "error",
                )
            else:
                continue
            if use_id in ids or block.get("name") == tool_name:
                text = _result_text(content)
                return {
                    "content": text,
                    "json": parse_json_value(text) if text else None,
                    "is_error": bool(is_error),
                }
    return None


def _structured_method(spec: dict[str, Any], field: str, where: str) -> Callable[[Context], Any]:
    key = spec.get("key", field)
    path = compile_jmespath(spec["path"], where).search if "path" in spec else None

    def extract(context: Context) -> Any:
        structured = context.structured
        if structured is None:
            return None
        return path(structured) if path else structured.get(key)

    return extract


def _tool_result_method(spec: dict[str, Any], field: str, where: str) -> Callable[[Context], Any]:
    tool_name = spec.get("tool_name")
    if not isinstance(tool_name, str) or not tool_name:
        raise OutputMappingConfigError(f"{where}: tool_result needs a 'tool_name'")
    evaluate = compile_expression(spec["expression"], where) if "expression" in spec else None

    def extract(context: Context) -> Any:
        view = context.tool_result(tool_name)
        if view is None:
            return None
        if evaluate:
            return evaluate(view)
        return view["json"].get(field) if isinstance(view["json"], dict) else None

    return extract


def _transformed(transforms: Any, where: str) -> list[Callable[[Any], Any]]:
    if transforms is None:
        return []
    if not isinstance(transforms, list):
        transforms = [transforms]
    return [compile_transform(spec, f"{where}.transforms[{index}]") for index, spec in enumerate(transforms)]


def _jmespath_method(spec: dict[str, Any], field: str, where: str) -> Callable[[Context], Any]:
    search = compile_jmespath(spec.get("path"), where).search
    transforms = _transformed(spec.get("transforms"), where)

    def extract(context: Context) -> Any:
        value = search(context.response)
        for transform in transforms:
            if value is None:
                return None
            value = transform(value)
        return value

    return extract


def _results_array_method(spec: dict[str, Any], field: str, where: str) -> Callable[[Context], Any]:
    array = compile_jmespath(spec.get("path", "results"), where).search
    value = compile_jmespath(spec.get("value", field), where).search
    match = spec.get("match") or {}
    if not isinstance(match, dict):
        raise OutputMappingConfigError(f"{where}: 'match' must be an object of key: expected value")
    index = spec.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        raise OutputMappingConfigError(f"{where}: 'index' must be an integer")
    transforms = _transformed(spec.get("transforms"), where)

    def extract(context: Context) -> Any:
        items = array(context.response)
        if not isinstance(items, list):
            return None
        chosen = [
            item
            for item in items
            if isinstance(item, dict) and all(item.get(k) == v for k, v in match.items())
        ]
        if not -len(chosen) <= index < len(chosen):
            return None
        result = value(chosen[index])
        for transform in transforms:
            if result is None:
                return None
            result = transform(result)
        return result

    return extract


def _direct_method(spec: dict[str, Any], field: str, where: str) -> Callable[[Context], Any]:
    key = spec.get("key", field)
    return lambda context: context.response.get(key) if isinstance(context.response, dict) else None


BUILDERS = {
    "structured_output": _structured_method,
    "tool_result": _tool_result_method,
    "jmespath": _jmespath_method,
    "results_array": _results_array_method,
    "direct": _direct_method,
}


def compile_method(spec: Any, field: str, where: str) -> Method:
    if not isinstance(spec, dict):
        raise OutputMappingConfigError(f"{where}: a method must be an object with a 'method' key")
    kind = spec.get("method")
    if kind not in BUILDERS:
        raise OutputMappingConfigError(f"{where}: unknown method {kind!r}; use one of {', '.join(METHODS)}")
    return Method(kind, BUILDERS[kind](spec, field, where))


def _field_entries(config: Any) -> list[tuple[str, bool, Any]]:
    """(field, required, methods) from the dict form or the list form."""
    if isinstance(config, dict):
        entries = []
        for name, body in config.items():
            if isinstance(body, dict):
                entries.append((name, bool(body.get("required", False)), body.get("methods")))
            else:
                entries.append((name, False, body))
        return entries
    if isinstance(config, list):
        entries = []
        for index, body in enumerate(config):
            if not isinstance(body, dict) or not isinstance(body.get("field"), str):
                raise OutputMappingConfigError(f"output_mappings[{index}]: needs a 'field' name")
            entries.append((body["field"], bool(body.get("required", False)), body.get("methods")))
        return entries
    raise OutputMappingConfigError(
        "output_mappings must be an object {field: [methods]} or a list of {field, methods}"
    )


def load_output_mappings(config: Any) -> OutputMappings:
    """Validate and compile a config (the `output_mappings` value, or a mapping holding one)."""
    tool_names: tuple[str, ...] = ()
    if isinstance(config, dict) and "output_mappings" in config:
        tool_names = tool_names_of(config)
        config = config["output_mappings"]
    fields = []
    for name, required, methods in _field_entries(config):
        where = f"output_mappings.{name}"
        if not isinstance(methods, list) or not methods:
            raise OutputMappingConfigError(f"{where}: needs a non-empty list of methods")
        compiled = tuple(
            compile_method(spec, name, f"{where}[{index}]") for index, spec in enumerate(methods)
        )
        fields.append(FieldMapping(name, required, compiled))
    return OutputMappings(tuple(fields), tool_names)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def extract_fields(response: Any, mappings: OutputMappings) -> dict[str, Any]:
    """{field: first non-empty value over its methods}; absent fields are left out."""
    context = Context(response, mappings.tool_names)
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
    """One response -> one result row; never raises for what the response lacks."""
    values = extract_fields(response, mappings)
    problems = [] if values else ["no output_mappings method found a value in the agent response"]
    structured = values if values else None
    return build_row(structured, mappings.names, mappings.required, output_schema, problems, now)


@lru_cache(maxsize=32)
def _cached(config_text: str) -> OutputMappings:
    return load_output_mappings(json.loads(config_text))


def cached_output_mappings(config: Any) -> OutputMappings:
    """Compile once per distinct config for the life of a Lambda container."""
    return _cached(json.dumps(config, sort_keys=True))


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: {"agent_response", "output_mappings", "output_schema"?} -> row."""
    schema = event.get("output_schema")
    if isinstance(schema, str):
        schema = json.loads(schema)
    mappings = cached_output_mappings(event["output_mappings"])
    return map_output(event.get("agent_response"), mappings, schema)
