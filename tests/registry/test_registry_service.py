"""Every registry rule, run against moto's DynamoDB server and the SQLite file."""

from __future__ import annotations

import json

import re
import threading
from typing import Callable

import pytest

from factory.errors import FactoryError
from factory.registry.protocol import Registry
from factory.registry.records import Key, MAX_ITEM_BYTES, decoded_form, to_plain
from factory.registry.records import RecordPair
from factory.registry.service import list_templates, move_status, register, show_template
from tests.registry.helpers import pairs_of, variant

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_new_then_unchanged(registry: Registry, bundled_records: list[RecordPair]) -> None:
    first = register(registry, pairs_of(*bundled_records))
    assert [r.outcome for r in first] == ["new"] * len(bundled_records)
    again = register(registry, pairs_of(*bundled_records, at="2027-01-01T00:00:00.000Z"))
    assert [r.outcome for r in again] == ["unchanged"] * len(bundled_records)
    item = registry.get(Key("template", first[0].template_id, first[0].version))
    assert item is not None and item["created_at"] == "2026-01-01T00:00:00.000Z"  # not rewritten


def test_items_hold_the_generated_record_plus_registration_fields(
        registry: Registry, bundled_records: list[RecordPair]) -> None:
    record = bundled_records[0]
    register(registry, build := pairs_of(record, at="2026-02-03T04:05:06.789Z"))
    template = to_plain(registry.get(build[0].template_key))
    agent = to_plain(registry.get(build[0].agent_key))
    added = {"created_at", "updated_at", "version_key", "content_sha256"}
    decoded_template = decoded_form("template", template)
    assert decoded_template.pop("metadata") == {"author": "schema-factory", **record.template["metadata"],
                                                "agent_name": record.agent["agent_name"]}
    assert {k: v for k, v in decoded_template.items() if k not in added} == {
        k: v for k, v in record.template.items() if k != "metadata"}
    assert {k: v for k, v in decoded_form("agent", agent).items() if k not in added} == record.agent
    assert ISO_UTC.match(template["created_at"]) and template["updated_at"] == template["created_at"]
    # Stored as the existing system stores them: JSON text, variables keyed by name.
    assert all(isinstance(template[name], str) for name in ("template", "variables", "metadata"))
    assert list(json.loads(template["variables"])) == [v["name"] for v in record.template["variables"]]
    assert all(isinstance(agent[name], str) for name in ("tools", "metadata", "structured_output", "template_config"))


def test_floats_survive_the_round_trip(registry: Registry, bundled_records: list[RecordPair]) -> None:
    record = variant(bundled_records[0], template_id="with_floats")
    record.template["metadata"]["ratio"] = 0.1
    record.agent["structured_output"]["schemas"]["output"]["properties"]["score"] = {"type": "number",
                                                                                      "minimum": 2.5}
    pair = pairs_of(record)[0]
    assert [r.outcome for r in register(registry, [pair])] == ["new"]
    assert decoded_form("template", registry.get(pair.template_key))["metadata"]["ratio"] == 0.1
    stored_agent = decoded_form("agent", registry.get(pair.agent_key))
    assert stored_agent["structured_output"]["schemas"]["output"]["properties"]["score"]["minimum"] == 2.5
    assert register(registry, [pair])[0].outcome == "unchanged"


def test_different_content_under_a_registered_version_is_refused(
        registry: Registry, bundled_records: list[RecordPair]) -> None:
    original = bundled_records[0]
    register(registry, pairs_of(original))
    changed = variant(original, description="something else")
    other = variant(original, template_id="another_template")
    results = register(registry, pairs_of(changed, other))
    assert [r.outcome for r in results] == ["conflict", "new"]
    # nothing of a refused run is written, not even the schema that was new
    assert registry.get(pairs_of(other)[0].template_key) is None
    stored = registry.get(pairs_of(original)[0].template_key)
    assert stored is not None and stored["description"] == original.template["description"]


def test_dry_run_writes_nothing(registry: Registry, bundled_records: list[RecordPair]) -> None:
    results = register(registry, pairs_of(*bundled_records), dry_run=True)
    assert {r.outcome for r in results} == {"new"}
    assert registry.fetch([key for pair in pairs_of(*bundled_records) for key, _ in pair.items()]) == {}
    assert list_templates(registry) == []


def test_a_missing_half_is_completed(registry: Registry, bundled_records: list[RecordPair]) -> None:
    pair = pairs_of(bundled_records[0])[0]
    assert registry.put_new([(pair.template_key, pair.template)])
    result = register(registry, [pair])[0]
    assert (result.outcome, result.template, result.agent) == ("new", "unchanged", "new")
    assert registry.get(pair.agent_key) is not None


def test_put_new_is_all_or_nothing(registry: Registry, bundled_records: list[RecordPair]) -> None:
    pair = pairs_of(bundled_records[0])[0]
    assert registry.put_new([(pair.agent_key, pair.agent)])
    assert not registry.put_new(list(pair.items()))
    assert registry.get(pair.template_key) is None


def test_latest_is_by_semantic_version(registry: Registry, bundled_records: list[RecordPair]) -> None:
    base = variant(bundled_records[0], template_id="semver_order")
    for version in ("1.9.0", "1.10.0", "1.2.0", "0.99.99"):
        register(registry, pairs_of(variant(base, version=version)))
    assert show_template(registry, "semver_order")["version"] == "1.10.0"
    assert show_template(registry, "semver_order", "1.2.0")["version"] == "1.2.0"
    (summary,) = list_templates(registry)
    assert (summary.version, summary.versions) == ("1.10.0", 4)


def test_show_unknown_template(registry: Registry) -> None:
    with pytest.raises(FactoryError, match="template nope is not in"):
        show_template(registry, "nope")
    with pytest.raises(FactoryError, match="version 1.0.0 is not in"):
        show_template(registry, "nope", "1.0.0")
    with pytest.raises(FactoryError, match="MAJOR.MINOR.PATCH"):
        show_template(registry, "nope", "v1")


def test_list_pages_through_more_than_one_page(make_registry: Callable[..., Registry],
                                               bundled_records: list[RecordPair]) -> None:
    registry = make_registry(page_size=2)
    records = [variant(bundled_records[0], template_id=f"paged_{n:02d}") for n in range(7)]
    register(registry, pairs_of(*records))
    for n in range(3):
        register(registry, pairs_of(variant(records[0], version=f"2.{n}.0")))
    summaries = list_templates(registry)
    assert [s.template_id for s in summaries] == [f"paged_{n:02d}" for n in range(7)]
    assert summaries[0].versions == 4 and summaries[0].version == "2.2.0"


def test_list_filters_by_status_and_tag(registry: Registry, bundled_records: list[RecordPair]) -> None:
    register(registry, pairs_of(*bundled_records))
    first = bundled_records[0].template
    move_status(registry, first["template_id"], first["version"], "deprecated")
    assert [s.template_id for s in list_templates(registry, status="deprecated")] == [first["template_id"]]
    assert first["template_id"] not in [s.template_id for s in list_templates(registry, status="active")]
    tag = first["metadata"]["tags"][0]
    tagged = list_templates(registry, tag=tag)
    assert first["template_id"] in [s.template_id for s in tagged]
    assert all(tag in s.tags for s in tagged)
    assert list_templates(registry, tag="no-such-tag") == []
    with pytest.raises(FactoryError, match="unknown status"):
        list_templates(registry, status="gone")


def test_status_moves_forward_only_with_the_agent(registry: Registry,
                                                  bundled_records: list[RecordPair]) -> None:
    pair = pairs_of(bundled_records[0])[0]
    register(registry, [pair])
    template_id, version = pair.template_key.name, pair.template_key.version
    change = move_status(registry, template_id, version, "deprecated")
    assert (change.previous, change.status, change.moved, change.agents) == (
        "active", "deprecated", True, [pair.agent_key.name])
    assert registry.get(pair.agent_key)["status"] == "deprecated"
    assert registry.get(pair.template_key)["updated_at"] > registry.get(pair.template_key)["created_at"]
    assert not move_status(registry, template_id, version, "deprecated").moved
    assert move_status(registry, template_id, version, "archived").moved
    with pytest.raises(FactoryError, match="status only moves active -> deprecated -> archived"):
        move_status(registry, template_id, version, "deprecated")
    with pytest.raises(FactoryError, match="not in"):
        move_status(registry, template_id, "9.9.9", "archived")
    # still there, still archived, and re-registering the same content is a no-op
    assert register(registry, [pair])[0].outcome == "unchanged"
    assert registry.get(pair.template_key)["status"] == "archived"


def test_oversized_item_is_refused_before_any_call(registry: Registry,
                                                   bundled_records: list[RecordPair]) -> None:
    huge = variant(bundled_records[0], template_id="huge", description="x" * MAX_ITEM_BYTES)
    with pytest.raises(FactoryError, match=r"template huge version .* bytes; DynamoDB items are limited to 400 KB"):
        pairs_of(huge)
    assert list_templates(registry) == []


@pytest.mark.parametrize("same_content", [True, False])
def test_racing_writers_never_store_two_contents(make_registry: Callable[..., Registry],
                                                 bundled_records: list[RecordPair], same_content: bool) -> None:
    base = variant(bundled_records[0], template_id="raced")
    rounds = 8
    outcomes: dict[int, list[str]] = {0: [], 1: []}
    lost_writes: list[int] = []

    def writer(index: int, barrier: threading.Barrier) -> None:
        registry = make_registry()
        put_new = registry.put_new

        def counted_put_new(items):  # type: ignore[no-untyped-def]
            written = put_new(items)
            if not written:
                lost_writes.append(index)
            return written

        registry.put_new = counted_put_new  # type: ignore[method-assign]
        for n in range(rounds):
            text = "same" if same_content else f"writer {index}"
            pair = pairs_of(variant(base, version=f"1.0.{n}", description=text))[0]
            barrier.wait()
            outcomes[index].append(register(registry, [pair])[0].outcome)

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=writer, args=(i, barrier)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert lost_writes, "the writers never raced; the test proved nothing"
    registry = make_registry()
    loser = "unchanged" if same_content else "conflict"
    for n in range(rounds):
        assert sorted([outcomes[0][n], outcomes[1][n]]) == sorted(["new", loser])
        template = registry.get(Key("template", "raced", f"1.0.{n}"))
        agent = registry.get(Key("agent", "raced-agent", f"1.0.{n}"))
        assert template is not None and agent is not None
        assert template["description"] == agent["description"]  # both halves from the same writer


@pytest.mark.parametrize("same_content", [True, False])
def test_a_group_that_loses_a_race_falls_back_per_schema(registry: Registry, bundled_records: list[RecordPair],
                                                         monkeypatch: pytest.MonkeyPatch, same_content: bool) -> None:
    records = [variant(bundled_records[0], template_id=f"grouped_{n}") for n in range(4)]
    rival = records[2] if same_content else variant(records[2], description="written by a rival")
    assert registry.put_new(list(pairs_of(rival)[0].items()))
    real_fetch = registry.fetch
    calls: list[int] = []

    def stale_first_fetch(keys):  # type: ignore[no-untyped-def]
        calls.append(len(keys))
        return {} if len(calls) == 1 else real_fetch(keys)  # the rival wrote after our check

    monkeypatch.setattr(registry, "fetch", stale_first_fetch)
    results = register(registry, pairs_of(*records))
    assert [r.outcome for r in results] == ["new", "new", "unchanged" if same_content else "conflict", "new"]
    for record in records[:2] + records[3:]:
        assert registry.get(pairs_of(record)[0].agent_key) is not None
    stored = registry.get(pairs_of(records[2])[0].template_key)
    assert stored["description"] == rival.template["description"]


def test_groups_respect_transaction_limits(bundled_records: list[RecordPair]) -> None:
    from factory.registry.service import GROUP_MAX_BYTES, GROUP_MAX_ITEMS, _groups, _judge

    small = pairs_of(*[variant(bundled_records[0], template_id=f"small_{n:03d}") for n in range(120)])
    results = [_judge(pair, {}) for pair in small]
    groups = _groups(small, results, list(range(len(small))))
    assert [len(g) for g in groups] == [GROUP_MAX_ITEMS // 2, GROUP_MAX_ITEMS // 2, 20]
    big = pairs_of(*[variant(bundled_records[0], template_id=f"big_{n}", description="x" * 150_000)
                     for n in range(20)])
    results = [_judge(pair, {}) for pair in big]
    groups = _groups(big, results, list(range(len(big))))
    assert sum(len(g) for g in groups) == 20 and len(groups) > 1
    from factory.registry.records import item_size
    for group in groups:
        assert sum(item_size(item) for i in group for _, item in big[i].items()) <= GROUP_MAX_BYTES


def test_backends_implement_the_protocol(registry: Registry) -> None:
    assert isinstance(registry, Registry)


def test_an_item_just_under_the_limit_is_stored(registry: Registry, bundled_records: list[RecordPair]) -> None:
    from factory.registry.records import item_size

    base = variant(bundled_records[0], template_id="near_limit", description="")
    empty = pairs_of(base)[0]
    largest = max(item_size(empty.template), item_size(empty.agent))
    padded = variant(base, description="y" * (MAX_ITEM_BYTES - largest - 64))
    pair = pairs_of(padded)[0]
    assert MAX_ITEM_BYTES - 128 < max(item_size(pair.template), item_size(pair.agent)) <= MAX_ITEM_BYTES
    assert register(registry, [pair])[0].outcome == "new"
    assert registry.get(pair.template_key)["description"] == padded.template["description"]
