"""The `schema-factory` command line: parse, call one function, print.

Every command returns an exit status (`factory.errors.EXIT_*`) and this
group turns it into the process's exit code, in one place. User errors
arrive here as `FactoryError` and leave as one line per problem on stderr
with `EXIT_USER_ERROR` (1); click's usage errors keep `EXIT_USAGE` (2);
anything unexpected is a bug of ours: a one-line internal error with
`EXIT_INTERNAL` (70) unless `--debug` asks for the traceback. A reader that
stops reading (`schema-factory ... | head`) ends the program quietly with
`EXIT_BROKEN_PIPE` (141), as a shell reports a program SIGPIPE ended.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from factory import __version__
from factory.commands.options import SCHEMA_PATHS, out_dir_option
from factory.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_OK, EXIT_USER_ERROR, FactoryError
from factory.terminal import printable


def _quiet_stdout() -> None:
    """The reader is gone: point stdout at /dev/null so the final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests): nothing to flush
        pass


class FactoryGroup(click.Group):
    """Maps command results and our error family to exit codes in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        ctx.exit(self._status(ctx))

    def _status(self, ctx: click.Context) -> int:
        """The exit status of the command `ctx` runs: what it returned, or what its error means."""
        try:
            status = super().invoke(ctx)
        except FactoryError as err:
            for problem in err.problems:
                click.echo(problem.render(), err=True)
            noun = "problem" if len(err.problems) == 1 else "problems"
            click.echo(f"error: {len(err.problems)} {noun}", err=True)
            return EXIT_USER_ERROR
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            _quiet_stdout()
            return EXIT_BROKEN_PIPE
        except Exception as err:  # noqa: BLE001 - the last line of defence
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(printable(f"internal error: {type(err).__name__}: {err} (rerun with --debug for the traceback)"),
                       err=True)
            return EXIT_INTERNAL
        return status if isinstance(status, int) else EXIT_OK


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




@main.command()
@SCHEMA_PATHS
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
def validate(paths: tuple[Path, ...], as_json: bool) -> int:
    """Check schemas (files or directories; default schemas/) and report every problem.

    Agent output-schema files (`<agent>.yaml` beside the schemas) are checked too.

    Each problem is printed as `file: $.json.path: message (hint)`. Exit status
    is 0 when every schema is valid, 1 otherwise.
    """
    from factory.generation import validate_all

    loaded, problems, output_schemas = validate_all(list(paths))
    if as_json:
        click.echo(json.dumps({
            "valid": [item.source.display for item in loaded] + [item.display for item in output_schemas]
            if not problems else [],
            "problems": [problem.to_json() for problem in problems],
        }, indent=2, ensure_ascii=False))
        return EXIT_USER_ERROR if problems else EXIT_OK
    if problems:
        raise FactoryError(problems)
    for item in loaded:
        click.echo(f"ok: {item.source.display} ({item.schema.extraction_name} {item.schema.version})")
    for output_schema in output_schemas:
        document = output_schema.document or {}
        click.echo(f"ok: {output_schema.display} (output schema of {document.get('agent')} {document.get('version')})")
    return EXIT_OK


@main.command("meta-schema")
def meta_schema_command() -> int:
    """Print the JSON Schema of the canonical schema: the one `validate` checks every schema against first.

    Point an editor at it (VS Code: `json.schemas`, see docs/schemas.md) for
    completion and inline errors while writing schemas/*.json.
    """
    from factory.schema.loader import meta_schema

    click.echo(json.dumps(meta_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


@main.command()
@SCHEMA_PATHS
@out_dir_option("--out", "out_dir", help="Directory to write artifacts and MANIFEST.json into.")
@click.option("--form", type=click.Choice(["standalone", "step-functions-agent"]), default=None,
              help="Agent form (overrides schema-factory.toml and pyproject.toml [tool.schema-factory]).")
@click.option("--edit-app", is_flag=True,
              help="step-functions-agent form: add the new stacks to OUT/app.py (idempotent).")
@click.option("--force", is_flag=True,
              help="Overwrite existing files that MANIFEST.json does not record as generated (or that were "
                   "edited since); without it generate refuses and writes nothing.")
def generate(paths: tuple[Path, ...], out_dir: Path, form: str | None, edit_app: bool, force: bool) -> int:
    """Generate every artifact for schemas (files or directories; default schemas/).

    Output is deterministic: the same schemas give byte-identical files.
    Files this tool generated before and no longer produces are removed;
    files it never generated are left alone. An existing file it would
    overwrite must be one it wrote (listed in MANIFEST.json with the hash of
    its bytes): otherwise nothing is written and each such file is named,
    unless --force is given.
    """
    from factory.commands.agent_form import after_generate
    from factory.generation import generate_to_disk
    from factory.output import kept_line

    result = generate_to_disk(list(paths), out_dir, form, force)
    report = result.report
    for rel in report.written:
        click.echo(f"wrote {(out_dir / rel).as_posix()}")
    for rel in report.removed:
        click.echo(f"removed {(out_dir / rel).as_posix()}")
    for rel, why in report.kept:
        click.echo(kept_line(rel, why), err=True)
    click.echo(
        f"{len(result.schemas)} schema(s): {len(report.written)} written, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
    )
    after_generate(result, out_dir, edit_app)
    return EXIT_OK


def _add_commands() -> None:
    """Each command group lives in its own module under factory/commands/."""
    from factory.commands import batch, cdk_app, check, registry

    main.add_command(batch.batch)
    main.add_command(cdk_app.cdk_app)  # hidden: generated/cdk.json runs it, people run `npx cdk`
    for command in (registry.register, registry.list_command, registry.show, registry.deprecate, registry.archive,
                    check.check, check.diff_schemas):
        main.add_command(command)


_add_commands()
