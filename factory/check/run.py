"""`check` as one function returning data: fast path first, slow path on demand."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from factory.check.findings import (
    EDITED,
    INVALID,
    STALE,
    CheckReport,
    check_command,
    finding,
    regenerate,
    unique_sorted,
)
from factory.errors import Problem
from factory.check.layers import check_layers
from factory.check.scan import Snapshot, take_snapshot
from factory.names import MANIFEST_PATH


def _fast_layers(snapshot: Snapshot) -> list[Problem]:
    findings: list[Problem] = []
    for schema in snapshot.schemas or []:
        document = schema.document()
        if isinstance(document, dict):
            findings.extend(
                check_layers(schema.display, document, snapshot.read, snapshot.display, snapshot.out_dir)
            )
    return findings


def output_schema_findings(paths: list[Path]) -> list[Problem]:
    """Agent output-schema files (`schemas/<agent>.yaml`) beside the schemas: each problem is `invalid`.

    Their loader is imported only when such files exist, so the fast path of a project
    without them imports nothing more.
    """
    from factory.project_files import DEFAULT_SCHEMA_DIR

    roots = paths or [DEFAULT_SCHEMA_DIR]
    if not any(p.suffix in (".yaml", ".yml") or (p.is_dir() and any(p.glob("*.y*ml"))) for p in roots):
        return []
    from factory.output_schemas import check_output_schema_files

    _, problems = check_output_schema_files(paths, DEFAULT_SCHEMA_DIR)
    return [replace(p, kind=INVALID, hint=p.hint or "fix the output-schema file") for p in problems]


def run_check(paths: list[Path], out_dir: Path, base: str | None = None) -> CheckReport:
    """Every finding about `out_dir` against the schemas under `paths` (default `schemas/`).

    The version rules compare each schema with `base`, by default HEAD (when
    the schemas are in a git repository with a commit), so the pre-commit hook
    blocks a breaking change without a major bump with no flag.

    When every hash agrees with the manifest this reads files and compares
    layers only; nothing heavy is imported. Otherwise it regenerates in memory.
    """
    snapshot = take_snapshot(paths, out_dir)
    if snapshot.schemas == []:  # as `validate` and `generate` say: nothing to check against
        from factory.errors import FactoryError
        from factory.project_files import no_schemas_problem

        raise FactoryError(no_schemas_problem(paths))
    if snapshot.fast_path_clean:
        findings = _fast_layers(snapshot)
        mode, count = "fast", len(snapshot.schemas or [])
    else:
        from factory.check.tree import compare_tree

        findings, count = compare_tree(snapshot, paths)
        mode = "slow"
    from factory.check.agent_form import app_import_findings, form_findings  # the directory's form

    findings = findings + form_findings(snapshot.manifest, snapshot.display(MANIFEST_PATH), out_dir=out_dir)
    findings = findings + app_import_findings(snapshot.manifest, out_dir)
    findings = findings + output_schema_findings(paths)
    from factory.check.versions import check_versions

    findings = findings + check_versions(base, snapshot.schemas or [])
    return CheckReport(unique_sorted(findings), mode, count, tuple(snapshot.reasons))


@dataclass(frozen=True)
class FixResult:
    report: CheckReport
    written: tuple[str, ...]
    removed: tuple[str, ...]
    generate_error: Exception | None = None
    kept: tuple[tuple[str, str], ...] = ()  # (old manifest entry, why it was kept), as `generate` reports


def fix_and_check(
    paths: list[Path], out_dir: Path, base: str | None = None, force: bool = False
) -> FixResult:
    """Regenerate exactly as `generate` does (`force` as its --force), then check again.

    Invalid schemas stop the generator; the re-check then reports them. Files
    the generator never wrote (stray files) are left for the user to delete,
    and existing files it would overwrite without owning them refuse the
    regeneration (`generate_error`), as they refuse `generate`.
    """
    from factory.errors import FactoryError
    from factory.generation import generate_to_disk

    written: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    kept: tuple[tuple[str, str], ...] = ()
    error = None
    try:
        result = generate_to_disk(paths, out_dir, force=force)
        written, removed = tuple(result.report.written), tuple(result.report.removed)
        kept = tuple(result.report.kept)
    except FactoryError as err:
        error = err
    return FixResult(run_check(paths, out_dir, base), written, removed, error, kept)


def fast_findings(paths: list[Path], out_dir: Path) -> tuple[Problem, ...]:
    """The fast path alone, for callers that must not import the generator (`register`).

    Clean means the hashes and the layers vouch for the tree. Otherwise each
    reason the hashes cannot vouch becomes a finding whose fix is to run the
    full check and regenerate; the slow path (which would say more) is not run.
    """
    snapshot = take_snapshot(paths, out_dir)
    if snapshot.fast_path_clean:
        return unique_sorted(_fast_layers(snapshot))
    # A file whose bytes differ from the hash the manifest records was edited by hand: the check's own
    # `edited` finding, with its fix (the batch path's verify gives the same), not a generic "stale".
    hand_edits: list[Problem] = []
    if snapshot.manifest is not None and isinstance(snapshot.manifest.get("files"), dict):
        from factory.check.verify import verify_generated_files

        listed = sorted(rel for rel in snapshot.manifest["files"] if isinstance(rel, str))
        hand_edits = [
            found for found in verify_generated_files(out_dir, listed).findings if found.kind == EDITED
        ]
    said = {f"{found.file} differs from the manifest" for found in hand_edits}
    display = snapshot.display(MANIFEST_PATH)
    return (
        *hand_edits,
        *(
            finding(
                display,
                STALE,
                f"generated files are not current: {reason}",
                f"run {check_command(out_dir)} to see each difference, then {regenerate(out_dir)} and commit",
            )
            for reason in snapshot.reasons
            if reason not in said
        ),
    )
