"""`batch run --engine local` and `--resume`: wiring the engine to files and signals."""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from factory.batch import csv_source
from factory.batch.agents import AgentSpec
from factory.batch.engine import RowProcessor, RunOptions, RunSummary, new_batch_id, run_rows
from factory.batch.invokers import Invoker
from factory.batch.local_store import LocalResultStore
from factory.batch.progress import Progress
from factory.errors import FactoryError, Problem
from factory.runtime.agent_record_checks import check_agent_record
from factory.runtime.aggregator import AggregateSummary, write_csv
from factory.runtime.input_mapper import MappingConfigError


@dataclass(frozen=True)
class LocalRunRequest:
    csv_path: Path
    agent: AgentSpec
    mapping: dict[str, Any]
    out_path: Path
    options: RunOptions
    resume_batch_id: str | None = None


def load_mapping(path: Path | None, agent: AgentSpec) -> dict[str, Any]:
    """The batch config: the user's file, else the generated mapping."""
    if path is None:
        return agent.mapping
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise FactoryError(Problem(path.as_posix(), "$", "config", f"cannot read the batch config: {err}",
                                   "write it with `schema-factory batch config`")) from None
    if not isinstance(data, dict):
        raise FactoryError(Problem(path.as_posix(), "$", "config", "the batch config is not a mapping", ""))
    return data


def suggested_mapping(csv_path: Path, agent: AgentSpec, quiet: bool) -> dict[str, Any]:
    """No config given: the generated mapping with this CSV's columns matched in."""
    from factory.batch.analyze import analyze_csv, batch_config

    analysis = analyze_csv(csv_path, agent)
    if analysis.unmapped_required:
        raise FactoryError(Problem(
            csv_path.as_posix(), "line 1", "columns",
            "no column for required input field(s): " + ", ".join(analysis.unmapped_required),
            f"write a config with `schema-factory batch config {csv_path.as_posix()} --agent {agent.name} -o "
            "mapping.yaml`, map them, and pass --config mapping.yaml",
        ))
    if not quiet:
        pairs = ", ".join(f"{m.column} -> {m.field}" for m in analysis.matches)
        sys.stderr.write(f"columns: {pairs}\n")
    return batch_config(analysis, agent)


def check_columns(mapping: dict[str, Any], columns: list[str], source: str) -> None:
    """Every column the config reads must be in the CSV."""
    wanted = (mapping.get("input_mapping") or {}).get("column_mappings") or {}
    missing = [column for column in wanted if column not in columns]
    if missing:
        raise FactoryError(Problem(source, "line 1", "columns", "the config reads column(s) the CSV does not have: "
                                   + ", ".join(map(repr, missing)), "CSV columns: " + ", ".join(columns)))


def check_ready(agent: AgentSpec, mapping: dict[str, Any], source: str) -> None:
    """Before any row runs: the agent takes structured output and every required input is mapped."""
    try:
        problems = check_agent_record(agent.record, mapping, agent.name)
    except MappingConfigError as err:
        problems = [str(err)]
    if problems:
        raise FactoryError([Problem(source, "$.input_mapping", "config", p, "fix the batch config") for p in problems])


def default_out_path(csv_path: Path) -> Path:
    return csv_path.with_name(f"{csv_path.stem}.results.csv")


def write_results(store: LocalResultStore, batch_id: str, mapping: dict[str, Any], input_columns: list[str],
                  out_path: Path) -> AggregateSummary:
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    with open(tmp, "wb") as sink:
        summary = write_csv(store.pages(batch_id), sink, list(mapping.get("structured_output_fields") or []),
                            input_columns)
    os.replace(tmp, out_path)
    return summary


class StopOnSignal:
    """First SIGINT/SIGTERM: stop taking rows, finish in-flight ones. Second: leave now."""

    def __init__(self, stop: threading.Event, on_second: Callable[[], None]) -> None:
        self.stop, self.on_second = stop, on_second
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.stop.is_set():
            self.on_second()
        self.stop.set()
        sys.stderr.write("\ninterrupted: finishing rows in flight (press Ctrl-C again to leave at once)\n")

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def run_local(request: LocalRunRequest, invoker: Invoker, store: LocalResultStore, *, quiet: bool,
              resume_hint: Callable[[str], str]) -> tuple[RunSummary, AggregateSummary | None]:
    agent, mapping = request.agent, request.mapping
    check_ready(agent, mapping, request.csv_path.as_posix())
    columns = csv_source.header(request.csv_path)
    check_columns(mapping, columns, request.csv_path.as_posix())
    total = sum(1 for _ in csv_source.rows(request.csv_path))
    if request.resume_batch_id:
        batch_id = request.resume_batch_id
        skip = store.done_rows(batch_id)
        store.set_state(batch_id, "running")
    else:
        batch_id = new_batch_id(agent)
        skip = set()
        store.create_batch(batch_id, agent.name, request.csv_path.resolve().as_posix(),
                           {"mapping": mapping, "out": request.out_path.resolve().as_posix()})
    stop = threading.Event()
    summary = RunSummary(batch_id=batch_id, total=total)
    progress = Progress(total - len(skip), quiet=quiet)

    def leave_now() -> None:
        sys.stderr.write(f"\nstopped; finished rows are stored. Resume with:\n  {resume_hint(batch_id)}\n")
        sys.stderr.flush()
        os._exit(130)

    processor = RowProcessor(batch_id, agent, mapping, invoker, store, request.options, stop)
    try:
        with StopOnSignal(stop, leave_now):
            run_rows(csv_source.rows(request.csv_path), processor, request.options, progress, summary, skip)
    finally:
        progress.finish()
        invoker.close()
    if summary.interrupted:
        store.set_state(batch_id, "interrupted")
        return summary, None
    store.set_state(batch_id, "finished")
    summary.counts = store.counts(batch_id)
    return summary, write_results(store, batch_id, mapping, columns, request.out_path)
