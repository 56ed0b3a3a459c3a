"""Registry operations as functions returning data; the CLI only prints.

Every rule lives here once, on top of the `Registry` primitives, so both
backends behave the same: versions are immutable (same content again is
`unchanged`, different content is a `conflict`), a schema's template and
agent record are written together or not at all, status only moves forward.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from factory.errors import FactoryError, Problem
from factory.registry.protocol import Registry
from factory.registry.records import (
    STATUSES,
    Key,
    Outcome,
    RecordPair,
    Stored,
    check_item_size,
    check_status_move,
    classify,
    item_size,
    now_iso,
    registry_item,
    version_key,
)
from factory.registry.sources import GeneratedRecords

WRITE_ATTEMPTS = 5
# One TransactWriteItems holds at most 100 actions and 4 MB; new schemas are
# written in groups under both limits, and a group that loses a race falls
# back to one transaction per schema.
GROUP_MAX_ITEMS = 100
GROUP_MAX_BYTES = 4_000_000


def build_pairs(records: list[GeneratedRecords], registered_at: str,
                arn_for: dict[str, str] | None = None) -> list[RecordPair]:
    """Registry items from generated records; size-checked before any call."""
    pairs = []
    for record in records:
        extra = {}
        if arn_for and record.agent["agent_name"] in arn_for:
            extra["state_machine_arn"] = arn_for[record.agent["agent_name"]]
        pair = RecordPair(record.source, registry_item(record.template, registered_at),
                          registry_item(record.agent, registered_at, extra))
        for key, item in pair.items():
            check_item_size(record.source, key, item)
        pairs.append(pair)
    return pairs


@dataclass(frozen=True)
class Registration:
    """What happened (or, with --dry-run, would happen) to one schema."""

    source: str
    template_id: str
    agent_name: str
    version: str
    outcome: Outcome
    template: Outcome
    agent: Outcome

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _judge(pair: RecordPair, stored: dict[Key, Stored]) -> Registration:
    template = classify(pair.template, stored.get(pair.template_key))
    agent = classify(pair.agent, stored.get(pair.agent_key))
    outcomes = {template, agent}
    outcome: Outcome = "conflict" if "conflict" in outcomes else "new" if "new" in outcomes else "unchanged"
    return Registration(pair.source, pair.template_key.name, pair.agent_key.name, pair.template_key.version,
                        outcome, template, agent)


def conflict_problems(results: list[Registration], registry: Registry) -> list[Problem]:
    problems = []
    for result in results:
        if result.outcome != "conflict":
            continue
        which = [f"template {result.template_id}"] if result.template == "conflict" else []
        which += [f"agent {result.agent_name}"] if result.agent == "conflict" else []
        problems.append(Problem(
            result.source, "$.version", "version-immutable",
            f"version {result.version} of {' and '.join(which)} is already registered in {registry.describe()} "
            "with different content; registered versions are immutable",
            f"bump the schema's version (now {result.version}), run schema-factory generate, then register",
        ))
    return problems


def register(registry: Registry, pairs: list[RecordPair], dry_run: bool = False) -> list[Registration]:
    """Plan with one batched existence check, then write only what is new.

    Requests to DynamoDB: one BatchGetItem per 50 schemas, then one
    TransactWriteItems per group of new schemas (up to 50).

    Nothing is written when the check finds any conflict, so a refused run
    leaves the registry as it was. A write that loses a race (another writer
    got there between the check and the write) is judged again against what
    the winner stored: identical content becomes `unchanged`, anything else a
    conflict reported for that schema alone; the schema's two items are still
    written together or not at all.
    """
    keys = [key for pair in pairs for key, _ in pair.items()]
    stored = registry.fetch(keys)
    results = [_judge(pair, stored) for pair in pairs]
    if dry_run or any(result.outcome == "conflict" for result in results):
        return results
    fresh = [index for index, result in enumerate(results) if result.outcome == "new"]
    for group in _groups(pairs, results, fresh):
        items = [item for index in group for item in _fresh_items(pairs[index], results[index])]
        if registry.put_new(items):
            continue
        for index in group:
            results[index] = _write(registry, pairs[index], results[index])
    return results


def _fresh_items(pair: RecordPair, result: Registration) -> list[tuple[Key, dict[str, Any]]]:
    outcomes = {pair.template_key: result.template, pair.agent_key: result.agent}
    return [(key, item) for key, item in pair.items() if outcomes[key] == "new"]


def _groups(pairs: list[RecordPair], results: list[Registration], indexes: list[int]) -> list[list[int]]:
    groups: list[list[int]] = []
    count = size = 0
    for index in indexes:
        items = _fresh_items(pairs[index], results[index])
        weight = sum(item_size(item) for _, item in items)
        if not groups or count + len(items) > GROUP_MAX_ITEMS or size + weight > GROUP_MAX_BYTES:
            groups.append([])
            count = size = 0
        groups[-1].append(index)
        count += len(items)
        size += weight
    return groups


def _write(registry: Registry, pair: RecordPair, result: Registration) -> Registration:
    for _ in range(WRITE_ATTEMPTS):
        if registry.put_new(_fresh_items(pair, result)):
            return result
        result = _judge(pair, registry.fetch([key for key, _ in pair.items()]))
        if result.outcome != "new":
            return result
    raise FactoryError(Problem(pair.source, "$", "registry-contention",
                               f"could not register {pair.template_key.describe()}: other writers kept winning",
                               "run the command again"))


@dataclass(frozen=True)
class TemplateSummary:
    """One line of `list`: a template's newest version among those listed."""

    template_id: str
    version: str
    status: str
    versions: int
    created_at: str
    updated_at: str
    extraction_name: str
    tags: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_templates(registry: Registry, status: str | None = None, tag: str | None = None) -> list[TemplateSummary]:
    """Latest version per template; with `status`, among the versions in that status."""
    if status is not None and status not in STATUSES:
        raise FactoryError(Problem("--status", "$", "status", f"unknown status {status!r}",
                                   f"one of {', '.join(STATUSES)}"))
    groups: dict[str, list[dict[str, Any]]] = {}
    for each in [status] if status else list(STATUSES):
        for item in registry.templates_with_status(each):
            groups.setdefault(item["template_id"], []).append(item)
    summaries = []
    for template_id in sorted(groups):
        items = groups[template_id]
        latest = max(items, key=lambda item: version_key(item["version"]))
        tags = list(latest.get("metadata", {}).get("tags", []))
        if tag is not None and tag not in tags:
            continue
        summaries.append(TemplateSummary(template_id, latest["version"], latest["status"], len(items),
                                         latest["created_at"], latest["updated_at"], latest["extraction_name"], tags))
    return summaries


def show_template(registry: Registry, template_id: str, version: str | None = None) -> dict[str, Any]:
    """One template item: the newest semantic version unless one is named."""
    if version is None:
        item = registry.latest("template", template_id)
    else:
        version_key(version)
        item = registry.get(Key("template", template_id, version))
    if item is None:
        what = f"template {template_id}" + (f" version {version}" if version else "")
        raise FactoryError(Problem(template_id, "$", "not-registered", f"{what} is not in {registry.describe()}",
                                   "see schema-factory list, or register it"))
    return item


@dataclass(frozen=True)
class StatusChange:
    template_id: str
    version: str
    previous: str
    status: str
    moved: bool
    agents: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def move_status(registry: Registry, template_id: str, version: str, target: str) -> StatusChange:
    """Move a template version, and the agent records of the same schema version, forward."""
    key = Key("template", template_id, version)
    version_key(version)
    for _ in range(WRITE_ATTEMPTS):
        item = show_template(registry, template_id, version)
        current = item["status"]
        if not check_status_move(key, current, target):
            return StatusChange(template_id, version, current, current, False, [])
        moves = [(key, current)]
        for agent in registry.agents_for(item["extraction_name"], version):
            agent_status = agent.get("status", "active")
            if STATUSES.index(agent_status) < STATUSES.index(target):
                moves.append((Key("agent", agent["agent_name"], agent["version"]), agent_status))
        if registry.move_status(moves, target, now_iso()):
            return StatusChange(template_id, version, current, target, True, [k.name for k, _ in moves[1:]])
    raise FactoryError(Problem(template_id, "$", "registry-contention",
                               f"{key.describe()} kept changing while moving it to {target}", "run the command again"))
