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
from typing import Any

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


@main.group()
def batch() -> None:
    """Run CSV files through an agent: analyze, config (and run, status, results)."""


AGENT_OPTION = click.option("--agent", "agent_name", required=True, help="Agent name or extraction name.")
GENERATED_OPTION = click.option(
    "--generated", "generated_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("generated"),
    show_default=True, help="Where the generated agent records and batch mappings are.",
)


@batch.command("analyze")
@click.argument("csv_path", type=click.Path(path_type=Path, dir_okay=False))
@AGENT_OPTION
@GENERATED_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON.")
def batch_analyze(csv_path: Path, agent_name: str, generated_dir: Path, as_json: bool) -> None:
    """Columns, row count, sample rows, inferred types and a suggested column → field mapping.

    The CSV is streamed, so its size does not matter. Exit status 1 when a
    required input field has no column.
    """
    from factory.batch.agents import resolve_agent
    from factory.batch.analyze import analyze_csv

    agent = resolve_agent(agent_name, generated_dir)
    analysis = analyze_csv(csv_path, agent)
    if as_json:
        click.echo(json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(f"{csv_path.as_posix()}: {analysis.row_count} rows, {len(analysis.columns)} columns")
        for column in analysis.columns:
            click.echo(f"  {column}: {analysis.inferred_types[column]}")
        click.echo(f"suggested mapping for {agent.name}:")
        for match in analysis.matches:
            click.echo(f"  {match.column} -> {match.field} ({match.method}, {match.score})")
        if analysis.unused_columns:
            click.echo("unused columns: " + ", ".join(analysis.unused_columns))
        if analysis.unmapped_optional:
            click.echo("optional fields without a column: " + ", ".join(analysis.unmapped_optional))
    if analysis.unmapped_required:
        click.echo(
            "error: required fields without a column: " + ", ".join(analysis.unmapped_required)
            + " (add the columns or map them in a config: schema-factory batch config)",
            err=True,
        )
        sys.exit(EXIT_USER_ERROR)


@batch.command("config")
@click.argument("csv_path", type=click.Path(path_type=Path, dir_okay=False))
@AGENT_OPTION
@GENERATED_OPTION
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the config here instead of printing it.")
def batch_config_command(csv_path: Path, agent_name: str, generated_dir: Path, output: Path | None) -> None:
    """Write a batch config (YAML) for CSV_PATH, from the generated mapping and this CSV's columns.

    Edit it, then pass it to `schema-factory batch run --config`.
    """
    from factory.batch.agents import resolve_agent
    from factory.batch.analyze import analyze_csv, batch_config
    from factory.emit.serialize import yaml_bytes

    agent = resolve_agent(agent_name, generated_dir)
    analysis = analyze_csv(csv_path, agent)
    data = yaml_bytes(batch_config(analysis, agent))
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output.as_posix()}")
    if analysis.unmapped_required:
        click.echo("warning: required fields without a column: " + ", ".join(analysis.unmapped_required)
                   + " (see input_mapping.unmapped_required_fields)", err=True)


def aws_options(function: Any) -> Any:
    """--env/--region/--profile/--endpoint-url/--state-machine-arn/--bucket, gathered into one value."""
    options = [
        click.option("--env", "env_name", default="dev", show_default=True,
                     help="Environment whose shared stack runs the batch (stepfunctions engine)."),
        click.option("--region", default=None, help="AWS region (default: the AWS configuration's)."),
        click.option("--profile", default=None, help="AWS profile."),
        click.option("--endpoint-url", default=None, help="Custom AWS endpoint (LocalStack, moto)."),
        click.option("--state-machine-arn", default=None, help="Batch processor ARN; default: the shared stack's export."),
        click.option("--bucket", default=None, help="Batch bucket; default: the shared stack's export."),
    ]

    def wrapper(**kwargs: Any) -> Any:
        from factory.batch.aws_run import AwsOptions

        keys = ("env_name", "region", "profile", "endpoint_url", "state_machine_arn", "bucket")
        values = {key: kwargs.pop(key) for key in keys}
        kwargs["aws"] = (AwsOptions(values["env_name"], values["region"], values["profile"], values["endpoint_url"]),
                         values["state_machine_arn"], values["bucket"])
        return function(**kwargs)

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def run_on_step_functions(csv_path: Path, agent_name: str, generated_dir: Path, config_path: Path | None,
                          concurrency: int, aws: Any, as_json: bool) -> None:
    from factory.batch.agents import resolve_agent
    from factory.batch.aws_run import aws_client, discover_target, start_batch
    from factory.batch.local_run import check_columns, check_ready, load_mapping, suggested_mapping
    from factory.batch import csv_source

    options, arn, bucket = aws
    agent = resolve_agent(agent_name, generated_dir)
    mapping = load_mapping(config_path, agent) if config_path else suggested_mapping(csv_path, agent, as_json)
    check_columns(mapping, csv_source.header(csv_path), csv_path.as_posix())
    check_ready(agent, mapping, csv_path.as_posix())
    target = discover_target(aws_client(options, "cloudformation"), options.env_name, arn, bucket)
    started = start_batch(aws_client(options, "s3"), aws_client(options, "stepfunctions"), target, csv_path,
                          mapping, agent.name, concurrency)
    if as_json:
        click.echo(json.dumps({k: v for k, v in started.items() if k != "request"}, indent=2))
    else:
        click.echo(f"uploaded {started['csv_uri']}")
        click.echo(f"started {started['execution_arn']}")
        click.echo(f"follow it with: schema-factory batch status '{started['execution_arn']}'")


STORE_OPTION = click.option(
    "--store", "store_path", type=click.Path(path_type=Path, dir_okay=False),
    default=Path(".schema-factory") / "results.sqlite", show_default=True,
    help="Local result store (SQLite) for the local engine.",
)


@batch.command("run")
@click.argument("csv_path", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("--agent", "agent_name", help="Agent name or extraction name (not needed with --resume).")
@GENERATED_OPTION
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Batch config from `batch config`; default: the generated batch mapping.")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Results CSV; default: <csv>.results.csv beside the input.")
@click.option("--engine", type=click.Choice(["local", "stepfunctions"]), default="local", show_default=True)
@click.option("--invoke", "invoke_spec",
              help="How to call the agent: module:function, http(s)://URL, exec:COMMAND, or a state machine ARN.")
@click.option("--resume", "resume_id", help="Re-run the rows of this local batch that are not SUCCESS or PARTIAL.")
@click.option("--concurrency", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0.001), default=300.0, show_default=True,
              help="Seconds one agent call may take.")
@click.option("--retries", type=click.IntRange(0, 20), default=2, show_default=True,
              help="Retries per row after a failed call, with exponential backoff.")
@STORE_OPTION
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary at the end.")
@aws_options
def batch_run(csv_path: Path | None, agent_name: str | None, generated_dir: Path, config_path: Path | None,
              out_path: Path | None, engine: str, invoke_spec: str | None, resume_id: str | None, concurrency: int,
              timeout: float, retries: int, store_path: Path, quiet: bool, as_json: bool, aws: Any) -> None:
    """Run every row of CSV_PATH through an agent and write the results CSV.

    The local engine keeps each finished row in the result store, so a crash
    or Ctrl-C loses nothing: `--resume BATCH_ID` runs only the rows left.
    Exit status: 0 when every row succeeded, 1 when any failed, 130 when
    interrupted, 2 for usage errors.
    """
    from factory.batch.agents import resolve_agent
    from factory.batch.engine import RunOptions
    from factory.batch.invokers import make_invoker
    from factory.batch.local_run import LocalRunRequest, default_out_path, load_mapping, run_local, suggested_mapping
    from factory.batch.local_store import LocalResultStore

    if engine == "stepfunctions":
        if resume_id or csv_path is None or agent_name is None:
            raise click.UsageError("--engine stepfunctions needs CSV_PATH and --agent (and has no --resume)")
        run_on_step_functions(csv_path, agent_name, generated_dir, config_path, concurrency, aws, as_json)
        return
    store = LocalResultStore(store_path)
    if resume_id:
        info = store.batch(resume_id)
        csv_path = Path(info.csv_path)
        agent = resolve_agent(agent_name or info.agent_name, generated_dir)
        mapping = info.config["mapping"]
        out_path = out_path or Path(info.config["out"])
    else:
        if csv_path is None or agent_name is None:
            raise click.UsageError("give CSV_PATH and --agent (or --resume BATCH_ID)")
        agent = resolve_agent(agent_name, generated_dir)
        mapping = load_mapping(config_path, agent) if config_path else suggested_mapping(csv_path, agent, quiet)
        out_path = out_path or default_out_path(csv_path)
    spec = invoke_spec or agent.record.get("invoke") or agent.record.get("state_machine_arn")
    if not spec:
        raise click.UsageError(f"agent {agent.name!r} has no state_machine_arn; say how to call it with --invoke")
    invoker = make_invoker(spec, concurrency=concurrency, sfn_client=lambda: __import__("boto3").client("stepfunctions"))
    options = RunOptions(concurrency=concurrency, timeout=timeout, retries=retries)
    request = LocalRunRequest(csv_path, agent, mapping, out_path, options, resume_id)
    resume = f"schema-factory batch run --resume '{{}}' --store {store_path.as_posix()}" + (
        f" --invoke '{invoke_spec}'" if invoke_spec else "")
    summary, aggregate = run_local(request, invoker, store, quiet=quiet or as_json,
                                   resume_hint=lambda batch_id: resume.format(batch_id))
    result = {
        "batch_id": summary.batch_id, "rows": summary.total, "skipped": summary.skipped, "counts": summary.counts,
        "interrupted": summary.interrupted, "elapsed_s": round(summary.elapsed_s, 3),
        "results_csv": out_path.as_posix() if aggregate else None,
    }
    if as_json:
        click.echo(json.dumps(result, indent=2))
    elif summary.interrupted:
        click.echo(f"interrupted: finished rows are stored. Resume with:\n  {resume.format(summary.batch_id)}", err=True)
    else:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()))
        click.echo(f"batch {summary.batch_id}: {summary.total} rows ({counts}); results in {out_path.as_posix()}")
    if summary.interrupted:
        sys.exit(130)
    sys.exit(EXIT_USER_ERROR if summary.failed else EXIT_OK)


@batch.command("status")
@click.argument("batch_id", required=False)
@STORE_OPTION
@click.option("--json", "as_json", is_flag=True)
@aws_options
def batch_status(batch_id: str | None, store_path: Path, as_json: bool, aws: Any) -> None:
    """Counts by status for one batch (a local batch id or an execution ARN), or every local batch."""
    from factory.batch.aws_run import aws_client, execution_status, is_execution_arn
    from factory.batch.local_store import LocalResultStore

    if batch_id and is_execution_arn(batch_id):
        status = execution_status(aws_client(aws[0], "stepfunctions"), batch_id)
        if as_json:
            click.echo(json.dumps(status, indent=2))
        else:
            counts = (status.get("summary") or {}).get("counts")
            click.echo(f"{batch_id}  {status['state']}" + (f"  {counts}" if counts else "")
                       + (f"  {status.get('error')}: {status.get('cause')}" if status.get("error") else ""))
        return

    store = LocalResultStore(store_path)
    infos = [store.batch(batch_id)] if batch_id else store.batches()
    report = [{"batch_id": i.batch_id, "agent": i.agent_name, "state": i.state, "created_at": i.created_at,
               "counts": store.counts(i.batch_id)} for i in infos]
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for entry in report:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(entry["counts"].items())) or "no rows yet"
        click.echo(f"{entry['batch_id']}  {entry['state']}  {entry['agent']}  {counts}")


@batch.command("results")
@click.argument("batch_id")
@STORE_OPTION
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write the results CSV.")
@aws_options
def batch_results(batch_id: str, store_path: Path, output: Path, aws: Any) -> None:
    """Write a batch's results as CSV (rows in input order): local batch id or execution ARN."""
    from factory.batch import csv_source
    from factory.batch.aws_run import aws_client, download_results, is_execution_arn

    if is_execution_arn(batch_id):
        status = download_results(aws_client(aws[0], "s3"), aws_client(aws[0], "stepfunctions"), batch_id, output)
        click.echo(f"wrote {output.as_posix()}: {status['summary'].get('rows')} rows")
        return
    from factory.batch.local_run import write_results
    from factory.batch.local_store import LocalResultStore

    store = LocalResultStore(store_path)
    info = store.batch(batch_id)
    columns = csv_source.header(Path(info.csv_path)) if Path(info.csv_path).is_file() else None
    summary = write_results(store, batch_id, info.config["mapping"], columns, output)
    click.echo(f"wrote {output.as_posix()}: {summary.rows} rows")


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
