"""The checks that decide, before any row runs, whether a batch may start."""

from __future__ import annotations

from factory.runtime.agent_record_checks import check_agent_record, load_agent_record, newest_version


def test_validate_accepts_generated_record(broadband_record, broadband_mapping):
    assert check_agent_record(broadband_record, broadband_mapping) == []


def test_validate_accepts_camel_case_record(broadband_record, broadband_mapping):
    old = {key: value for key, value in broadband_record.items() if key != "structured_output"}
    old["structuredOutput"] = {**broadband_record["structured_output"], "enabled": "true"}
    assert check_agent_record(old, broadband_mapping) == []


def test_validate_refuses_disabled_missing_and_unmapped(broadband_record, broadband_mapping):
    disabled = {
        **broadband_record,
        "structured_output": {**broadband_record["structured_output"], "enabled": False},
    }
    assert check_agent_record(disabled, broadband_mapping) == [
        "agent 'broadband-availability-bt-wholesale-agent' does not have structured_output.enabled"
    ]
    assert check_agent_record(None, broadband_mapping, "ghost") == [
        "agent 'ghost' is not in AgentRegistry; register it first"
    ]
    partial = {"input_mapping": {"column_mappings": {"building_number": "building_number"}}}
    assert check_agent_record(broadband_record, partial) == [
        "required input field 'street' is not mapped from any column",
        "required input field 'postcode' is not mapped from any column",
    ]


def test_newest_version_is_semantic():
    assert newest_version(["1.9.0", "1.10.0", "1.2.3"]) == "1.10.0"
    assert newest_version([]) is None


class FakeTable:
    def __init__(self, items):
        self.items = items

    def get_item(self, Key, ConsistentRead):
        for item in self.items:
            if item["agent_name"] == Key["agent_name"] and item["version"] == Key["version"]:
                return {"Item": item}
        return {}

    def query(self, **kwargs):
        name = kwargs["ExpressionAttributeValues"][":name"]
        matching = [item for item in self.items if item["agent_name"] == name]
        if "ExclusiveStartKey" not in kwargs:
            return (
                {"Items": matching[:1], "LastEvaluatedKey": {"k": 1}}
                if len(matching) > 1
                else {"Items": matching}
            )
        return {"Items": matching[1:]}


def test_load_agent_record_picks_newest_active_across_pages():
    table = FakeTable(
        [
            {"agent_name": "a", "version": "1.2.0", "status": "active"},
            {"agent_name": "a", "version": "1.10.0", "status": "deprecated"},
            {"agent_name": "a", "version": "1.9.0", "status": "active"},
        ]
    )
    assert load_agent_record(table, "a")["version"] == "1.9.0"
    assert load_agent_record(table, "a", "1.10.0")["status"] == "deprecated"
    assert load_agent_record(table, "b") is None
