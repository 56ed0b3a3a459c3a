"""Lost races on both backends, in the fast run: SQLite on a file, DynamoDB through moto in-process.

Every registry write is conditional: `put_new` only where nothing is stored
(a transaction: all or none), `set_attribute` only where the attribute still
holds what the writer read. A writer that loses the race must be told so
(False), and the winner's value must stand. The two writers here are two
registry objects over the same store, interleaved by hand: both read, one
writes, then the other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

import pytest
from moto import mock_aws

from factory.registry.agent_output_schemas import plan_output_schemas, write_output_schemas
from factory.registry.dynamodb import DynamoRegistry, DynamoSettings
from factory.registry.protocol import Registry
from factory.registry.records import OUTPUT_SCHEMA_ATTRIBUTE, Key
from factory.registry.sqlite import SqliteRegistry

ENV = "race"
REGION = "us-east-1"
AGENT = "someone-elses-agent"
AT = "2026-01-01T00:00:00.000Z"


@pytest.fixture(params=["sqlite", "dynamodb"])
def writers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Registry]]:
    """A factory of independent registry clients over one fresh store of the backend under test."""
    if request.param == "sqlite":
        path = tmp_path / "registry.sqlite"
        SqliteRegistry(ENV, path).create_tables()
        yield lambda: SqliteRegistry(ENV, path)
        return
    with mock_aws():
        make = lambda: DynamoRegistry(DynamoSettings(env_name=ENV, region=REGION))  # noqa: E731
        make().create_tables()
        yield make


def _document(version: str, field: str) -> dict[str, object]:
    return {
        "agent": AGENT,
        "version": version,
        "output_format": "structured_output",
        "fields": [
            {"name": field, "type": "string", "extraction": [{"type": "structured", "path": f"$.{field}"}]}
        ],
    }


def _stored_schema(registry: Registry) -> dict[str, object]:
    record = registry.latest("agent", AGENT)
    assert record is not None
    return json.loads(record[OUTPUT_SCHEMA_ATTRIBUTE])


def test_set_attribute_refuses_a_writer_whose_read_is_stale(writers: Callable[[], Registry]) -> None:
    first, second = writers(), writers()
    key = Key("agent", AGENT, "1.0")
    assert first.put_new(
        [(key, {"agent_name": AGENT, "version": "1.0", "status": "active", OUTPUT_SCHEMA_ATTRIBUTE: "v0"})]
    )
    assert second.set_attribute(key, OUTPUT_SCHEMA_ATTRIBUTE, "second", expected="v0")
    assert not first.set_attribute(key, OUTPUT_SCHEMA_ATTRIBUTE, "first", expected="v0")
    assert not first.set_attribute(key, OUTPUT_SCHEMA_ATTRIBUTE, "first", expected=None)
    stored = first.get(key)
    assert stored is not None and stored[OUTPUT_SCHEMA_ATTRIBUTE] == "second"


def test_an_output_schema_update_that_loses_the_race_is_a_conflict(writers: Callable[[], Registry]) -> None:
    """Both writers read version 1.0, each updates to its own 2.0: the second to write is refused."""
    first, second = writers(), writers()
    assert write_output_schemas(first, plan_output_schemas(first, [("a.yaml", _document("1.0", "a"))], AT))[
        0
    ].written
    first_plan = plan_output_schemas(first, [("b.yaml", _document("2.0", "first"))], AT)
    second_plan = plan_output_schemas(second, [("c.yaml", _document("2.0", "second"))], AT)
    assert [plan.result.outcome for plan in first_plan + second_plan] == ["updated", "updated"]
    (won,) = write_output_schemas(second, second_plan)
    (lost,) = write_output_schemas(first, first_plan)
    assert (won.outcome, won.written) == ("updated", True)
    assert (lost.outcome, lost.written) == ("conflict", False)
    assert _stored_schema(first)["fields"] == _document("2.0", "second")["fields"]


def test_put_new_never_replaces_a_stored_item(writers: Callable[[], Registry]) -> None:
    first, second = writers(), writers()
    key, other = Key("agent", AGENT, "1.0"), Key("agent", AGENT, "1.1")
    assert second.put_new(
        [(key, {"agent_name": AGENT, "version": "1.0", "status": "active", "description": "won"})]
    )
    assert not first.put_new(
        [(key, {"agent_name": AGENT, "version": "1.0", "status": "active", "description": "lost"})]
    )
    # All or none: an item that would be new is not written beside one that is not.
    assert not first.put_new(
        [
            (other, {"agent_name": AGENT, "version": "1.1", "status": "active"}),
            (key, {"agent_name": AGENT, "version": "1.0", "status": "active"}),
        ]
    )
    stored = first.get(key)
    assert stored is not None and stored["description"] == "won"
    assert first.get(other) is None


def test_a_minimal_record_that_loses_the_race_is_a_conflict(writers: Callable[[], Registry]) -> None:
    """Both writers find no record and create one: the second create is refused, the first record stands."""
    first, second = writers(), writers()
    first_plan = plan_output_schemas(first, [("a.yaml", _document("1.0", "first"))], AT)
    second_plan = plan_output_schemas(second, [("b.yaml", _document("1.0", "second"))], AT)
    assert [plan.result.outcome for plan in first_plan + second_plan] == ["new", "new"]
    (won,) = write_output_schemas(second, second_plan)
    (lost,) = write_output_schemas(first, first_plan)
    assert (won.written, lost.outcome, lost.written) == (True, "conflict", False)
    assert _stored_schema(first)["fields"] == _document("1.0", "second")["fields"]
