"""Under pre-commit: say "stage it" when the generated files on disk are not what is committed.

pre-commit checks only what is staged: before a hook runs it saves the
unstaged changes as a patch (`<PRE_COMMIT_HOME>/patch<time>-<its pid>`) and
takes them off the working tree. After `schema-factory generate` without
`git add`, the regenerated files sit in that patch, and the hook sees the old
ones: "run generate" would send the user round in a circle. The files that
patch touches are read here, and a finding about one of them says to stage it.
Files pre-commit leaves alone, untracked ones, are on disk but not in the
commit: a generated file among them is a finding of its own.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

from factory import safe_io
from factory.check.findings import EDITED, MISSING, ORPHAN, STALE, finding
from factory.errors import Problem
from factory.names import MANIFEST_PATH

DIFF_HEADER = re.compile(r"^diff --git a/(.+?) b/(.+)\Z")
REGENERATED_KINDS = (STALE, EDITED, MISSING, ORPHAN)


def pre_commit_home() -> Path:
    """Where pre-commit keeps its patches (pre-commit's `store._get_default_directory`)."""
    home = os.environ.get("PRE_COMMIT_HOME")
    if home:
        return Path(home)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "pre-commit"


def unstaged_patch(home: Path, runner_pid: int) -> Path | None:
    """The patch the pre-commit process `runner_pid` saved for this run, if any."""
    try:
        found = sorted(home.glob(f"patch*-{runner_pid}"), key=lambda path: path.stat().st_mtime)
    except OSError:
        return None
    return found[-1] if found else None


def patched_paths(patch: Path) -> set[str]:
    """The repository-relative paths a git patch touches."""
    try:
        text = safe_io.read_bytes(patch, "git patch").decode("utf-8", "replace")
    except OSError:
        return set()
    paths: set[str] = set()
    for line in text.splitlines():
        match = DIFF_HEADER.match(line)
        if match:
            paths.update(match.groups())
    return paths


def unstaged_in_hook() -> set[str]:
    """Paths with unstaged changes pre-commit took off the working tree; empty outside pre-commit."""
    if os.environ.get("PRE_COMMIT") != "1":
        return set()
    patch = unstaged_patch(pre_commit_home(), os.getppid())
    return patched_paths(patch) if patch is not None else set()


def stage_command(out_dir: Path, file: str) -> str:
    """`git add <the output directory>`, or the file itself when the output directory is the project."""
    from factory.project_files import display_path

    shown = display_path(out_dir)
    return f"git add {file if shown in ('.', '') else shown}"


def with_stage_hints(findings: tuple[Problem, ...], unstaged: set[str], out_dir: Path) -> tuple[Problem, ...]:
    """Findings about files that have unstaged changes, with the fix that is to stage them."""
    if not unstaged:
        return findings
    out = []
    for problem in findings:
        if problem.kind in REGENERATED_KINDS and problem.file in unstaged:
            problem = replace(
                problem,
                hint=f"{problem.file} has unstaged changes, and the hook checks only what is staged: if "
                f"`schema-factory check` passes on the working tree, run `{stage_command(out_dir, problem.file)}` "
                "and commit again",
            )
        out.append(problem)
    return tuple(out)


def untracked_generated(out_dir: Path) -> list[Problem]:
    """Under pre-commit: generated files MANIFEST.json lists that git does not track (left out of the commit)."""
    if os.environ.get("PRE_COMMIT") != "1":
        return []
    from factory.check.versions import _git as git  # the check's one way to run git

    try:
        listed = json.loads(safe_io.read_bytes(out_dir / MANIFEST_PATH, "manifest")).get("files")
        done = git(["ls-files", "--others", "--exclude-standard", "-z", "--", str(out_dir)], Path.cwd())

    except (OSError, ValueError, AttributeError):
        return []
    if done.returncode != 0 or not isinstance(listed, dict):
        return []
    untracked = {name for name in done.stdout.decode("utf-8", "replace").split("\0") if name}
    from factory.project_files import display_path

    problems = []
    for rel in sorted(name for name in listed if isinstance(name, str)):
        shown = display_path(out_dir / rel)
        if shown in untracked:
            problems.append(
                finding(
                    shown,
                    STALE,
                    "generated but not staged: the commit would leave it out",
                    f"run `{stage_command(out_dir, shown)}` and commit again",
                )
            )
    return problems
