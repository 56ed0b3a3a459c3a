"""The check's findings: `Problem`s with a `kind`, the kinds, and the report of one run.

A finding is the same value every other error is (`factory.errors.Problem`),
so it prints with the same renderer; `finding` builds one for a whole file.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from factory.errors import Problem
from factory.rules import UNOWNED_FILE

STALE = "stale"
EDITED = "edited"
MISSING = "missing"
ORPHAN = "orphan"
LAYERS_DISAGREE = "layers-disagree"
INVALID = "invalid"
VERSION_BUMP = "version-bump"
UNSAFE_ENTRY = "unsafe-entry"
UNOWNED = UNOWNED_FILE  # the rule (not a kind) of a stale file generate refuses, as `generate` names it

KINDS = (UNSAFE_ENTRY, STALE, EDITED, MISSING, ORPHAN, LAYERS_DISAGREE, INVALID, VERSION_BUMP)


def out_flag(out_dir: Path | None) -> str:
    """` --out DIR` when `out_dir` is not the project's default (`generated`, or `.` in the configured
    step-functions-agent form), else "".

    A hint is a command people run as written: without the flag, `generate`
    run for `check --out .` would write a standalone tree into ./generated/
    and leave the reported file as it is.
    """
    if out_dir is None:
        return ""
    from factory.project_config import default_out_dir
    from factory.project_files import display_path

    shown = display_path(out_dir)
    return "" if shown == display_path(default_out_dir()) else f" --out {shlex.quote(shown)}"


def generate_command(out_dir: Path | None, force: bool = False) -> str:
    """The `schema-factory generate` command line that rewrites `out_dir`, in backticks."""
    return f"`schema-factory generate{out_flag(out_dir)}{' --force' if force else ''}`"


def check_command(out_dir: Path | None) -> str:
    return f"`schema-factory check{out_flag(out_dir)}`"


def regenerate(out_dir: Path | None) -> str:
    """The fix for a stale or missing generated file of `out_dir`."""
    flag = out_flag(out_dir)
    return f"run `schema-factory generate{flag}` (or `schema-factory check --fix{flag}`)"


def regenerate_forced(out_dir: Path | None) -> str:
    """The fix when `generate` would refuse the file (not ours, or edited since): `--force` overwrites it."""
    flag = out_flag(out_dir)
    return f"run `schema-factory generate{flag} --force` (or `schema-factory check --fix --force{flag}`)"


def finding(
    path: str, kind: str, detail: str, fix: str, *, diff: str = "", layer: str | None = None
) -> Problem:
    """A finding about the file at `path` as a whole; its rule id is its kind."""
    return Problem(path, "", kind, detail, fix, kind=kind, diff=diff, layer=layer)


def edited(display: str, sources: list[str], diff: str = "", out_dir: Path | None = None) -> Problem:
    """A generated file whose bytes differ from the hash the manifest records: a hand edit."""
    return finding(
        display,
        EDITED,
        "edited by hand: its bytes differ from the hash MANIFEST.json records for it",
        f"put the change in {', '.join(sources)}, then {generate_command(out_dir, force=True)} "
        "(which overwrites the hand edit)",
        diff=diff,
    )


def unowned(display: str, sources: list[str], diff: str = "", out_dir: Path | None = None) -> Problem:
    """A file in the way that MANIFEST.json does not list (or lists without a hash): `generate` refuses it.

    Called `stale` with the plain fix, it would send people to a `generate`
    that answers "exists and MANIFEST.json does not list it ... pass --force".
    """
    return Problem(
        display,
        "",
        UNOWNED,
        f"exists and MANIFEST.json does not list it as written by schema-factory; {', '.join(sources)} "
        "generates different content, and generate refuses to overwrite it",
        f"move it out of the way, or {regenerate_forced(out_dir)} to overwrite it",
        kind=STALE,
        diff=diff,
    )


def overwrite_refused(problem: Problem) -> bool:
    """Whether `generate` would refuse the file this finding is about (without --force)."""
    return problem.kind == EDITED or (problem.kind == STALE and problem.rule == UNOWNED)


def with_force(problem: Problem, out_dir: Path | None) -> Problem:
    """A finding whose fix runs `generate`, its command made `generate --force` (the file is refused without)."""
    plain = generate_command(out_dir)
    if plain not in problem.hint:
        return problem
    return replace(problem, hint=problem.hint.replace(plain, generate_command(out_dir, force=True)))


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
