"""What changed between two versions of a canonical schema, and how big a bump it needs.

`diff_documents(old, new)` runs every rule of the table in `diff_rules` (buf
style: one check per rule) over both documents, as `diff_model` flattens
them, and returns a `SchemaDiff`: the changes, the bump they need and whether
the new version has it. The names the rest of the project uses are importable
from here.

This module reads raw JSON documents and imports no heavy library:
`check --base` runs it from the pre-commit hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from factory.names import SEMVER_RE
from factory.schema.diff_model import (
    ADDITIVE,
    BREAKING,
    COSMETIC,
    Change,
    FieldInfo,
    Rule,
    SchemaPair,
    flatten,
)
from factory.schema.diff_rules import RULES
from factory.schema.standard_form import standard_form

__all__ = [
    "ADDITIVE",
    "BREAKING",
    "BUMP_ORDER",
    "COSMETIC",
    "RULES",
    "Change",
    "FieldInfo",
    "Rule",
    "SchemaDiff",
    "SchemaPair",
    "diff_documents",
    "flatten",
    "parse_version",
    "standard_form",
    "version_bump",
]

BUMP_FOR_KIND = {BREAKING: "major", ADDITIVE: "minor", COSMETIC: "patch"}
BUMP_ORDER = ("none", "patch", "minor", "major")


def parse_version(text: Any) -> tuple[int, int, int] | None:
    match = SEMVER_RE.match(text) if isinstance(text, str) else None
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def version_bump(old: Any, new: Any) -> str:
    """`major`/`minor`/`patch`/`none`, `downgrade`, or `unknown` when either is not semver."""
    before, after = parse_version(old), parse_version(new)
    if before is None or after is None:
        return "unknown"
    if after == before:
        return "none"
    if after < before:
        return "downgrade"
    if after[0] > before[0]:
        return "major"
    if after[1] > before[1]:
        return "minor"
    return "patch"


@dataclass(frozen=True)
class SchemaDiff:
    old_version: str
    new_version: str
    changes: tuple[Change, ...]

    @property
    def required_bump(self) -> str:
        level = 0
        for change in self.changes:
            level = max(level, BUMP_ORDER.index(BUMP_FOR_KIND[change.kind]))
        return BUMP_ORDER[level]

    @property
    def actual_bump(self) -> str:
        return version_bump(self.old_version, self.new_version)

    @property
    def bump_sufficient(self) -> bool:
        required, actual = self.required_bump, self.actual_bump
        if required == "none":
            return actual not in ("downgrade", "unknown")
        if actual not in BUMP_ORDER:
            return False
        return BUMP_ORDER.index(actual) >= BUMP_ORDER.index(required)

    def verdict(self) -> str:
        """One line: what bump is needed and whether the new version has it."""
        actual = self.actual_bump
        moved = f"{self.old_version} -> {self.new_version}"
        if self.required_bump == "none":
            return f"no contract change; version {moved}"
        if self.bump_sufficient:
            return f"needs a {self.required_bump} bump; version {moved} ({actual}) is enough"
        if actual == "none":
            return f"needs a {self.required_bump} bump; the content changed but the version stayed {self.new_version}"
        return f"needs a {self.required_bump} bump; version {moved} ({actual}) is not enough"

    def to_json(self) -> dict[str, Any]:
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "required_bump": self.required_bump,
            "actual_bump": self.actual_bump,
            "bump_sufficient": self.bump_sufficient,
            "changes": [change.__dict__ for change in self.changes],
        }


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> SchemaDiff:
    """Every change from `old` to `new`, in rule-table order."""
    pair = SchemaPair.of(old, new)
    changes = [change for rule in RULES for change in rule.check(pair, rule)]
    return SchemaDiff(str(old.get("version")), str(new.get("version")), tuple(changes))
