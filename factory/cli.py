"""The `schema-factory` command line: parse, call one function, print.

All user errors arrive here as `FactoryError` and leave as one line per
problem on stderr with exit status 1; click's usage errors keep status 2;
anything unexpected is a one-line internal error unless `--debug` asks for
the traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from factory import __version__
from factory.errors import FactoryError

EXIT_OK = 0
EXIT_USER_ERROR = 1


class FactoryGroup(click.Group):
    """Maps our error family to exit codes in one place."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except FactoryError as err:
            for problem in err.problems:
                click.echo(problem.render(), err=True)
            noun = "problem" if len(err.problems) == 1 else "problems"
            click.echo(f"error: {len(err.problems)} {noun}", err=True)
            ctx.exit(EXIT_USER_ERROR)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as err:  # noqa: BLE001 - the last line of defence
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"internal error: {type(err).__name__}: {err} (rerun with --debug for the traceback)", err=True)
            ctx.exit(EXIT_USER_ERROR)


@click.group(cls=FactoryGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="schema-factory")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for unexpected errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Turn canonical extraction schemas into every downstream artifact.

    A canonical schema (schemas/<extraction_name>.json) describes one
    extraction task: its input, its output, and how the browser reaches the
    page. `generate` writes the CDK agent stack, browser template, tool specs,
    batch mapping and AgentRegistry record for each schema into generated/.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


SCHEMA_PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(path_type=Path, exists=False, dir_okay=True, file_okay=True)
)


@main.command()
@SCHEMA_PATHS
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
def validate(paths: tuple[Path, ...], as_json: bool) -> None:
    """Check schemas (files or directories; default schemas/) and report every problem.

    Each problem is printed as `file: $.json.path: message (hint)`. Exit status
    is 0 when every schema is valid, 1 otherwise.
    """
    from factory.generation import validate_paths

    loaded, problems = validate_paths(list(paths))
    if as_json:
        click.echo(json.dumps({
            "valid": [item.source.display for item in loaded] if not problems else [],
            "problems": [problem.__dict__ for problem in problems],
        }, indent=2, ensure_ascii=False))
        sys.exit(EXIT_USER_ERROR if problems else EXIT_OK)
    if problems:
        raise FactoryError(problems)
    for item in loaded:
        click.echo(f"ok: {item.source.display} ({item.schema.extraction_name} {item.schema.version})")


@main.command()
@SCHEMA_PATHS
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("generated"),
              show_default=True, help="Directory to write artifacts and MANIFEST.json into.")
def generate(paths: tuple[Path, ...], out_dir: Path) -> None:
    """Generate every artifact for schemas (files or directories; default schemas/).

    Output is deterministic: the same schemas give byte-identical files.
    Files this tool generated before and no longer produces are removed;
    files it never generated are left alone.
    """
    from factory.generation import generate_to_disk

    result = generate_to_disk(list(paths), out_dir)
    report = result.report
    for rel in report.written:
        click.echo(f"wrote {(out_dir / rel).as_posix()}")
    for rel in report.removed:
        click.echo(f"removed {(out_dir / rel).as_posix()}")
    click.echo(
        f"{len(result.schemas)} schema(s): {len(report.written)} written, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
    )


@main.command()
@SCHEMA_PATHS
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("generated"),
              show_default=True, help="Directory holding the generated artifacts and MANIFEST.json.")
@click.option("--base", "base_ref", metavar="GIT_REF", default=None,
              help="Also require a sufficient version bump for every schema changed since GIT_REF.")
@click.option("--fix", is_flag=True, help="Regenerate (as `generate` does), then check again.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def check(paths: tuple[Path, ...], out_dir: Path, base_ref: str | None, fix: bool, as_json: bool) -> None:
    """Check that generated/ is exactly what the schemas (default schemas/) generate.

    Reports stale, edited, missing and orphan files, layers that disagree with
    their schema, invalid schemas and (with --base) insufficient version bumps,
    each as `path: kind: detail (fix: ...)`. Exit status is 0 when clean, 1
    with findings. Fast when nothing changed: only hashes are compared.
    """
    from factory.check import fix_and_check, run_check

    if fix:
        fixed = fix_and_check(list(paths), out_dir, base_ref)
        report = fixed.report
        if not as_json:
            for rel in fixed.written + fixed.removed:
                verb = "wrote" if rel in fixed.written else "removed"
                click.echo(f"{verb} {(out_dir / rel).as_posix()}")
    else:
        report = run_check(list(paths), out_dir, base_ref)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        sys.exit(EXIT_USER_ERROR if report.findings else EXIT_OK)
    for finding in report.findings:
        click.echo(finding.render())
    if report.findings:
        noun = "finding" if len(report.findings) == 1 else "findings"
        click.echo(f"check: {len(report.findings)} {noun}", err=True)
        sys.exit(EXIT_USER_ERROR)
    click.echo(f"check: clean ({report.schemas} schema(s), {report.mode} path)")


@main.command("diff")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=True))
@click.option("--base", "base_ref", metavar="GIT_REF", default=None,
              help="Diff every schema (under FILES, default schemas/) changed since GIT_REF.")
@click.option("--json", "as_json", is_flag=True, help="Print the classification as JSON.")
def diff_schemas(files: tuple[Path, ...], base_ref: str | None, as_json: bool) -> None:
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
    sys.exit(EXIT_USER_ERROR if any(not item.diff.bump_sufficient for item in results) else EXIT_OK)
