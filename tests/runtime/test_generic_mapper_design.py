"""The design's target-keyed `output_mappings`, loaded verbatim, over realistic responses."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import yaml

from factory.runtime.child_results import row_mapper
from factory.runtime.output_mapping.generic import (
    extract_fields,
    load_output_mapping_set,
    load_output_mappings,
    map_output,
)
from factory.runtime.output_mapping.expressions import OutputMappingConfigError
from tests.runtime.transcripts import (
    BROADBAND_TEXT,
    DESIGN_CONFIG_YAML,
    WEB_RESULTS,
    assistant,
    broadband_transcript,
    execution_envelope,
    lambda_envelope,
    tool_result,
    tool_use,
    user,
)

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)
CONFIG = yaml.safe_load(DESIGN_CONFIG_YAML)


def mapping(target: str):
    return load_output_mappings(CONFIG, target)


def test_the_design_example_loads_with_its_fields_in_order():
    mapping_set = load_output_mapping_set(CONFIG["output_mappings"])
    assert mapping_set.target_names == ["broadband-agent-rust", "web-search-agent", "classification-tool"]
    broadband = mapping_set.for_target("broadband-agent-rust")
    assert broadband.names == ["exchange", "cabinet"] and broadband.target_type == "agent"
    assert [m.label for m in broadband.fields[0].methods] == [
        "tool_result browser_broadband", "structured_output print_output", "jmespath"
    ]
    assert mapping_set.for_target("web-search-agent").names == ["title", "url", "snippet"]
    tool = mapping_set.for_target("classification-tool")
    assert tool.names == ["category", "confidence"] and tool.target_type == "tool"
    assert mapping_set.for_target("someone-else") is None


def test_llm_agent_tool_result_matched_through_tool_use_id():
    """The browser_broadband result is found by its tool_use's id; the later get_weather result is not it."""
    row = map_output(broadband_transcript(), mapping("broadband-agent-rust"), now=NOW)
    assert row == {
        "exchange": "WHITEHALL",
        "cabinet": "Direct Exchange",
        "_status": "SUCCESS",
        "_error": None,
        "_timestamp": "2026-01-02T00:00:00.000Z",
    }


def test_content_blocks_and_text_give_the_same_values():
    as_text = extract_fields(broadband_transcript(BROADBAND_TEXT), mapping("broadband-agent-rust"))
    blocks = [{"type": "text", "text": "Lookup complete."}, {"type": "text", "text": BROADBAND_TEXT}]
    as_blocks = extract_fields(broadband_transcript(blocks), mapping("broadband-agent-rust"))
    assert as_text == as_blocks == {"exchange": "WHITEHALL", "cabinet": "Direct Exchange"}


def test_the_last_result_of_the_tool_wins():
    response = {
        "messages": [
            tool_use("t1", "browser_broadband", {"postcode": "CB1 1AA"}),
            tool_result("t1", "Exchange: CAMBRIDGE\nCabinet: 7"),
            tool_use("t2", "browser_broadband", {"postcode": "SW1A 2AA"}),
            tool_result("t2", "Exchange: WHITEHALL\nCabinet: 12"),
            assistant("Done."),
        ]
    }
    assert extract_fields(response, mapping("broadband-agent-rust")) == {"exchange": "WHITEHALL", "cabinet": "12"}


def test_an_error_result_after_a_good_one_does_not_hide_it():
    response = {
        "messages": [
            tool_use("t1", "browser_broadband", {}),
            tool_result("t1", "Exchange: ELY\nCabinet: 3"),
            tool_use("t2", "browser_broadband", {}),
            tool_result("t2", "Timeout after 30 s", is_error=True),
        ]
    }
    assert extract_fields(response, mapping("broadband-agent-rust")) == {"exchange": "ELY", "cabinet": "3"}


def test_falls_through_to_print_output_when_the_tool_says_nothing_usable():
    response = {
        "messages": [
            user("Check SW1A 2AA"),
            tool_use("t1", "browser_broadband", {"postcode": "SW1A 2AA"}),
            tool_result("t1", "The page did not load."),
            tool_use("t2", "print_output", {"exchange": "WHITEHALL", "cabinet": "Direct Exchange"}),
            tool_result("t2", "ok"),
        ]
    }
    assert extract_fields(response, mapping("broadband-agent-rust")) == {
        "exchange": "WHITEHALL",
        "cabinet": "Direct Exchange",
    }


def test_per_field_fall_through_mixes_methods():
    """The tool result gives the exchange only; the cabinet comes from print_output."""
    response = {
        "messages": [
            tool_use("t1", "browser_broadband", {}),
            tool_result("t1", "Exchange: SOHO"),
            tool_use("t2", "print_output", {"exchange": "IGNORED", "cabinet": "14"}),
        ]
    }
    assert extract_fields(response, mapping("broadband-agent-rust")) == {"exchange": "SOHO", "cabinet": "14"}


def test_jmespath_with_parse_text_reads_the_final_answer_inside_an_execution_envelope():
    """No tool ran: the last message's `Exchange:` line, through the Step Functions envelope."""
    transcript = {"messages": [user("Check SW1A 2AA"), assistant("The line is served by:\n**Exchange:** WHITEHALL\n")]}
    row = map_output(execution_envelope(transcript), mapping("broadband-agent-rust"), now=NOW)
    assert row["exchange"] == "WHITEHALL"
    assert row["_status"] == "SUCCESS" and row["_error"] is None  # the optional cabinet is no fault


def test_bedrock_converse_blocks():
    response = {
        "messages": [
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "b1", "name": "browser_broadband",
                                                           "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "b1", "status": "success",
                                                         "content": [{"text": "Exchange: BATH\nCabinet: 2"}]}}]},
        ]
    }
    assert extract_fields(response, mapping("broadband-agent-rust")) == {"exchange": "BATH", "cabinet": "2"}


def test_nothing_found_is_a_failed_row_saying_what_was_tried():
    row = map_output({"messages": [assistant("Sorry, I could not check that.")]},
                     mapping("broadband-agent-rust"), now=NOW)
    assert row["_status"] == "FAILED"
    assert row["_error"] == (
        "no extraction method found a value in the response "
        "(tried: tool_result browser_broadband, structured_output print_output, jmespath)"
    )


@pytest.mark.parametrize(
    "response",
    [
        WEB_RESULTS,  # the web-search tool's own output
        json.dumps(WEB_RESULTS),  # the same as JSON text
        lambda_envelope(WEB_RESULTS),  # through lambda:invoke
        {  # the agent's transcript: the tool's results as JSON text in its tool_result
            "messages": [
                tool_use("s1", "web_search", {"query": "schema factory"}),
                tool_result("s1", json.dumps(WEB_RESULTS)),
                assistant("Here is what I found."),
            ]
        },
    ],
)
def test_web_search_results(response):
    assert extract_fields(response, mapping("web-search-agent")) == {
        "title": "Step Functions agents",
        "url": "https://example.com/a",
        "snippet": "Agents on AWS",
    }


def test_web_search_with_no_results_fails_the_row():
    row = map_output({"query": "x", "results": []}, mapping("web-search-agent"), now=NOW)
    assert row["_status"] == "FAILED" and row["title"] is None


@pytest.mark.parametrize(
    "response",
    [
        {"category": "billing", "confidence_score": 0.93},
        lambda_envelope({"category": "billing", "confidence_score": 0.93}),
        lambda_envelope(json.dumps({"category": "billing", "confidence_score": 0.93})),
        {"statusCode": 200, "body": json.dumps({"category": "billing", "confidence_score": 0.93})},
    ],
)
def test_classification_tool_direct_output(response):
    row = map_output(response, mapping("classification-tool"), now=NOW)
    assert (row["category"], row["confidence"], row["_status"]) == ("billing", 0.93, "SUCCESS")


def test_a_tool_whose_own_output_has_an_output_key_is_not_unwrapped():
    config = {"t": {"type": "tool", "extraction_methods": [{"method": "direct", "field_mappings": {
        "text": "$.Output", "n": "$.n"}}]}}
    assert extract_fields({"Output": "kept", "n": 1}, load_output_mappings(config)) == {"text": "kept", "n": 1}


def test_paths_with_their_own_transforms():
    config = {
        "speed-agent": {
            "type": "agent",
            "extraction_methods": [
                {
                    "method": "jmespath",
                    "paths": {
                        "download": {"path": "result.text", "transform": {"parse_text": "Down: ([0-9.]+)"}},
                        "upload": {"path": "result.up", "transform": "to_number"},
                        "line": "result.line",
                    },
                }
            ],
        }
    }
    compiled = load_output_mappings(config, "speed-agent")
    response = {"result": {"text": "Down: 67.5 Mbps", "up": "1,024", "line": "FTTP"}}
    assert extract_fields(response, compiled) == {"download": "67.5", "upload": 1024, "line": "FTTP"}


def test_method_level_transform_and_parse_text_by_field_name():
    config = {
        "a": {
            "type": "agent",
            "extraction_methods": [
                {
                    "method": "jmespath",
                    "transform": "parse_text",
                    "field_mappings": {"download_speed": "answer", "exchange": "answer"},
                }
            ],
        }
    }
    response = {"answer": "- Exchange: ELY\n- Download Speed: 80 Mbps\n- Exchange: LATER"}
    assert extract_fields(response, load_output_mappings(config)) == {"download_speed": "80 Mbps", "exchange": "ELY"}


def test_the_design_pattern_does_not_run_into_the_next_line():
    """`[A-Z\\s]+` would swallow the newline and the next label's capital."""
    config = {"a": {"type": "agent", "extraction_methods": [{"method": "tool_result", "tool_name": "b",
                                                             "field_mappings": {"x": "$.content | parse('Exchange: ([A-Z\\s]+)')"}}]}}
    response = {"messages": [tool_use("1", "b", {}), tool_result("1", "Exchange: WHITE HALL\nCabinet: 3")]}
    assert extract_fields(response, load_output_mappings(config)) == {"x": "WHITE HALL"}


def test_required_fields_of_a_target():
    config = {"c": {"type": "tool", "required_fields": ["category"], "extraction_methods": [
        {"method": "direct", "field_mappings": {"category": "$.category", "confidence": "$.confidence_score"}}]}}
    row = map_output({"confidence_score": 0.5}, load_output_mappings(config), now=NOW)
    assert row["_status"] == "FAILED" and row["_error"] == "category: required field is missing"


def test_structured_output_without_tool_name_finds_our_agents_output():
    config = {"ours": {"type": "agent", "extraction_methods": [
        {"method": "structured_output", "field_mappings": {"fttp": "$.fttp_avail"}}]}}
    response = execution_envelope({"structured_output": {"fttp_avail": True}})
    assert extract_fields(response, load_output_mappings(config)) == {"fttp": True}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"a": {"type": "robot", "extraction_methods": []}}, "output_mappings.a.type: must be one of agent, tool"),
        ({"a": {"type": "agent"}}, "output_mappings.a.extraction_methods: needs a non-empty list of methods"),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "xpath"}]}},
            "output_mappings.a.extraction_methods[0]: unknown method 'xpath'",
        ),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "tool_result", "field_mappings": {"x": "$"}}]}},
            "output_mappings.a.extraction_methods[0]: tool_result needs a 'tool_name'",
        ),
        (
            {"web agent": {"type": "agent", "extraction_methods": [
                {"method": "direct", "field_mappings": {"x": "$.a"}},
                {"method": "tool_result", "tool_name": "t", "field_mappings": {"exchange": "$.content | parse('(')"}},
            ]}},
            'output_mappings["web agent"].extraction_methods[1].field_mappings.exchange: regex \'(\' does not compile',
        ),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "jmespath", "paths": {
                "exchange": "messages[-1", "transform": "parse_text"}}]}},
            "output_mappings.a.extraction_methods[0].paths.exchange: JMESPath 'messages[-1' does not compile",
        ),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "jmespath", "paths": {
                "exchange": "x", "transform": "shout"}}]}},
            "output_mappings.a.extraction_methods[0].paths.transform: unknown transform 'shout'",
        ),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "direct"}]}},
            "output_mappings.a.extraction_methods[0]: direct needs 'field_mappings'",
        ),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "direct", "field_mapping": {}}]}},
            "output_mappings.a.extraction_methods[0]: unknown key 'field_mapping'",
        ),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "direct", "tool_name": "t",
                                                            "field_mappings": {"x": "$"}}]}},
            "'tool_name' does not apply",
        ),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "direct", "field_mappings": {"_status": "$"}}]}},
            "output_mappings.a.extraction_methods[0].field_mappings._status: field name '_status' is not usable",
        ),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "direct", "field_mappings": {
                "x": "$.a | shout()"}}]}},
            "field_mappings.x: unknown function 'shout'",
        ),
        (
            {"a": {"type": "agent", "required_fields": ["y"], "extraction_methods": [
                {"method": "direct", "field_mappings": {"x": "$"}}]}},
            "output_mappings.a.required_fields[0]: 'y' is not a field of any method",
        ),
        (
            {"a": {"type": "agent", "extraction_methods": [{"method": "direct", "field_mappings": {"x": "$"}}]},
             "b": [{"method": "direct"}]},
            "output_mappings.b: mixes the two forms",
        ),
    ],
)
def test_load_errors_name_the_place(section, message):
    with pytest.raises(OutputMappingConfigError) as caught:
        load_output_mapping_set(section)
    assert message in str(caught.value)


def test_error_carries_where_and_detail():
    with pytest.raises(OutputMappingConfigError) as caught:
        load_output_mapping_set({"a": {"type": "agent", "extraction_methods": [{"method": "nope"}]}})
    assert caught.value.where == "output_mappings.a.extraction_methods[0]"
    assert caught.value.detail.startswith("unknown method 'nope'")


def test_choosing_a_target_from_a_section_with_several():
    with pytest.raises(OutputMappingConfigError, match="several targets and no target named"):
        load_output_mappings(CONFIG)
    with pytest.raises(OutputMappingConfigError, match="no entry for 'x'; entries: broadband-agent-rust"):
        load_output_mappings(CONFIG, "x")


def test_cached_by_content_and_in_written_order():
    first = load_output_mappings(CONFIG, "web-search-agent")
    assert first is load_output_mappings(yaml.safe_load(DESIGN_CONFIG_YAML), "web-search-agent")
    assert first.names == ["title", "url", "snippet"]
    reordered = yaml.safe_load(DESIGN_CONFIG_YAML)
    methods = reordered["output_mappings"]["web-search-agent"]["extraction_methods"]
    methods[0]["field_mappings"] = dict(reversed(list(methods[0]["field_mappings"].items())))
    assert load_output_mappings(reordered, "web-search-agent").names == ["snippet", "url", "title"]


def test_the_batch_machines_row_mapper_maps_by_target():
    row = row_mapper({
        "output_mappings": CONFIG["output_mappings"],
        "target": {"type": "tool", "name": "classification-tool"},
    })(lambda_envelope({"category": "spam", "confidence_score": "0.2"}))
    assert (row["category"], row["confidence"], row["_status"]) == ("spam", "0.2", "SUCCESS")


def test_the_row_mapper_turns_a_bad_config_into_a_failed_row():
    row = row_mapper({"output_mappings": {"a": {"type": "agent", "extraction_methods": [
        {"method": "nope"}]}}, "target": {"type": "agent", "name": "a"}})({})
    assert row["_status"] == "FAILED"
    assert row["_error"].startswith("output mapping: output_mappings.a.extraction_methods[0]: unknown method")


HOSTILE = [
    None,
    "",
    "not json {",
    [],
    42,
    {"messages": "not a list"},
    {"messages": [None, 7, {"content": None}, {"content": [None, "x", {"type": "tool_result"}]}]},
    {"messages": [{"content": [{"type": "tool_use", "id": ["unhashable"], "name": "browser_broadband"}]}]},
    {"messages": [{"content": [{"type": "tool_result", "tool_use_id": {"a": 1}, "content": {"x": 1}}]}]},
    {"results": "not a list", "category": {"nested": True}, "confidence_score": float("nan")},
    {"Payload": "{\"category\": ", "StatusCode": 200},
    {"statusCode": 500, "body": None},
]


@pytest.mark.parametrize("response", HOSTILE)
@pytest.mark.parametrize("target", ["broadband-agent-rust", "web-search-agent", "classification-tool"])
def test_hostile_responses_give_rows_never_exceptions(response, target):
    row = map_output(response, mapping(target), now=NOW)
    assert row["_status"] in ("SUCCESS", "PARTIAL", "FAILED") and set(row) >= {"_status", "_error", "_timestamp"}


def test_a_jmespath_function_on_missing_data_is_an_empty_value():
    config = {"t": {"type": "tool", "extraction_methods": [{"method": "direct", "field_mappings": {
        "label_count": "length(labels)", "category": "$.category"}}]}}
    compiled = load_output_mappings(config)
    assert extract_fields({"category": "billing"}, compiled) == {"category": "billing"}
    assert extract_fields({"labels": ["a", "b"]}, compiled) == {"label_count": 2}


def test_deeply_nested_response_is_a_failed_row():
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["Output"] = {}
        node = node["Output"]
    row = map_output({"messages": [], "structured_output": None, "x": deep}, mapping("broadband-agent-rust"), now=NOW)
    assert row["_status"] == "FAILED"
