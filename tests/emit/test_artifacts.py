"""Tool specs, batch mapping and agent record agree with the schema they came from."""

from __future__ import annotations

import re

import pytest
import yaml
from jsonschema import Draft202012Validator

from factory import names
from factory.emit.agent_record import agent_record
from factory.emit.batch_mapping import batch_mapping, emit_batch_mapping
from factory.emit.tool_specs import tool_specs
from tests.conftest import BUNDLED
from tests.emit.test_browser_template import load_bundled

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.mark.parametrize("name", BUNDLED)
def test_tool_specs_are_valid_json_schema_in_both_dialects(name: str) -> None:
    schema = load_bundled(name).schema
    specs = tool_specs(schema)
    input_tool, output_tool = specs["anthropic"]
    assert [t["name"] for t in specs["anthropic"]] == [names.tool_name(schema), f"print_{name}_output"]
    for tool in specs["anthropic"]:
        assert TOOL_NAME.match(tool["name"])
        Draft202012Validator.check_schema(tool["input_schema"])
    assert output_tool["input_schema"] == schema.output_schema.to_json_schema()
    properties = input_tool["input_schema"]["properties"]
    assert list(properties)[:-1] == schema.input_schema.field_names()
    browser = properties["browser_config"]["properties"]
    assert browser["starting_url"]["default"] == schema.browser_config.starting_url
    assert browser["timeout"]["default"] == schema.browser_config.timeout
    for anthropic, bedrock in zip(specs["anthropic"], specs["bedrock"]):
        assert bedrock["toolSpec"] == {
            "name": anthropic["name"],
            "description": anthropic["description"],
            "inputSchema": {"json": anthropic["input_schema"]},
        }


@pytest.mark.parametrize("name", BUNDLED)
def test_input_tool_enforces_required_inputs(name: str) -> None:
    schema = load_bundled(name).schema
    validator = Draft202012Validator(tool_specs(schema)["anthropic"][0]["input_schema"])
    messages = " ".join(error.message for error in validator.iter_errors({}))
    for field in schema.input_schema.required:
        assert repr(field) in messages


def test_batch_mapping_uses_authored_columns_and_schema_order() -> None:
    schema = load_bundled("energy_tariff_quotes").schema
    mapping = batch_mapping(schema)
    assert mapping["input_mapping"]["column_mappings"] == {
        "Postcode": "postcode", "Annual kWh": "annual_kwh", "Fuel": "fuel_type", "payment_method": "payment_method",
    }
    assert mapping["input_mapping"]["required_fields"] == ["postcode", "annual_kwh"]
    assert mapping["structured_output_fields"] == ["quote_date", "tariff_count", "cheapest_supplier", "tariffs"]
    assert mapping["output_columns"][-4:] == ["_status", "_error", "_execution_time_ms", "_timestamp"]
    assert [m["method"] for m in mapping["extraction_methods"]] == ["structured_output", "tool_result"]
    (data,) = emit_batch_mapping(schema).values()
    assert yaml.safe_load(data) == mapping


@pytest.mark.parametrize("name", BUNDLED)
def test_agent_record_points_at_template_and_output(name: str) -> None:
    schema = load_bundled(name).schema
    record = agent_record(schema)
    assert record["structured_output"]["enabled"] is True
    assert record["structured_output"]["output_fields"] == schema.output_schema.field_names()
    assert record["structured_output"]["schemas"]["output"] == schema.output_schema.to_json_schema()
    assert record["template_config"] == record["metadata"]["template_config"] == {
        "enabled": True, "template_id": names.template_id(schema), "template_version": schema.version,
        "rendering_engine": "mustache",
    }
    assert record["tools"] == [names.tool_name(schema), names.print_output_tool_name(schema)]


def test_agent_section_overrides_name_and_model() -> None:
    record = agent_record(load_bundled("planning_applications_council").schema)
    assert record["agent_name"] == "planning-applications-agent"
    assert (record["llm_provider"], record["llm_model"]) == ("bedrock", "anthropic.claude-sonnet-4-5")
    default = agent_record(load_bundled("energy_tariff_quotes").schema)
    assert (default["llm_provider"], default["llm_model"]) == ("anthropic", "claude-3-5-sonnet-20241022")
    assert "print_energy_tariff_quotes_output" in default["system_prompt"]
