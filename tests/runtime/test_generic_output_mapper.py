from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from factory.runtime.child_results import row_mapper
from factory.runtime.output_mapping.generic import (
    extract_fields,
    load_output_mappings,
    map_output,
)
from factory.runtime.output_mapping.expressions import (
    OutputMappingConfigError,
    compile_expression,
    labelled_values,
    split_pipeline,
)

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)

CONFIG = {
    "exchange_code": {
        "required": True,
        "methods": [
            {"method": "structured_output"},
            {
                "method": "tool_result",
                "tool_name": "bt_checker",
                "expression": "$.content | parse('Exchange: (.+)') | strip()",
            },
            {
                "method": "jmespath",
                "path": "result.summary",
                "transforms": [{"parse_text": "exchange=(\\w+)"}, "lower"],
            },
        ],
    },
    "speed": [
        {
            "method": "results_array",
            "path": "results",
            "match": {"name": "speed"},
            "value": "value",
            "transforms": ["to_number"],
        },
        {"method": "direct", "key": "speed_mbps"},
    ],
    "fttp": [{"method": "jmespath", "path": "flags.fttp", "transforms": ["to_bool"]}],
}


def conversation(text: str, tool: str = "bt_checker") -> dict:
    return {
        "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": tool, "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": text}]},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t2", "name": "other", "input": {}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t2", "content": "Exchange: WRONG"}],
            },
        ]
    }


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"structured_output": {"exchange_code": "CAMBRIDGE"}}, {"exchange_code": "CAMBRIDGE"}),
        (conversation("Line ok\nExchange:  ELY  \nDone"), {"exchange_code": "ELY"}),
        ({"result": {"summary": "exchange=SOHO ok"}}, {"exchange_code": "soho"}),
        # first non-empty wins: an empty structured value falls through to the tool result
        (
            {"structured_output": {"exchange_code": ""}, **conversation("Exchange: ELY")},
            {"exchange_code": "ELY"},
        ),
        (
            {"results": [{"name": "fttp", "value": "x"}, {"name": "speed", "value": "1,024.5"}]},
            {"speed": 1024.5},
        ),
        ({"speed_mbps": 80}, {"speed": 80}),
        ({"flags": {"fttp": "Yes"}}, {"fttp": True}),
        ({"flags": {"fttp": "perhaps"}}, {}),
        ({}, {}),
        (json.dumps({"speed_mbps": 3}), {"speed": 3}),
    ],
)
def test_methods_in_order(response, expected):
    assert extract_fields(response, load_output_mappings(CONFIG)) == expected


def test_bedrock_tool_result_content_blocks():
    response = {
        "messages": [
            {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": "b1", "name": "bt_checker", "input": {}}}],
            },
            {
                "role": "user",
                "content": [{"toolResult": {"toolUseId": "b1", "content": [{"text": "Exchange: BATH"}]}}],
            },
        ]
    }
    assert extract_fields(response, load_output_mappings(CONFIG)) == {"exchange_code": "BATH"}


def test_tool_result_without_expression_reads_json_content():
    config = {"alk": [{"method": "tool_result", "tool_name": "bt_checker"}]}
    response = conversation(json.dumps({"alk": "A1"}))
    assert extract_fields(response, load_output_mappings(config)) == {"alk": "A1"}


def test_rows_have_status_and_json_cells():
    mappings = load_output_mappings(
        {
            "output_mappings": [
                {"field": "exchange_code", "required": True, "methods": [{"method": "direct"}]},
                {"field": "tags", "methods": [{"method": "direct"}]},
            ]
        }
    )
    row = map_output({"exchange_code": "ELY", "tags": ["a", "b"]}, mappings, now=NOW)
    assert row == {
        "exchange_code": "ELY",
        "tags": '["a","b"]',
        "_status": "SUCCESS",
        "_error": None,
        "_timestamp": "2026-01-02T00:00:00.000Z",
    }
    assert (
        map_output({"tags": ["a"]}, mappings, now=NOW)["_error"] == "exchange_code: required field is missing"
    )
    assert map_output({"exchange_code": "ELY"}, mappings, now=NOW)["_status"] == "SUCCESS"
    failed = map_output("garbage", mappings, now=NOW)
    assert (
        failed["_status"] == "FAILED"
        and failed["_error"] == "no extraction method found a value in the response (tried: direct)"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"f": [{"method": "xpath"}]},
            "output_mappings.f\\[0\\]: unknown method 'xpath'; use one of tool_result, structured_output",
        ),
        ({"f": [{"method": "tool_result"}]}, "output_mappings.f\\[0\\]: tool_result needs a 'tool_name'"),
        (
            {"f": [{"method": "tool_result", "tool_name": "t", "expression": "$.content | parse('(')"}]},
            "regex '\\(' does not compile",
        ),
        (
            {"f": [{"method": "tool_result", "tool_name": "t", "expression": "content"}]},
            "must start with '\\$'",
        ),
        (
            {"f": [{"method": "tool_result", "tool_name": "t", "expression": "$.content | shout()"}]},
            "unknown function 'shout'",
        ),
        (
            {"f": [{"method": "tool_result", "tool_name": "t", "expression": "$.content | parse()"}]},
            "parse\\(\\) needs a regex",
        ),
        (
            {"f": [{"method": "jmespath", "path": "a[?"}]},
            "output_mappings.f\\[0\\].path: JMESPath 'a\\[\\?' does not compile",
        ),
        ({"f": [{"method": "jmespath"}]}, "needs a JMESPath string"),
        (
            {"f": [{"method": "jmespath", "path": "a", "transforms": ["upper"]}]},
            "f\\[0\\].transforms\\[0\\]: unknown transform 'upper'",
        ),
        (
            {"f": [{"method": "jmespath", "path": "a", "transforms": [{"parse_text": "["}]}]},
            "does not compile",
        ),
        ({"f": [{"method": "results_array", "index": "first"}]}, "'index' must be an integer"),
        ({"f": []}, "output_mappings.f: needs a non-empty list of methods"),
        ({"f": ["direct"]}, "a method must be an object"),
        ([{"methods": []}], "output_mappings\\[0\\]: needs a 'field' name"),
        ("nope", "output_mappings: must be \\{agent or tool name"),
        ({"f": [{"method": "direct", "keys": "x"}]}, "output_mappings.f\\[0\\]: unknown key 'keys'"),
        ({"2x": [{"method": "direct"}]}, "field name '2x' is not usable as a CSV column"),
        ([{"field": "a", "methods": [{"method": "direct"}]}, {"field": "a", "methods": [{"method": "direct"}]}],
         "output_mappings\\[1\\]: field 'a' is mapped twice"),
        ({"f": [{"method": "tool_result", "tool_name": "t", "pattern": "("}]}, "output_mappings.f\\[0\\].pattern: regex"),
    ],
)
def test_config_errors_at_load(config, message):
    with pytest.raises(OutputMappingConfigError, match=message):
        load_output_mappings(config)


def test_pipeline_split_respects_quotes_and_jmespath_or():
    assert split_pipeline("$.content | parse('a|b') | strip()") == ["$.content", "parse('a|b')", "strip()"]
    assert split_pipeline("$.a || b | lower()") == ["$.a || b", "lower()"]


def test_expression_over_json_content():
    evaluate = compile_expression("$.json.rows[0].v | to_number()", "x")
    assert evaluate({"content": "", "json": {"rows": [{"v": "42"}]}}) == 42
    assert evaluate({"content": "", "json": None}) is None


def test_compiled_once_per_config_in_written_order():
    assert load_output_mappings(CONFIG) is load_output_mappings(json.loads(json.dumps(CONFIG)))
    assert load_output_mappings(CONFIG).names == ["exchange_code", "speed", "fttp"]


def test_tool_result_pattern_and_expressions_on_every_method():
    config = {
        "exchange": [{"method": "tool_result", "tool_name": "bt_checker", "pattern": "Exchange: (\\w+)"}],
        "fttp": [{"method": "structured_output", "expression": "$.flags.fttp", "transforms": ["to_bool"]}],
        "speed": [{"method": "direct", "expression": "$.speed | parse('([0-9.]+) Mbps') | to_number()"}],
    }
    response = {**conversation("Line\nExchange: ELY\n"), "structured_output": {"flags": {"fttp": "yes"}},
                "speed": "80.5 Mbps"}
    assert extract_fields(response, load_output_mappings(config)) == {"exchange": "ELY", "fttp": True, "speed": 80.5}


def test_the_batch_machines_row_mapper():
    row = row_mapper({"output_mappings": CONFIG})({"speed_mbps": 5})
    assert row["speed"] == 5 and row["_status"] == "FAILED"  # exchange_code is required


@pytest.mark.parametrize(
    ("expression", "bare", "root", "expected"),
    [
        ("$", False, {"a": 1}, {"a": 1}),
        ("$[1]", False, ["x", "y"], "y"),
        ("$.a | b", False, {"a": {"b": 5}}, 5),  # a JMESPath pipe stays part of the path
        ("a | b | to_number()", True, {"a": {"b": "7"}}, 7),
        ("results[?kind=='speed'].value | [0] | to_number()", True, {"results": [{"kind": "speed", "value": "9"}]}, 9),
        ("$.text | parse_text()", False, {"text": "Cabinet: 12\n**Download speed:** 80 Mbps"}, "80 Mbps"),
        ("$.text | parse_text('Cabinet: (\\d+)')", False, {"text": "Cabinet: 12"}, "12"),
        ("$.text | parse('no (match)')", False, {"text": "Cabinet: 12"}, None),
        ("$.text | parse('Cabinet: (.*)')", False, {"text": "Cabinet:   \n"}, None),  # blank capture is no value
        ("$.n | to_number()", False, {"n": "£1,250.50"}, 1250.5),
        ("$.n | to_number()", False, {"n": "NaN"}, None),
        ("$.n | to_bool()", False, {"n": "No"}, False),
        ("$.j | json()", False, {"j": "{\"a\": [1]}"}, {"a": [1]}),
    ],
)
def test_expressions(expression, bare, root, expected):
    assert compile_expression(expression, "x", field="download_speed", bare=bare)(root) == expected


def test_parse_text_without_a_pattern_needs_a_field():
    with pytest.raises(OutputMappingConfigError, match="parse_text without a pattern needs a field"):
        compile_expression("$.a | parse_text()", "x")


def test_labelled_lines_take_linear_time_on_long_lines():
    """A lazy value group followed by optional spaces and $ backtracked quadratically on long space runs."""
    text = "a: x" + " " * 200_000 + "y\nExchange: ELY"
    assert labelled_values(text) == {"a": "x" + " " * 200_000 + "y", "exchange": "ELY"}
