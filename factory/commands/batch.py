"""`schema-factory batch ...`: analyze, config, run (local or Step Functions), status, results."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from factory.errors import EXIT_OK, EXIT_USER_ERROR


@click.group()
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
    from factory.batch.local_store import LocalResultStore, describe_state, effective_state

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
    report = [{"batch_id": i.batch_id, "agent": i.agent_name, "state": effective_state(i),
               "created_at": i.created_at, "counts": store.counts(i.batch_id)} for i in infos]
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for info, entry in zip(infos, report):
        counts = ", ".join(f"{k} {v}" for k, v in sorted(entry["counts"].items())) or "no rows yet"
        click.echo(f"{entry['batch_id']}  {describe_state(info)}  {entry['agent']}  {counts}")


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
