"""Properties over arbitrary values: what the store and the CSV must never lose."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from factory.runtime.aggregator import FORMULA_PREFIXES, write_csv
from factory.runtime.result_store import from_dynamodb, to_dynamodb

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**18), 10**18)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_decimal_round_trip_keeps_every_value(value):
    back = from_dynamodb(to_dynamodb(value))

    def same(a, b):
        if isinstance(a, float):
            # integral values come back as int; the number itself survives exactly
            return isinstance(b, (int, float)) and not isinstance(b, bool) and float(b) == a
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return a == b and type(a) is type(b)

    assert same(value, back)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(text, text), min_size=1, max_size=20))
def test_csv_reads_back_cell_for_cell(pairs):
    items = [
        {
            "status": "SUCCESS",
            "error": None,
            "execution_time_ms": 1,
            "timestamp": "t",
            "input_data": {"in": a},
            "output_data": {"out": b},
        }
        for a, b in pairs
    ]
    sink = io.BytesIO()
    summary = write_csv([items[:5], items[5:]], sink, ["out"], ["in"])
    records = list(csv.reader(io.StringIO(sink.getvalue().decode("utf-8"), newline="")))
    assert records[0] == ["in", "out", "_status", "_error", "_execution_time_ms", "_timestamp"]
    assert summary.rows == len(pairs) == len(records) - 1
    for (a, b), record in zip(pairs, records[1:]):
        for original, cell in ((a, record[0]), (b, record[1])):
            if original.startswith(FORMULA_PREFIXES) and cell != original:
                assert cell == "'" + original
            else:
                assert cell == original
