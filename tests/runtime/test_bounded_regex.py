"""The bounded parsers' rules (factory/runtime/bounded_regex.py, bounded_parse.py), case by case.

The CLI tests in tests/batch/test_hostile_parsing.py show each rule reached from a
config, a schema and a CSV; these pin what is refused and what is not.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from factory.runtime import bounded_parse, bounded_regex
from factory.runtime.value_checks import property_problems

REFUSED = {
    r"^(a+)+$": "repeats a group that holds a quantifier",
    r"(\w*,)*": "repeats a group that holds a quantifier",
    r"(a+){2}": "repeats a group that holds a quantifier",
    r"^(([a-z])+.)+[A-Z]([a-z])+$": "repeats a group that holds a quantifier",
    r"(?:ab|\wc)+": "repeats alternatives that can match the same text",
    r".*.*=.*": "two quantifiers in a row",
    r"(.+):(.+)": "two quantifiers in a row",
    r"\d+\d*": "two quantifiers in a row",
    r"(?i)A+a+": "two quantifiers in a row",
    r"^\S+@\S+\.\S+$": "two quantifiers in a row",
    r".{0,1000}.{0,1000}x": "two quantifiers in a row",
    r"(\d+)\1": "backreference",
    r"(?P<x>a)(?P=x)": "backreference",
    "(" * 33 + "a" + ")" * 33: "nests groups more than 32 deep",
    "a" * 2001: "at most 2000 are read",
}
ALLOWED = [
    r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$",
    r"Exchange: ([A-Z\s]+)",
    r"Speed: (\d+(?:\.\d+)?) Mbps",
    r"([^:]+):(.+)",
    r"(?:cat|dog)+",
    r"\d+\.\d+",
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$",
    r"^[\w.+-]+@[\w-]+\.[\w.-]+$",
    r"(\d{4})-(\d{2})-(\d{2})",
    "(" * 32 + "a" + ")" * 32,
]


@pytest.mark.parametrize("pattern,reason", REFUSED.items(), ids=list(REFUSED))
def test_constructs_that_can_run_long_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(bounded_regex.UnsafePattern) as refused:
        bounded_regex.compile_bounded(pattern)
    assert reason in str(refused.value)
    assert isinstance(refused.value, re.error)  # every caller that refuses a bad pattern refuses this one


@pytest.mark.parametrize("pattern", ALLOWED)
def test_ordinary_patterns_compile(pattern: str) -> None:
    assert bounded_regex.compile_bounded(pattern).pattern == pattern


def test_the_check_itself_is_quick_on_the_longest_patterns() -> None:
    started = time.perf_counter()
    for pattern in ("(?:a?)" * 333, "[^x]+x" * 333, "a?" * 1000, "(" * 32 + "b?" * 950 + ")" * 32):
        bounded_regex.refusal(pattern[: bounded_regex.MAX_PATTERN_CHARS])
    assert time.perf_counter() - started < 5  # milliseconds each; the bound only catches a blow-up


def test_a_schema_pattern_reads_a_bounded_subject() -> None:
    prop = {"type": "string", "pattern": "^(.+)x$"}
    assert property_problems("f", "a" * 20 + "x", prop) == []
    started = time.perf_counter()
    problems = property_problems("f", "a" * 1_000_000, prop)
    assert time.perf_counter() - started < 10  # quadratic over 10,000 characters, never over a million
    assert problems == ["f: 1000000 characters, more than the 10000 checked against pattern ^(.+)x$"]
    assert property_problems("f", "aa", {"pattern": "^(a+)+$"})[0].startswith(
        "f: pattern cannot be used: regex"
    )


def test_json_depth_is_checked_before_the_parser() -> None:
    assert bounded_parse.json_loads("[" * 64 + "]" * 64) is not None
    with pytest.raises(json.JSONDecodeError, match="nested more than 64 levels deep"):
        bounded_parse.json_loads("[" * 65 + "]" * 65)
    with pytest.raises(bounded_parse.JsonTooDeep):
        bounded_parse.json_loads("[" * 100_000)
    assert bounded_parse.json_loads(json.dumps({"text": "[" * 1000})) == {
        "text": "[" * 1000
    }  # text, not nesting
    assert bounded_parse.json_loads(json.dumps(['\\"[' * 100])) == ['\\"[' * 100]


def test_jmespath_depth_is_checked_before_the_parser() -> None:
    bounded_parse.check_expression_depth("(" * 32 + "a" + ")" * 32)
    bounded_parse.check_expression_depth("'" + "(" * 100 + "'")  # a raw string's parentheses are text
    with pytest.raises(bounded_parse.ExpressionTooDeep, match="nested more than 32 levels deep"):
        bounded_parse.check_expression_depth("(" * 33 + "a" + ")" * 33)


@pytest.mark.parametrize(
    "pattern,limit",
    [
        ("Notes: (.+)", bounded_regex.LONG_SUBJECT_CHARS),  # the tail takes the rest: linear when searched
        ("Exchange: (\\w+)", bounded_regex.LONG_SUBJECT_CHARS),
        ("^(\\d+)", bounded_regex.LONG_SUBJECT_CHARS),
        ("abc", bounded_regex.LONG_SUBJECT_CHARS),  # no variable repeat at all
        ("(.+)x", bounded_regex.MAX_SUBJECT_CHARS),  # a repeat with something required after it
        ("Notes: (.+)$", bounded_regex.MAX_SUBJECT_CHARS),  # `$` can send the tail back
        ("(\\d+)-(\\w)", bounded_regex.MAX_SUBJECT_CHARS),
    ],
)
def test_only_a_pattern_whose_repeat_is_its_end_reads_a_whole_payload(pattern: str, limit: int) -> None:
    assert bounded_regex.subject_limit(re.compile(pattern)) == limit


def test_a_100_kb_tail_is_extracted_whole() -> None:
    """An agent's 100 KB of notes on one line, extracted by `parse('Notes: (.+)')`, loses nothing."""
    notes = "x" * 100_000
    found = bounded_regex.search(re.compile("Notes: (.+)"), "Exchange: EH\nNotes: " + notes)
    assert found is not None and found.group(1) == notes
