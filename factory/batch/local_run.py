"""`batch run --engine local` and `--resume`: wiring the engine to files and signals."""

from __future__ import annotations

import io
import os
import shlex
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

import yaml

from factory.batch import csv_source
from factory.batch.agents import AgentSpec
from factory.batch.engine import RowProcessor, RunOptions, RunSummary, new_batch_id, run_rows
from factory.batch.invokers import Invoker
from factory.batch.local_store import LocalResultStore
from factory.batch.progress import Progress
from factory.batch.targets import OutputPlan
from factory import rules, safe_io
from factory.errors import FactoryError, Problem
from factory.runtime.agent_record_checks import check_agent_record
from factory.runtime.aggregator import AggregateSummary, write_csv
from factory.runtime.input_mapper import MappingConfigError
from factory.strict_yaml import YamlTooDeep, load_strict, too_deep_message


@dataclass(frozen=True)
class LocalRunRequest:
    csv_path: Path
    agent: AgentSpec
    mapping: dict[str, Any]
    out_path: Path
    options: RunOptions
    resume_batch_id: str | None = None
    output: OutputPlan | None = None  # how rows are mapped; None: the structured output


def load_mapping(path: Path | None, agent: AgentSpec | None) -> dict[str, Any]:
    """The batch config: the user's file, else the generated mapping."""
    if path is None:
        return agent.mapping if agent is not None else {}
    try:
        data = load_strict(safe_io.read_text(path, "config"))
    except yaml.MarkedYAMLError as err:
        mark, deep = err.problem_mark, isinstance(err, YamlTooDeep)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "$"
        raise FactoryError(Problem(path.as_posix(), where, rules.JSON_DEPTH if deep else "config",
                                   f"the batch config is {too_deep_message()}" if deep
                                   else f"the batch config is not valid YAML: {err.problem}",
                                   "write it with `schema-factory batch config`")) from None
    except (OSError, ValueError, yaml.YAMLError) as err:
        raise FactoryError(Problem(path.as_posix(), "$", "config", f"cannot read the batch config: {err}",
                                   "write it with `schema-factory batch config`")) from None
    if not isinstance(data, dict):
        raise FactoryError(Problem(path.as_posix(), "$", "config", "the batch config is not a mapping", ""))
    return data


def suggested_mapping(csv_path: Path, agent: AgentSpec,
                      registered: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """No config given: the generated mapping with this CSV's columns matched in, and the (column, field) pairs."""
    from factory.batch.analyze import analyze_csv, batch_config

    analysis = analyze_csv(csv_path, agent)
    if analysis.unmapped_required:
        raise FactoryError(Problem(
            csv_path.as_posix(), "line 1", "columns",
            "no column for required input field(s): " + ", ".join(analysis.unmapped_required),
            f"write a config with `schema-factory batch config {csv_path.as_posix()} --agent {agent.name} -o "
            "mapping.yaml`, map them, and pass --config mapping.yaml",
        ))
    return batch_config(analysis, agent, registered), [(m.column, m.field) for m in analysis.matches]


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


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.resolve() == other.resolve() or (one.exists() and other.exists() and one.samefile(other))
    except OSError:
        return False


def check_out_path(out_path: Path, keep: dict[str, Path] | None = None, what: str = "the results CSV",
                   flag: str = "--out") -> None:
    """Before the first agent call: `what` can be written where it is asked for, over none of `keep`.

    `keep` names the files this command reads or keeps (the input CSV, the
    result store): writing over one of them would lose it, so it is refused.
    """
    parent = out_path.parent
    problem = None
    clash = next((name for name, path in (keep or {}).items() if _same_file(out_path, path)), None)
    if clash is not None:
        problem = f"it is {clash}, which writing there would destroy"
    elif out_path.is_dir():
        problem = "is a directory"
    elif (refusal := safe_io.write_refusal(out_path)) is not None:
        problem = refusal
    elif not parent.is_dir():
        problem = f"its directory {parent.as_posix()!r} does not exist"
    elif not os.access(parent, os.W_OK | os.X_OK) or (out_path.exists() and not os.access(out_path, os.W_OK)):
        problem = "is not writable"
    if problem:
        raise FactoryError(Problem(out_path.as_posix(), "$", "out", f"cannot write {what} here: {problem}",
                                   f"choose another {flag} (checked before anything is run or written)"))


def write_results(store: LocalResultStore, batch_id: str, mapping: dict[str, Any], input_columns: list[str] | None,
                  out_path: Path) -> AggregateSummary:
    """The results CSV, written whole through the one safe write (beside `out_path`, then moved into place).

    The rows are in the store already, so a failed write (the directory removed mid-run, a full disk)
    loses nothing: the error names the CSV and the command that writes it again.
    """
    columns = list(mapping.get("structured_output_fields") or [])
    try:
        summary = safe_io.write_stream(out_path, lambda sink: write_csv(store.pages(batch_id), sink, columns,
                                                                        input_columns))
    except OSError as err:
        again = shlex.join(["schema-factory", "batch", "results", batch_id, "-o", "FILE",
                            "--store", store.path.as_posix()])
        raise FactoryError(Problem(
            out_path.as_posix(), "$", "out", f"cannot write the results CSV: {err.strerror or err}",
            f"the rows are kept in the store; write them with `{again}`")) from None
    return summary


class StopOnSignal:
    """First SIGINT/SIGTERM: stop taking rows, finish in-flight ones. Second: `on_second` (the caller's choice).

    Library code neither prints nor exits: the front end decides what an
    interruption looks like (the CLI prints the resume command and leaves
    with status 130).
    """

    def __init__(self, stop: threading.Event, on_first: Callable[[], None], on_second: Callable[[], None]) -> None:
        self.stop, self.on_first, self.on_second = stop, on_first, on_second
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.stop.is_set():
            self.on_second()
            return
        self.stop.set()
        self.on_first()

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@dataclass(frozen=True)
class RunHooks:
    """What a front end sees of a run: progress output, the batch id at start, interruptions."""

    progress: TextIO | None = None  # None: no progress output
    on_start: Callable[[str], None] = lambda batch_id: None
    on_interrupt: Callable[[str], None] = lambda batch_id: None
    on_leave_now: Callable[[str], None] = lambda batch_id: None


def run_local(request: LocalRunRequest, invoker: Invoker, store: LocalResultStore, hooks: RunHooks,
              batch_config: dict[str, Any]) -> tuple[RunSummary, AggregateSummary | None]:
    """Run (or resume) one batch; an interruption comes back as `summary.interrupted`, never as an exit."""
    agent, mapping = request.agent, request.mapping
    columns = csv_source.header(request.csv_path)
    total = sum(1 for _ in csv_source.rows(request.csv_path))
    if request.resume_batch_id:
        batch_id = request.resume_batch_id
        skip = store.resume_batch(batch_id, request.csv_path)
    else:
        batch_id = new_batch_id(agent)
        skip = set()
        store.create_batch(batch_id, agent.name, request.csv_path.resolve().as_posix(), batch_config)
    hooks.on_start(batch_id)
    stop = threading.Event()
    summary = RunSummary(batch_id=batch_id, total=total)
    progress = Progress(total - len(skip), stream=hooks.progress or io.StringIO(), quiet=hooks.progress is None)
    processor = RowProcessor(batch_id, agent, mapping, invoker, store, request.options, stop, request.output)
    try:
        with StopOnSignal(stop, lambda: hooks.on_interrupt(batch_id), lambda: hooks.on_leave_now(batch_id)):
            run_rows(csv_source.rows(request.csv_path), processor, request.options, progress, summary, skip)
    finally:
        progress.finish()
        invoker.close()
    summary.counts = store.counts(batch_id)
    if summary.interrupted:
        store.set_state(batch_id, "interrupted")
        return summary, None
    store.set_state(batch_id, "finished")
    return summary, write_results(store, batch_id, mapping, columns, request.out_path)
