"""Registry items and the rules every backend applies to them.

Both backends store exactly these items and decide with exactly these
functions (version order, content identity, status moves, size limit), so a
rule can never hold locally and fail in DynamoDB or the other way round.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal

from factory.errors import FactoryError, Problem
from factory.names import ENV_NAME_RE, SEMVER_RE

# DynamoDB refuses items over 400 KB; checked before the call so the user
# learns which record is too big instead of reading a ValidationException.
# 400,000 (not 409,600): a margin under the real limit, below which moto and
# DynamoDB Local accept the item too.
MAX_ITEM_BYTES = 400_000
STATUSES = ("active", "deprecated", "archived")

Outcome = Literal["new", "unchanged", "conflict"]
# An agent record another writer registers (the step-functions-agent form's
# stack, through BaseAgentConstruct): ours is neither written nor compared.
AgentOutcome = Literal["new", "unchanged", "conflict", "left to its stack"]
# A ToolRegistry item is one per tool name (no version in its key): it follows
# the newest registered version; `kept` means a newer version's spec stands;
# `owned` means another writer's item holds the name and is left as it is.
ToolOutcome = Literal["new", "unchanged", "updated", "kept", "owned", "conflict"]
TOOL_AUTHOR = "schema-factory"


def check_env_name(env_name: str) -> str:
    """Env names become table, export and state machine names: keep them plain."""
    if not ENV_NAME_RE.match(env_name):
        raise FactoryError(Problem(
            "--env", "$", "env-name",
            f"environment name {env_name!r} may only hold lower-case letters, digits and '-', "
            "starting with a letter, at most 16 characters",
            "e.g. --env dev, --env prod, --env pr-42",
        ))
    return env_name


def version_key(version: str) -> str:
    """A string that sorts like the semantic version: 1.10.0 after 1.9.0."""
    match = SEMVER_RE.match(version)
    if not match:
        raise FactoryError(Problem("--version", "$", "version-format",
                                   f"version {version!r} is not MAJOR.MINOR.PATCH", "e.g. --version 1.0.0"))
    return ".".join(f"{int(part):010d}" for part in match.groups())


def semantic_order(version: str) -> tuple[int, ...]:
    """Sort key for versions of any writer: semantic for ours, the digits in order for others ("v1.0")."""
    match = SEMVER_RE.match(version)
    if match:
        return tuple(int(part) for part in match.groups())
    return tuple(int(part) for part in re.findall(r"[0-9]+", version)[:3])


def now_iso() -> str:
    """ISO 8601 UTC with milliseconds: sorts as text, which the GSIs rely on."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_sha256(record: dict[str, Any]) -> str:
    """Identity of a generated record, independent of key order and whitespace.

    Registration-time fields (timestamps, status, ARN) are not part of the
    record as generated, so re-registering after a deprecation or from another
    account still compares equal.
    """
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_plain(value: Any) -> Any:
    """Decimals (what DynamoDB gives back) to int/float, recursively, for printing."""
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    if isinstance(value, Decimal):
        return _plain(value)
    return value


def to_decimal(value: Any) -> Any:
    """Floats to Decimal, recursively: DynamoDB's serializer refuses floats."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: to_decimal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_decimal(item) for item in value]
    return value


def _number_size(number: Any) -> int:
    digits = str(abs(Decimal(str(number)))).replace(".", "").lstrip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def _value_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, (int, float, Decimal)):
        return _number_size(value)
    if isinstance(value, dict):
        return 3 + sum(len(k.encode("utf-8")) + _value_size(v) + 1 for k, v in value.items())
    if isinstance(value, list):
        return 3 + sum(_value_size(v) + 1 for v in value)
    raise TypeError(f"cannot size {type(value).__name__}")


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values, as its docs count them."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


@dataclass(frozen=True)
class Key:
    """Where an item lives: table kind (`template`/`agent`), partition value, version."""

    kind: Literal["template", "agent"]
    name: str
    version: str

    def describe(self) -> str:
        return f"{self.kind} {self.name} version {self.version}"


@dataclass(frozen=True)
class Stored:
    """What the registry holds for a key, enough to compare and to move status."""

    content_sha256: str
    status: str


@dataclass(frozen=True)
class StoredTool:
    """What ToolRegistry holds for a tool name: identity and version (None when another writer's), and author.

    `author` is the owner marker every writer of the existing system leaves
    (`stacks/tools/base_tool_construct.py` writes `tool_spec.get("author",
    "system")`; the batch orchestrator's six tools say `batch-orchestrator`);
    ours say `TOOL_AUTHOR`. None when the item has no author attribute.
    """

    content_sha256: str | None
    version_key: str | None
    author: str | None

    @property
    def owner(self) -> str | None:
        """Who else owns the item, or None when it is ours (`TOOL_AUTHOR`)."""
        if self.author == TOOL_AUTHOR:
            return None
        return self.author or "a writer that left no author"


def tool_item(spec: dict[str, Any], version: str, registered_at: str, config: dict[str, Any]) -> dict[str, Any]:
    """A ToolRegistry item as the existing tool construct writes one (base_tool_construct_batched.py).

    Our tools run inside our agent's state machine, not as a Lambda of their
    own, so the Lambda attributes say "N/A" as that construct does without a
    function; `config` says where the tool comes from.
    """
    identity = {"tool_name": spec["tool_name"], "description": spec["description"],
                "input_schema": spec["input_schema"]}
    return stored_form("tool", {
        **identity,
        "lambda_arn": "N/A",
        "lambda_function_name": "N/A",
        "tags": [],
        "status": "active",
        "author": TOOL_AUTHOR,
        "human_approval_required": False,
        "requires_activity": False,
        "activity_type": "",
        "activity_arn": "",
        "tool_type": "schema_factory",
        "resource_arn": "N/A",
        "config": config,
        "version": version,
        "version_key": version_key(version),
        "content_sha256": content_sha256(identity),
        "created_at": registered_at,
        "updated_at": registered_at,
    })


def author_of(item: Any) -> str | None:
    """The `author` of a stored tool item (another writer's item may lack it, or hold anything)."""
    author = item.get("author") if isinstance(item, dict) else None
    return author if isinstance(author, str) else None


def classify_tool(item: dict[str, Any], stored: StoredTool | None) -> ToolOutcome:
    """Ours to write (`new`, `updated`), ours as it is (`unchanged`, `kept`), another writer's (`owned`).

    An item another writer owns (its author is not ours) is never written
    over, and is no reason to refuse the run: the name is theirs, the rest of
    the registration goes ahead. Only our own item can conflict (same version,
    other content, or an author of ours without our identity attributes).
    """
    if stored is None:
        return "new"
    if stored.owner is not None:
        return "owned"
    if stored.content_sha256 == item["content_sha256"]:
        return "unchanged"
    if stored.version_key is None or stored.content_sha256 is None or stored.version_key == item["version_key"]:
        return "conflict"  # another writer's tool, or the same version with other content
    return "kept" if stored.version_key > item["version_key"] else "updated"


@dataclass(frozen=True)
class RecordPair:
    """One schema's records: as generated (read from `generated/`), or as registry items.

    The same value travels from the files to the tables: `sources` reads the
    generated records into it, `service.build_pairs` turns them into the
    items written (`registry_item`), and the two items are written together
    or not at all. `tools` are the schema's tool specs in the ToolRegistry
    form (`tool_name`, `description`, `input_schema`).
    """

    source: str
    template: dict[str, Any]
    agent: dict[str, Any]
    tools: tuple[dict[str, Any], ...] = ()
    output_schema: dict[str, Any] | None = None  # generated/output_schemas/<agent>.yaml, when generated
    # Who registers the agent record instead of `register` (None: we do). In the
    # step-functions-agent form the agent's stack does, through BaseAgentConstruct,
    # under its own version; a second item of ours would list the agent twice.
    agent_registered_by: str | None = None

    @property
    def template_key(self) -> Key:
        return Key("template", self.template["template_id"], self.template["version"])

    @property
    def agent_key(self) -> Key:
        return Key("agent", self.agent["agent_name"], self.agent["version"])

    def items(self) -> tuple[tuple[Key, dict[str, Any]], ...]:
        """The items `register` writes for this schema: the template, and the agent record unless another writes it."""
        if self.agent_registered_by is not None:
            return ((self.template_key, self.template),)
        return ((self.template_key, self.template), (self.agent_key, self.agent))


# Attributes the existing readers hold as JSON text in a DynamoDB string (S):
# scripts/register_template.py writes `template`, `variables`, `metadata` so;
# base_agent_construct.py writes `tools`, `observability`, `parameters`,
# `metadata`, `structured_output`, `template_config` so, and the readers
# (`$parse(...Item.template.S)`, `_parse_agent_item`, the UI) parse them.
# Text also keeps numbers out of DynamoDB's N type, which boto3 reads back as
# Decimal (a reader that json.dumps an item would fail on it).
# The agent's output schema (the `schemas/<agent>.yaml` form, as JSON text):
# ours inside the record we write, another system's added to its record.
OUTPUT_SCHEMA_ATTRIBUTE = "output_schema"
JSON_TEXT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "template": ("template", "variables", "metadata"),
    "agent": ("tools", "observability", "parameters", "metadata", "structured_output", "template_config",
              OUTPUT_SCHEMA_ATTRIBUTE),
    "tool": ("input_schema", "tags", "config"),
}


def json_text(value: Any) -> str:
    """Compact, key order kept (variables and properties are ordered), non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain)


def variables_by_name(variables: Any) -> Any:
    """Our ordered variable list as the existing shape: an object keyed by variable name."""
    if not isinstance(variables, list):
        return variables
    return {spec["name"]: {key: value for key, value in spec.items() if key != "name"}
            for spec in variables if isinstance(spec, dict) and "name" in spec}


def variables_as_list(variables: Any) -> Any:
    """Either shape back to our ordered list of `{"name", ...}` specs."""
    if isinstance(variables, dict):
        return [{"name": name, **(spec if isinstance(spec, dict) else {})} for name, spec in variables.items()]
    return variables


def tools_as_objects(tools: Any) -> Any:
    """Tool names as the existing agents hold them: `[{"tool_name", "enabled"}]`.

    Their state machines map over `$parse($agent_config.tools.S)` and GetItem
    each `tool_name` from ToolRegistry (step_functions_generator_unified_llm.py,
    "Load Tool Definitions"); the UI and the orchestrator read either form.
    """
    if not isinstance(tools, list):
        return tools
    return [{"tool_name": tool, "enabled": True} if isinstance(tool, str) else tool for tool in tools]


def stored_form(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """A record as the existing system stores it: JSON text where its readers expect text."""
    item = dict(record)
    if kind == "template" and "variables" in item:
        item["variables"] = variables_by_name(item["variables"])
    if kind == "agent" and "tools" in item:
        item["tools"] = tools_as_objects(item["tools"])
    for name in JSON_TEXT_ATTRIBUTES[kind]:
        if name in item and not isinstance(item[name], str):
            item[name] = json_text(item[name])
    return item


def decoded_form(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """An item as our code reads it, from either system: JSON text parsed, variables as a list.

    Text that is not JSON is left as it is (another writer's free text).
    """
    plain = dict(item)
    for name in JSON_TEXT_ATTRIBUTES.get(kind, ()):
        value = plain.get(name)
        if isinstance(value, str):
            try:
                plain[name] = json.loads(value)
            except ValueError:
                pass
    if kind == "template" and "variables" in plain:
        plain["variables"] = variables_as_list(plain["variables"])
    if kind == "agent" and isinstance(plain.get("tools"), list):
        plain["tools"] = [tool["tool_name"] if isinstance(tool, dict) and set(tool) == {"tool_name", "enabled"}
                          and tool["enabled"] is True else tool for tool in plain["tools"]]
    return plain


def registry_item(record: dict[str, Any], registered_at: str, extra: dict[str, Any] | None = None,
                  kind: str = "template", metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A generated record plus what registration adds (timestamps, sort key, identity), in stored form.

    `metadata` entries join the record's metadata (the caller's win over none
    of the record's). `content_sha256` is taken over the record as generated,
    so the identity depends neither on the encoding nor on what registration adds.
    """
    plain = dict(record)
    if metadata:
        plain["metadata"] = {**metadata, **(record.get("metadata") or {})}
    item = stored_form(kind, plain)
    item.update(extra or {})
    item["version_key"] = version_key(record["version"])
    item["content_sha256"] = content_sha256(record)
    item["created_at"] = registered_at
    item["updated_at"] = registered_at
    return item


def check_item_size(source: str, key: Key, item: dict[str, Any]) -> None:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise FactoryError(Problem(
            source, "$", "item-too-large",
            f"{key.describe()} is {size} bytes; DynamoDB items are limited to 400 KB ({MAX_ITEM_BYTES} bytes)",
            "shorten the schema's descriptions or workflow prompts",
        ))


def classify(item: dict[str, Any], stored: Stored | None) -> Outcome:
    if stored is None:
        return "new"
    return "unchanged" if stored.content_sha256 == item["content_sha256"] else "conflict"


def check_status_move(key: Key, current: str, target: str) -> bool:
    """True when the move changes something; False for a repeat; refused backwards."""
    if target not in STATUSES:
        raise FactoryError(Problem("--status", "$", "status", f"unknown status {target!r}",
                                   f"one of {', '.join(STATUSES)}"))
    if current == target:
        return False
    if STATUSES.index(target) < STATUSES.index(current):
        raise FactoryError(Problem(
            key.name, "$.status", "status-backwards",
            f"{key.describe()} is {current}; status only moves active -> deprecated -> archived",
            "register a new version instead of reviving an old one",
        ))
    return True
