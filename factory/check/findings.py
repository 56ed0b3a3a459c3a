"""Findings are values: one frozen dataclass, one renderer, one JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STALE = "stale"
EDITED = "edited"
MISSING = "missing"
ORPHAN = "orphan"
LAYERS_DISAGREE = "layers-disagree"
INVALID = "invalid"
VERSION_BUMP = "version-bump"
UNSAFE_ENTRY = "unsafe-entry"

KINDS = (UNSAFE_ENTRY, STALE, EDITED, MISSING, ORPHAN, LAYERS_DISAGREE, INVALID, VERSION_BUMP)

REGENERATE = "run `schema-factory generate` (or `schema-factory check --fix`)"
DIFF_LINES_SHOWN = 20


@dataclass(frozen=True)
class Finding:
    """One reason the tree is not consistent, with the file to look at and the fix."""

    path: str
    kind: str
    detail: str
    fix: str
    layer: str | None = None
    diff: str = ""

    def render(self) -> str:
        """`path: kind: detail (fix: ...)` on one line, then at most a short diff, indented."""
        line = " ".join(f"{self.path}: {self.kind}: {self.detail} (fix: {self.fix})".splitlines())
        if not self.diff:
            return line
        lines = self.diff.splitlines()
        shown = lines[:DIFF_LINES_SHOWN]
        if len(lines) > DIFF_LINES_SHOWN:
            shown.append(f"... {len(lines) - DIFF_LINES_SHOWN} more diff lines")
        return line + "\n" + "\n".join("    " + text for text in shown)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind, "detail": self.detail, "fix": self.fix}
        if self.layer is not None:
            out["layer"] = self.layer
        if self.diff:
            out["diff"] = self.diff
        return out


@dataclass(frozen=True)
class CheckReport:
    """Every finding of one run, and which path produced them (`fast` or `slow`)."""

    findings: tuple[Finding, ...]
    mode: str
    schemas: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "mode": self.mode,
            "schemas": self.schemas,
            "findings": [finding.to_json() for finding in self.findings],
        }


def unique_sorted(findings: list[Finding]) -> tuple[Finding, ...]:
    """Drop exact repeats; order by path, then kind order, so output is stable."""
    seen: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:
        seen.setdefault((finding.path, finding.kind, finding.detail), finding)
    return tuple(sorted(seen.values(), key=lambda f: (f.path, KINDS.index(f.kind), f.detail)))
