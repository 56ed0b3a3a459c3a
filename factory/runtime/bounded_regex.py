"""Regexes from configs and schemas, compiled only when they run in bounded time: the one place.

Python's `re` backtracks, so a pattern such as `^(a+)+$` takes minutes on
`"a" * 32 + "!"`, and nothing can interrupt it. The runtime may depend only on
pure-Python libraries (docs/DESIGN.md), so instead of a linear-time engine
every pattern a schema, a batch config or an output schema supplies is read
with Python's own regex parser first and refused, with the reason, when it has
a construct whose cost can grow faster than linearly with the text
(docs/security.md, "Regular expressions"):

- nested quantifiers: a group repeated more than once holding a quantifier
  that is not a fixed count (`(a+)+`, `(\\w*,)*`, `(a|a)*` counts too: a
  repeated group whose alternatives can start alike);
- two unbounded quantifiers that can match the same text one after the other,
  with only text either could match between them (`.*.*`, `(.+):(.+)`,
  `\\d+\\d*`);
- backreferences (`\\1`, `(?P=name)`, `(?(1)...)`);
- more than MAX_GROUP_DEPTH nested groups, checked on the text before the
  parser (which recurses per group) runs; patterns over MAX_PATTERN_CHARS.

What is left costs at most about n² steps for a search over n characters
(each start position scanned once), so a pattern never reads more than
MAX_SUBJECT_CHARS characters: `search` reads that prefix, and a value checked
against a schema `pattern` that is longer is a problem of its own (value_checks).
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

MAX_PATTERN_CHARS = 2000
MAX_GROUP_DEPTH = 32
MAX_SUBJECT_CHARS = 10_000
# What a pattern whose only variable repeat is its very end (`Notes: (.+)`) may read: linear when
# searched, so it reads as much as a state can carry (256 KiB); nothing longer reaches a mapper
# through Step Functions.
LONG_SUBJECT_CHARS = 262_144
# A bounded repeat wider than this is treated as unbounded (`.{0,100000}` backtracks like `.*`).
_WIDE_REPEAT = 100
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
# The characters a pattern item is tested on: enough to tell the classes apart (ASCII, Latin-1 and a few others).
_SAMPLE = frozenset([chr(code) for code in range(256)] + list("İıſKΣσς٣²\u2003\u2028中😀"))
_CATEGORIES = {
    "DIGIT": str.isdecimal,
    "SPACE": str.isspace,
    "WORD": lambda c: c.isalnum() or c == "_",
    "LINEBREAK": lambda c: c == "\n",
}
FIX_HINT = (
    "write each repeat over characters the next part cannot match, e.g. ([^:]+):(.+) "
    "instead of (.+):(.+), and never repeat a group that holds a repeat"
)


class UnsafePattern(re.error):
    """A pattern refused before it can run; a `re.error`, so every caller that refuses a pattern that does
    not compile refuses this one too. `reason` says which construct, in one line."""

    def __init__(self, pattern: str, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"regex {_shown(pattern)} {reason}, which can make one match take minutes ({FIX_HINT})"
        )
        self.pattern = pattern


def _shown(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 80 else pattern[:77] + "...")


def group_depth(pattern: str) -> int:
    """The deepest nesting of `(` in `pattern`, outside character classes and escapes; iterative."""
    depth = deepest = 0
    in_class, escaped = False, False
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = not (char == "]" and pattern[index - 1] not in "[^")
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(depth - 1, 0)
    return deepest


@lru_cache(maxsize=512)
def compile_bounded(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """The compiled pattern; UnsafePattern for one that could run long, re.error for one that does not compile."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePattern(
            pattern, f"is {len(pattern)} characters long; at most {MAX_PATTERN_CHARS} are read"
        )
    if group_depth(pattern) > MAX_GROUP_DEPTH:
        raise UnsafePattern(pattern, f"nests groups more than {MAX_GROUP_DEPTH} deep")
    parsed = sre_parse.parse(pattern, flags)
    ignore_case = bool(parsed.state.flags & re.IGNORECASE) or "(?i" in pattern  # (?i:...) too, to be safe
    reason = _unsafe_reason(parsed.data, (), ignore_case)
    if reason is not None:
        raise UnsafePattern(pattern, reason)
    return re.compile(pattern, flags)


def refusal(pattern: str) -> str | None:
    """Why `pattern` is refused (does not compile, or could run long), or None when it may run."""
    try:
        compile_bounded(pattern)
    except UnsafePattern as err:
        return str(err)
    except (re.error, OverflowError) as err:
        return f"regex {_shown(pattern)} does not compile: {err}"
    return None


def search(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """`pattern.search` over at most the first `subject_limit(pattern)` characters of `text`."""
    return pattern.search(text, 0, subject_limit(pattern))


def subject_limit(pattern: re.Pattern[str]) -> int:
    """How many characters `pattern` may search: LONG_SUBJECT_CHARS when searching it is linear
    (`_tail_only`), else MAX_SUBJECT_CHARS (about n² steps at worst for what is left)."""
    return _limit(pattern.pattern, pattern.flags)


@lru_cache(maxsize=256)
def _limit(pattern: str, flags: int) -> int:
    try:
        parsed = sre_parse.parse(pattern, flags & ~re.UNICODE)
    except (re.error, RecursionError, OverflowError):
        return MAX_SUBJECT_CHARS
    return LONG_SUBJECT_CHARS if _tail_only(list(parsed.data)) else MAX_SUBJECT_CHARS


def _tail_only(items: list[Any]) -> bool:
    """Every variable repeat is the pattern's very end, with nothing after it (not even `$`). Searched,
    each start position then costs the fixed-width head, and the tail either matches at once (the
    search is over) or cannot start: linear in the text. `(.+)$` is not: `$` can send the tail back
    through every character it took."""
    if not items:
        return True
    *head, (op, av) = items
    if _has_variable_repeat(head):
        return False
    if op in _REPEATS:
        return not _has_variable_repeat(av[2])
    if op is sre.SUBPATTERN:
        return _tail_only(list(av[-1]))
    return not _has_variable_repeat([(op, av)])


def too_long(text: str) -> bool:
    """Whether `text` is longer than a pattern reads (a value to check against a schema pattern)."""
    return len(text) > MAX_SUBJECT_CHARS


# --- the rules, over the parser's tree ----------------------------------------------------------


def _unsafe_reason(items: Any, after: tuple[Any, ...], ignore_case: bool) -> str | None:
    """The first unsafe construct in the sequence `items` (followed by the sequences in `after`)."""
    for index, (op, av) in enumerate(items):
        following = (items[index + 1 :], *after)
        if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            return "uses a backreference"
        if op in _REPEATS:
            low, high, body = av
            if high > 1 and _has_variable_repeat(body):
                return "repeats a group that holds a quantifier (a nested quantifier)"
            if high > 1 and _has_overlapping_branch(body, ignore_case):
                return "repeats alternatives that can match the same text"
            if _is_wide(low, high) and _conflict_ahead(following, _chars(body, ignore_case), ignore_case):
                return "has two quantifiers in a row that can match the same text"
        for child in _children(op, av):
            reason = _unsafe_reason(child, following, ignore_case)
            if reason is not None:
                return reason
    return None


def _children(op: Any, av: Any) -> list[Any]:
    if op == sre.SUBPATTERN:
        return [av[-1]]
    if op in _REPEATS:
        return [av[2]]
    if op == sre.BRANCH:
        return list(av[1])
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [av[1]]
    if op == sre.ATOMIC_GROUP:
        return [av]
    return []


def _is_wide(low: int, high: int) -> bool:
    return high == sre.MAXREPEAT or high - low > _WIDE_REPEAT


def _has_variable_repeat(items: Any) -> bool:
    for op, av in items:
        if op in _REPEATS and av[0] != av[1]:
            return True
        if any(_has_variable_repeat(child) for child in _children(op, av)):
            return True
    return False


def _has_overlapping_branch(items: Any, ignore_case: bool) -> bool:
    for op, av in items:
        if op == sre.BRANCH:
            seen: set[str] = set()
            for alternative in av[1]:
                chars = _first_chars(alternative, ignore_case)
                if chars & seen:
                    return True
                seen |= chars
        if any(_has_overlapping_branch(child, ignore_case) for child in _children(op, av)):
            return True
    return False


_PASSED, _STOPPED, _CONFLICT = "passed", "stopped", "conflict"


def _conflict_ahead(sequences: tuple[Any, ...], chars: frozenset[str], ignore_case: bool) -> bool:
    """Whether, after a wide repeat over `chars`, another wide repeat over some of them can start
    while everything between could have been matched by the first (the text can be split many ways)."""
    for items in sequences:
        result = _follow(items, chars, ignore_case)
        if result != _PASSED:
            return result == _CONFLICT
    return False


def _follow(items: Any, chars: frozenset[str], ignore_case: bool) -> str:
    for op, av in items:
        result = _follow_item(op, av, chars, ignore_case)
        if result != _PASSED:
            return result
    return _PASSED


def _follow_item(op: Any, av: Any, chars: frozenset[str], ignore_case: bool) -> str:
    if op in _REPEATS:
        low, high, body = av
        if _is_wide(low, high) and _chars(body, ignore_case) & chars:
            return _CONFLICT
        inner = _follow(body, chars, ignore_case)
        return _CONFLICT if inner == _CONFLICT else (_PASSED if low == 0 or inner == _PASSED else _STOPPED)
    if op == sre.BRANCH:
        results = [_follow(alternative, chars, ignore_case) for alternative in av[1]]
        return _CONFLICT if _CONFLICT in results else (_PASSED if _PASSED in results else _STOPPED)
    if op in (sre.SUBPATTERN, sre.ATOMIC_GROUP):
        return _follow(_children(op, av)[0], chars, ignore_case)
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return _PASSED  # matches no character
    return _PASSED if _atom_chars(op, av, ignore_case) & chars else _STOPPED


def _first_chars(items: Any, ignore_case: bool) -> frozenset[str]:
    """The characters the sequence can start with: its first atom's, else (a group, an optional
    start) everything it can match, to be safe."""
    for op, av in items:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
            return _atom_chars(op, av, ignore_case)
        break
    return _chars(items, ignore_case)


def _chars(items: Any, ignore_case: bool) -> frozenset[str]:
    """Every sample character any item of the sequence can consume."""
    found: set[str] = set()
    for op, av in items:
        children = _children(op, av)
        if children:
            if op not in (sre.ASSERT, sre.ASSERT_NOT):
                for child in children:
                    found |= _chars(child, ignore_case)
        elif op != sre.AT:
            found |= _atom_chars(op, av, ignore_case)
    return frozenset(found)


def _atom_chars(op: Any, av: Any, ignore_case: bool) -> frozenset[str]:
    if op == sre.ANY:
        return _SAMPLE
    if op == sre.LITERAL:
        chars = {chr(av)}
    elif op == sre.NOT_LITERAL:
        chars = set(_SAMPLE - {chr(av)})
    elif op == sre.IN:
        chars = _class_chars(av)
    else:  # an opcode this module does not know: assume it can match anything
        return _SAMPLE
    if ignore_case:
        chars |= {c for c in _SAMPLE if c.lower() in chars or c.upper() in chars or c.casefold() in chars}
    return frozenset(chars)


def _class_chars(items: Any) -> set[str]:
    chars: set[str] = set()
    negate = False
    for op, av in items:
        if op == sre.NEGATE:
            negate = True
        elif op == sre.LITERAL:
            chars.add(chr(av))
        elif op == sre.RANGE:
            chars |= {c for c in _SAMPLE if av[0] <= ord(c) <= av[1]} | {chr(av[0]), chr(av[1])}
        elif op == sre.CATEGORY:
            chars |= _category_chars(str(av))
        else:
            chars |= _SAMPLE
    return set(_SAMPLE - chars) if negate else chars


def _category_chars(name: str) -> set[str]:
    """`CATEGORY_UNI_NOT_DIGIT` and its kin, over the sample."""
    kind = name.rsplit("_", 1)[-1]
    test = _CATEGORIES.get(kind, lambda c: True)
    inside = {c for c in _SAMPLE if test(c)}
    return set(_SAMPLE - inside) if "_NOT_" in name else inside
