"""Depth limits checked on the text before a recursive parser sees it: the one place.

`json.loads`, the JMESPath parser and Python's regex parser recurse once per
level of nesting, so a few kilobytes of `[[[[...` (in a CSV cell, an agent's
answer, a mapping expression) raise RecursionError deep inside them, which no
caller expects. Here the nesting of brackets outside quoted strings is counted
first, iteratively and at C speed (a text with fewer brackets than the limit
is not scanned at all), and a text nested past the limit is refused with a
one-line error naming how deep it may go. The regex side is in
`bounded_regex`, which uses `group_depth` the same way.

The limit is the canonical schema's (`MAX_DEPTH`, README "Depth"); the schema
loader, the YAML loaders and every JSON parse of row data use this module.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64
# JMESPath expressions are written by people: a few levels of parentheses and brackets are plenty.
MAX_EXPRESSION_DEPTH = 32


class JsonTooDeep(json.JSONDecodeError):
    """JSON text nested past the limit: a JSONDecodeError, so every caller that reports invalid JSON reports it."""

    def __init__(self, doc: str, limit: int) -> None:
        super().__init__(f"nested more than {limit} levels deep", doc, 0)

    def __str__(self) -> str:
        return self.msg


class ExpressionTooDeep(ValueError):
    """An expression nested past the limit; the message says how deep it may go."""


@lru_cache(maxsize=8)
def _significant(characters: str) -> re.Pattern[str]:
    return re.compile("[" + re.escape(characters) + "]")


def too_deep_at(
    text: str, limit: int, quotes: str = '"', openers: str = "[{", closers: str = "]}"
) -> int | None:
    """The position where `text` opens its (limit+1)-th level of brackets outside `quotes`, else None.

    Linear: only the quotes, backslashes and brackets are visited (found by one C-speed search).
    """
    if sum(text.count(opener) for opener in openers) <= limit:
        return None
    depth, quote, escaped_at = 0, "", -1
    for token in _significant(quotes + "\\" + openers + closers).finditer(text):
        char, start = token.group(), token.start()
        if start == escaped_at:  # the character after a backslash inside a string
            continue
        if quote:
            if char == "\\":
                escaped_at = start + 1
            elif char == quote:
                quote = ""
        elif char in quotes:
            quote = char
        elif char in openers:
            depth += 1
            if depth > limit:
                return start
        elif char in closers:
            depth = max(depth - 1, 0)
    return None


# A JSON string (an unterminated one runs to the end, so each character is read once) or a run of
# characters that are neither brackets nor a quote: what is left is the text's brackets, in order.
_NOT_BRACKETS = re.compile(r'"[^"\\]*(?:\\[\s\S][^"\\]*)*"?|[^\[\]{}"]+')
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text opens more than `limit` levels of brackets (outside strings), all at C speed.

    A closing bracket with nothing open makes the text invalid before anything after it is nested,
    so the running sum needs no floor.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKETS.sub("", text)
    return len(brackets) > limit and max(accumulate(map(_STEP.__getitem__, brackets))) > limit


def json_loads(text: str | bytes, max_depth: int = MAX_DEPTH, **options: Any) -> Any:
    """`json.loads`, refusing (JsonTooDeep, a JSONDecodeError) text nested more than `max_depth` levels."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    if json_too_deep(text, max_depth):
        raise JsonTooDeep(text, max_depth)
    return json.loads(text, **options)


def check_expression_depth(expression: str, limit: int = MAX_EXPRESSION_DEPTH) -> None:
    """Refuse a JMESPath expression nested past `limit` (ExpressionTooDeep) before its parser recurses.

    Brackets inside '...' and "..." are text; those of a `...` JSON literal count, since it is parsed too.
    """
    position = too_deep_at(expression, limit, quotes="'\"", openers="([{", closers=")]}")
    if position is not None:
        raise ExpressionTooDeep(f"nested more than {limit} levels deep (at character {position + 1})")
