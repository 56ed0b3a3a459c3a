"""The runtime's shared words: one definition, the same answers everywhere."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from factory.runtime import child_results, result_store, vocabulary
from factory.runtime.output_mapping import expressions as output_expressions
from factory.runtime.output_mapping import structured as output_mapper
from factory.runtime.vocabulary import parse_integer, parse_number, utc_timestamp


def test_every_runtime_module_uses_the_one_definition():
    assert result_store.STATUS_FAILED is vocabulary.STATUS_FAILED
    assert child_results.utc_timestamp is vocabulary.utc_timestamp
    assert output_mapper.STATUS_PARTIAL is vocabulary.STATUS_PARTIAL
    assert output_expressions.TRUE_WORDS is vocabulary.TRUE_WORDS
    assert vocabulary.TRUE_WORDS.isdisjoint(vocabulary.FALSE_WORDS)


def test_timestamp_is_utc_milliseconds_with_z():
    moment = datetime(2026, 1, 2, 4, 4, 5, 678999, tzinfo=timezone(timedelta(hours=1)))
    assert utc_timestamp(moment) == "2026-01-02T03:04:05.678Z"


def test_timestamp_now_is_the_current_millisecond():
    before = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=1)
    stamps = [utc_timestamp() for _ in range(50)]
    after = datetime.now(timezone.utc) + timedelta(seconds=1)
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), stamp
        assert before <= datetime.fromisoformat(stamp.replace("Z", "+00:00")) <= after
    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    ("text", "number"), [("12", 12), ("-3", -3), ("2.5", 2.5), ("1e3", 1000.0), ("1_000", 1000)]
)
def test_parse_number(text, number):
    assert repr(parse_number(text)) == repr(number)


@pytest.mark.parametrize(("text", "number"), [("12", 12), ("2.0", 2), ("1e3", 1000)])
def test_parse_integer(text, number):
    assert repr(parse_integer(text)) == repr(number)


@pytest.mark.parametrize("text", ["2.5", "x", "", "inf", "nan"])
def test_parse_integer_refuses_what_is_not_a_whole_number(text):
    with pytest.raises(ValueError):
        parse_integer(text)
