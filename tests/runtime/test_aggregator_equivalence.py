"""write_csv builds a page a column at a time; it must give the bytes of the plain cell-by-cell definition."""

from __future__ import annotations

import csv
import enum
import io
from collections import OrderedDict, defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from factory.runtime.aggregator import FORMULA_PREFIXES, cell_text, csv_columns, write_csv

INPUTS = ["a", "b"]
OUTPUTS = ["x", "y", "z"]
OWN_KEYS = ("status", "error", "execution_time_ms", "timestamp")


class Colour(enum.IntEnum):
    RED = 1


class Label(str):
    pass


def reference_write_csv(pages, sink, output_fields, input_columns=None, neutralise_formulas=True):
    """The definition: every cell through cell_text, one row at a time, one sink write per page."""
    columns = None
    counts: dict = {}
    rows = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush():
        if buffer.getvalue():
            sink.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()

    for page in pages:
        for item in page:
            if columns is None:
                if input_columns is None:
                    input_columns = list((item.get("input_data") or {}).keys())
                columns = csv_columns(input_columns, output_fields)
                writer.writerow([cell_text(name, neutralise_formulas) for name in columns])
            inputs = item.get("input_data") or {}
            outputs = item.get("output_data") or {}
            values = [
                *(inputs.get(name) for name in input_columns),
                *(outputs.get(name) for name in output_fields),
                *(item.get(key) for key in OWN_KEYS),
            ]
            writer.writerow([cell_text(value, neutralise_formulas) for value in values])
            status = item.get("status") or ""
            counts[status] = counts.get(status, 0) + 1
            rows += 1
        flush()
    if columns is None:
        columns = csv_columns(input_columns or [], output_fields)
        writer.writerow([cell_text(name, neutralise_formulas) for name in columns])
        flush()
    return {"rows": rows, "counts": counts, "columns": columns, "csv_uri": None}


class CountingSink(io.BytesIO):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, data):
        self.writes += 1
        return super().write(data)


formula_text = st.sampled_from(FORMULA_PREFIXES).flatmap(lambda p: st.text(max_size=5).map(lambda t: p + t))
plain_numbers = st.sampled_from(["-12.5", "+1e5", "-3", "-", "+", "=1", "@", ".5", "-.5e-3"])
quoting = st.sampled_from(
    [",", '"', "\r", "\n", "a,b", 'say "hi"', "line\r\nbreak", "=a,b", '-"x"', " ", "\x00"]
)
text = st.text(max_size=8) | formula_text | plain_numbers | quoting | st.just("") | st.just("a\n=b")
json_scalars = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | text
scalars = (
    json_scalars | st.builds(Decimal, st.integers(-999, 999)) | st.just(Colour.RED) | st.builds(Label, text)
)
values = (
    scalars
    | st.lists(json_scalars, max_size=2)
    | st.dictionaries(st.text(max_size=3), json_scalars, max_size=2)
)
# A page often holds one kind per column (the fast paths), sometimes a mix.
column_kind = st.sampled_from(["text", "bool", "number", "none", "mixed"])
KIND = {
    "text": text | st.none(),
    "bool": st.booleans() | st.none(),
    "number": st.integers(-5, 5) | st.floats(allow_nan=False) | st.none(),
    "none": st.none(),
    "mixed": values,
}


@st.composite
def mappings(draw, names, kinds):
    picked = {}
    for name in names:
        if draw(st.integers(0, 9)) == 0:
            continue  # a missing key
        picked[name] = draw(KIND[kinds[name]])
    if draw(st.integers(0, 9)) == 0:
        picked["extra"] = draw(values)
    wrapper = draw(st.sampled_from([dict, dict, dict, dict, OrderedDict, "defaultdict"]))
    if wrapper == "defaultdict":
        made = defaultdict(lambda: "=from default")  # .get must never see the default
        made.update(picked)
        return made
    return wrapper(picked)


@st.composite
def items(draw, kinds):
    item = {}
    data = draw(st.sampled_from(["present", "present", "present", "empty", "none", "missing"]))
    if data != "missing":
        item["input_data"] = {"present": draw(mappings(INPUTS, kinds)), "empty": {}, "none": None}[data]
    data = draw(st.sampled_from(["present", "present", "empty", "none", "missing"]))
    if data != "missing":
        item["output_data"] = {"present": draw(mappings(OUTPUTS, kinds)), "empty": {}, "none": None}[data]
    for key in OWN_KEYS:
        if draw(st.integers(0, 19)):
            item[key] = draw(KIND[kinds[key]])
    if kinds["status"] != "mixed" and draw(st.booleans()):
        item["status"] = draw(st.sampled_from(["SUCCESS", "FAILED", "PARTIAL", "", None]))
    return item


@st.composite
def batches(draw):
    kinds = {name: draw(column_kind) for name in [*INPUTS, *OUTPUTS, *OWN_KEYS]}
    if kinds["status"] == "mixed":
        kinds["status"] = "text"  # statuses are counted, so they must be hashable
    pages = draw(st.lists(st.lists(items(kinds), max_size=6), max_size=4))
    shape = draw(st.sampled_from([list, tuple, iter]))
    return [shape(page) for page in pages]


@settings(max_examples=300, deadline=None)
@given(
    batches(),
    st.booleans(),
    st.sampled_from([None, INPUTS, ["b"], []]),
    st.sampled_from([OUTPUTS, ["y"], []]),
)
def test_write_csv_matches_the_cell_by_cell_definition(pages, neutralise, input_columns, output_fields):
    materialised = [list(page) for page in pages]
    expected_sink, sink = CountingSink(), CountingSink()
    expected = reference_write_csv(materialised, expected_sink, output_fields, input_columns, neutralise)
    pages_again = [
        page if isinstance(page, (list, tuple)) else iter(materialised[i]) for i, page in enumerate(pages)
    ]
    summary = write_csv(pages_again, sink, output_fields, input_columns, neutralise)
    assert sink.getvalue() == expected_sink.getvalue()
    assert summary.as_dict() == expected
    assert list(summary.counts) == list(expected["counts"])
    assert sink.writes == expected_sink.writes
