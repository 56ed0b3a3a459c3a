"""The check's findings: `Problem`s with a `kind`, the kinds, and the report of one run.

A finding is the same value every other error is (`factory.errors.Problem`),
so it prints with the same renderer; `finding` builds one for a whole file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from factory.errors import Problem

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


def finding(
    path: str, kind: str, detail: str, fix: str, *, diff: str = "", layer: str | None = None
) -> Problem:
    """A finding about the file at `path` as a whole; its rule id is its kind."""
    return Problem(path, "", kind, detail, fix, kind=kind, diff=diff, layer=layer)


def edited(display: str, sources: list[str], diff: str = "") -> Problem:
    """A generated file whose bytes differ from the hash the manifest records: a hand edit."""
    return finding(
        display,
        EDITED,
        "edited by hand: its bytes differ from the hash MANIFEST.json records for it",
        f"put the change in {', '.join(sources)}, then `schema-factory generate --force` (which overwrites the hand edit)",
        diff=diff,
    )


def finding_json(problem: Problem) -> dict[str, Any]:
    """The check's JSON form of a finding: `path`, `kind`, `detail`, `fix` (and `layer`, `diff` when set)."""
    detail = f"{problem.json_path}: {problem.message}" if problem.json_path else problem.message
    out: dict[str, Any] = {"path": problem.file, "kind": problem.kind, "detail": detail, "fix": problem.hint}
    if problem.layer is not None:
        out["layer"] = problem.layer
    if problem.diff:
        out["diff"] = problem.diff
    return out


@dataclass(frozen=True)
class CheckReport:
    """Every finding of one run, and which path produced them (`fast` or `slow`)."""

    findings: tuple[Problem, ...]
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
            "findings": [finding_json(item) for item in self.findings],
        }


def unique_sorted(findings: list[Problem]) -> tuple[Problem, ...]:
    """Drop exact repeats; order by path, then kind order, so output is stable."""
    seen: dict[tuple[str, str, str, str], Problem] = {}
    for item in findings:
        seen.setdefault((item.file, item.kind, item.json_path, item.message), item)
    return tuple(
        sorted(
            seen.values(),
            key=lambda f: (
                f.file,
                KINDS.index(f.kind),
                f"{f.json_path}: {f.message}" if f.json_path else f.message,
            ),
        )
    )
