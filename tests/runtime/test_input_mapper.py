from __future__ import annotations

import pytest

from factory.runtime.input_mapper import (
    InputRowError,
    MappingConfigError,
    coerce,
    handler,
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
    value = coerce(text, json_type)
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
        coerce(text, json_type)


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


def test_handler_transforms_a_row(energy_mapping):
    result = handler({"row": {"Postcode": "SW1A 1AA", "Annual kWh": "100"}, "mapping": energy_mapping})
    assert result["data"]["annual_kwh"] == 100


def test_a_bom_left_on_the_first_header_key_is_ignored(energy_mapping, energy_record):
    row = {"\ufeffPostcode": "SW1A 1AA", "Annual kWh": "2900"}
    assert (
        transform_input(row, energy_mapping, energy_schema(energy_record))["data"]["postcode"] == "SW1A 1AA"
    )
