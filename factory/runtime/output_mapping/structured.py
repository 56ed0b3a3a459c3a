"""Find the structured output in an agent response and turn it into CSV cells (docs/runtime.md)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

from factory.runtime.bounded_parse import json_loads
from factory.runtime.json_text import chunk_encoder
from factory.runtime.plan_cache import PlanCache
from factory.runtime.value_checks import always_valid_classes, compile_property_check, required_fields
from factory.runtime.vocabulary import STATUS_FAILED, STATUS_PARTIAL, STATUS_SUCCESS, utc_timestamp

PRINT_TOOL_RE = re.compile(r"^print_(?:[a-z0-9_]+_)?output\Z")
WRAPPER_KEYS = (
    "Output",
    "Payload",
    "content",
    "tool_input",
    "script_output",
    "result",
    "body",
    "output",
    "message",
)
MAX_DEPTH = 8
DROPPED = "dropped invalid optional value(s): "  # a PARTIAL row's `_error`, then what was dropped
PLACES = (
    "structured_output, Output, Payload, content, output.message, "
    "the last print_*_output tool_use in messages or a message's content, "
    "step_results (last act_with_schema parsed_response), tool_input.script_output, script_output, "
    "tool_result content"
)


@dataclass(frozen=True)
class Located:
    """Where the structured output is: `value` None when not found; `problem` when unusable."""

    value: dict[str, Any] | None
    where: str = ""
    problem: str | None = None
    looked: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return self.value is not None


def parse_json_text(text: Any) -> Any:
    """JSON text that holds an object or list, parsed; anything else unchanged."""
    if isinstance(text, (str, bytes)):
        stripped = text.strip()
        if stripped[:1] in ("{", "[", b"{", b"["):
            try:
                return json_loads(stripped)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return text
    return text


def is_print_tool(name: Any, tool_names: tuple[str, ...]) -> bool:
    return isinstance(name, str) and (name in tool_names or bool(PRINT_TOOL_RE.match(name)))


def locate_structured_output(response: Any, tool_names: tuple[str, ...] = ()) -> Located:
    looked: list[str] = []
    located = _search(parse_json_text(response), "$", tool_names, looked, 0)
    if located is None:  # one Located a response: a row's cost (bench/runtime.py)
        return Located(None, "", None, tuple(looked))
    return Located(located.value, located.where, located.problem, tuple(looked))


def _search(
    node: Any, path: str, tool_names: tuple[str, ...], looked: list[str], depth: int
) -> Located | None:
    if depth > MAX_DEPTH or not isinstance(node, dict):
        return None
    looked.append(path)
    if "structured_output" in node:
        value = parse_json_text(node["structured_output"])
        if isinstance(value, dict):
            return Located(value, f"{path}.structured_output")
    for key in WRAPPER_KEYS:
        if key in node:
            inner = parse_json_text(node[key])
            found = _search(inner, f"{path}.{key}", tool_names, looked, depth + 1)
            if found is not None:
                return found
    if isinstance(node.get("messages"), list):
        found = _from_messages(node["messages"], f"{path}.messages", tool_names, looked, depth)
        if found is not None:
            return found
    if isinstance(node.get("content"), list):  # one message: an Anthropic or Bedrock Converse reply
        found = _from_messages([node], f"{path}<message>", tool_names, looked, depth)
        if found is not None:
            return found
    if isinstance(node.get("step_results"), list):
        return _from_step_results(node["step_results"], f"{path}.step_results")
    return None


def message_blocks(message: Any) -> list[Any]:
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, list) else []


def tool_use_of(block: Any) -> tuple[Any, Any, Any] | None:
    """(name, input, id) of an Anthropic `tool_use` or a Bedrock `toolUse` block."""
    if not isinstance(block, dict):
        return None
    if block.get("type") == "tool_use":
        return block.get("name"), block.get("input"), block.get("id")
    if isinstance(block.get("toolUse"), dict):
        use = block["toolUse"]
        return use.get("name"), use.get("input"), use.get("toolUseId")
    return None


def tool_result_of(block: Any) -> tuple[Any, Any, bool] | None:
    """(tool_use_id, content, is_error) of an Anthropic `tool_result` or a Bedrock `toolResult` block."""
    if not isinstance(block, dict):
        return None
    if block.get("type") == "tool_result":
        return block.get("tool_use_id"), block.get("content"), bool(block.get("is_error", False))
    inner = block.get("toolResult")
    if isinstance(inner, dict):
        return inner.get("toolUseId"), inner.get("content"), inner.get("status") == "error"
    return None


def tool_result_payloads(block: Any) -> list[Any]:
    """The parsed content of a tool result block (`tool_result_of`); [] for any other block."""
    result = tool_result_of(block)
    if result is None:
        return []
    content = result[1]
    items = content if isinstance(content, list) else [content]
    payloads = []
    for item in items:
        if isinstance(item, dict) and "json" in item:
            payloads.append(item["json"])
        elif isinstance(item, dict) and "text" in item:
            payloads.append(parse_json_text(item["text"]))
        else:
            payloads.append(parse_json_text(item))
    return payloads


def _from_messages(
    messages: list[Any], path: str, tool_names: tuple[str, ...], looked: list[str], depth: int
) -> Located | None:
    for m_index in range(len(messages) - 1, -1, -1):
        blocks = message_blocks(messages[m_index])
        for b_index in range(len(blocks) - 1, -1, -1):
            use = tool_use_of(blocks[b_index])
            if use and is_print_tool(use[0], tool_names):
                value = parse_json_text(use[1])
                if isinstance(value, dict):
                    return Located(value, f"{path}[{m_index}].content[{b_index}].input ({use[0]})")
    for m_index in range(len(messages) - 1, -1, -1):
        blocks = message_blocks(messages[m_index])
        for b_index in range(len(blocks) - 1, -1, -1):
            for payload in tool_result_payloads(blocks[b_index]):
                found = _search(
                    payload, f"{path}[{m_index}].content[{b_index}].content", tool_names, looked, depth + 1
                )
                if found is not None:
                    return found
    return None


def _is_schema_step(step: Any) -> bool:
    if not isinstance(step, dict):
        return False
    action = step.get("action") or step.get("type")
    return action == "act_with_schema" or (action is None and "parsed_response" in step)


def _from_step_results(steps: list[Any], path: str) -> Located | None:
    """The last act_with_schema step's parsed_response; refused if it did not match the schema."""
    for index in range(len(steps) - 1, -1, -1):
        step = steps[index]
        if not _is_schema_step(step):
            continue
        where = f"{path}[{index}].parsed_response"
        value = parse_json_text(step.get("parsed_response"))
        if not isinstance(value, dict):
            reason = step.get("error") or "no parsed_response"
            return Located(None, where, f"act_with_schema step {index} produced no object: {reason}")
        if step.get("matches_schema") is False:
            return Located(value, where, f"act_with_schema step {index} reported matches_schema=false")
        return Located(value, where)
    return None


Check = Callable[[Any], Sequence[str]]
Field = tuple[Any, bool, "Check | None", frozenset[type]]
_CELL_JSON = chunk_encoder((",", ":"))  # dicts and lists as compact JSON text in a cell


def row_fields(
    fields: list[str], required: list[str], output_schema: dict[str, Any] | None
) -> tuple[Field, ...]:
    """(name, required, check, always-valid classes) per output column, in order: the property's
    compiled check, or None when the schema does not describe the field; a value of an always-valid
    class (`always_valid_classes`) is not checked at all, the row pass's commonest case."""
    properties = (output_schema or {}).get("properties", {})
    compiled = []
    for name in fields:
        prop = properties.get(name) if isinstance(properties, dict) else None
        check = compile_property_check(name, prop) if isinstance(prop, dict) else None
        compiled.append((name, name in required, check, always_valid_classes(prop)))
    return tuple(compiled)


def fill_row(
    structured: dict[str, Any] | None,
    fields: tuple[Field, ...],
    problems: list[str],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The output cells plus _status/_error/_timestamp for one response (dicts, lists as JSON text).

    An invalid optional value is dropped (its cell left empty, `_error` says which: PARTIAL); an invalid
    or missing required one fails the row (an absent optional field is no fault: docs/runtime.md)."""
    problems = list(problems)
    row: dict[str, Any] = {}
    dropped: list[str] = []
    if structured is None:
        for field in fields:
            row[field[0]] = None
    else:
        for name, required, check, valid in fields:
            value = structured.get(name)
            if value is None:
                if required:
                    problems.append(f"{name}: required field is missing")
            elif check is not None and value.__class__ not in valid and (found := check(value)):
                if required:
                    problems.extend(found)
                else:
                    dropped.extend(found)
                    value = None
            row[name] = "".join(_CELL_JSON(value, 0)) if isinstance(value, (dict, list)) else value
    if problems:  # FAILED on any problem; PARTIAL when only optional values were dropped
        row["_status"], row["_error"] = STATUS_FAILED, "; ".join(problems + [f"dropped {d}" for d in dropped])
    elif dropped:
        row["_status"], row["_error"] = STATUS_PARTIAL, DROPPED + "; ".join(dropped)
    else:
        row["_status"], row["_error"] = STATUS_SUCCESS, None
    row["_timestamp"] = utc_timestamp(now)
    return row


def build_row(
    structured: dict[str, Any] | None,
    fields: list[str],
    required: list[str],
    output_schema: dict[str, Any] | None,
    problems: list[str],
    now: datetime | None = None,
) -> dict[str, Any]:
    """`fill_row` for fields, required names and a schema given as they are."""
    return fill_row(structured, row_fields(fields, required, output_schema), problems, now)


@dataclass(frozen=True)
class OutputPlan:
    """A mapping and output schema, compiled: the columns (`row_fields`) and the print tools' names."""

    fields: tuple[Field, ...]
    tool_names: tuple[str, ...]

    def map(self, response: Any, now: datetime | None = None) -> dict[str, Any]:
        """One agent response -> one result row; never raises for a missing or bad output. Where no
        wrapper holds the output, an answer holding any output field is it (a local agent's plain answer)."""
        located = locate_structured_output(response, self.tool_names)
        if located.value is not None:
            problems = [f"{located.problem} at {located.where}"] if located.problem else []
            return fill_row(located.value, self.fields, problems, now)
        if located.problem:
            return fill_row(None, self.fields, [f"{located.problem} at {located.where}"], now)
        bare = parse_json_text(response)
        names = [name for name, _, _, _ in self.fields]
        if isinstance(bare, dict) and any(name in bare for name in names):
            return fill_row(bare, self.fields, [], now)
        reason = (
            f"no structured output in the agent response; looked for {PLACES} under "
            + ", ".join(located.looked or ("$ (not an object)",))
            + ", and for the answer itself as the output object (holding any of "
            + ", ".join(str(name) for name in names[:8])
            + (", ..." if len(names) > 8 else "")
            + ")"
        )
        return fill_row(None, self.fields, [reason], now)


def compile_output_plan(mapping: dict[str, Any], output_schema: dict[str, Any] | None = None) -> OutputPlan:
    """The mapping's `structured_output_fields` (else the schema's properties) as columns, required when
    either names them, and the print tools its `extraction_methods` name."""
    schema = output_schema or {}
    fields = list(mapping.get("structured_output_fields") or schema.get("properties", {}))
    required = [*(mapping.get("required_output_fields") or []), *required_fields(schema)]
    tools = [
        method.get("tool_name")
        for method in mapping.get("extraction_methods") or []
        if isinstance(method, dict)
    ]
    return OutputPlan(row_fields(fields, required, output_schema), tuple(tool for tool in tools if tool))


_PLANS: PlanCache[OutputPlan] = PlanCache(compile_output_plan)


def output_plan(mapping: dict[str, Any], output_schema: dict[str, Any] | None = None) -> OutputPlan:
    """The compiled plan for this mapping and schema, built once per container (keyed by content)."""
    return _PLANS.get(mapping, output_schema)


def extract_structured_output(
    response: Any,
    mapping: dict[str, Any],
    output_schema: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One agent response -> one result row; never raises for a missing or bad output."""
    return output_plan(mapping, output_schema).map(response, now)
