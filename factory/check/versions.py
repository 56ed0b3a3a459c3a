"""Schema versions across git history: the `--base REF` rule and `diff --base`.

A schema whose content changed since REF must carry a version bump at least
as large as its changes need (`factory.schema.diff`); changing content while
keeping the version is refused too. Old versions are read with
`git show REF:path`; the working tree is never touched.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory import rules, safe_io
from factory.check.findings import VERSION_BUMP, finding
from factory.check.scan import DEFAULT_SCHEMA_DIR, SchemaFile, display_path, expand_schema_files
from factory.errors import FactoryError, Problem
from factory.schema.diff import BUMP_ORDER, SchemaDiff, diff_documents, parse_version


def load_document(path: Path) -> dict[str, Any]:
    """A schema file as raw JSON, for `diff OLD NEW`."""
    try:
        data = json.loads(safe_io.read_bytes(path, "schema").decode("utf-8-sig"))
    except OSError as err:
        raise FactoryError(
            Problem(
                path.as_posix(), "$", rules.UNREADABLE, f"cannot read file: {err.strerror}", "check the path"
            )
        ) from None
    except ValueError as err:
        raise FactoryError(
            Problem(path.as_posix(), "$", rules.JSON_SYNTAX, f"invalid JSON: {err}", "fix the JSON syntax")
        ) from None
    if not isinstance(data, dict):
        raise FactoryError(
            Problem(path.as_posix(), "$", rules.NOT_A_SCHEMA, "not a JSON object", "pass schema files")
        )
    return data


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)


@dataclass(frozen=True)
class GitBase:
    """A resolved ref in the repository that holds the schemas."""

    ref: str
    toplevel: Path

    @classmethod
    def resolve(cls, ref: str, near: Path) -> GitBase:
        top = _git(["rev-parse", "--show-toplevel"], near)
        if top.returncode != 0:
            raise FactoryError(
                Problem(
                    near.as_posix(),
                    "$",
                    rules.GIT,
                    "not inside a git repository",
                    "run from the repository, or drop --base",
                )
            )
        toplevel = Path(top.stdout.decode().strip())
        if _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], toplevel).returncode != 0:
            raise FactoryError(
                Problem(ref, "$", rules.GIT, f"unknown git ref {ref!r}", "pass a branch, tag or commit")
            )
        return cls(ref, toplevel)

    @classmethod
    def head_of(cls, near: Path) -> GitBase | None:
        """HEAD of the repository around `near`; None outside git or before the first commit.

        The default base of `check`: what the next commit changes is judged
        against the last one, so the hook enforces the version rules unasked.
        """
        found = _git(["rev-parse", "--show-toplevel", "--verify", "--quiet", "HEAD^{commit}"], near)
        lines = found.stdout.decode().splitlines()
        if found.returncode != 0 or len(lines) != 2:  # outside git, or no commit yet
            return None
        return cls("HEAD", Path(lines[0]))

    def relative(self, path: Path) -> str | None:
        """Repository-relative posix path, or None for a file outside the repository."""
        try:
            return path.resolve().relative_to(self.toplevel.resolve()).as_posix()
        except ValueError:
            return None

    def changed(self, paths: list[Path]) -> set[str]:
        """Which of `paths` (repository-relative) differ between REF and the working tree."""
        inside = [rel for rel in map(self.relative, paths) if rel is not None]
        if not inside:
            return set()
        result = _git(["diff", "--name-only", "--no-renames", "-z", self.ref, "--", *inside], self.toplevel)
        if result.returncode != 0:
            message = " ".join(result.stderr.decode(errors="replace").split()) or "git diff failed"
            raise FactoryError(Problem(self.ref, "$", rules.GIT, message, "check the ref and the repository"))
        return {name for name in result.stdout.decode().split("\0") if name}

    def old_bytes(self, rel: str) -> bytes | None:
        """The file at REF, or None when it did not exist there."""
        shown = _git(["show", f"{self.ref}:{rel}"], self.toplevel)
        return shown.stdout if shown.returncode == 0 else None


@dataclass(frozen=True)
class VersionedDiff:
    display: str
    diff: SchemaDiff


def diffs_since(ref: str | None, schemas: list[SchemaFile]) -> list[VersionedDiff]:
    """The diff of every schema whose file changed since REF (new schemas have none).

    REF None is HEAD when there is one, and nothing to compare with otherwise.
    """
    if not schemas:
        return []
    near = schemas[0].path.resolve().parent
    found = GitBase.head_of(near) if ref is None else GitBase.resolve(ref, near)
    if found is None:
        return []
    base = found
    changed = base.changed([schema.path for schema in schemas])
    out = []
    for schema in schemas:
        rel = base.relative(schema.path)
        if rel is None or rel not in changed:
            continue
        old_data = base.old_bytes(rel)
        if old_data is None:
            continue
        try:
            old = json.loads(old_data.decode("utf-8-sig"))
        except ValueError:
            continue
        new = schema.document()
        if isinstance(old, dict) and isinstance(new, dict):
            out.append(VersionedDiff(schema.display, diff_documents(old, new)))
    return out


def diffs_under(ref: str, roots: list[Path]) -> list[VersionedDiff]:
    """`diffs_since` for the schema files under `roots` (default `schemas/`)."""
    roots = roots or [DEFAULT_SCHEMA_DIR]
    files = expand_schema_files(roots)
    if files is None:
        missing = next(root for root in roots if not root.exists())
        raise FactoryError(
            Problem(
                missing.as_posix(), "$", rules.MISSING_FILE, "no such file or directory", "check the path"
            )
        )
    schemas = [SchemaFile(path, display_path(path), display_path(path), safe_io.read_bytes(path, "schema")) for path in files]
    return diffs_since(ref, schemas)


def suggested_version(old: str, bump: str) -> str | None:
    parsed = parse_version(old)
    if parsed is None or bump not in BUMP_ORDER[1:]:
        return None
    major, minor, patch = parsed
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def check_versions(ref: str | None, schemas: list[SchemaFile]) -> list[Problem]:
    """A version-bump finding for every schema changed since REF (None: HEAD) without a sufficient bump.

    The finding names each change's rule (`[FIELD_NO_DELETE]`) and the version to set.
    """
    findings = []
    shown = ref or "HEAD"
    for item in diffs_since(ref, schemas):
        diff = item.diff
        if diff.bump_sufficient:
            continue
        reasons = "; ".join(f"{change.message} [{change.rule}]" for change in diff.changes[:3])
        if len(diff.changes) > 3:
            reasons += f"; and {len(diff.changes) - 3} more (see `schema-factory diff --base {shown}`)"
        suggestion = suggested_version(diff.old_version, diff.required_bump)
        fix = f'set "version" to {suggestion} or higher' if suggestion else "use a MAJOR.MINOR.PATCH version"
        findings.append(
            finding(item.display, VERSION_BUMP, f"since {shown}: {diff.verdict()}: {reasons}", fix)
        )
    return findings
