"""`check` and `diff`: the consistency check and the version-bump rules."""

from __future__ import annotations

import json
from pathlib import Path

import click

from factory.check.findings import CheckReport
from factory.commands.options import SCHEMA_PATHS, out_dir_option
from factory.errors import EXIT_OK, EXIT_USER_ERROR


@click.command()
@SCHEMA_PATHS
@out_dir_option("--out", "out_dir", help="Directory holding the generated artifacts and MANIFEST.json.")
@click.option("--base", "base_ref", metavar="GIT_REF", default=None,
              help="Require a sufficient version bump for every schema changed since GIT_REF "
                   "(default: HEAD, in a git repository with a commit).")
@click.option("--fix", is_flag=True, help="Regenerate (as `generate` does), then check again.")
@click.option("--force", is_flag=True,
              help="With --fix: overwrite existing files MANIFEST.json does not record as generated (as "
                   "`generate --force`).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def check(paths: tuple[Path, ...], out_dir: Path, base_ref: str | None, fix: bool, force: bool,
          as_json: bool) -> int:
    """Check that generated/ is exactly what the schemas (default schemas/) generate.

    Reports stale, edited, missing and orphan files, layers that disagree with
    their schema, invalid schemas and insufficient version bumps (since HEAD,
    or --base), each as `path: kind: detail (fix: ...)`. Exit status is 0 when
    clean, 1 with findings. Fast when nothing changed: only hashes are compared.
    """
    from factory.check import fix_and_check, run_check

    if force and not fix:
        raise click.UsageError("--force only applies with --fix")
    if fix:
        # --fix runs the generator anyway; the plain check stays light
        from factory.output import UnownedFilesError, kept_line

        fixed = fix_and_check(list(paths), out_dir, base_ref, force)
        report = fixed.report
        if isinstance(fixed.generate_error, UnownedFilesError):  # the findings alone would not say why
            for problem in fixed.generate_error.problems:
                click.echo(problem.render(), err=True)
            click.echo("check --fix: nothing was regenerated", err=True)
        if not as_json:
            for rel in fixed.written + fixed.removed:
                verb = "wrote" if rel in fixed.written else "removed"
                click.echo(f"{verb} {(out_dir / rel).as_posix()}")
        for rel, why in fixed.kept:  # as `generate` says it: an entry left alone is never silent
            click.echo(kept_line(rel, why), err=True)
    else:
        report = run_check(list(paths), out_dir, base_ref)
    report = in_hook(report, out_dir)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return EXIT_USER_ERROR if report.findings else EXIT_OK
    for finding in report.findings:
        click.echo(finding.render())
    if report.findings:
        noun = "finding" if len(report.findings) == 1 else "findings"
        click.echo(f"check: {len(report.findings)} {noun}", err=True)
        return EXIT_USER_ERROR
    click.echo(f"check: clean ({report.schemas} schema(s), {report.mode} path)")
    return EXIT_OK


def in_hook(report: CheckReport, out_dir: Path) -> CheckReport:
    """Under pre-commit, which sees only the staged tree: unstaged and untracked generated files named."""
    from dataclasses import replace

    from factory.check.findings import unique_sorted
    from factory.check.staging import unstaged_in_hook, untracked_generated, with_stage_hints

    findings = with_stage_hints(report.findings, unstaged_in_hook(), out_dir)
    findings = unique_sorted([*findings, *untracked_generated(out_dir)])
    return replace(report, findings=findings)


@click.command("diff")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=True))
@click.option("--base", "base_ref", metavar="GIT_REF", default=None,
              help="Diff every schema (under FILES, default schemas/) changed since GIT_REF.")
@click.option("--json", "as_json", is_flag=True, help="Print the classification as JSON.")
def diff_schemas(files: tuple[Path, ...], base_ref: str | None, as_json: bool) -> int:
    """Classify the changes between two versions of a schema: `diff OLD NEW` or `diff --base GIT_REF`.

    Each change is breaking, additive or cosmetic; the minimum bump is major,
    minor or patch. Exit status is 1 when the new version's bump is not enough.
    """
    from factory.check.versions import VersionedDiff, diffs_under, load_document
    from factory.schema.diff import diff_documents

    if base_ref is None:
        if len(files) != 2:
            raise click.UsageError("pass OLD and NEW schema files, or --base GIT_REF")
        old, new = files
        results = [VersionedDiff(new.as_posix(), diff_documents(load_document(old), load_document(new)))]
    else:
        results = diffs_under(base_ref, list(files))
    if as_json:
        click.echo(json.dumps({item.display: item.diff.to_json() for item in results}, indent=2, ensure_ascii=False))
    else:
        for item in results:
            click.echo(f"{item.display}: {item.diff.verdict()}")
            for change in item.diff.changes:
                click.echo(f"  {change.path}: {change.kind}: {change.message} [{change.rule}]")
        if not results:
            click.echo("no schema changed" if base_ref else "no change")
    return EXIT_USER_ERROR if any(not item.diff.bump_sufficient for item in results) else EXIT_OK
