"""The input plan's fast path gives exactly the reference's answers, and is the path a passing row takes.

`compile_input_plan` gives a plan a one-pass `transform` (values typed as they
are read, statics and defaults typed once, the default prompt's JSON from
precomputed keys) that hands any row with a problem, a BOM or an odd shape to
the plan's general `transform`. The mappings here are drawn so that most rows
pass (text into text, number and boolean fields, patterns, statics,
defaults, fields written twice), which is the case the fast path serves;
the rows that fail check the hand-over.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factory.runtime import input_mapper
from factory.runtime.input_mapper import InputPlan, InputRowError, compile_input_plan
from tests.runtime import reference_runtime as reference

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLUMNS = ["a", "b", "c", "Post code"]
FIELDS = ["f1", "f2", "f3", "f4"]
GOOD_CELLS = ["A1", "  B2 ", "12", " 7 ", "1.5", "yes", "No", "x y", "é ü", "SW1A 1AA", "{a}", '"q"\\']
TYPES = [None, "string", "string", "integer", "number", "boolean", "weird", ["string", "null"]]
PATTERNS = ["^[A-Z]", "\\d", "^\\S+$", "(", ""]


class Text(str):
    """A str subclass with its own text: the template's str(cell) must be the same on both paths."""

    def __str__(self) -> str:
        return "Text!"


cells = (
    st.sampled_from(GOOD_CELLS)
    | st.sampled_from(["", "  ", None, 7, True, 2.5, ["x"], Text("t")])
    | st.text(max_size=4)
)
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(GOOD_CELLS + ["", {"k": 1}])


@st.composite
def properties(draw):
    prop = {}
    json_type = draw(st.sampled_from(TYPES))
    if json_type is not None:
        prop["type"] = json_type
    if draw(st.integers(0, 2)) == 0:
        prop["pattern"] = draw(st.sampled_from(PATTERNS))
    if draw(st.integers(0, 5)) == 0:
        prop[draw(st.sampled_from(["maxLength", "minLength", "minimum", "enum"]))] = draw(
            st.sampled_from([1, 3, ["A1", 12]])
        )
    if draw(st.integers(0, 2)) == 0:
        prop["default"] = draw(scalars)
    return prop


@st.composite
def cases(draw):
    names = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=4))
    schema = None
    if draw(st.integers(0, 3)):
        schema = {"type": "object", "properties": {name: draw(properties()) for name in names}}
        schema["required"] = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=2))
    section = {
        "column_mappings": draw(
            st.dictionaries(st.sampled_from(COLUMNS), st.sampled_from(FIELDS), max_size=4)
        )
    }
    if draw(st.booleans()):
        section["static_values"] = draw(st.dictionaries(st.sampled_from(FIELDS + ["s"]), scalars, max_size=2))
    transformations = []
    for kind in draw(st.lists(st.sampled_from(["concat", "template", "jsonpath"]), max_size=3)):
        spec = {"field": draw(st.sampled_from(FIELDS + ["t"])), "type": kind}
        if kind == "concat":
            spec["columns"] = draw(st.lists(st.sampled_from(COLUMNS + ["zz"]), min_size=1, max_size=3))
        elif kind == "template":
            spec["template"] = draw(st.sampled_from(["{a} {b}", "{c}", "{a}-{zz}", "plain", "{Post code}!"]))
        else:
            spec["column"] = draw(st.sampled_from(COLUMNS))
            spec["path"] = draw(st.sampled_from(["$", "$.k", "$[0]"]))
        transformations.append(spec)
    if transformations:
        section["transformations"] = transformations
    if draw(st.integers(0, 4)) == 0:
        section["prompt_template"] = draw(st.sampled_from(["Check {f1} at {f2}", "{t}", "none"]))
    mapping = {"input_mapping": section}
    if draw(st.booleans()):
        mapping["extraction_name"] = draw(st.sampled_from(["bench", 'odd "name"']))
    batch = draw(
        st.lists(
            st.dictionaries(st.sampled_from(COLUMNS + ["extra"]), cells, max_size=5), min_size=1, max_size=5
        )
    )
    shape = draw(st.integers(0, 9))
    if shape == 0 and batch[0]:  # a BOM on the first key: the general path strips it
        first = next(iter(batch[0]))
        batch[0] = {("\ufeff" + key if key == first else key): value for key, value in batch[0].items()}
    elif shape == 1:  # not a plain dict: the general path asks the mapping itself
        batch[0] = OrderedDict(batch[0])
    return mapping, schema, batch


def outcome(function, *args):
    try:
        return "ok", repr(function(*args))
    except InputRowError as exc:
        return "InputRowError", str(exc), exc.problems, exc.row_number, exc.__context__
    except Exception as exc:  # noqa: BLE001 - any error must be the same error
        return type(exc).__name__, str(exc)


def reference_data(*args):
    return reference.transform_input(*args)["data"]


@SETTINGS
@given(cases())
def test_fast_path_matches_reference(case):
    mapping, schema, batch = case
    try:
        plan = compile_input_plan(mapping, schema)
    except Exception as exc:  # noqa: BLE001 - refused the same way as the reference
        assert outcome(reference.transform_input, batch[0], mapping, schema, 1) == (
            type(exc).__name__,
            str(exc),
        )
        return
    for number, row in enumerate(batch, 1):
        expected = outcome(reference.transform_input, row, mapping, schema, number)
        assert outcome(plan.transform, row, number) == expected
        # a tool's input: the data alone, or the very same refusal
        assert outcome(plan.data, row, number) == outcome(reference_data, row, mapping, schema, number)


@pytest.fixture
def general_calls(monkeypatch):
    """Counts the rows handed to the general path, `transform` or `data` (plans compiled after the fixture)."""
    calls = []
    general = InputPlan.data

    def counted(self, row, row_number=None):
        calls.append(row)
        return general(self, row, row_number)

    monkeypatch.setattr(InputPlan, "data", counted)
    return calls


BT_ROWS = [
    {"building_number": "12", "street": " High Street ", "postcode": "CB1 2AB", "full_address": ""},
    {"building_number": "3A", "street": "Park Road", "postcode": "SW1A 1AA", "full_address": "3A Park Road"},
]


def test_bt_wholesale_rows_take_the_fast_path(broadband_mapping, broadband_record, general_calls):
    schema = broadband_record["structured_output"]["schemas"]["input"]
    plan = compile_input_plan(broadband_mapping, schema)
    general_calls.clear()  # the compile-time typing of constants goes through it
    for number, row in enumerate(BT_ROWS, 1):
        assert plan.transform(row, number) == reference.transform_input(
            row, broadband_mapping, schema, number
        )
    assert general_calls == []
    bad = {"building_number": "12", "street": "High Street", "postcode": "cb1"}
    assert outcome(plan.transform, bad, 3) == outcome(
        reference.transform_input, bad, broadband_mapping, schema, 3
    )
    assert general_calls == [bad]


TOOL_MAPPING = {
    "input_mapping": {
        "column_mappings": {"number": "number", "street": "street", "count": "count"},
        "field_types": {"number": "string", "street": "string", "count": "integer", "flag": "boolean"},
        "static_values": {"source": "batch", "flag": "yes"},
        "transformations": [
            {"field": "address", "type": "concat", "columns": ["number", "street"], "separator": " "},
            {"field": "label", "type": "template", "template": "{number}, {street} ({count})"},
        ],
    }
}


def test_tool_mode_rows_take_the_fast_path(general_calls):
    plan = compile_input_plan(TOOL_MAPPING)
    general_calls.clear()
    row = {"number": " 7", "street": "Mill Lane", "count": " 23 "}
    result = plan.transform(row, 1)
    assert general_calls == []
    assert result == reference.transform_input(row, TOOL_MAPPING, None, 1)
    assert list(result["data"]) == ["source", "flag", "number", "street", "count", "address", "label"]
    assert result["data"]["count"] == 23 and result["data"]["flag"] is True
    assert result["data"]["label"] == "7, Mill Lane ( 23 )"
    assert plan.data(row, 1) == result["data"]  # a tool's input, without the prompt
    assert general_calls == []
    missing = {"number": "7", "street": "Mill Lane"}
    assert outcome(plan.transform, missing, 2) == outcome(
        reference.transform_input, missing, TOOL_MAPPING, None, 2
    )
    assert outcome(plan.data, missing, 2) == outcome(reference_data, missing, TOOL_MAPPING, None, 2)
    assert general_calls == [missing, missing]


def test_a_tools_input_writes_no_prompt():
    """`plan.data` is the tool's input: no prompt is written, on the fast path or the general one.

    A prompt_template that is not text makes every `transform` fail; a tool
    never reads the prompt, so its rows still map.
    """
    section = {**TOOL_MAPPING["input_mapping"], "prompt_template": ["not", "text"]}
    plan = compile_input_plan({"input_mapping": section})
    row = {"number": "7", "street": "Mill Lane", "count": "2"}
    with pytest.raises(TypeError):
        plan.transform(row, 1)
    for mapped in (row, OrderedDict(row)):  # the fast path, then the general one
        assert plan.data(mapped, 1)["label"] == "7, Mill Lane (2)"
    failing_static = compile_input_plan({"input_mapping": {**section, "static_values": {"flag": "many"}}})
    assert "data" not in vars(failing_static)  # no fast path
    with pytest.raises(InputRowError, match="flag"):
        failing_static.data(row, 1)


def test_a_static_value_that_fails_leaves_the_plan_without_a_fast_path():
    mapping = {"column_mappings": {"a": "n"}, "field_types": {"n": "integer"}, "static_values": {"n": "many"}}
    plan = compile_input_plan(mapping)
    assert "transform" not in vars(plan)
    for row in ({"a": "3"}, {"a": ""}):
        assert outcome(plan.transform, row, 1) == outcome(reference.transform_input, row, mapping, None, 1)


def test_a_failing_row_raises_without_the_fast_path_in_its_context():
    plan = compile_input_plan({"column_mappings": {"a": "n"}, "field_types": {"n": "integer"}})
    assert "transform" in vars(plan)
    with pytest.raises(InputRowError) as caught:
        plan.transform({"a": "x"}, 4)
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert str(caught.value) == "row 4: column 'a' (n): 'x' is not an integer"


def test_the_plan_cache_hands_out_fast_plans(broadband_mapping, broadband_record):
    schema = broadband_record["structured_output"]["schemas"]["input"]
    assert "transform" in vars(input_mapper.input_plan(broadband_mapping, schema))


@pytest.mark.parametrize(
    "mapping",
    [
        {"column_mappings": {"a": 5, "b": "f"}, "static_values": {"s": "x"}},
        {"column_mappings": {"a": "f"}, "static_values": {"n": 3}, "extraction_name": "e"},
        {"column_mappings": {"a": "f"}, "field_types": {"f": "integer"}, "prompt_template": "{f}!"},
    ],
)
def test_keys_or_values_that_are_not_text_get_the_general_prompt(mapping):
    """A field named by a number, a static number, a typed value: the prompt is json.dumps's, as before."""
    plan = compile_input_plan(mapping)
    for row in ({"a": "12", "b": " y "}, {"a": " 7"}):
        assert outcome(plan.transform, row, 1) == outcome(reference.transform_input, row, mapping, None, 1)


def test_text_fields_written_once_build_the_prompt_as_they_are_stored(general_calls):
    """Static, columns, transformations and a schema default, all text: the prompt is json.dumps's text."""
    mapping = {
        "extraction_name": "bench",
        "input_mapping": {
            "column_mappings": {"number": "number", "street": "street", "town": "town"},
            "static_values": {"source": 'batch "quoted"'},
            "transformations": [
                {"field": "address", "type": "concat", "columns": ["number", "street"]},
                {"field": "label", "type": "template", "template": "{number}/{street}"},
            ],
        },
    }
    schema = {"type": "object", "properties": {"town": {"type": "string", "default": "Cambridge"}}}
    plan = compile_input_plan(mapping, schema)
    general_calls.clear()
    for row in (
        {"number": "1", "street": "Mill Lane", "town": ""},
        {"number": "2", "street": "é", "town": "Ely"},
    ):
        result = plan.transform(row, 1)
        assert result == reference.transform_input(row, mapping, schema, 1)
        assert result["prompt"] == "Run bench with these inputs: " + json.dumps(
            result["data"], ensure_ascii=False
        )
    assert general_calls == []
    assert list(result["data"]) == ["source", "number", "street", "town", "address", "label"]
