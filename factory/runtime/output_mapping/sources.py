"""Where a generic extraction method finds its value in one response (docs/runtime.md)."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from factory.runtime.output_mapping.structured import (
    locate_structured_output,
    message_blocks,
    parse_json_text,
    tool_result_of,
    tool_use_of,
)

MAX_ENVELOPES = 4
_MISSING = object()


def _envelope_inner(node: dict[str, Any]) -> Any:
    """The wrapped value when `node` is an AWS envelope, else _MISSING."""
    if "Payload" in node and (len(node) == 1 or "StatusCode" in node or "ExecutedVersion" in node):
        return node["Payload"]
    for key in ("Output", "output"):
        if key in node and (len(node) == 1 or "executionArn" in node or "ExecutionArn" in node):
            return node[key]
    if "body" in node and "statusCode" in node:
        return node["body"]
    return _MISSING


def unwrap(response: Any) -> Any:
    """The response without its AWS envelopes, JSON text parsed."""
    node = parse_json_text(response)
    for _ in range(MAX_ENVELOPES):
        if not isinstance(node, dict):
            break
        inner = _envelope_inner(node)
        if inner is _MISSING:
            break
        node = parse_json_text(inner)
    return node


def messages_of(document: Any) -> list[Any]:
    """The transcript: `messages`, or the `messages` of an `output`/`result` object."""
    if not isinstance(document, dict):
        return []
    if isinstance(document.get("messages"), list):
        return document["messages"]
    for key in ("output", "result", "Output"):
        inner = parse_json_text(document.get(key))
        if isinstance(inner, dict) and isinstance(inner.get("messages"), list):
            return inner["messages"]
    return []


def content_text(content: Any) -> str | None:
    """Tool result content as text: a string, or its text/json blocks joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                parts.append(item["text"])
            elif isinstance(item, dict) and "json" in item:
                parts.append(json.dumps(item["json"], ensure_ascii=False))
        return "\n".join(parts) if parts else None
    if content is None:
        return None
    return json.dumps(content, ensure_ascii=False)


def _content_json(content: Any, text: str | None) -> Any:
    """The content as JSON: an object as given, one json block, or text holding an object or array."""
    if isinstance(content, dict):
        return content
    if isinstance(content, list):
        blocks = [item for item in content if isinstance(item, dict)]
        if len(blocks) == 1 and "json" in blocks[0]:
            return blocks[0]["json"]
    parsed = parse_json_text(text) if text else None
    return parsed if isinstance(parsed, (dict, list)) else None


class ToolResult:
    """One tool result; its view (text and JSON) is built only when a method reads it."""

    __slots__ = ("name", "content", "is_error", "_view")

    def __init__(self, name: str | None, content: Any, is_error: bool) -> None:
        self.name, self.content, self.is_error = name, content, is_error
        self._view: dict[str, Any] | None = None

    def view(self) -> dict[str, Any]:
        if self._view is None:
            text = content_text(self.content)
            self._view = {
                "content": text,
                "json": _content_json(self.content, text),
                "is_error": self.is_error,
            }
        return self._view


def tool_results(messages: list[Any]) -> list[ToolResult]:
    """Every tool result in order, named after its tool_use (matched by id) or its own `name`."""
    names: dict[str, Any] = {}
    found: list[ToolResult] = []
    for message in messages:
        for block in message_blocks(message):
            use = tool_use_of(block)
            if use is not None:
                if isinstance(use[2], str):
                    names[use[2]] = use[0]
                continue
            parts = tool_result_of(block)
            if parts is None:
                continue
            use_id, content, is_error = parts
            name = names.get(use_id) if isinstance(use_id, str) else None
            name = name if isinstance(name, str) else block.get("name")
            found.append(ToolResult(name if isinstance(name, str) else None, content, is_error))
    return found


def last_tool_result(results: list[ToolResult], tool_name: str) -> dict[str, Any] | None:
    """The view of the last successful result of `tool_name`; the last error one if it never succeeded."""
    chosen: ToolResult | None = None
    for result in reversed(results):
        if result.name != tool_name:
            continue
        if not result.is_error:
            return result.view()
        chosen = chosen or result
    return chosen.view() if chosen is not None else None


def last_tool_input(messages: list[Any], tool_name: str) -> dict[str, Any] | None:
    """The input object of the last call to `tool_name`."""
    for message in reversed(messages):
        for block in reversed(message_blocks(message)):
            use = tool_use_of(block)
            if use is not None and use[0] == tool_name:
                value = parse_json_text(use[1])
                if isinstance(value, dict):
                    return value
    return None


class Context:
    """One response, with each lookup done at most once."""

    def __init__(self, response: Any, structured_tools: tuple[str, ...] = ()) -> None:
        self.document = unwrap(response)
        self.structured_tools = structured_tools
        self._structured: dict[str | None, Any] = {}
        self._tool_views: dict[str, Any] = {}

    @cached_property
    def messages(self) -> list[Any]:
        return messages_of(self.document)

    @cached_property
    def results(self) -> list[ToolResult]:
        return tool_results(self.messages)

    def tool_result(self, tool_name: str) -> dict[str, Any] | None:
        if tool_name not in self._tool_views:
            self._tool_views[tool_name] = last_tool_result(self.results, tool_name)
        return self._tool_views[tool_name]

    def structured(self, tool_name: str | None = None) -> dict[str, Any] | None:
        """The named tool's last input, else the structured output wherever it is."""
        if tool_name not in self._structured:
            value = last_tool_input(self.messages, tool_name) if tool_name else None
            if value is None:
                tools = (tool_name,) if tool_name else self.structured_tools
                located = locate_structured_output(self.document, tools)
                value = located.value if located.found and not located.problem else None
            self._structured[tool_name] = value
        return self._structured[tool_name]

    def results_roots(self, key: str, tool_name: str | None = None) -> list[Any]:
        """Objects holding a `key` list: the document, then tool results' JSON, last first."""
        roots = []
        document = self.document
        if tool_name is None and isinstance(document, dict) and isinstance(document.get(key), list):
            roots.append(document)
        for result in reversed(self.results):
            if tool_name is not None and result.name != tool_name:
                continue
            payload = result.view()["json"]
            if isinstance(payload, dict) and isinstance(payload.get(key), list):
                roots.append(payload)
        return roots or ([document] if tool_name is None else [])
