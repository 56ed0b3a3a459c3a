"""The pure rules: version order, env names, identity, size, status moves."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from factory.errors import FactoryError
from factory.registry.records import (
    MAX_ITEM_BYTES,
    Key,
    check_env_name,
    check_status_move,
    content_sha256,
    item_size,
    to_decimal,
    to_plain,
    version_key,
)


def test_version_key_sorts_semantically() -> None:
    versions = ["1.10.0", "1.9.0", "0.1.0", "10.0.0", "1.9.10", "1.9.2"]
    assert sorted(versions, key=version_key) == ["0.1.0", "1.9.0", "1.9.2", "1.9.10", "1.10.0", "10.0.0"]
    assert sorted(version_key(v) for v in versions) == [version_key(v) for v in sorted(versions, key=version_key)]


@pytest.mark.parametrize("bad", ["1.0", "v1.0.0", "01.0.0", "1.0.0-rc1", ""])
def test_version_key_refuses_non_semver(bad: str) -> None:
    with pytest.raises(FactoryError, match="MAJOR.MINOR.PATCH"):
        version_key(bad)


@pytest.mark.parametrize("good", ["dev", "prod", "pr-42", "local", "a"])
def test_env_names_accepted(good: str) -> None:
    assert check_env_name(good) == good


@pytest.mark.parametrize("bad", ["Dev", "dev_1", "dev/1", "1dev", "", "dev 1", "d" * 33, "prod;drop"])
def test_env_names_refused(bad: str) -> None:
    with pytest.raises(FactoryError, match="lower-case letters, digits and '-'"):
        check_env_name(bad)


def test_content_identity_ignores_key_order_and_number_type() -> None:
    assert content_sha256({"a": 1, "b": [0.5]}) == content_sha256({"b": [Decimal("0.5")], "a": Decimal(1)})
    assert content_sha256({"a": 1}) != content_sha256({"a": 2})


def test_floats_become_decimals_and_back() -> None:
    data = {"x": 0.1, "y": [1, 2.5], "z": {"w": True}}
    converted = to_decimal(data)
    assert converted == {"x": Decimal("0.1"), "y": [1, Decimal("2.5")], "z": {"w": True}}
    assert to_plain(converted) == data


def test_item_size_counts_names_and_values() -> None:
    assert item_size({"ab": "xyz"}) == 5
    assert item_size({"big": "x" * MAX_ITEM_BYTES}) > MAX_ITEM_BYTES
    assert item_size({"n": 123, "b": True, "m": {"k": "v"}, "l": ["a"]}) < 40


def test_status_moves() -> None:
    key = Key("template", "t", "1.0.0")
    assert check_status_move(key, "active", "deprecated")
    assert check_status_move(key, "deprecated", "archived")
    assert check_status_move(key, "active", "archived")
    assert not check_status_move(key, "archived", "archived")
    for current, target in (("archived", "active"), ("deprecated", "active"), ("archived", "deprecated")):
        with pytest.raises(FactoryError, match="only moves"):
            check_status_move(key, current, target)
    with pytest.raises(FactoryError, match="unknown status"):
        check_status_move(key, "active", "deleted")


def test_state_machine_arn_and_partition() -> None:
    import boto3

    from factory.registry.arns import partition_for, state_machine_arn

    assert state_machine_arn("x-agent", "dev", "123456789012", "eu-west-2") == (
        "arn:aws:states:eu-west-2:123456789012:stateMachine:x-agent-dev")
    session = boto3.Session(region_name="us-east-1")
    assert partition_for(session, "cn-north-1") == "aws-cn"
    assert partition_for(session, "eu-west-2") == "aws"


def test_tool_items_follow_the_newest_registered_version() -> None:
    """ToolRegistry is keyed by tool_name alone: one item per tool, the newest version's spec."""
    from factory.registry.records import StoredTool, classify_tool, tool_item

    spec = {"tool_name": "t", "description": "d", "input_schema": {"type": "object"}}
    item = tool_item(spec, "1.2.0", "2026-01-01T00:00:00.000Z", {})
    other = tool_item(dict(spec, description="other"), "1.2.0", "2026-01-01T00:00:00.000Z", {})
    assert isinstance(item["input_schema"], str) and json.loads(item["input_schema"]) == {"type": "object"}
    assert classify_tool(item, None) == "new"
    ours = "schema-factory"
    assert classify_tool(item, StoredTool(item["content_sha256"], item["version_key"], ours)) == "unchanged"
    assert classify_tool(item, StoredTool(other["content_sha256"], version_key("1.1.9"), ours)) == "updated"
    assert classify_tool(item, StoredTool(other["content_sha256"], version_key("1.10.0"), ours)) == "kept"
    assert classify_tool(item, StoredTool(other["content_sha256"], version_key("1.2.0"), ours)) == "conflict"
    assert classify_tool(item, StoredTool(None, None, ours)) == "conflict"  # marked ours, but not our item


@pytest.mark.parametrize("author, owner", [
    ("batch-orchestrator", "batch-orchestrator"),  # batch_orchestrator_agent_stack.py ~405-590 at ffef93d
    ("system", "system"),                          # base_tool_construct.py ~123: the default author
    (None, "a writer that left no author"),
])
def test_a_tool_item_another_writer_owns_is_theirs_whatever_it_holds(author: str | None, owner: str) -> None:
    from factory.registry.records import StoredTool, classify_tool, tool_item

    spec = {"tool_name": "t", "description": "d", "input_schema": {"type": "object"}}
    item = tool_item(spec, "1.2.0", "2026-01-01T00:00:00.000Z", {})
    for stored in (StoredTool(None, None, author), StoredTool(item["content_sha256"], item["version_key"], author)):
        assert stored.owner == owner
        assert classify_tool(item, stored) == "owned"
