"""A registered output schema maps an agent's output with no config: the design's example over transcripts."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import yaml

from factory.runtime.output_mapping.generic import extract_fields, map_output
from factory.runtime.output_mapping.expressions import OutputMappingConfigError
from factory.runtime.output_mapping.registered import compile_output_schema, mapping_config, output_schema
from tests.runtime.transcripts import (
    DESIGN_REGISTRY_YAML,
    assistant,
    broadband_transcript,
    lambda_envelope,
    tool_result,
    tool_use,
)

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)
DOCUMENT = yaml.safe_load(DESIGN_REGISTRY_YAML)


def test_converts_to_the_field_keyed_form():
    assert mapping_config(DOCUMENT) == {
        "exchange": {"required": False, "methods": [
            {"method": "tool_result", "tool_name": "browser_broadband", "pattern": "Exchange: ([A-Z\\s]+)"},
            {"method": "structured_output", "expression": "$.exchange"},
        ]},
        "download_speed": {"required": False, "methods": [
            {"method": "tool_result", "tool_name": "browser_broadband",
             "pattern": "Download Speed: ([\\d.-]+\\s*Mbps)"},
            {"method": "structured_output", "expression": "$.speeds.download"},
        ]},
    }
    assert output_schema(DOCUMENT) == {"type": "object", "properties": {
        "exchange": {"type": "string"}, "download_speed": {"type": "string"}}}


def test_the_design_example_over_an_llm_transcript():
    compiled = compile_output_schema(DOCUMENT)
    assert compiled.names == ["exchange", "download_speed"] and compiled.target_type == "agent"
    row = map_output(broadband_transcript(), compiled, now=NOW)
    assert (row["exchange"], row["download_speed"], row["_status"]) == ("WHITEHALL", "50.0-330.0 Mbps", "SUCCESS")


def test_falls_back_to_the_structured_output():
    response = {"messages": [
        tool_use("t1", "browser_broadband", {}),
        tool_result("t1", "Error: page timed out", is_error=True),
        tool_use("t2", "print_output", {"exchange": "SOHO", "speeds": {"download": "80 Mbps"}}),
        assistant("Done"),
    ]}
    assert extract_fields(response, compile_output_schema(DOCUMENT)) == {"exchange": "SOHO", "download_speed": "80 Mbps"}


def test_declared_types_convert_and_are_checked():
    document = {
        "agent": "speed-tool", "version": "1.0", "output_format": "json",
        "fields": [
            {"name": "mbps", "type": "number", "required": True,
             "extraction": [{"type": "structured", "path": "$.download"}]},
            {"name": "fttp", "type": "boolean", "extraction": [{"type": "structured", "path": "$.fttp"}]},
            {"name": "tags", "type": "array", "extraction": [{"type": "structured", "path": "$.tags"}]},
        ],
    }
    compiled = compile_output_schema(document)
    assert compiled.target_type == "tool" and compiled.required == ["mbps"]
    ok = map_output(lambda_envelope({"download": "1,000.5", "fttp": "Yes", "tags": ["a"]}), compiled, now=NOW)
    assert (ok["mbps"], ok["fttp"], ok["tags"], ok["_status"]) == (1000.5, True, '["a"]', "SUCCESS")
    wrong = map_output({"download": 5, "tags": "not a list"}, compiled, now=NOW)
    assert (wrong["_status"], wrong["tags"]) == ("PARTIAL", None)  # an optional value of the wrong type: dropped
    assert wrong["_error"].startswith("dropped invalid optional value(s): tags: expected array")
    missing = map_output({"fttp": False}, compiled, now=NOW)
    assert missing["_status"] == "FAILED" and missing["_error"] == "mbps: required field is missing"


def test_compiled_once_per_document():
    assert compile_output_schema(DOCUMENT) is compile_output_schema(json.loads(json.dumps(DOCUMENT)))


def test_an_invalid_document_is_refused_with_its_place():
    broken = json.loads(json.dumps(DOCUMENT))
    broken["fields"][1]["extraction"][0]["pattern"] = "("
    with pytest.raises(OutputMappingConfigError) as caught:
        compile_output_schema(broken)
    assert caught.value.where == "output_schema.fields[1].extraction[0].pattern"
