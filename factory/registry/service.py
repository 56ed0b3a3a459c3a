"""Registry operations as functions returning data; the CLI only prints.

Every rule lives here once, on top of the `Registry` primitives, so both
backends behave the same: versions are immutable (same content again is
`unchanged`, different content is a `conflict`), a schema's template and
agent record are written together or not at all, status only moves forward.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from factory.errors import FactoryError, Problem
from factory.registry.protocol import Registry
from factory.registry.agent_output_schemas import (
    OutputSchemaRegistration,
    output_schema_problems,
    plan_output_schemas,
    write_output_schemas,
)
from factory.registry.records import (
    OUTPUT_SCHEMA_ATTRIBUTE,
    STATUSES,
    AgentOutcome,
    Key,
    Outcome,
    RecordPair,
    Stored,
    ToolOutcome,
    check_item_size,
    check_status_move,
    classify,
    classify_tool,
    decoded_form,
    item_size,
    json_text,
    now_iso,
    registry_item,
    tool_item,
    semantic_order,
    version_key,
)

WRITE_ATTEMPTS = 5
# One TransactWriteItems holds at most 100 actions and 4 MB; new schemas are
# written in groups under both limits, and a group that loses a race falls
# back to one transaction per schema.
GROUP_MAX_ITEMS = 100
GROUP_MAX_BYTES = 4_000_000


def build_pairs(records: list[RecordPair], registered_at: str, arn_for: dict[str, str] | None = None,
                env_name: str | None = None) -> list[RecordPair]:
    """Registry items from generated records, in the stored form; size-checked before any call.

    What registration adds: the state machine ARN and the deployment env on
    the agent (the existing AgentsByEnvironment index reads `deployment_env`),
    and on the template's metadata the agent's name and the author, which the
    existing UI searches (`listTemplatesByAgent.js`: `contains(metadata, agent_name)`).
    """
    pairs = []
    for record in records:
        agent_name = record.agent["agent_name"]
        extra: dict[str, Any] = {}
        if arn_for and agent_name in arn_for:
            extra["state_machine_arn"] = arn_for[agent_name]
        if env_name is not None:
            extra["deployment_env"] = extra["environment"] = env_name
        if record.output_schema is not None and record.agent_registered_by is None:
            # Derived from the same canonical schema and version as the record, so not part of its identity.
            extra[OUTPUT_SCHEMA_ATTRIBUTE] = json_text(record.output_schema)
        template = registry_item(record.template, registered_at, kind="template",
                                 metadata={"author": "schema-factory", "agent_name": agent_name})
        pair = RecordPair(record.source, template,
                          registry_item(record.agent, registered_at, extra, kind="agent"), record.tools,
                          agent_registered_by=record.agent_registered_by)
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
    agent: AgentOutcome
    written: bool = False  # True once this run wrote the schema's new items
    agent_registered_by: str | None = None  # set when `agent` is "left to its stack"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _judge(pair: RecordPair, stored: dict[Key, Stored]) -> Registration:
    template = classify(pair.template, stored.get(pair.template_key))
    outcomes: set[str] = {template}
    agent: AgentOutcome = "left to its stack"
    if pair.agent_registered_by is None:
        agent = classify(pair.agent, stored.get(pair.agent_key))
        outcomes.add(agent)
    outcome: Outcome = "conflict" if "conflict" in outcomes else "new" if "new" in outcomes else "unchanged"
    return Registration(pair.source, pair.template_key.name, pair.agent_key.name, pair.template_key.version,
                        outcome, template, agent, agent_registered_by=pair.agent_registered_by)


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


def judge(registry: Registry, pairs: list[RecordPair]) -> list[Registration]:
    """Each schema's outcome from one batched existence check (one BatchGetItem per 50 schemas)."""
    keys = [key for pair in pairs for key, _ in pair.items()]
    stored = registry.fetch(keys)
    return [_judge(pair, stored) for pair in pairs]


def write_new(registry: Registry, pairs: list[RecordPair], results: list[Registration]) -> list[Registration]:
    """Write what `judge` found new, in groups (one TransactWriteItems per group); `written` says what was.

    A group that loses a race (another writer got there between the check and
    the write) falls back to one transaction per schema, judged again against
    what the winner stored: identical content becomes `unchanged`, anything
    else a conflict reported for that schema alone.
    """
    results = list(results)
    fresh = [index for index, result in enumerate(results) if result.outcome == "new"]
    for group in _groups(pairs, results, fresh):
        items = [item for index in group for item in _fresh_items(pairs[index], results[index])]
        if registry.put_new(items):
            for index in group:
                results[index] = replace(results[index], written=True)
            continue
        for index in group:
            results[index] = _write(registry, pairs[index], results[index])
    return results


def register(registry: Registry, pairs: list[RecordPair], dry_run: bool = False) -> list[Registration]:
    """Plan with one batched existence check, then write only what is new.

    Nothing is written when the check finds any conflict, so a refused run
    leaves the registry as it was; a schema's two items are written together
    or not at all.
    """
    results = judge(registry, pairs)
    if dry_run or any(result.outcome == "conflict" for result in results):
        return results
    return write_new(registry, pairs, results)


def _fresh_items(pair: RecordPair, result: Registration) -> list[tuple[Key, dict[str, Any]]]:
    outcomes: dict[Key, str] = {pair.template_key: result.template, pair.agent_key: result.agent}
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
            return replace(result, written=True)
        result = _judge(pair, registry.fetch([key for key, _ in pair.items()]))
        if result.outcome != "new":
            return result
    raise FactoryError(Problem(pair.source, "$", "registry-contention",
                               f"could not register {pair.template_key.describe()}: other writers kept winning",
                               "run the command again"))


@dataclass(frozen=True)
class ToolRegistration:
    """What happened (or would happen) to one ToolRegistry item."""

    tool_name: str
    version: str
    source: str
    outcome: ToolOutcome
    written: bool = False
    owner: str | None = None  # for `owned`: the author of the item another writer keeps under this name

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ToolPlan:
    """The ToolRegistry items of a run, judged against what the table holds."""

    items: list[dict[str, Any]]
    sources: list[str]
    outcomes: list[ToolOutcome]
    expected: list[str | None]
    owners: list[str | None] = field(default_factory=list)

    @property
    def conflicts(self) -> bool:
        return "conflict" in self.outcomes


def tool_items(pairs: list[RecordPair], orchestrator: list[dict[str, Any]], orchestrator_version: str,
               orchestrator_source: str, registered_at: str) -> tuple[list[dict[str, Any]], list[str]]:
    """ToolRegistry items: each schema's tools (its version), then the orchestrator's (the generator's)."""
    items, sources = [], []
    for pair in pairs:
        for spec in pair.tools:
            config = {"extraction_name": pair.template["extraction_name"], "agent_name": pair.agent["agent_name"]}
            items.append(tool_item(spec, pair.template["version"], registered_at, config))
            sources.append(pair.source)
    for spec in orchestrator:
        items.append(tool_item(spec, orchestrator_version, registered_at, {"agent_name": "batch-orchestrator"}))
        sources.append(orchestrator_source)
    return items, sources


def plan_tools(registry: Registry, items: list[dict[str, Any]], sources: list[str]) -> ToolPlan:
    """One batched read; nothing written."""
    stored = registry.fetch_tools([item["tool_name"] for item in items])
    outcomes = [classify_tool(item, stored.get(item["tool_name"])) for item in items]
    expected = [stored[item["tool_name"]].content_sha256 if item["tool_name"] in stored else None for item in items]
    owners = [stored[item["tool_name"]].owner if outcome == "owned" else None
              for item, outcome in zip(items, outcomes)]
    return ToolPlan(items, sources, outcomes, expected, owners)


def write_tools(registry: Registry, plan: ToolPlan, write: bool) -> list[ToolRegistration]:
    """Write the new and updated tool items (when `write`); a lost race is judged again, as for schemas."""
    written = False
    for _ in range(WRITE_ATTEMPTS):
        writes = [(item, expected) for item, outcome, expected in zip(plan.items, plan.outcomes, plan.expected)
                  if outcome in ("new", "updated")]
        if not write or not writes or plan.conflicts:
            break
        if registry.put_tools(writes):
            written = True
            break
        plan = plan_tools(registry, plan.items, plan.sources)
    else:
        raise FactoryError(Problem(registry.describe(), "$", "registry-contention",
                                   "ToolRegistry items kept changing while registering", "run the command again"))
    return [ToolRegistration(item["tool_name"], item["version"], source, outcome,
                             written and outcome in ("new", "updated"), owner)
            for item, source, outcome, owner in zip(plan.items, plan.sources, plan.outcomes, plan.owners)]


def tool_conflict_problems(results: list[ToolRegistration], registry: Registry) -> list[Problem]:
    return [Problem(result.source, "$", "tool-conflict",
                    f"ToolRegistry already holds a different tool {result.tool_name} of schema-factory's (same "
                    f"version {result.version}, or without its version and hash) in {registry.describe('tool')}",
                    "rename the tool (the schema's extraction_name) or bump the schema's version")
            for result in results if result.outcome == "conflict"]


@dataclass(frozen=True)
class RegisterRun:
    """One `register`: each schema's and each tool's outcome, and what refused the run."""

    schemas: list[Registration]
    tools: list[ToolRegistration]
    problems: list[Problem]
    output_schemas: list[OutputSchemaRegistration] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return (any(result.written for result in self.schemas) or any(tool.written for tool in self.tools)
                or any(result.written for result in self.output_schemas))


def register_run(registry: Registry, pairs: list[RecordPair], tool_specs: list[dict[str, Any]],
                 tool_sources: list[str], dry_run: bool,
                 output_schemas: list[tuple[str, dict[str, Any]]] | None = None,
                 registered_at: str | None = None) -> RegisterRun:
    """Schemas, tools and other agents' output schemas judged first; written only when nothing conflicts."""
    results = judge(registry, pairs)
    tools = plan_tools(registry, tool_specs, tool_sources)
    schema_plans = plan_output_schemas(registry, output_schemas or [], registered_at or now_iso())
    refused = (tools.conflicts or any(result.outcome == "conflict" for result in results)
               or any(plan.result.outcome == "conflict" for plan in schema_plans))
    if not (dry_run or refused):
        results = write_new(registry, pairs, results)
    refused = refused or any(result.outcome == "conflict" for result in results)  # a lost race
    written_tools = write_tools(registry, tools, write=not (dry_run or refused))
    schema_results = ([plan.result for plan in schema_plans] if dry_run or refused
                      else write_output_schemas(registry, schema_plans))
    problems = (conflict_problems(results, registry) + tool_conflict_problems(written_tools, registry)
                + output_schema_problems(schema_results, registry))
    return RegisterRun(results, written_tools, problems, schema_results)


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
        latest = decoded_form("template", max(items, key=lambda item: semantic_order(str(item["version"]))))
        metadata = latest.get("metadata")
        tags = list((metadata if isinstance(metadata, dict) else {}).get("tags") or [])
        if tag is not None and tag not in tags:
            continue
        summaries.append(TemplateSummary(template_id, latest["version"], latest.get("status", "active"), len(items),
                                         latest.get("created_at", ""), latest.get("updated_at", ""),
                                         latest.get("extraction_name", ""), tags))
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
    return decoded_form("template", item)


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
        metadata = item.get("metadata")
        agent_name = metadata.get("agent_name") if isinstance(metadata, dict) else None
        for agent in registry.agents_for(item["extraction_name"], version,
                                         agent_name if isinstance(agent_name, str) else None):
            agent_status = agent.get("status", "active")
            if agent_status in STATUSES and STATUSES.index(agent_status) < STATUSES.index(target):
                moves.append((Key("agent", agent["agent_name"], agent["version"]), agent_status))
        if registry.move_status(moves, target, now_iso()):
            return StatusChange(template_id, version, current, target, True, [k.name for k, _ in moves[1:]])
    raise FactoryError(Problem(template_id, "$", "registry-contention",
                               f"{key.describe()} kept changing while moving it to {target}", "run the command again"))
