"""`register`, `list`, `show`, `deprecate`, `archive`: thin wiring over factory.registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from factory.commands.options import SCHEMA_PATHS, check_env, out_dir_option
from factory.errors import EXIT_OK, FactoryError
from factory.terminal import printable

if TYPE_CHECKING:
    from factory.registry.agent_output_schemas import OutputSchemaRegistration
    from factory.registry.connect import RegistryOptions
    from factory.registry.protocol import Registry
    from factory.registry.service import Registration, ToolRegistration


# -- registries: register, list, show, deprecate, archive ----------------------
# Thin wiring over factory.registry; every rule lives in factory/registry/service.py.


REGISTRY_KEYS = ("env_name", "backend", "region", "profile", "endpoint_url", "template_table", "agent_table",
                 "tool_table", "registry_file", "page_size")


def registry_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options every registry command shares, gathered into one typed `RegistryOptions` passed as `options`."""

    def wrapper(**kwargs: Any) -> Any:
        from factory.registry.connect import RegistryOptions

        kwargs["options"] = RegistryOptions(**{key: kwargs.pop(key) for key in REGISTRY_KEYS})
        return function(**kwargs)

    wrapper.__name__, wrapper.__doc__ = function.__name__, function.__doc__
    # options declared below this decorator were already attached to `function`: carry them over
    setattr(wrapper, "__click_params__", list(getattr(function, "__click_params__", [])))
    options = [
        click.option("--env", "env_name", default=None, envvar="SCHEMA_FACTORY_ENV", callback=check_env,
                     help="Environment: tables TemplateRegistry-ENV / AgentRegistry-ENV; 'local' is the embedded "
                          "file. Default: dev where AWS is configured, else local."),
        click.option("--backend", type=click.Choice(["auto", "dynamodb", "sqlite"]), default="auto",
                     show_default=True, help="auto: DynamoDB when AWS is configured, else the embedded file."),
        click.option("--region", default=None, help="AWS region (default: the AWS environment's)."),
        click.option("--profile", default=None, help="AWS profile."),
        click.option("--endpoint-url", default=None, help="DynamoDB endpoint (DynamoDB Local, LocalStack, moto)."),
        click.option("--template-table", default=None, help="Template table name (default TemplateRegistry-ENV)."),
        click.option("--agent-table", default=None, help="Agent table name (default AgentRegistry-ENV)."),
        click.option("--tool-table", default=None, help="Tool table name (default ToolRegistry-ENV)."),
        click.option("--registry-file", type=click.Path(path_type=Path, dir_okay=False),
                     default=Path(".schema-factory") / "registry.sqlite", show_default=True,
                     help="The embedded registry file."),
        click.option("--page-size", type=click.IntRange(min=1), default=None, hidden=True),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _open_registry(options: RegistryOptions) -> Registry:
    from factory.registry.connect import open_registry

    return open_registry(options, notice=lambda text: click.echo(text, err=True))


@click.command()
@SCHEMA_PATHS
@registry_options
@out_dir_option("--generated-dir", help="Where the generated records to register are.")
@click.option("--create-tables", is_flag=True, help="Create the three registry tables and their indexes first (dev endpoints).")
@click.option("--account", default=None, help="AWS account id for the state machine ARN (default: from STS).")
@click.option("--no-arn", is_flag=True, help="Do not put a state_machine_arn on agent records.")
@click.option("--dry-run", is_flag=True, help="Show what would be written (new / unchanged / conflict); write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome of each schema as JSON.")
def register(paths: tuple[Path, ...], generated_dir: Path, create_tables: bool, account: str | None,
             no_arn: bool, dry_run: bool, as_json: bool, options: RegistryOptions) -> int:
    """Register each schema's browser template, agent record and tools (default schemas/).

    Records come from the generated files, which the check's fast path must
    find current; naming only output-schema files (`schemas/<agent>.yaml`)
    registers just those and needs no generated tree. A registered version is immutable: identical content again
    is `unchanged`; different content is refused (bump the version). Exit 1 on
    any conflict; a run with a conflict writes nothing. A ToolRegistry item
    another writer owns (its author is not schema-factory) is kept as it is,
    not a conflict; in the step-functions-agent form no AgentRegistry record
    is written (each agent's stack registers its own).
    """
    from factory.registration import RegisterRequest, register_from_disk

    request = RegisterRequest(list(paths), generated_dir, create_tables, account, no_arn, dry_run)
    outcome = register_from_disk(options, request, notice=lambda text: click.echo(text, err=True))
    run = outcome.run
    if as_json:
        click.echo(json.dumps(outcome.as_dict(), indent=2, ensure_ascii=False))
    else:
        _print_registration(run.schemas, run.tools, outcome.registry, dry_run, bool(run.problems))
        _print_output_schemas(run.output_schemas, dry_run)
    if run.problems:
        raise FactoryError(run.problems)
    return EXIT_OK


def _print_registration(results: list[Registration], tools: list[ToolRegistration], where: str, dry_run: bool,
                        refused: bool) -> None:
    """One line per schema and per tool saying what was written, then the totals."""
    def state(outcome: str, written: bool) -> str:
        if outcome in ("unchanged", "kept", "conflict") or dry_run:
            return outcome
        return f"{outcome} (written)" if written else f"{outcome} (NOT written: the run has a conflict)"

    def tool_state(tool: ToolRegistration) -> str:
        if tool.outcome == "owned":  # another writer's item under the same name: theirs stands, untouched
            shown = printable(str(tool.owner)[:80])  # their data
            return f"kept (owned by {shown})"
        return state(tool.outcome, tool.written)

    prefix = "[dry run] " if dry_run else ""
    for result in results:
        agent = (f"agent {result.agent_name} left to {result.agent_registered_by}" if result.agent_registered_by
                 else f"agent {result.agent_name} {result.agent}")
        click.echo(f"{prefix}{state(result.outcome, result.written)}: {result.template_id} {result.version} "
                   f"(template {result.template}, {agent})")
    for tool in tools:
        click.echo(f"{prefix}{tool_state(tool)}: tool {tool.tool_name} {tool.version}")
    counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in ("new", "unchanged", "conflict")}
    written = sum(r.written for r in results)
    tools_written = sum(t.written for t in tools)
    summary = (f"{len(results)} schema(s) in {where}: {counts['new']} new, {counts['unchanged']} unchanged, "
               f"{counts['conflict']} conflict; {written} schema(s) and {tools_written} tool(s) written")
    if dry_run:
        summary = f"dry run: {summary.rsplit(';', 1)[0]}; nothing written"
    elif refused:
        summary += " (nothing is written when any schema or tool conflicts)"
    owned = sum(t.outcome == "owned" for t in tools)
    if owned:
        summary += f"; {owned} tool(s) left to the writer that owns them"
    stacks = sum(r.agent_registered_by is not None for r in results)
    if stacks:
        summary += (f"; {stacks} agent record(s) not written: in the step-functions-agent form each agent's "
                    "stack registers it (BaseAgentConstruct)")
    click.echo(summary)


def _print_output_schemas(results: list[OutputSchemaRegistration], dry_run: bool) -> None:
    """One line per other agent's output schema: what happened and to which record."""
    for result in results:
        state: str = result.outcome
        if not dry_run and result.outcome in ("new", "updated"):
            state += " (written)" if result.written else " (NOT written: the run has a conflict)"
        what = "new minimal record" if result.created else f"record version {result.record_version}"
        click.echo(f"{'[dry run] ' if dry_run else ''}{state}: output schema {result.agent_name} "
                   f"{result.version} ({what})")


@click.command(name="list")
@registry_options
@click.option("--status", type=click.Choice(["active", "deprecated", "archived"]), default=None,
              help="Only versions in this status.")
@click.option("--tag", default=None, help="Only templates whose latest version carries this tag.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_command(status: str | None, tag: str | None, as_json: bool, options: RegistryOptions) -> int:
    """List registered templates: latest version, status, version count, created_at."""
    from factory.registry.service import list_templates

    summaries = list_templates(_open_registry(options), status=status, tag=tag)
    if as_json:
        click.echo(json.dumps([summary.as_dict() for summary in summaries], indent=2, ensure_ascii=False))
        return EXIT_OK
    for s in summaries:
        click.echo(f"{s.template_id}  {s.version}  {s.status}  {s.versions} version(s)  created {s.created_at}")
    click.echo(f"{len(summaries)} template(s)")
    return EXIT_OK


@click.command()
@click.argument("template_id")
@registry_options
@click.option("--version", "version", default=None, help="A version (default: the newest semantic version).")
def show(template_id: str, version: str | None, options: RegistryOptions) -> int:
    """Print one registered template item as JSON."""
    from factory.registry.records import to_plain
    from factory.registry.service import show_template

    item = show_template(_open_registry(options), template_id, version)
    click.echo(json.dumps(to_plain(item), indent=2, ensure_ascii=False))
    return EXIT_OK


def _move(template_id: str, version: str, target: str, options: RegistryOptions) -> int:
    from factory.registry.service import move_status

    change = move_status(_open_registry(options), template_id, version, target)
    if not change.moved:
        click.echo(f"unchanged: {template_id} {version} is already {change.status}")
        return EXIT_OK
    agents = f" (and agent {', '.join(change.agents)})" if change.agents else ""
    click.echo(f"{template_id} {version}: {change.previous} -> {change.status}{agents}")
    return EXIT_OK


@click.command()
@click.argument("template_id")
@registry_options
@click.option("--version", "version", required=True, help="The version to deprecate.")
def deprecate(template_id: str, version: str, options: RegistryOptions) -> int:
    """Mark a registered version deprecated (active -> deprecated; never back)."""
    return _move(template_id, version, "deprecated", options)


@click.command()
@click.argument("template_id")
@registry_options
@click.option("--version", "version", required=True, help="The version to archive.")
def archive(template_id: str, version: str, options: RegistryOptions) -> int:
    """Mark a registered version archived (the last status; items are never deleted)."""
    return _move(template_id, version, "archived", options)
