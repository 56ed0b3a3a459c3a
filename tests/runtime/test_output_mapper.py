from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from factory.runtime.output_mapping.structured import (
    build_row,
    extract_structured_output,
    locate_structured_output,
    utc_timestamp,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
GOOD = {"success": True, "fttp_avail": False, "alk": "A00022059784", "soadsl_dsl_speed": 12.5}
TOOL = "print_broadband_availability_bt_wholesale_output"


def browser_result(parsed, matches=True, extra_steps=()):
    return {
        "success": True,
        "step_results": [
            {"step": 0, "action": "act", "success": True},
            {
                "step": 1,
                "action": "act_with_schema",
                "success": True,
                "parsed_response": {"stale": 1},
                "matches_schema": True,
            },
            *extra_steps,
            {
                "step": 2,
                "action": "act_with_schema",
                "success": True,
                "parsed_response": parsed,
                "matches_schema": matches,
            },
            {"step": 3, "action": "screenshot", "success": True},
        ],
    }


SHAPES = [
    ("top level", {"structured_output": GOOD}, "$.structured_output"),
    ("top level as JSON text", {"structured_output": json.dumps(GOOD)}, "$.structured_output"),
    (
        "Step Functions Output",
        {"Output": {"structured_output": GOOD}, "status": "SUCCEEDED"},
        "$.Output.structured_output",
    ),
    (
        "Output as JSON string",
        {"Output": json.dumps({"structured_output": GOOD})},
        "$.Output.structured_output",
    ),
    ("content wrapper", {"content": {"structured_output": GOOD}}, "$.content.structured_output"),
    (
        "Lambda Payload",
        {"StatusCode": 200, "Payload": {"structured_output": GOOD}},
        "$.Payload.structured_output",
    ),
    (
        "Payload JSON text",
        {"Payload": json.dumps({"Output": json.dumps({"structured_output": GOOD})})},
        "$.Payload.Output.structured_output",
    ),
    ("whole response is JSON text", json.dumps({"structured_output": GOOD}), "$.structured_output"),
    (
        "last print tool_use (Anthropic)",
        {
            "messages": [
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "name": TOOL, "input": {"success": False}}],
                },
                {"role": "user", "content": [{"type": "tool_result", "content": "ok"}]},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "done"},
                        {"type": "tool_use", "name": TOOL, "input": GOOD},
                    ],
                },
            ]
        },
        f"$.messages[2].content[1].input ({TOOL})",
    ),
    (
        "generic print_output tool (Bedrock toolUse)",
        {
            "messages": [
                {"role": "assistant", "content": [{"toolUse": {"name": "print_output", "input": GOOD}}]}
            ]
        },
        "$.messages[0].content[0].input (print_output)",
    ),
    (
        "single Anthropic message",
        {
            "role": "assistant",
            "stop_reason": "tool_use",
            "content": [{"type": "tool_use", "name": TOOL, "input": GOOD}],
        },
        f"$<message>[0].content[0].input ({TOOL})",
    ),
    (
        "Bedrock Converse response",
        {
            "output": {
                "message": {"role": "assistant", "content": [{"toolUse": {"name": TOOL, "input": GOOD}}]}
            }
        },
        f"$.output.message<message>[0].content[0].input ({TOOL})",
    ),
    ("browser step_results", browser_result(GOOD), "$.step_results[2].parsed_response"),
    (
        "browser parsed_response as text",
        browser_result(json.dumps(GOOD)),
        "$.step_results[2].parsed_response",
    ),
    (
        "script_output",
        {"script_output": browser_result(GOOD)},
        "$.script_output.step_results[2].parsed_response",
    ),
    (
        "tool_result JSON-string content",
        {
            "messages": [
                {"role": "assistant", "content": [{"type": "tool_use", "name": "browser", "input": {}}]},
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t1",
                            "content": json.dumps(browser_result(GOOD)),
                        }
                    ],
                },
            ]
        },
        "$.messages[1].content[0].content.step_results[2].parsed_response",
    ),
    (
        "tool_result text block content",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "content": [
                                {"type": "text", "text": json.dumps({"script_output": browser_result(GOOD)})}
                            ],
                        }
                    ],
                }
            ]
        },
        "$.messages[0].content[0].content.script_output.step_results[2].parsed_response",
    ),
    (
        "Bedrock toolResult json content",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"toolResult": {"content": [{"json": {"structured_output": GOOD}}]}}],
                }
            ]
        },
        "$.messages[0].content[0].content.structured_output",
    ),
]


@pytest.mark.parametrize(("name", "response", "where"), SHAPES, ids=[shape[0] for shape in SHAPES])
def test_every_response_shape_is_located(name, response, where, broadband_mapping, broadband_record):
    located = locate_structured_output(response, (TOOL,))
    assert located.value == GOOD
    assert located.where == where
    assert located.problem is None
    row = extract_structured_output(
        response, broadband_mapping, broadband_record["structured_output"]["schemas"]["output"], NOW
    )
    assert row["_status"] == "SUCCESS"  # the optional fields it leaves out are no fault
    assert row["success"] is True and row["alk"] == "A00022059784"


def test_row_has_fields_in_schema_order_then_metadata(broadband_mapping):
    row = extract_structured_output({"structured_output": GOOD}, broadband_mapping, None, NOW)
    assert list(row) == broadband_mapping["structured_output_fields"] + ["_status", "_error", "_timestamp"]
    assert row["_timestamp"] == "2026-01-02T03:04:05.678Z"
    assert row["_status"] == "SUCCESS" and row["_error"] is None


def test_success_when_every_field_is_present(company_mapping, company_record):
    output = {
        "company_name": "ACME LTD",
        "company_status": "active",
        "incorporated_on": "2001-01-01",
        "registered_office": {"line": "1 High St", "town": "Ely"},
        "sic_codes": ["62020"],
        "officers": [{"name": "A, B", "role": "director"}],
    }
    row = extract_structured_output(
        {"structured_output": output},
        company_mapping,
        company_record["structured_output"]["schemas"]["output"],
        NOW,
    )
    assert row["_status"] == "SUCCESS" and row["_error"] is None
    assert row["registered_office"] == '{"line":"1 High St","town":"Ely"}'
    assert row["sic_codes"] == '["62020"]'


def test_missing_required_and_wrong_types_fail(broadband_mapping, broadband_record):
    schema = broadband_record["structured_output"]["schemas"]["output"]
    row = extract_structured_output(
        {"structured_output": {"success": "yes", "install_type": "Gold", "soadsl_dsl_speed": True}},
        broadband_mapping,
        schema,
        NOW,
    )
    assert row["_status"] == "FAILED"
    assert row["_error"].split("; ") == [
        "success: expected boolean, got string 'yes'",
        "fttp_avail: required field is missing",
        "dropped install_type: 'Gold' is not one of ['Standard', 'Premium', 'N/A']",
        "dropped soadsl_dsl_speed: expected number, got boolean True",
    ]


def test_matches_schema_false_is_a_failed_row_with_the_values(broadband_mapping):
    row = extract_structured_output(browser_result(GOOD, matches=False), broadband_mapping, None, NOW)
    assert row["_status"] == "FAILED"
    assert (
        row["_error"]
        == "act_with_schema step 2 reported matches_schema=false at $.step_results[2].parsed_response"
    )
    assert row["alk"] == "A00022059784"


def test_last_schema_step_without_object_is_failed(broadband_mapping):
    response = browser_result(None)
    response["step_results"][2]["error"] = "timeout"
    row = extract_structured_output(response, broadband_mapping, None, NOW)
    assert row["_status"] == "FAILED"
    assert "act_with_schema step 2 produced no object: timeout" in row["_error"]


@pytest.mark.parametrize(
    "response",
    [
        None,
        "",
        "not json",
        [],
        {"Output": "{broken"},
        {"messages": [{"role": "assistant", "content": "hi"}]},
        {"structured_output": None},
        {"step_results": [{"action": "act"}]},
        {"messages": "nope"},
    ],
)
def test_missing_output_is_a_failed_row_never_an_exception(response, broadband_mapping):
    row = extract_structured_output(response, broadband_mapping, None, NOW)
    assert row["_status"] == "FAILED"
    assert row["_error"].startswith(
        "no structured output in the agent response; looked for structured_output"
    )
    assert all(row[name] is None for name in broadband_mapping["structured_output_fields"])


def test_error_says_where_it_looked(broadband_mapping):
    row = extract_structured_output({"Output": {"other": 1}}, broadband_mapping, None, NOW)
    assert (
        "under $, $.Output, and for the answer itself as the output object (holding any of success, alk"
        in (row["_error"])
    )


def test_a_plain_object_holding_output_fields_is_the_structured_output(broadband_mapping, broadband_record):
    """What a local agent naturally returns: the output object itself, no wrapper."""
    schema = broadband_record["structured_output"]["schemas"]["output"]
    row = extract_structured_output(dict(GOOD), broadband_mapping, schema, NOW)
    assert (row["_status"], row["_error"], row["alk"]) == ("SUCCESS", None, "A00022059784")
    as_text = extract_structured_output(json.dumps(GOOD), broadband_mapping, schema, NOW)
    assert as_text == row


def test_a_plain_object_missing_a_required_field_fails_naming_it(broadband_mapping, broadband_record):
    schema = broadband_record["structured_output"]["schemas"]["output"]
    answer = {key: value for key, value in GOOD.items() if key != "fttp_avail"}
    row = extract_structured_output(answer, broadband_mapping, schema, NOW)
    assert (row["_status"], row["_error"]) == ("FAILED", "fttp_avail: required field is missing")


def test_an_invalid_optional_value_is_dropped_and_the_row_is_partial(broadband_mapping, broadband_record):
    schema = broadband_record["structured_output"]["schemas"]["output"]
    row = extract_structured_output({**GOOD, "install_type": "Gold"}, broadband_mapping, schema, NOW)
    assert row["_status"] == "PARTIAL" and row["install_type"] is None
    assert row["_error"] == (
        "dropped invalid optional value(s): install_type: 'Gold' is not one of ['Standard', 'Premium', 'N/A']"
    )


def test_other_tools_are_not_taken_for_output():
    response = {
        "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "name": "search", "input": {"q": 1}}]}
        ]
    }
    assert not locate_structured_output(response).found


def test_deep_nesting_is_bounded():
    response: dict = {"structured_output": GOOD}
    for _ in range(20):
        response = {"Output": response}
    assert not locate_structured_output(response).found


def test_cell_values_and_timestamp():
    row = build_row({"a": {"é": [1, 2]}, "b": 3.5}, ["a", "b", "c"], [], None, [], NOW)
    assert row["a"] == '{"é":[1,2]}' and row["b"] == 3.5 and row["c"] is None
    assert utc_timestamp(NOW) == "2026-01-02T03:04:05.678Z"
