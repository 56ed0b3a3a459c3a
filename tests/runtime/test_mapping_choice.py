"""A batch's target, and the order in which a row's output mapping is chosen."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from factory.runtime.output_mapping.generic import map_response
from factory.runtime.mapping_choice import Target, TargetError, choose_output_mapping, parse_target
from factory.runtime.output_mapping.expressions import OutputMappingConfigError
from tests.runtime.transcripts import (
    DESIGN_CONFIG_YAML,
    DESIGN_REGISTRY_YAML,
    broadband_transcript,
    execution_envelope,
)

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)
DESIGN = yaml.safe_load(DESIGN_CONFIG_YAML)
REGISTERED = yaml.safe_load(DESIGN_REGISTRY_YAML)
BROADBAND = Target("agent", "broadband-agent-rust")
OURS = Target("agent", "broadband-availability-bt-wholesale-agent")
STRUCTURED_MAPPING = {"structured_output_fields": ["fttp_avail"], "required_output_fields": ["fttp_avail"]}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"type": "agent", "name": "broadband-agent-rust"}, Target("agent", "broadband-agent-rust")),
        (
            {"type": "agent", "name": "a", "arn": "arn:aws:states:eu-west-2:123456789012:stateMachine:a-dev"},
            Target("agent", "a", "arn:aws:states:eu-west-2:123456789012:stateMachine:a-dev"),
        ),
        (
            {"type": "tool", "name": "classify", "arn": "arn:aws:lambda:us-east-1:123456789012:function:classify:live"},
            Target("tool", "classify", "arn:aws:lambda:us-east-1:123456789012:function:classify:live"),
        ),
        (
            {"type": "tool", "name": "c", "arn": "arn:aws-cn:lambda:cn-north-1:123456789012:function:c"},
            Target("tool", "c", "arn:aws-cn:lambda:cn-north-1:123456789012:function:c"),
        ),
    ],
)
def test_valid_targets(data, expected):
    assert parse_target(data) == expected
    assert parse_target(expected.as_dict()) == expected


@pytest.mark.parametrize(
    ("data", "path", "detail"),
    [
        ("agent", "$.target", "the target must be a mapping"),
        ({"type": "workflow", "name": "a"}, "$.target.type", "type 'workflow' is not known"),
        ({"type": "agent"}, "$.target.name", "name None is not an agent or function name"),
        ({"type": "agent", "name": "a b"}, "$.target.name", "name 'a b' is not"),
        ({"type": "agent", "name": "a", "url": "x"}, "$.target.url", "unknown key 'url'"),
        (
            {"type": "agent", "name": "a", "arn": "arn:aws:lambda:eu-west-2:123456789012:function:a"},
            "$.target.arn",
            "the arn is a Lambda function's (a tool) but type is agent",
        ),
        (
            {"type": "tool", "name": "a", "arn": "arn:aws:lambda:eu-west-2:12345:function:a"},
            "$.target.arn",
            "is not a Lambda function ARN",
        ),
        (
            {"type": "tool", "name": "a", "arn": "arn:aws:lambda:eu-west-2:123456789012:function:a;rm -rf"},
            "$.target.arn",
            "is not a Lambda function ARN",
        ),
    ],
)
def test_invalid_targets_name_the_key(data, path, detail):
    with pytest.raises(TargetError) as caught:
        parse_target(data)
    assert caught.value.path == path and detail in caught.value.detail and caught.value.hint


def test_config_mappings_come_first():
    choice = choose_output_mapping(DESIGN, BROADBAND, REGISTERED)
    assert choice.source == "config" and choice.generic
    assert choice.mappings.names == ["exchange", "cabinet"]
    assert choice.reason == "the config's output_mappings.broadband-agent-rust"


def test_field_keyed_mappings_apply_to_any_target():
    config = {"output_mappings": {"fttp": [{"method": "direct", "key": "fttp_avail"}]}}
    choice = choose_output_mapping(config, OURS, None)
    assert choice.source == "config" and choice.mappings.names == ["fttp"]
    assert choice.reason == "the config's output_mappings"


def test_the_registered_schema_when_the_config_has_no_entry_for_the_target():
    config = {"output_mappings": {"other-agent": DESIGN["output_mappings"]["web-search-agent"]}}
    choice = choose_output_mapping(config, BROADBAND, REGISTERED)
    assert choice.source == "registry" and choice.mappings.names == ["exchange", "download_speed"]
    assert choice.reason == (
        "output_mappings has no entry for 'broadband-agent-rust' (entries: other-agent); "
        "the registered output schema of 'broadband-agent-rust'"
    )


def test_structured_output_last():
    choice = choose_output_mapping({"structured_output_fields": ["fttp_avail"]}, OURS, None)
    assert (choice.source, choice.mappings, choice.generic) == ("structured_output", None, False)
    assert choice.reason == "the structured output"
    assert choose_output_mapping(None, None).source == "structured_output"
    assert choose_output_mapping({"output_mappings": {}}, OURS).source == "structured_output"


def test_a_mapping_for_a_tool_refuses_an_agent_target():
    with pytest.raises(OutputMappingConfigError, match="classification-tool.type: is tool, but the target 'classification-tool' is an agent"):
        choose_output_mapping(DESIGN, Target("agent", "classification-tool"))


def test_a_registered_schema_of_another_agent_is_refused():
    with pytest.raises(OutputMappingConfigError, match="describes 'broadband-agent-rust', not the target 'x'"):
        choose_output_mapping(None, Target("agent", "x"), REGISTERED)


def test_a_bad_config_is_refused_before_any_row():
    with pytest.raises(OutputMappingConfigError, match=r"output_mappings.a.extraction_methods\[0\]"):
        choose_output_mapping({"output_mappings": {"a": {"type": "agent", "extraction_methods": [{}]}}}, None)


def test_map_response_follows_the_choice():
    transcript = broadband_transcript()
    by_config = map_response(transcript, DESIGN, BROADBAND.as_dict(), REGISTERED, now=NOW)
    assert (by_config["exchange"], by_config["cabinet"], by_config["_status"]) == (
        "WHITEHALL", "Direct Exchange", "SUCCESS"
    )
    by_registry = map_response(transcript, {}, BROADBAND.as_dict(), REGISTERED, now=NOW)
    assert (by_registry["exchange"], by_registry["download_speed"]) == ("WHITEHALL", "50.0-330.0 Mbps")
    structured = map_response(execution_envelope({"structured_output": {"fttp_avail": True}}),
                              STRUCTURED_MAPPING, OURS.as_dict(), None, now=NOW)
    assert (structured["fttp_avail"], structured["_status"]) == (True, "SUCCESS")


def test_map_response_with_a_bad_target_is_a_failed_row():
    row = map_response({}, {}, {"type": "robot", "name": "x"}, None, now=NOW)
    assert row["_status"] == "FAILED" and "$.target.type: type 'robot' is not known" in row["_error"]


def test_several_targets_and_none_named_falls_through_saying_so():
    choice = choose_output_mapping(DESIGN, None)
    assert choice.source == "structured_output"
    assert choice.reason.startswith("output_mappings names several targets (broadband-agent-rust, ")
