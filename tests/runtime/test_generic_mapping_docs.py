"""docs/generic-mapping.md stays true: its configurations load, its schema file validates, its examples map as told."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import yaml

from factory.output_schemas import parse_output_schema
from factory.runtime.output_mapping.generic import map_response
from factory.runtime.mapping_choice import Target, TargetError, choose_output_mapping, parse_target
from factory.runtime.output_mapping.expressions import OutputMappingConfigError
from factory.runtime.output_mapping.config import load_output_mapping_set
from tests.conftest import REPO
from tests.runtime.transcripts import DESIGN_CONFIG_YAML, DESIGN_REGISTRY_YAML

DOC = (REPO / "docs" / "generic-mapping.md").read_text("utf-8")
NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.S)


def test_every_yaml_block_is_valid():
    checked = 0
    for text in blocks("yaml"):
        data = yaml.safe_load(text)
        if "target" in data:
            parse_target(data["target"])
        if "output_mappings" in data:
            load_output_mapping_set(data["output_mappings"])
            checked += 1
        if "agent" in data:
            assert parse_output_schema(text.encode(), "doc", data["agent"]).problems == []
            checked += 1
    assert checked == 5


def test_the_design_examples_are_shown_verbatim():
    yaml_blocks = blocks("yaml")
    assert DESIGN_CONFIG_YAML in yaml_blocks
    assert DESIGN_REGISTRY_YAML.split("\n", 1)[1] in yaml_blocks  # without its file-name comment


def test_the_agent_example_gives_the_row_it_states():
    config = next(yaml.safe_load(b) for b in blocks("yaml") if "broadband-agent-rust}" in b)
    response = json.loads(blocks("json")[0])
    row = map_response(response, config, config["target"], None, now=NOW)
    assert "`exchange=WHITEHALL, download_mbps=330.0, _status=SUCCESS`" in DOC
    assert (row["exchange"], row["download_mbps"], row["_status"]) == ("WHITEHALL", 330.0, "SUCCESS")
    response["messages"][2]["content"][0]["is_error"] = True
    response["messages"][2]["content"][0]["content"] = "Timeout"
    response["messages"].insert(3, {"role": "assistant", "content": [{"type": "tool_use", "id": "p", "name": "print_output",
                                                                     "input": {"exchange": "WHITEHALL",
                                                                               "speeds": {"download_max": 330}}}]})
    again = map_response(response, config, config["target"], None, now=NOW)
    assert (again["exchange"], again["download_mbps"], again["_status"]) == ("WHITEHALL", 330, "SUCCESS")


def test_the_tool_example_gives_the_row_it_states():
    config = next(yaml.safe_load(b) for b in blocks("yaml") if "classify-ticket" in b)
    payload = {"category": "billing", "confidence_score": "0.93", "labels": ["invoice", "refund"]}
    response = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}
    row = map_response(response, config, config["target"], None, now=NOW)
    assert (row["category"], row["confidence"], row["label_count"], row["_status"]) == ("billing", 0.93, 2, "SUCCESS")
    timed_out = map_response({"StatusCode": 200, "Payload": {"errorMessage": "Task timed out"}}, config,
                             config["target"], None, now=NOW)
    assert timed_out["_status"] == "FAILED" and timed_out["_error"].startswith("no extraction method found a value")


def test_the_error_examples_are_real_messages():
    design = yaml.safe_load(DESIGN_CONFIG_YAML)
    messages = []
    broken = json.loads(json.dumps(design))
    broken["output_mappings"]["broadband-agent-rust"]["extraction_methods"][0]["field_mappings"]["exchange"] = (
        "$.content | parse('(')"
    )
    broken["output_mappings"]["web-search-agent"]["extraction_methods"][0]["method"] = "xpath"
    for config, target in [(broken, None), (design, Target("agent", "classification-tool"))]:
        try:
            choose_output_mapping(config, target)
        except OutputMappingConfigError as err:
            messages.append(str(err))
    broken["output_mappings"]["broadband-agent-rust"] = design["output_mappings"]["broadband-agent-rust"]
    try:
        load_output_mapping_set(broken["output_mappings"])
    except OutputMappingConfigError as err:
        messages.append(str(err))
    try:
        parse_target({"type": "agent", "name": "a", "arn": "arn:aws:lambda:eu-west-2:123456789012:function:a"})
    except TargetError as err:
        messages.append(str(err))
    assert len(messages) == 4
    shown = re.search(r"place, for example:\n\n```\n(.*?)```", DOC, re.S).group(1).splitlines()
    assert sorted(shown) == sorted(messages)
