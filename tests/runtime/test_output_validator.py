from __future__ import annotations

import json

import pytest

from factory.runtime.output_validator import OutputSchemaError, handler, validate_output

NAME = "broadband_availability_bt_wholesale"


@pytest.fixture(scope="module")
def schema_text(broadband_record) -> str:
    # The stack passes json.dumps(OUTPUT_SCHEMA): a JSON string, not an object.
    return json.dumps(broadband_record["structured_output"]["schemas"]["output"], ensure_ascii=False)


def browser(parsed, matches=True):
    return {
        "success": True,
        "step_results": [
            {"action": "act", "success": True},
            {
                "action": "act_with_schema",
                "success": True,
                "parsed_response": parsed,
                "matches_schema": matches,
            },
            {"action": "screenshot", "success": True},
        ],
    }


def test_valid_browser_result(schema_text):
    output = {"success": True, "fttp_avail": True, "install_type": "Standard"}
    event = {"extraction_name": NAME, "output_schema": schema_text, "agent_response": browser(output)}
    assert handler(event) == {"valid": True, "errors": [], "structured_output": output}


@pytest.mark.parametrize(
    ("response", "errors"),
    [
        (browser({"success": True}), ["fttp_avail: required field is missing"]),
        (browser({"success": True, "fttp_avail": "no"}), ["fttp_avail: expected boolean, got string 'no'"]),
        (
            browser({"success": True, "fttp_avail": True, "install_type": "x"}),
            ["install_type: 'x' is not one of ['Standard', 'Premium', 'N/A']"],
        ),
        (
            browser({"success": True, "fttp_avail": True}, matches=False),
            ["act_with_schema step 1 reported matches_schema=false at $.step_results[1].parsed_response"],
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "content": [
                            {
                                "type": "tool_use",
                                "name": f"print_{NAME}_output",
                                "input": {"success": 1, "fttp_avail": True},
                            }
                        ],
                    }
                ]
            },
            ["success: expected boolean, got integer 1"],
        ),
    ],
)
def test_invalid_outputs(schema_text, response, errors):
    result = validate_output(NAME, schema_text, response)
    assert result["valid"] is False
    assert result["errors"] == errors


def test_missing_output_is_invalid_and_keeps_the_agents_error(schema_text):
    result = validate_output(NAME, schema_text, {"success": False, "error": "profile locked"})
    assert result["valid"] is False and result["structured_output"] == {}
    assert result["errors"][0].startswith("no structured output in the agent response")
    assert result["errors"][1] == "agent reported: profile locked"


def test_pattern_is_checked():
    schema = json.dumps(
        {
            "type": "object",
            "properties": {"code": {"type": "string", "pattern": "^[A-Z]+$"}},
            "required": ["code"],
        }
    )
    assert validate_output("x", schema, {"structured_output": {"code": "ABC"}})["valid"] is True
    assert validate_output("x", schema, {"structured_output": {"code": "abc"}})["errors"] == [
        "code: 'abc' does not match pattern ^[A-Z]+$"
    ]


@pytest.mark.parametrize("schema", ["{not json", "[]", '{"properties": []}'])
def test_bad_schema_is_a_loud_error(schema):
    with pytest.raises(OutputSchemaError):
        validate_output("x", schema, {})
