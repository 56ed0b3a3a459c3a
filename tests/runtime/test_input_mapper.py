from __future__ import annotations

import json
from collections import OrderedDict

import pytest

from factory.runtime.input_mapper import (
    InputRowError,
    MappingConfigError,
    coercer,
    compile_input_plan,
    parse_jsonpath,
    transform_input,
)


def energy_schema(record: dict) -> dict:
    return record["structured_output"]["schemas"]["input"]


def test_generated_mapping_renames_columns_and_coerces(energy_mapping, energy_record):
    row = {"Postcode": "SW1A 1AA", "Annual kWh": " 2900 ", "Fuel": "gas", "payment_method": "", "extra": "x"}
    result = transform_input(row, energy_mapping, energy_schema(energy_record), row_number=1)
    assert result["data"] == {"fuel_type": "gas", "postcode": "SW1A 1AA", "annual_kwh": 2900}
    assert result["prompt"].startswith("Run energy_tariff_quotes with these inputs: ")


def test_schema_default_fills_empty_column(energy_mapping, energy_record):
    row = {"Postcode": "SW1A 1AA", "Annual kWh": "2900", "Fuel": ""}
    assert transform_input(row, energy_mapping, energy_schema(energy_record))["data"]["fuel_type"] == "dual"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {"Postcode": "SW1A 1AA", "Annual kWh": "lots"},
            "column 'Annual kWh' (annual_kwh): 'lots' is not an integer",
        ),
        (
            {"Postcode": "sw1a", "Annual kWh": "2900"},
            "column 'Postcode' (postcode: 'sw1a' does not match pattern",
        ),
        (
            {"Postcode": "SW1A 1AA", "Annual kWh": "50"},
            "column 'Annual kWh' (annual_kwh: 50 is below minimum 100)",
        ),
        (
            {"Postcode": "SW1A 1AA", "Annual kWh": "2900", "Fuel": "coal"},
            "column 'Fuel' (fuel_type: 'coal' is not one of",
        ),
        (
            {"Postcode": "SW1A 1AA", "Annual kWh": ""},
            "column 'Annual kWh' (annual_kwh): required value is empty",
        ),
        ({"Annual kWh": "2900"}, "column 'Postcode' (postcode): required value is empty"),
    ],
)
def test_invalid_rows_name_the_column(energy_mapping, energy_record, row, expected):
    with pytest.raises(InputRowError) as caught:
        transform_input(row, energy_mapping, energy_schema(energy_record), row_number=7)
    assert str(caught.value).startswith("row 7: ")
    assert expected in str(caught.value)


def test_every_problem_of_a_row_is_reported_at_once(energy_mapping, energy_record):
    with pytest.raises(InputRowError) as caught:
        transform_input({"Postcode": "x", "Annual kWh": "y"}, energy_mapping, energy_schema(energy_record))
    assert len(caught.value.problems) == 2


def test_field_types_are_used_without_a_schema(company_mapping):
    row = {"company_number": "01234567", "include_resigned_officers": "Yes"}
    assert transform_input(row, company_mapping)["data"] == {
        "company_number": "01234567",
        "include_resigned_officers": True,
    }


@pytest.mark.parametrize(
    ("text", "json_type", "expected"),
    [
        ("23", "integer", 23),
        ("23.0", "integer", 23),
        ("-4", "integer", -4),
        ("2.5", "number", 2.5),
        ("7", "number", 7),
        ("true", "boolean", True),
        ("YES", "boolean", True),
        ("y", "boolean", True),
        ("1", "boolean", True),
        ("no", "boolean", False),
        ("False", "boolean", False),
        ("0", "boolean", False),
        (" 0123 ", "string", "0123"),
        ('{"a": 1}', "object", {"a": 1}),
        ("[1, 2]", "array", [1, 2]),
        ("as is", None, "as is"),
    ],
)
def test_coerce(text, json_type, expected):
    value = coercer(json_type)(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "json_type"),
    [
        ("2.5", "integer"),
        ("abc", "number"),
        ("maybe", "boolean"),
        ("{", "object"),
        ("[1]", "object"),
        ("{}", "array"),
    ],
)
def test_coerce_refuses(text, json_type):
    with pytest.raises(ValueError):
        coercer(json_type)(text)


def test_static_values_and_transformations():
    mapping = {
        "column_mappings": {"Number": "building_number"},
        "field_types": {
            "building_number": "string",
            "source": "string",
            "address": "string",
            "town": "string",
            "line": "string",
            "rooms": "integer",
        },
        "required_fields": ["building_number", "source"],
        "static_values": {"source": "batch", "building_number": "0"},
        "transformations": [
            {
                "field": "address",
                "type": "concat",
                "columns": ["Number", "Street", "Flat"],
                "separator": ", ",
            },
            {"field": "line", "type": "template", "template": "{Number} {Street}"},
            {"field": "town", "type": "jsonpath", "column": "Extra", "path": "$.places[0]['town name']"},
            {"field": "rooms", "type": "jsonpath", "column": "Extra", "path": "$.rooms"},
        ],
        "prompt_template": "Check {line} in {town}",
    }
    row = {
        "Number": "12",
        "Street": "High St",
        "Flat": "",
        "Extra": '{"places": [{"town name": "Ely"}], "rooms": "3"}',
    }
    result = transform_input(row, mapping)
    assert result["data"] == {
        "source": "batch",
        "building_number": "12",
        "address": "12, High St",
        "line": "12 High St",
        "town": "Ely",
        "rooms": 3,
    }
    assert result["prompt"] == "Check 12 High St in Ely"
    # An empty column falls back to the static value.
    assert transform_input({**row, "Number": ""}, mapping)["data"]["building_number"] == "0"


def test_transformation_errors_name_the_column():
    mapping = {
        "field_types": {"town": "string"},
        "transformations": [{"field": "town", "type": "jsonpath", "column": "Extra", "path": "$.town"}],
    }
    with pytest.raises(InputRowError, match="column 'Extra': is not valid JSON"):
        transform_input({"Extra": "{not json"}, mapping, row_number=2)
    mapping = {"transformations": [{"field": "line", "type": "template", "template": "{Nope}"}]}
    with pytest.raises(InputRowError, match="column 'Nope' \\(used by line\\) is not in the row"):
        transform_input({}, mapping)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"field": "x", "type": "regex"}, "unknown type 'regex'"),
        ({"type": "concat", "columns": ["a"]}, "needs a 'field'"),
        ({"field": "x", "type": "concat", "columns": []}, "non-empty 'columns'"),
        ({"field": "x", "type": "template"}, "needs a 'template'"),
        ({"field": "x", "type": "jsonpath", "column": "c", "path": "a.b"}, "must start with '\\$'"),
        ({"field": "x", "type": "jsonpath", "column": "c", "path": "$..b"}, "cannot parse"),
    ],
)
def test_bad_transformations_are_config_errors(spec, message):
    with pytest.raises(MappingConfigError, match=message):
        transform_input({"c": "{}"}, {"transformations": [spec]})


def test_parse_jsonpath():
    assert parse_jsonpath("$") == []
    assert parse_jsonpath('$.a.b-c[0][-1]["x y"]') == ["a", "b-c", 0, -1, "x y"]


def test_transform_input_types_a_row(energy_mapping):
    result = transform_input({"Postcode": "SW1A 1AA", "Annual kWh": "100"}, energy_mapping)
    assert result["data"]["annual_kwh"] == 100


def test_a_bom_left_on_the_first_header_key_is_ignored(energy_mapping, energy_record):
    row = {"\ufeffPostcode": "SW1A 1AA", "Annual kWh": "2900"}
    assert (
        transform_input(row, energy_mapping, energy_schema(energy_record))["data"]["postcode"] == "SW1A 1AA"
    )


# --- the compiled plan: one row, one pass --------------------------------------------------

BT_ROWS = [
    (
        {"building_number": "12", "street": " High Street ", "postcode": "CB1 2AB", "full_address": ""},
        {"building_number": "12", "street": "High Street", "postcode": "CB1 2AB"},
    ),
    (
        {
            "building_number": "3A",
            "street": "Park Road",
            "postcode": "SW1A 1AA",
            "full_address": "3A Park Road",
        },
        {
            "building_number": "3A",
            "street": "Park Road",
            "postcode": "SW1A 1AA",
            "full_address": "3A Park Road",
        },
    ),
]


@pytest.mark.parametrize(("row", "data"), BT_ROWS)
def test_bt_wholesale_rows(broadband_mapping, broadband_record, row, data):
    plan = compile_input_plan(broadband_mapping, broadband_record["structured_output"]["schemas"]["input"])
    result = plan.transform(row, 1)
    assert result["data"] == data and list(result["data"]) == list(data)
    assert result["prompt"] == "Run broadband_availability_bt_wholesale with these inputs: " + json.dumps(
        data, ensure_ascii=False
    )


def test_bt_wholesale_bad_postcode_names_column_and_pattern(broadband_mapping, broadband_record):
    plan = compile_input_plan(broadband_mapping, broadband_record["structured_output"]["schemas"]["input"])
    with pytest.raises(InputRowError) as caught:
        plan.transform({"building_number": "12", "street": "High Street", "postcode": "cb1"}, 3)
    assert caught.value.problems == [
        "column 'postcode' (postcode: 'cb1' does not match pattern ^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$)"
    ]


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


def test_tool_mode_row_order_types_and_prompt():
    """Statics first, then columns, then transformations; a template keeps the cell's own spaces."""
    plan = compile_input_plan(TOOL_MAPPING)
    row = {"number": " 7", "street": "Mill Lane", "count": " 23 "}
    result = plan.transform(row, 1)
    assert list(result["data"]) == ["source", "flag", "number", "street", "count", "address", "label"]
    assert result["data"] == {
        "source": "batch",
        "flag": True,
        "number": "7",
        "street": "Mill Lane",
        "count": 23,
        "address": "7 Mill Lane",
        "label": "7, Mill Lane ( 23 )",
    }
    assert result["prompt"] == json.dumps(result["data"])
    assert plan.data(row, 1) == result["data"]  # a tool's input, without the prompt
    assert plan.data(OrderedDict(row), 1) == result["data"]  # a mapping that is not a plain dict


@pytest.mark.parametrize(
    "row", [{"number": "7", "street": "Mill Lane"}, OrderedDict(number="7", street="Mill Lane")]
)
def test_a_missing_template_column_fails_the_row(row):
    plan = compile_input_plan(TOOL_MAPPING)
    for function in (plan.transform, plan.data):
        with pytest.raises(InputRowError) as caught:
            function(row, 2)
        assert str(caught.value) == "row 2: column 'count' (used by label) is not in the row"


def test_a_tools_input_writes_no_prompt():
    """A prompt_template that is not text fails every `transform`; a tool never reads the prompt."""
    section = {**TOOL_MAPPING["input_mapping"], "prompt_template": ["not", "text"]}
    plan = compile_input_plan({"input_mapping": section})
    row = {"number": "7", "street": "Mill Lane", "count": "2"}
    with pytest.raises(TypeError, match="prompt_template must be text"):
        plan.transform(row, 1)
    for mapped in (row, OrderedDict(row)):
        assert plan.data(mapped, 1)["label"] == "7, Mill Lane (2)"
    failing_static = compile_input_plan({"input_mapping": {**section, "static_values": {"flag": "many"}}})
    with pytest.raises(InputRowError, match="static value \\(flag\\): 'many' is not a boolean"):
        failing_static.data(row, 1)


def test_a_static_value_that_fails_fails_only_the_rows_that_use_it():
    mapping = {"column_mappings": {"a": "n"}, "field_types": {"n": "integer"}, "static_values": {"n": "many"}}
    plan = compile_input_plan(mapping)
    assert plan.transform({"a": "3"}, 1) == {"prompt": '{"n": 3}', "data": {"n": 3}}
    with pytest.raises(InputRowError) as caught:
        plan.transform({"a": ""}, 1)
    assert caught.value.problems == ["column 'a' (n): 'many' is not an integer"]


def test_statics_and_defaults_are_typed_when_the_plan_is_built():
    schema = {"properties": {"n": {"type": "integer", "default": "4"}, "on": {"type": "boolean"}}}
    plan = compile_input_plan({"column_mappings": {"a": "n"}, "static_values": {"on": "yes"}}, schema)
    assert plan.data({"a": ""}, 1) == {"on": True, "n": 4}
    assert plan.data({"a": "9"}, 1) == {"on": True, "n": 9}


def test_a_property_that_is_not_an_object_refuses_the_mapping():
    with pytest.raises(MappingConfigError, match="input schema property 'n' must be an object"):
        compile_input_plan({"column_mappings": {"a": "n"}}, {"properties": {"n": "integer"}})


def test_a_failing_row_raises_with_no_other_error_in_its_context():
    plan = compile_input_plan({"column_mappings": {"a": "n"}, "field_types": {"n": "integer"}})
    with pytest.raises(InputRowError) as caught:
        plan.transform({"a": "x"}, 4)
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert str(caught.value) == "row 4: column 'a' (n): 'x' is not an integer"


@pytest.mark.parametrize(
    ("mapping", "row", "expected"),
    [
        (
            {"column_mappings": {"a": 5, "b": "f"}, "static_values": {"s": "x"}},
            {"a": "12", "b": " y "},
            {"prompt": '{"s": "x", "5": "12", "f": "y"}', "data": {"s": "x", 5: "12", "f": "y"}},
        ),
        (
            {"column_mappings": {"a": "f"}, "static_values": {"n": 3}, "extraction_name": "e"},
            {"a": " 7"},
            {"prompt": 'Run e with these inputs: {"n": 3, "f": "7"}', "data": {"n": 3, "f": "7"}},
        ),
        (
            {"column_mappings": {"a": "f"}, "field_types": {"f": "integer"}, "prompt_template": "{f}!"},
            {"a": "12"},
            {"prompt": "12!", "data": {"f": 12}},
        ),
    ],
)
def test_prompts_of_keys_and_values_that_are_not_text(mapping, row, expected):
    assert transform_input(row, mapping, None, 1) == expected


def test_default_prompt_is_the_json_of_the_data():
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
    for row, town in (
        ({"number": "1", "street": "Mill Lane", "town": ""}, "Cambridge"),
        ({"number": "2", "street": "é", "town": "Ely"}, "Ely"),
    ):
        result = plan.transform(row, 1)
        assert result["data"]["town"] == town
        if town == "Ely":  # a column's value keeps the column's place; a default comes last
            assert list(result["data"]) == ["source", "number", "street", "town", "address", "label"]
        else:
            assert list(result["data"]) == ["source", "number", "street", "address", "label", "town"]
        assert result["prompt"] == "Run bench with these inputs: " + json.dumps(
            result["data"], ensure_ascii=False
        )


class Text(str):
    """A str subclass with its own text: a template writes str(cell), a concat str(cell).strip()."""

    def __str__(self) -> str:
        return " Text! "


def test_cells_that_are_not_plain_text():
    mapping = {
        "transformations": [
            {"field": "t", "type": "template", "template": "[{a}|{b}|{c}]"},
            {"field": "c", "type": "concat", "columns": ["a", "b", "c"], "separator": "+"},
        ]
    }
    data = transform_input({"a": Text("x"), "b": None, "c": 7}, mapping)["data"]
    assert data == {"t": "[ Text! ||7]", "c": "Text!+7"}


@pytest.mark.parametrize(
    ("mapping", "schema", "row"),
    [
        ({"column_mappings": {"a": "f"}, "static_values": {"f": "s"}}, None, {"a": "x"}),  # f written twice
        ({"column_mappings": {"a": "f"}, "static_values": {"f": "s"}}, None, {"a": ""}),
        (
            {"column_mappings": {"a": "f"}},
            {"properties": {"n": {"type": "integer", "default": 3}}},
            {"a": "x"},
        ),
        ({"column_mappings": {"a": "f"}}, {"properties": {"n": {"default": "d é\n"}}}, {"a": '"q"'}),
        (
            {"column_mappings": {"a": "f", "b": "g"}, "field_types": {"g": "number"}},
            None,
            {"a": "x", "b": "2"},
        ),
    ],
)
def test_the_default_prompt_is_json_dumps_of_the_data(mapping, schema, row):
    """The JSON is written as the row is typed where it can be; it is always json.dumps's text."""
    result = compile_input_plan({**mapping, "extraction_name": "e"}, schema).transform(row, 1)
    assert result["prompt"] == "Run e with these inputs: " + json.dumps(result["data"], ensure_ascii=False)
