"""The small expression language of output mappings, compiled once.

A tool_result expression starts at `$` (the tool result view), continues with a
JMESPath after `$.`, and pipes through functions:

    $.content | parse('Exchange: (.+)') | strip()

Functions: parse('regex') / parse_text (first group, else the whole match),
strip(), lower(), to_number(), to_bool(), json(). A jmespath method's
`transforms` name the same functions (`{parse_text: regex}` for the pattern
one). Every compile error is an OutputMappingConfigError saying where.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

import jmespath
from jmespath.exceptions import JMESPathError

from factory.runtime.vocabulary import FALSE_WORDS, TRUE_WORDS


class OutputMappingConfigError(ValueError):
    """An output_mappings config that cannot work; the message says where and how to fix it."""


# --- value functions -----------------------------------------------------------


def _to_number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip().replace(",", "").replace("£", "").replace("$", "")
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def _to_bool(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    lowered = str(value).strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def parse_json_value(value: Any) -> Any:
    """JSON text parsed (None when it is not JSON); other values unchanged."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def _parser(pattern: re.Pattern[str]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value is None:
            return None
        match = pattern.search(value if isinstance(value, str) else json.dumps(value))
        if not match:
            return None
        return match.group(1) if pattern.groups else match.group(0)

    return parse


SIMPLE_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "strip": _strip,
    "lower": _lower,
    "to_number": _to_number,
    "to_bool": _to_bool,
    "json": parse_json_value,
}
PATTERN_FUNCTIONS = ("parse", "parse_text")
_CALL = re.compile(r"^\s*([a-z_]+)\s*\(\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\")?\s*\)\s*$")


def compile_regex(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise OutputMappingConfigError(f"{where}: the pattern must be a string")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise OutputMappingConfigError(f"{where}: regex {pattern!r} does not compile: {exc}") from None


def compile_jmespath(path: Any, where: str) -> Any:
    if not isinstance(path, str) or not path.strip():
        raise OutputMappingConfigError(f"{where}: needs a JMESPath string")
    try:
        return jmespath.compile(path)
    except JMESPathError as exc:
        raise OutputMappingConfigError(f"{where}: JMESPath {path!r} does not compile: {exc}") from None


def compile_transform(spec: Any, where: str) -> Callable[[Any], Any]:
    """`"strip"` or `{"parse_text": "regex"}` -> a function."""
    if isinstance(spec, str) and spec in SIMPLE_FUNCTIONS:
        return SIMPLE_FUNCTIONS[spec]
    if isinstance(spec, dict) and len(spec) == 1:
        name, argument = next(iter(spec.items()))
        if name in PATTERN_FUNCTIONS:
            return _parser(compile_regex(argument, where))
    known = ", ".join([*SIMPLE_FUNCTIONS, "{parse_text: regex}"])
    raise OutputMappingConfigError(f"{where}: unknown transform {spec!r}; use one of {known}")


def split_pipeline(expression: str) -> list[str]:
    """Split on `|` outside quotes (a regex may contain `|`; JMESPath `||` is kept whole)."""
    parts, current, quote, index = [], [], "", 0
    while index < len(expression):
        char = expression[index]
        if quote:
            current.append(char)
            if char == "\\" and index + 1 < len(expression):
                current.append(expression[index + 1])
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
            current.append(char)
        elif char == "|" and expression[index + 1 : index + 2] == "|":
            current.append("||")
            index += 1
        elif char == "|":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current).strip())
    return parts


def compile_expression(expression: Any, where: str) -> Callable[[Any], Any]:
    """`$.content | parse('X: (.+)') | strip()` -> a function of the tool result view."""
    if not isinstance(expression, str) or not expression.strip().startswith("$"):
        raise OutputMappingConfigError(
            f"{where}: expression must start with '$' (e.g. \"$.content | parse('A: (.+)')\")"
        )
    source, *calls = split_pipeline(expression.strip())
    if source == "$":
        steps: list[Callable[[Any], Any]] = []
    elif source.startswith("$."):
        compiled = compile_jmespath(source[2:], where)
        steps = [compiled.search]
    else:
        raise OutputMappingConfigError(f"{where}: cannot read the source {source!r}; use $ or $.<path>")
    for call in calls:
        match = _CALL.match(call)
        if not match:
            raise OutputMappingConfigError(f"{where}: cannot read {call!r}; write name() or name('argument')")
        name, single, double = match.groups()
        argument = single if single is not None else double
        if name in PATTERN_FUNCTIONS:
            if argument is None:
                raise OutputMappingConfigError(f"{where}: {name}() needs a regex argument")
            steps.append(_parser(compile_regex(argument.replace("\\'", "'").replace('\\"', '"'), where)))
        elif name in SIMPLE_FUNCTIONS:
            steps.append(SIMPLE_FUNCTIONS[name])
        else:
            known = ", ".join([*PATTERN_FUNCTIONS, *SIMPLE_FUNCTIONS])
            raise OutputMappingConfigError(f"{where}: unknown function {name!r}; use one of {known}")

    def evaluate(view: Any) -> Any:
        value = view
        for step in steps:
            value = step(value)
            if value is None:
                return None
        return value

    return evaluate
