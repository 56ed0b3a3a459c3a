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


# -- registries: register, list, show, deprecate, archive ----------------------
# Thin wiring over factory.registry; every rule lives in factory/registry/service.py.


def registry_options(command):  # type: ignore[no-untyped-def]
    """The options every registry command shares: which registry, and how to reach it."""
    options = [
        click.option("--env", "env_name", default=None, envvar="SCHEMA_FACTORY_ENV",
                     help="Environment: tables TemplateRegistry-ENV / AgentRegistry-ENV; 'local' is the embedded "
                          "file. Default: dev where AWS is configured, else local."),
        click.option("--backend", type=click.Choice(["auto", "dynamodb", "sqlite"]), default="auto",
                     show_default=True, help="auto: DynamoDB when AWS is configured, else the embedded file."),
        click.option("--region", default=None, help="AWS region (default: the AWS environment's)."),
        click.option("--profile", default=None, help="AWS profile."),
        click.option("--endpoint-url", default=None, help="DynamoDB endpoint (DynamoDB Local, LocalStack, moto)."),
        click.option("--template-table", default=None, help="Template table name (default TemplateRegistry-ENV)."),
        click.option("--agent-table", default=None, help="Agent table name (default AgentRegistry-ENV)."),
        click.option("--registry-file", type=click.Path(path_type=Path, dir_okay=False),
                     default=Path(".schema-factory") / "registry.sqlite", show_default=True,
                     help="The embedded registry file."),
        click.option("--page-size", type=click.IntRange(min=1), default=None, hidden=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _open_registry(env_name: str | None, backend: str, region: str | None, profile: str | None,
                   endpoint_url: str | None, template_table: str | None, agent_table: str | None,
                   registry_file: Path, page_size: int | None):  # type: ignore[no-untyped-def]
    from factory.registry.connect import RegistryOptions, open_registry

    return open_registry(
        RegistryOptions(env_name, backend, region, profile, endpoint_url, template_table, agent_table,
                        registry_file, page_size),
        notice=lambda text: click.echo(text, err=True),
    )


@main.command()
@SCHEMA_PATHS
@registry_options
@click.option("--generated-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("generated"),
              show_default=True, help="Where the generated records to register are.")
@click.option("--create-tables", is_flag=True, help="Create both tables and their indexes first (dev endpoints).")
@click.option("--account", default=None, help="AWS account id for the state machine ARN (default: from STS).")
@click.option("--no-arn", is_flag=True, help="Do not put a state_machine_arn on agent records.")
@click.option("--dry-run", is_flag=True, help="Show what would be written (new / unchanged / conflict); write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome of each schema as JSON.")
def register(paths: tuple[Path, ...], generated_dir: Path, create_tables: bool, account: str | None,
             no_arn: bool, dry_run: bool, as_json: bool, **options) -> None:  # type: ignore[no-untyped-def]
    """Register each schema's browser template and agent record (default schemas/).

    Records come from the generated files, which must match what `generate`
    makes now. A registered version is immutable: identical content again is
    `unchanged`; different content is refused (bump the version). Exit 1 on
    any conflict.
    """
    from factory.registry.connect import agent_arns
    from factory.registry.records import now_iso
    from factory.registry.service import build_pairs, conflict_problems, register as register_pairs
    from factory.registry.sources import read_generated_records

    registry = _open_registry(**options)
    records = read_generated_records(list(paths), generated_dir)
    if create_tables and not dry_run:
        registry.create_tables()
    arns = agent_arns(registry, records, account, options["region"], no_arn)
    results = register_pairs(registry, build_pairs(records, now_iso(), arns), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({"registry": registry.describe(), "env": registry.env_name, "dry_run": dry_run,
                               "results": [result.as_dict() for result in results]}, indent=2, ensure_ascii=False))
    else:
        for result in results:
            click.echo(f"{'[dry run] ' if dry_run else ''}{result.outcome}: {result.template_id} {result.version} "
                       f"(template {result.template}, agent {result.agent_name} {result.agent})")
        counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in ("new", "unchanged", "conflict")}
        click.echo(f"{'dry run: ' if dry_run else ''}{len(results)} schema(s) in {registry.describe()}: "
                   f"{counts['new']} new, {counts['unchanged']} unchanged, {counts['conflict']} conflict")
    problems = conflict_problems(results, registry)
    if problems:
        raise FactoryError(problems)


@main.command(name="list")
@registry_options
@click.option("--status", type=click.Choice(["active", "deprecated", "archived"]), default=None,
              help="Only versions in this status.")
@click.option("--tag", default=None, help="Only templates whose latest version carries this tag.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_command(status: str | None, tag: str | None, as_json: bool, **options) -> None:  # type: ignore[no-untyped-def]
    """List registered templates: latest version, status, version count, created_at."""
    from factory.registry.service import list_templates

    summaries = list_templates(_open_registry(**options), status=status, tag=tag)
    if as_json:
        click.echo(json.dumps([summary.as_dict() for summary in summaries], indent=2, ensure_ascii=False))
        return
    for s in summaries:
        click.echo(f"{s.template_id}  {s.version}  {s.status}  {s.versions} version(s)  created {s.created_at}")
    click.echo(f"{len(summaries)} template(s)")


@main.command()
@click.argument("template_id")
@registry_options
@click.option("--version", "version", default=None, help="A version (default: the newest semantic version).")
def show(template_id: str, version: str | None, **options) -> None:  # type: ignore[no-untyped-def]
    """Print one registered template item as JSON."""
    from factory.registry.records import to_plain
    from factory.registry.service import show_template

    item = show_template(_open_registry(**options), template_id, version)
    click.echo(json.dumps(to_plain(item), indent=2, ensure_ascii=False))


def _move(template_id: str, version: str, target: str, options: dict) -> None:  # type: ignore[type-arg]
    from factory.registry.service import move_status

    change = move_status(_open_registry(**options), template_id, version, target)
    if not change.moved:
        click.echo(f"unchanged: {template_id} {version} is already {change.status}")
        return
    agents = f" (and agent {', '.join(change.agents)})" if change.agents else ""
    click.echo(f"{template_id} {version}: {change.previous} -> {change.status}{agents}")


@main.command()
@click.argument("template_id")
@registry_options
@click.option("--version", "version", required=True, help="The version to deprecate.")
def deprecate(template_id: str, version: str, **options) -> None:  # type: ignore[no-untyped-def]
    """Mark a registered version deprecated (active -> deprecated; never back)."""
    _move(template_id, version, "deprecated", options)


@main.command()
@click.argument("template_id")
@registry_options
@click.option("--version", "version", required=True, help="The version to archive.")
def archive(template_id: str, version: str, **options) -> None:  # type: ignore[no-untyped-def]
    """Mark a registered version archived (the last status; items are never deleted)."""
    _move(template_id, version, "archived", options)
