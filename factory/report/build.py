"""`batch report`: find the batch's rows and facts, accumulate, render (the one function the CLI calls)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from factory.batch.aws_run import AwsOptions, is_execution_arn
from factory.errors import FactoryError, Problem
from factory.report.aggregate import Aggregate, ReportRow
from factory.report.page import render_page
from factory.report.sources import BatchFacts, csv_fields, csv_rows, mapping_meta, schema_kinds, store_rows
from factory.report.summary import Summary, summarise


@dataclass(frozen=True)
class ReportRequest:
    source: str  # a local batch id, a results CSV, or a batch processor execution ARN
    store_path: Path
    generated_dir: Path
    agent_name: str | None
    aws: AwsOptions


@dataclass(frozen=True)
class Report:
    html: str
    summary: Summary


def _agent_schema(agent_name: str | None, generated_dir: Path) -> tuple[list[str], dict[str, str]] | None:
    """One of our agents' output fields and their kinds, or None for a target we did not generate."""
    if not agent_name:
        return None
    from factory.batch.agents import find_generated_agent

    found = find_generated_agent(agent_name, generated_dir) if generated_dir.is_dir() else None
    if found is None or isinstance(found, list) or found.output_schema is None:
        return None
    schema = found.output_schema
    return list((schema.get("properties") or {}).keys()), schema_kinds(schema)


def _local(request: ReportRequest) -> tuple[BatchFacts, Iterator[ReportRow]]:
    from factory.batch.local_store import LocalResultStore

    if not request.store_path.is_file():
        raise FactoryError(
            Problem(
                request.store_path.as_posix(),
                "$",
                "batch-unknown",
                f"no result store here, so no batch {request.source!r}",
                "pass the --store the batch ran with, a results CSV, or an execution ARN",
            )
        )
    store = LocalResultStore(request.store_path)
    info = store.batch(request.source)
    mapping: dict[str, Any] = info.config.get("mapping") or {}
    known = _agent_schema(request.agent_name or info.agent_name, request.generated_dir)
    fields, kinds = known or (list(mapping.get("structured_output_fields") or []), {})
    target = (info.config.get("target") or {}) if isinstance(info.config.get("target"), dict) else {}
    meta = [
        ("batch", info.batch_id),
        ("agent", info.agent_name),
        ("target type", str(target.get("type", "agent"))),
        ("input CSV", info.csv_path),
        ("started", info.created_at),
        ("engine", "local"),
        *mapping_meta(mapping),
    ]
    facts = BatchFacts(
        title=info.batch_id,
        source=f"the result store {request.store_path.as_posix()}",
        fields=fields,
        kinds=kinds,
        meta=meta,
        target_type=str(target.get("type", "agent")),
    )
    return facts, store_rows(store, info.batch_id)


def _from_csv(
    request: ReportRequest, path: Path, title: str, source: str, extra: list[tuple[str, str]]
) -> tuple[BatchFacts, Iterator[ReportRow]]:
    known = _agent_schema(request.agent_name, request.generated_dir)
    fields, kinds = known or (csv_fields(path), {})
    note = (
        []
        if known
        else [("fields", "every column but the metadata ones (pass --agent for output fields only)")]
    )
    meta = [*extra, ("agent", request.agent_name or "(not given)"), *note]
    return BatchFacts(title=title, source=source, fields=fields, kinds=kinds, meta=meta), csv_rows(path)


def cost_lines(rows: int, target_type: str) -> list[tuple[str, str]]:
    """What these rows cost on the Step Functions engine, from the cost table (factory/batch/cost.py)."""
    from factory.batch.cost import PRICES_REGION, PRICES_TAKEN, estimate
    from factory.runtime.target_kinds import TARGET_TYPES

    if target_type not in TARGET_TYPES:
        return []
    found = estimate(rows, target_type)
    return [
        ("rows", f"{rows:,}"),
        ("state transitions, batch machine", f"{found.batch_transitions:,}"),
        ("state transitions, our agent machine", f"{found.agent_transitions:,}"),
        ("Lambda invocations", f"{found.lambda_invocations:,}"),
        ("DynamoDB write units", f"{found.dynamodb_write_units:,}"),
        ("estimated price (USD)", f"{found.total_usd:.4f}"),
        ("basis", f"these rows on the Step Functions engine ({target_type} target), list prices {PRICES_REGION} "
                  f"{PRICES_TAKEN}; the agent's own work not included (docs/batch-cost.md)"),
    ]


def _render(facts: BatchFacts, rows: Iterator[ReportRow]) -> Report:
    summary = summarise(Aggregate(fields=list(facts.fields)).add_all(rows), facts.kinds, {})
    page = render_page(summary, title=facts.title, source=facts.source, meta=facts.meta,
                       cost=cost_lines(summary.rows, facts.target_type))
    return Report(page, summary)


def build_report(request: ReportRequest) -> Report:
    """The page for a local batch id, a results CSV (either engine's), or an execution ARN."""
    if is_execution_arn(request.source):
        return _execution(request)
    path = Path(request.source)
    if path.suffix.lower() == ".csv" or path.is_file():
        return _render(
            *_from_csv(
                request,
                path,
                path.name,
                f"the results CSV {path.as_posix()}",
                [("results CSV", path.as_posix())],
            )
        )
    return _render(*_local(request))


def _execution(request: ReportRequest) -> Report:
    """A batch processor execution: its results CSV, downloaded from the batch bucket, then read as a CSV."""
    from factory.batch.aws_run import aws_client, aws_errors, download_results

    arn = request.source
    with tempfile.TemporaryDirectory(prefix="schema-factory-report-") as scratch:
        local = Path(scratch) / "results.csv"
        with aws_errors("s3/stepfunctions"):
            status = download_results(
                aws_client(request.aws, "s3"), aws_client(request.aws, "stepfunctions"), arn, local
            )
        summary = status.get("summary") or {}
        extra = [
            ("execution", arn),
            ("engine", "stepfunctions"),
            ("results CSV", str(summary.get("csv_uri", ""))),
        ]
        return _render(*_from_csv(request, local, arn.rpartition(":")[2], f"the execution {arn}", extra))


def default_output(source: str) -> Path:
    """`<batch id>.report.html` in the working directory; a results CSV's report goes beside it."""
    if is_execution_arn(source):
        return Path(f"{source.rpartition(':')[2]}.report.html")
    path = Path(source)
    if path.suffix.lower() == ".csv":
        stem = path.name[: -len(".results.csv")] if path.name.endswith(".results.csv") else path.stem
        return path.with_name(f"{stem}.report.html")
    return Path(re.sub(r"[^A-Za-z0-9._-]", "-", source).lstrip(".-") + ".report.html")


def write_report(request: ReportRequest, output: Path) -> Report:
    """Build the page and write it, never over the store or the CSV it was read from."""
    from factory.batch.local_run import check_out_path
    from factory import safe_io

    keep = {"the result store": request.store_path}
    if not is_execution_arn(request.source):
        keep["the results CSV"] = Path(request.source)
    check_out_path(output, keep, what="the report", flag="--output")
    report = build_report(request)
    safe_io.write_bytes(output, report.html.encode("utf-8"))
    return report
