"""Registry items and the rules every backend applies to them.

Both backends store exactly these items and decide with exactly these
functions (version order, content identity, status moves, size limit), so a
rule can never hold locally and fail in DynamoDB or the other way round.
"""

from __future__ import annotations

import hashlib
import json
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
class RecordPair:
    """One schema's two items, ready to write together or not at all."""

    source: str
    template: dict[str, Any]
    agent: dict[str, Any]

    @property
    def template_key(self) -> Key:
        return Key("template", self.template["template_id"], self.template["version"])

    @property
    def agent_key(self) -> Key:
        return Key("agent", self.agent["agent_name"], self.agent["version"])

    def items(self) -> tuple[tuple[Key, dict[str, Any]], ...]:
        return ((self.template_key, self.template), (self.agent_key, self.agent))


def registry_item(record: dict[str, Any], registered_at: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A generated record plus what registration adds: timestamps, sort key, identity."""
    item = dict(record)
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
