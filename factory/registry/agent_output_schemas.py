"""Output schemas of agents this factory did not make, put into their AgentRegistry records.

The record may belong to the existing step-functions-agent system: we only
ever add or replace our one attribute (`output_schema`, JSON text) with a
conditional update that expects what we read, so a field that system owns is
never rewritten. When the agent has no record at all, a minimal one is
created (conditional on absence). The same rules as the rest of `register`:
identical content is `unchanged`; different content under the same schema
version is a `conflict` that refuses the whole run; a newer version replaces
the older one (`updated`).

`read_output_schema` is the way back: a batch over such an agent, with no
`schemas/<agent>.yaml` at hand, maps its rows through the schema stored here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from factory.errors import FactoryError, Problem
from factory.registry.protocol import Registry
from factory.registry.records import (
    OUTPUT_SCHEMA_ATTRIBUTE,
    Key,
    check_item_size,
    json_text,
    semantic_order,
    to_plain,
)

SchemaOutcome = Literal["new", "unchanged", "updated", "conflict"]
MINIMAL_AUTHOR = "schema-factory"


@dataclass(frozen=True)
class OutputSchemaRegistration:
    """What happened (or, with --dry-run, would happen) to one agent's output schema."""

    source: str
    agent_name: str
    version: str  # the output schema's version
    record_version: str  # the AgentRegistry item's version (its sort key)
    outcome: SchemaOutcome
    created: bool  # a minimal record is (or would be) created: the agent had none
    written: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Plan:
    result: OutputSchemaRegistration
    key: Key
    value: str
    expected: str | None
    item: dict[str, Any] | None  # the minimal record to create, when there is none


def _stored_version(text: Any) -> str | None:
    try:
        document = json.loads(text)
    except (TypeError, ValueError):
        return None
    version = document.get("version") if isinstance(document, dict) else None
    return str(version) if version is not None else None


def _version_key(version: str) -> str:
    """As records.version_key, for "1.0" too (output schema versions may omit the patch)."""
    return ".".join(f"{part:010d}" for part in (*semantic_order(version), 0, 0, 0)[:3])


def minimal_record(document: dict[str, Any], value: str, registered_at: str) -> dict[str, Any]:
    """The least an AgentRegistry item needs to be found (key, status) and to carry the schema."""
    return {
        "agent_name": document["agent"],
        "version": str(document["version"]),
        "status": "active",
        "description": f"Output schema of {document['agent']}, registered by {MINIMAL_AUTHOR}",
        OUTPUT_SCHEMA_ATTRIBUTE: value,
        "metadata": json_text({"author": MINIMAL_AUTHOR}),
        "created_at": registered_at,
        "updated_at": registered_at,
        # Our versions index (AgentVersions) sorts by it; the existing system's table ignores it.
        "version_key": _version_key(str(document["version"])),
    }


def _plan(registry: Registry, source: str, document: dict[str, Any], registered_at: str) -> _Plan:
    agent, version = document["agent"], str(document["version"])
    value = json_text(document)
    stored = registry.latest("agent", agent)
    if stored is None:
        key = Key("agent", agent, version)
        item = minimal_record(document, value, registered_at)
        check_item_size(source, key, item)
        return _Plan(OutputSchemaRegistration(source, agent, version, version, "new", True), key, value, None, item)
    key = Key("agent", agent, str(stored["version"]))
    current = stored.get(OUTPUT_SCHEMA_ATTRIBUTE)
    expected = current if isinstance(current, str) else None
    if current == value:
        outcome: SchemaOutcome = "unchanged"
    elif current is None:
        outcome = "new"
    elif _stored_version(current) == version:
        outcome = "conflict"
    else:
        outcome = "updated"
    check_item_size(source, key, {**stored, OUTPUT_SCHEMA_ATTRIBUTE: value})
    return _Plan(OutputSchemaRegistration(source, agent, version, key.version, outcome, False), key, value,
                 expected, None)


def plan_output_schemas(registry: Registry, documents: list[tuple[str, dict[str, Any]]],
                        registered_at: str) -> list[_Plan]:
    """One read per agent (its newest record); nothing written."""
    return [_plan(registry, source, document, registered_at) for source, document in documents]


def write_output_schemas(registry: Registry, plans: list[_Plan]) -> list[OutputSchemaRegistration]:
    """Write the new and updated ones; a lost race (the record changed since it was read) is a conflict."""
    results = []
    for plan in plans:
        result = plan.result
        if result.outcome in ("new", "updated"):
            if plan.item is not None:
                done = registry.put_new([(plan.key, plan.item)])
            else:
                done = registry.set_attribute(plan.key, OUTPUT_SCHEMA_ATTRIBUTE, plan.value, plan.expected)
            result = replace(result, written=True) if done else replace(result, outcome="conflict")
        results.append(result)
    return results


def output_schema_problems(results: list[OutputSchemaRegistration], registry: Registry) -> list[Problem]:
    return [Problem(
        result.source, "$.version", "version-immutable",
        f"agent {result.agent_name} (record version {result.record_version}) in {registry.describe()} already "
        f"holds a different output schema version {result.version}, or it changed while registering",
        f"bump the output schema's version (now {result.version}) and register again",
    ) for result in results if result.outcome == "conflict"]


def read_output_schema(registry: Registry, agent: str) -> dict[str, Any] | None:
    """The output schema in the newest AgentRegistry record of `agent`; None when it has no record or none.

    The stored text is data anyone with write access to the table may have
    put there, so it goes through the very loader and checks a
    `schemas/<agent>.yaml` file goes through (`factory.output_schemas`: the
    strict safe YAML loader, which reads JSON text, then the document checks);
    it only ever becomes extraction methods, never an invoke spec. Anything
    wrong is one FactoryError line naming the agent, the registry and the fix.
    """
    from factory.output_schemas import parse_output_schema

    record = registry.latest("agent", agent)
    value = record.get(OUTPUT_SCHEMA_ATTRIBUTE) if record is not None else None
    if record is None or value is None:
        return None
    where = f"{registry.describe()}: agent {agent} version {record.get('version')}"
    if isinstance(value, dict):  # a map written by another tool: the same checks as text
        value = json_text(to_plain(value))
    if not isinstance(value, str):
        raise _unusable(where, agent, f"is a {type(value).__name__}, not JSON text")
    loaded = parse_output_schema(value.encode("utf-8"), where)
    if loaded.problems or loaded.document is None:
        first = loaded.problems[0] if loaded.problems else None
        detail = f"{first.json_path}: {first.message}" if first else "holds no document"
        more = f" (and {len(loaded.problems) - 1} more)" if len(loaded.problems) > 1 else ""
        raise _unusable(where, agent, f"is not valid: {detail}{more}")
    if loaded.agent != agent:
        raise _unusable(where, agent, f"describes agent {loaded.agent!r}, not {agent!r}")
    return loaded.document


def _unusable(where: str, agent: str, detail: str) -> FactoryError:
    return FactoryError(Problem(
        where, f"$.{OUTPUT_SCHEMA_ATTRIBUTE}", "registered-output-schema",
        f"the registered output schema {detail}",
        f"correct schemas/{agent}.yaml, check it with schema-factory validate, raise its version and run "
        f"schema-factory register again; a valid schemas/{agent}.yaml beside the batch is read first",
    ))


__all__ = ["OutputSchemaRegistration", "minimal_record", "output_schema_problems", "plan_output_schemas",
           "read_output_schema", "write_output_schemas"]
