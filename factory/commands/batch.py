"""`schema-factory batch ...`: analyze, config, run (local or Step Functions), status, results.

Parse, call `factory.batch.plan` (the layer the orchestrator tools call too),
print. Exit statuses come from `factory.errors`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from factory.commands.options import check_env, out_dir_option
from factory.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR
from factory.terminal import printable

if TYPE_CHECKING:  # the batch layer is imported inside each command: `--help` and other commands skip it
    from factory.batch.analyze import Analysis
    from factory.batch.aws_run import AwsOptions
    from factory.batch.plan import LocalPlan, RunOutcome, RunRequest
    from factory.batch.targets import OutputSchemas
    from factory.registry.options import RegistryOptions


@click.group()
def batch() -> None:
    """Run CSV files through an agent: analyze, config, run, status, results, report."""


AGENT_OPTION = click.option("--agent", "agent_name", required=True,
                            help="Target: our agent's name or extraction name, or a registered agent's name.")
GENERATED_OPTION = out_dir_option("--generated", "generated_dir",
                                  help="Where the generated agent records and batch mappings are.")
SCHEMAS_OPTION = click.option(
    "--schemas", "schemas_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("schemas"),
    show_default=True, help="Where targets' registered output schemas (<agent>.yaml) are; read before the registry.",
)
# A target we did not make with no schemas/<agent>.yaml: its output schema is read from its AgentRegistry
# record, in the registry the registry commands would use with the same flags.
REGISTRY_FLAGS = (
    click.option("--registry-env", default=None, envvar="SCHEMA_FACTORY_ENV", callback=check_env,
                 help="Registry environment to read registered output schemas from (AgentRegistry-ENV), as the "
                      "registry commands' --env: default $SCHEMA_FACTORY_ENV, else dev where AWS is configured, "
                      "else local (the embedded file)."),
    click.option("--registry-backend", type=click.Choice(["auto", "dynamodb", "sqlite", "none"]), default="auto",
                 show_default=True, help="auto: DynamoDB when AWS is configured, else the embedded file; "
                                         "none: read no registry."),
    click.option("--registry-file", type=click.Path(path_type=Path, dir_okay=False),
                 default=Path(".schema-factory") / "registry.sqlite", show_default=True,
                 help="The embedded registry file (as `schema-factory register --registry-file`)."),
    click.option("--registry-endpoint-url", default=None,
                 help="DynamoDB endpoint of the registry (DynamoDB Local, LocalStack, moto)."),
    click.option("--agent-table", default=None, help="Agent table name (default AgentRegistry-ENV)."),
)
REGISTRY_KEYS = ("registry_env", "registry_backend", "registry_file", "registry_endpoint_url", "agent_table")


def registry_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The registry flags, gathered into `registry` (a `RegistryOptions`, None with --registry-backend none).

    DynamoDB's region and profile are the command's --region/--profile where it has them (run), else the
    AWS environment's.
    """

    def wrapper(**kwargs: Any) -> Any:
        from factory.registry.options import RegistryOptions, batch_registry_flags

        env, backend, path, endpoint, table = (kwargs.pop(key) for key in REGISTRY_KEYS)
        kwargs["registry"] = None if backend == "none" else RegistryOptions(
            env, backend, kwargs.get("region"), kwargs.get("profile"), endpoint, agent_table=table,
            registry_file=path, flags=batch_registry_flags("region" in kwargs))  # a fix names our own flags
        return function(**kwargs)

    wrapper.__name__, wrapper.__doc__ = function.__name__, function.__doc__
    # options declared below this decorator were already attached to `function`: carry them over
    wrapper.__click_params__ = list(getattr(function, "__click_params__", []))  # type: ignore[attr-defined]
    for option in reversed(REGISTRY_FLAGS):
        wrapper = option(wrapper)
    return wrapper


def _schemas(schemas_dir: Path, registry: RegistryOptions | None) -> OutputSchemas:
    from factory.batch.targets import OutputSchemas

    return OutputSchemas(schemas_dir, registry)
STORE_OPTION = click.option(
    "--store", "store_path", type=click.Path(path_type=Path, dir_okay=False),
    default=Path(".schema-factory") / "results.sqlite", show_default=True,
    help="Local result store (SQLite) for the local engine.",
)


def _echo_err(text: str) -> None:
    """A message for people on stderr; each of its lines through `printable` (messages quote CSV data)."""
    click.echo("\n".join(printable(line) for line in text.split("\n")), err=True)


@batch.command("analyze")
@click.argument("csv_path", type=click.Path(path_type=Path, dir_okay=False))
@AGENT_OPTION
@GENERATED_OPTION
@SCHEMAS_OPTION
@registry_options
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON.")
def batch_analyze(csv_path: Path, agent_name: str, generated_dir: Path, schemas_dir: Path, as_json: bool,
                  registry: RegistryOptions | None) -> int:
    """Columns, row count, sample rows, inferred types and a suggested column → field mapping.

    The CSV is streamed, so its size does not matter. Exit status 1 when a
    required input field has no column.
    """
    from factory.batch.analyze import analyze_csv
    from factory.batch.targets import resolve_target

    from factory.batch.cost import estimate, summary_line

    target = resolve_target(agent_name, generated_dir, None, "", _schemas(schemas_dir, registry))
    analysis = analyze_csv(csv_path, target)
    cost = estimate(analysis.row_count, "tool" if target.target_type == "tool" else "agent")
    if as_json:
        click.echo(json.dumps({**analysis.to_dict(), "cost_estimate": cost.as_dict()}, indent=2, ensure_ascii=False))
    else:
        _print_analysis(csv_path, agent_name, analysis)
        click.echo(summary_line(cost))
    if analysis.unmapped_required:
        _echo_err("error: required fields without a column: " + ", ".join(analysis.unmapped_required)
                  + " (add the columns or map them in a config: schema-factory batch config)")
        return EXIT_USER_ERROR
    return EXIT_OK


def _print_analysis(csv_path: Path, agent_name: str, analysis: Analysis) -> None:
    """The analysis for people; every line passes through `printable` (column names are the CSV's data)."""
    lines = [f"{csv_path.as_posix()}: {analysis.row_count} rows, {len(analysis.columns)} columns"]
    lines += [f"  {column}: {analysis.inferred_types[column]}" for column in analysis.columns]
    lines.append(f"suggested mapping for {agent_name}:")
    lines += [f"  {match.column} -> {match.field} ({match.method}, {match.score})" for match in analysis.matches]
    if analysis.unused_columns:
        lines.append("unused columns: " + ", ".join(analysis.unused_columns))
    if analysis.unmapped_optional:
        lines.append("optional fields without a column: " + ", ".join(analysis.unmapped_optional))
    if analysis.sample_rows:
        lines.append(f"sample rows (the first {len(analysis.sample_rows)}):")
        lines += [f"  {number}: " + ", ".join(f"{_cut(column)}={_cut(value)}" for column, value in row.items())
                  for number, row in enumerate(analysis.sample_rows, start=1)]
    for line in lines:
        click.echo(printable(line))


def _cut(text: str, limit: int = 40) -> str:
    """A CSV cell shown in a line: long text cut (`printable` escapes what could move the cursor)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


@batch.command("config")
@click.argument("csv_path", type=click.Path(path_type=Path, dir_okay=False))
@AGENT_OPTION
@GENERATED_OPTION
@SCHEMAS_OPTION
@registry_options
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the config here instead of printing it.")
def batch_config_command(csv_path: Path, agent_name: str, generated_dir: Path, schemas_dir: Path,
                         output: Path | None, registry: RegistryOptions | None) -> int:
    """Write a batch config (YAML) for CSV_PATH, from the generated mapping and this CSV's columns.

    For an agent this factory did not make, registered as schemas/<agent>.yaml (or, without that file, in
    its AgentRegistry record): its target, every column as an input, and its output schema as output_mappings.

    Edit it, then pass it to `schema-factory batch run --config`.
    """
    from factory.batch.targets import resolve_target, suggested_config
    from factory.emit.serialize import yaml_bytes

    schemas = _schemas(schemas_dir, registry)
    config, analysis = suggested_config(csv_path, resolve_target(agent_name, generated_dir, None, "", schemas),
                                        schemas)
    _write_config(yaml_bytes(config), output, csv_path)
    if analysis.unmapped_required:
        _echo_err("warning: required fields without a column: " + ", ".join(analysis.unmapped_required)
                  + " (see input_mapping.unmapped_required_fields)")
    return EXIT_OK


def _write_config(data: bytes, output: Path | None, csv_path: Path) -> None:
    """Print the config, or write it to --output (never over the CSV it was made from)."""
    from factory.batch.local_run import check_out_path

    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    from factory import safe_io
    from factory.errors import FactoryError, Problem

    check_out_path(output, {"the input CSV": csv_path}, what="the config", flag="--output")
    try:
        safe_io.write_bytes(output, data)
    except OSError as err:
        raise FactoryError(Problem(output.as_posix(), "$", "out", f"cannot write the config: {err.strerror or err}",
                                   "choose another --output")) from None
    click.echo(f"wrote {output.as_posix()}")


AWS_FLAGS = (
    click.option("--env", "env_name", default="dev", show_default=True, envvar="SCHEMA_FACTORY_ENV",
                 callback=check_env,
                 help="Environment whose shared stack runs the batch (stepfunctions engine); "
                      "default $SCHEMA_FACTORY_ENV, else dev."),
    click.option("--region", default=None, help="AWS region (default: the AWS configuration's)."),
    click.option("--profile", default=None, help="AWS profile."),
    click.option("--endpoint-url", default=None, help="Custom AWS endpoint (LocalStack, moto)."),
    click.option("--state-machine-arn", default=None, help="Batch processor ARN; default: the shared stack's export."),
    click.option("--bucket", default=None, help="Batch bucket; default: the shared stack's export."),
)
AWS_KEYS = ("env_name", "region", "profile", "endpoint_url", "state_machine_arn", "bucket")


def aws_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The AWS flags, gathered into one typed `AwsOptions` passed as `aws`."""

    def wrapper(**kwargs: Any) -> Any:
        from factory.batch.aws_run import AwsOptions

        kwargs["aws"] = AwsOptions(**{key: kwargs.pop(key) for key in AWS_KEYS})
        return function(**kwargs)

    wrapper.__name__, wrapper.__doc__ = function.__name__, function.__doc__
    for option in reversed(AWS_FLAGS):
        wrapper = option(wrapper)
    return wrapper


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
              help="How to call the target: module:function, http(s)://URL, exec:COMMAND, a state machine ARN or "
                   "a Lambda function ARN (default: the agent record's state_machine_arn, or the config's "
                   "target.arn; stored with the batch for --resume).")
@SCHEMAS_OPTION
@click.option("--resume", "resume_id", help="Re-run the rows of this local batch that are not SUCCESS or PARTIAL.")
@click.option("--concurrency", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0.001, max=86400), default=300.0, show_default=True,
              callback=lambda ctx, param, value: _finite(value, param),
              help="Seconds one attempt at a row may take: input mapping, agent call and output mapping.")
@click.option("--retries", type=click.IntRange(0, 20), default=2, show_default=True,
              help="Retries per row after a failed call, with exponential backoff.")
@STORE_OPTION
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary at the end.")
@click.option("--dry-run", is_flag=True,
              help="Count the rows and print the AWS cost estimate for them; run nothing, write nothing.")
@registry_options
@aws_options
def batch_run(csv_path: Path | None, agent_name: str | None, generated_dir: Path, config_path: Path | None,
              out_path: Path | None, engine: str, invoke_spec: str | None, resume_id: str | None, concurrency: int,
              timeout: float, retries: int, schemas_dir: Path, store_path: Path, quiet: bool, as_json: bool,
              dry_run: bool, aws: AwsOptions, registry: RegistryOptions | None) -> int:
    """Run every row of CSV_PATH through an agent or tool and write the results CSV.

    The target is one of our agents, any agent or Lambda tool a --config names (`target: {type, name, arn}`),
    or one that registered its output schema (schemas/<agent>.yaml, else its AgentRegistry record).

    The local engine keeps each finished row in the result store, so a crash
    or Ctrl-C loses nothing: `--resume BATCH_ID` runs only the rows left.
    Exit status: 0 when every row succeeded, 1 when any failed, 130 when
    interrupted, 2 for usage errors.
    """
    from factory.batch.engine import RunOptions
    from factory.batch.plan import RunRequest

    _check_run_usage(engine, csv_path, agent_name, resume_id, config_path)
    request = RunRequest(csv_path, agent_name, generated_dir, config_path, None, out_path, invoke_spec, resume_id,
                         store_path, RunOptions(concurrency=concurrency, timeout=timeout, retries=retries), aws,
                         schemas_dir, registry)
    if dry_run or engine == "stepfunctions":
        return _estimate_or_start(request, dry_run, as_json)
    return _run_locally(request, quiet=quiet, as_json=as_json)


def _estimate_or_start(request: RunRequest, dry_run: bool, as_json: bool) -> int:
    if dry_run:
        return _dry_run(request, as_json)
    _start_on_step_functions(request, as_json)
    return EXIT_OK


def _dry_run(request: RunRequest, as_json: bool) -> int:
    """The rows the run would take and what they would cost on AWS (factory/batch/cost.py)."""
    from factory.batch import csv_source
    from factory.batch.cost import estimate, summary_line
    from factory.batch.targets import resolve_target

    csv_path, agent_name = request.csv_path, request.agent_name
    if csv_path is None or agent_name is None:
        raise click.UsageError("--dry-run estimates a CSV: give CSV_PATH and --agent (not --resume)")
    target = resolve_target(agent_name, request.generated_dir, None, "", request.schemas)
    rows = sum(1 for _row in csv_source.rows(csv_path))
    cost = estimate(rows, "tool" if target.target_type == "tool" else "agent")
    if as_json:
        click.echo(json.dumps({"dry_run": True, "csv": csv_path.as_posix(), "rows": rows,
                               "cost_estimate": cost.as_dict()}, indent=2))
    else:
        click.echo(f"dry run: {csv_path.as_posix()}: {rows} rows; nothing run, nothing written")
        click.echo(summary_line(cost))
    return EXIT_OK


def _finite(value: float, param: click.Parameter) -> float:
    """FloatRange lets NaN through (every comparison with it is false)."""
    if value != value:
        raise click.BadParameter("nan is not a number of seconds", param=param)
    return value


def _check_run_usage(engine: str, csv_path: Path | None, agent_name: str | None, resume_id: str | None,
                     config_path: Path | None = None) -> None:
    if engine == "stepfunctions" and (resume_id or csv_path is None or agent_name is None):
        raise click.UsageError("--engine stepfunctions needs CSV_PATH and --agent (and has no --resume)")
    if resume_id and (csv_path is not None or config_path is not None):
        # the stored rows are positions in the batch's own CSV, mapped by its own config
        raise click.UsageError("--resume runs the batch's own CSV and config: drop CSV_PATH and --config")
    if not resume_id and (csv_path is None or agent_name is None):
        raise click.UsageError("give CSV_PATH and --agent (or --resume BATCH_ID)")


def _start_on_step_functions(request: RunRequest, as_json: bool) -> None:
    from factory.batch.plan import run_on_step_functions

    started = run_on_step_functions(request)
    if as_json:
        click.echo(json.dumps(started, indent=2))
        return
    if started["columns"]:
        _echo_err("columns: " + ", ".join(f"{column} -> {field}" for column, field in started["columns"]))
    click.echo(f"uploaded {started['csv_uri']}")
    click.echo(f"started {started['execution_arn']}")
    click.echo(f"follow it with: schema-factory batch status {started['execution_arn']}")


def _run_locally(request: RunRequest, *, quiet: bool, as_json: bool) -> int:
    from factory.batch.local_run import RunHooks
    from factory.batch.plan import plan_local, run_plan

    plan = plan_local(request)
    if plan.column_pairs and not (quiet or as_json):
        _echo_err("columns: " + ", ".join(f"{column} -> {field}" for column, field in plan.column_pairs))
    hooks = RunHooks(
        progress=None if quiet or as_json else sys.stderr,
        on_start=lambda batch_id: _echo_err(f"batch {batch_id} started; agent: {plan.invoke} "
                                            f"(from {plan.invoke_origin})"),
        on_interrupt=lambda batch_id: _echo_err(
            "\ninterrupted: finishing rows in flight (press Ctrl-C again to leave at once)"),
        on_leave_now=lambda batch_id: _leave_now(plan, batch_id),
    )
    outcome = run_plan(plan, hooks)
    _print_outcome(outcome, as_json)
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if outcome.all_succeeded else EXIT_USER_ERROR


def _leave_now(plan: LocalPlan, batch_id: str) -> None:
    """The second Ctrl-C: finished rows are committed already; leave without waiting for calls in flight."""
    _echo_err(f"\nstopped; finished rows are stored. Resume with:\n  {plan.resume_command(batch_id)}")
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _print_outcome(outcome: RunOutcome, as_json: bool) -> None:
    report = outcome.report()
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    elif outcome.interrupted:
        _echo_err(f"interrupted: finished rows are stored. Resume with:\n  {report['resume']}")
    else:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report["counts"].items()))
        click.echo(f"batch {report['batch_id']}: {report['rows']} rows ({counts}); "
                   f"results in {report['results_csv']}")
        _echo_err(f"see it at a glance: {report['report']}")


@batch.command("status")
@click.argument("batch_id", required=False)
@STORE_OPTION
@click.option("--json", "as_json", is_flag=True)
@aws_options
def batch_status(batch_id: str | None, store_path: Path, as_json: bool, aws: AwsOptions) -> int:
    """Counts by status for one batch (a local batch id or an execution ARN), or every local batch."""
    from factory.batch.aws_run import is_execution_arn
    from factory.batch.plan import execution_state, local_batches

    if batch_id and is_execution_arn(batch_id):
        _print_execution(execution_state(batch_id, aws), as_json)
        return EXIT_OK
    report = local_batches(batch_id, store_path)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return EXIT_OK
    if not report:
        _echo_err(f"no batches in {store_path.as_posix()}")
    for entry in report:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(entry["counts"].items())) or "no rows yet"
        click.echo(f"{entry['batch_id']}  {entry['state_detail']}  {entry['agent']}  {counts}")
    if batch_id and report and report[0].get("report"):
        _echo_err(f"see it at a glance: {report[0]['report']}")
    return EXIT_OK


def _print_execution(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    counts = (status.get("summary") or {}).get("counts")
    click.echo(f"{status['execution_arn']}  {status['state']}" + (f"  {counts}" if counts else "")
               + (f"  {status.get('error')}: {status.get('cause')}" if status.get("error") else ""))


@batch.command("results")
@click.argument("batch_id")
@STORE_OPTION
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write the results CSV (default: print it on stdout).")
@aws_options
def batch_results(batch_id: str, store_path: Path, output: Path | None, aws: AwsOptions) -> int:
    """Write a batch's results as CSV (rows in input order): local batch id or execution ARN.

    Without -o the CSV goes to stdout, as Unix tools do (`... | head`); the row count goes to stderr.
    """
    import tempfile

    from factory import safe_io
    from factory.batch.plan import batch_results as write_batch_results

    if output is not None:
        written = write_batch_results(batch_id, store_path, output, aws)
        click.echo(f"wrote {written['results_csv']}: {written['rows']} rows")
        return EXIT_OK
    with tempfile.TemporaryDirectory(prefix="schema-factory-results-") as scratch:
        written = write_batch_results(batch_id, store_path, Path(scratch) / "results.csv", aws)
        stdout = click.get_binary_stream("stdout")
        with safe_io.open_stream(Path(written["results_csv"]), "the results CSV") as handle:  # just written
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                stdout.write(chunk)
    _echo_err(f"{written['rows']} rows")
    return EXIT_OK


@batch.command("report")
@click.argument("source")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write the page [default: <batch id>.report.html here; for a results CSV, beside it].")
@click.option("--agent", "agent_name", default=None,
              help="The agent whose output fields to report (default: the batch's own agent; for a results CSV, "
                   "every column but the metadata ones).")
@GENERATED_OPTION
@STORE_OPTION
@aws_options
def batch_report(source: str, output: Path | None, agent_name: str | None, generated_dir: Path, store_path: Path,
                 aws: AwsOptions) -> int:
    """Write one self-contained HTML page that shows a batch at a glance.

    SOURCE is a local batch id, a results CSV (from either engine), or a batch processor execution ARN.
    The page shows status counts, failures grouped by reason with example rows, each output field's fill
    rate and (for enum and boolean fields) its values, execution times, retries, and the batch's target
    and mapping. It loads nothing from the network and holds aggregates, not rows.
    """
    from factory.report.build import ReportRequest, default_output, write_report

    out = output or default_output(source)
    report = write_report(ReportRequest(source, store_path, generated_dir, agent_name, aws), out)
    counts = ", ".join(f"{name} {count}" for name, count in report.summary.statuses if count)
    click.echo(f"wrote {out.as_posix()}: {report.summary.rows} rows ({counts or 'none'})")
    return EXIT_OK
