"""The local engine: the runtime's mappers, in-process, over a streamed CSV.

Rows flow through `--concurrency` daemon workers with a bounded window of
rows in flight, so memory does not grow with the CSV. Each attempt at a row
(input mapping, agent call, output mapping) is bounded by `--timeout`: the
one deadline, kept here, whatever the invoker (see `RowProcessor`). Each
finished row is committed to the result store before the next is counted, so
a crash loses no finished row; a resumed run skips rows already SUCCESS or
PARTIAL. Ctrl-C stops new rows and lets in-flight ones finish (each within
its deadline); nothing the engine starts keeps the process alive after that.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import random
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from factory.batch.agents import AgentSpec
from factory.batch.csv_source import CsvRow
from factory.batch.invokers import AgentFailedError, FinalCallError, FunctionFailedError, Invoker
from factory.batch.local_store import LocalResultStore
from factory.batch.progress import Progress
from factory.batch.targets import OutputPlan, request_payload
from factory.batch.workers import DaemonWorkers
from factory.runtime.output_mapping.generic import map_output
from factory.runtime.input_mapper import InputRowError, input_plan
from factory.runtime.output_mapping.structured import output_plan
from factory.runtime.result_store import RowResult, make_batch_id, result_from_mapped_row
from factory.runtime.vocabulary import STATUS_FAILED, utc_timestamp


@dataclass(frozen=True)
class RunOptions:
    concurrency: int = 10
    timeout: float = 300.0
    retries: int = 2
    backoff: float = 1.0
    backoff_cap: float = 30.0


@dataclass
class RunSummary:
    batch_id: str
    total: int
    skipped: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    elapsed_s: float = 0.0

    @property
    def failed(self) -> int:
        return self.counts.get(STATUS_FAILED, 0)


def new_batch_id(agent: AgentSpec) -> str:
    """`{tool_name}#local-<UTC time>-<random>`, as the AWS engine names them."""
    tool = (agent.record.get("tools") or [agent.name])[0]
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return make_batch_id(tool, f"local-{stamp}-{uuid.uuid4().hex[:6]}")


class AgentOutputError(ValueError):
    """The agent's response holds a value with no JSON form; that row fails with this reason."""


_SCALARS = (str, int, bool, type(None))
# Python writes no int with more digits than this as text (json.dumps and the results CSV would raise).
_INT_DIGITS = sys.get_int_max_str_digits()
_INT_BOUND = 10**_INT_DIGITS if _INT_DIGITS else None


def _int_fits(value: int) -> bool:
    return _INT_BOUND is None or -_INT_BOUND < value < _INT_BOUND


def _utf8(text: str) -> bool:
    """Whether text encodes as UTF-8: a lone surrogate ("\\ud800" in an agent's JSON, or a Python str) does
    not, and the result store, the CSV and every JSON reader downstream would fail on it."""
    if text.isascii():  # the common case, without encoding anything
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plain(value: Any) -> bool:
    """Already what JSON holds (the common case, checked without building any path)."""
    kind = type(value)
    if kind is str:
        return value.isascii() or _utf8(value)  # isascii() first: no call for the common case
    if kind is int:
        return _int_fits(value)
    if kind is bool or value is None:
        return True
    if kind is float:
        return value - value == 0  # False for NaN and infinities
    if kind is dict:
        return all(type(key) is str and (key.isascii() or _utf8(key)) and _plain(inner)
                   for key, inner in value.items())
    if kind is list:
        return all(map(_plain, value))
    return False


def agent_output(value: Any) -> Any:
    """The agent's response as the row keeps it (see `jsonable`); raises `AgentOutputError`."""
    try:
        return value if _plain(value) else jsonable(value)
    except RecursionError:
        raise AgentOutputError("agent output is nested too deeply to store") from None


def jsonable(value: Any, path: str = "$") -> Any:
    """The agent's response with every value JSON can hold, as the result store will keep it.

    Python agents return what Python has: datetimes become ISO 8601 text,
    Decimals numbers (as DynamoDB's reader makes them) or, when no JSON number
    has their digits, text (`decimal_value`), sets and tuples lists
    (sets sorted, so the row is the same every run), UUIDs text. Anything else,
    and NaN or infinity, raises `AgentOutputError` naming where it sits.
    """
    if isinstance(value, str):
        if not _utf8(value):
            raise AgentOutputError(f"agent output holds text that is not valid Unicode (a lone surrogate such "
                                   f"as \\ud800) at {path}; return UTF-8 text")
        return value
    if isinstance(value, int) and not _int_fits(value):
        raise AgentOutputError(f"agent output holds an integer of more than {_INT_DIGITS} digits at {path}; "
                               "return it as text")
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AgentOutputError(f"agent output holds {value!r} at {path}, which is not a finite number")
        return value
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            if not isinstance(key, str):
                raise AgentOutputError(f"agent output has a {type(key).__name__} key {key!r} at {path}; "
                                       "JSON object keys are text")
            if not _utf8(key):
                raise AgentOutputError(f"agent output has a key that is not valid Unicode (a lone surrogate "
                                       f"such as \\ud800) at {path}; return UTF-8 text")
            out[key] = jsonable(inner, f"{path}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [jsonable(inner, f"{path}[{index}]") for index, inner in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [jsonable(inner, f"{path}[]") for inner in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise AgentOutputError(
                f"agent output holds Decimal({str(value)!r}) at {path}, which is not a finite number"
            )
        return decimal_value(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise AgentOutputError(
        f"agent output holds a value of type {type(value).__name__} at {path}, which has no JSON form; "
        "return text, numbers, booleans, lists and objects"
    )


def decimal_value(value: decimal.Decimal) -> int | float | str:
    """A finite Decimal with its own digits, never rounded: the JSON number that prints those digits, else text.

    DynamoDB's reader gives Decimal("1.1") or Decimal("3"): numbers, stored as 1.1 and 3. A float cannot
    keep Decimal("1.10")'s trailing zero or Decimal("0.1234567890123456789")'s last digits, so those are
    stored as the text "1.10" and "0.1234567890123456789" (where the schema wants a number, that row then
    fails, naming the field). Integers beyond a float's range stay text too, so no reader sees Infinity.
    """
    as_float = float(value)
    if math.isfinite(as_float) and decimal.Decimal(repr(as_float)).as_tuple() == value.as_tuple():
        return as_float  # "3.0", "1e-06": the float prints these very digits
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0 and value.adjusted() < 308:
        return int(value)  # "3", "1E+2": an integer, exactly
    return str(value)


def backoff_delay(attempt: int, options: RunOptions, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with full jitter."""
    return rng() * min(options.backoff_cap, options.backoff * 2**attempt)


@dataclass(frozen=True)
class CallFailure:
    """One attempt's agent call failed: retried unless `final`; with `own_words` its text is the row's error."""

    error: str
    own_words: bool = False
    final: bool = False


MAPPING_INPUT, CALLING, MAPPING_OUTPUT = "mapping the row's input", "calling the agent", "mapping the agent's output"


ABANDONED_PER_ROW = 4  # attempt workers per `--concurrency`: the rows in flight, then abandoned attempts


class _Attempt:
    """Where one attempt is, so a missed deadline can say what the row was doing."""

    stage = MAPPING_INPUT


class RowProcessor:
    """Map, call (with retries), map back, store: everything one row needs.

    `--timeout` bounds each attempt at a row as a whole: its input mapping, the
    agent call and the output mapping. The attempt runs on a daemon worker and
    the row waits for it until the deadline, then fails it (a call is retried,
    a mapping is not: it would take as long again) and leaves the worker
    behind, so a call or mapping that never ends neither holds the row nor
    keeps the process alive after the last row.
    """

    def __init__(self, batch_id: str, agent: AgentSpec, mapping: dict[str, Any], invoker: Invoker,
                 store: LocalResultStore, options: RunOptions, stop: threading.Event,
                 output: OutputPlan | None = None) -> None:
        self.batch_id, self.agent, self.mapping = batch_id, agent, mapping
        self.invoker, self.store, self.options, self.stop = invoker, store, options, stop
        self.output = output  # None or structured: our agents' structured output mapper
        # Compiled once per run and held, so no row pays for finding its plan by the config's content.
        self.input_plan = input_plan(mapping, agent.input_schema)
        self.structured_plan = output_plan(mapping, agent.output_schema)
        # Room for every row in flight and for calls that never returned, up to a bound: past it, rows fail
        # unrun rather than leave one more thread behind each.
        self.workers = DaemonWorkers("attempt", limit=ABANDONED_PER_ROW * options.concurrency)

    def map_response(self, response: Any) -> dict[str, Any]:
        """The chosen mapping (config output_mappings, registered schema) or the structured output."""
        if self.output is not None and self.output.choice.mappings is not None:
            return map_output(response, self.output.choice.mappings, self.agent.output_schema)
        return self.structured_plan.map(response)

    def _failed(self, row: CsvRow, error: str, started: float) -> RowResult:
        if not _utf8(error):  # an agent's exception text may hold a lone surrogate too: kept, escaped
            error = error.encode("utf-8", "backslashreplace").decode("utf-8")
        return RowResult(batch_id=self.batch_id, row_number=row.number, status=STATUS_FAILED,
                         input_data=dict(row.values), output_data={}, error=error,
                         execution_time_ms=int((time.monotonic() - started) * 1000), timestamp=utc_timestamp())

    def call(self, payload: Any, deadline: float) -> Any:
        """The agent's answer as the row keeps it; the invoker gets the time left before `deadline`."""
        return agent_output(self.invoker(payload, max(deadline - time.monotonic(), 0.001)))

    def attempt(self, row: CsvRow, started: float, deadline: float, where: _Attempt) -> RowResult | CallFailure:
        """One try at a row, on a daemon worker: the row's result, or how the call failed."""
        try:
            payload = request_payload(self.input_plan, row.values, row.number, self.agent)
        except InputRowError as err:
            return self._failed(row, str(err), started)
        except Exception as err:  # noqa: BLE001 - a cell the mapper cannot take fails its row, not the batch
            return self._failed(row, f"the row's input could not be mapped: {type(err).__name__}: {err}", started)
        where.stage = CALLING
        try:
            response = self.call(payload, deadline)
        except AgentOutputError as err:
            return self._failed(row, str(err), started)
        except FinalCallError as err:  # the target answered with an error: asking again gives the same
            return CallFailure(str(err), own_words=isinstance(err, FunctionFailedError), final=True)
        except AgentFailedError as err:  # the agent's own named failure: retried, then its words alone
            return CallFailure(str(err), own_words=True)
        except Exception as err:  # noqa: BLE001 - any agent failure is retried, then recorded
            return CallFailure(f"{type(err).__name__}: {err}")
        except BaseException as err:  # noqa: BLE001 - sys.exit() or KeyboardInterrupt inside the agent:
            # this row's failure, not the run's (the run's own Ctrl-C arrives as a signal in the main
            # thread and only sets `stop`); not retried, the agent asked to stop.
            return CallFailure(f"{type(err).__name__}: {err}".rstrip(": ") + " raised by the agent", final=True)
        where.stage = MAPPING_OUTPUT
        try:
            mapped = self.map_response(response)
        except Exception as err:  # noqa: BLE001 - a response the mapper cannot take fails its row
            return self._failed(row, f"agent output could not be mapped: {type(err).__name__}: {err}", started)
        elapsed = int((time.monotonic() - started) * 1000)
        return result_from_mapped_row(self.batch_id, row.number, row.values, mapped, elapsed)

    def bounded_attempt(self, row: CsvRow, started: float) -> RowResult | CallFailure:
        """`attempt` within `--timeout`; past it the worker is abandoned and the row told why."""
        timeout = self.options.timeout
        where = _Attempt()
        future = self.workers.submit(self.attempt, row, started, time.monotonic() + timeout, where)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            if future.cancel():  # never started: every worker is held by a call that never returned
                return CallFailure(f"not called within {timeout:g} s: {self.workers.limit} earlier attempts that "
                                   "never ended hold every worker (the agent hangs)", own_words=True, final=True)
            if where.stage == CALLING:
                return CallFailure(f"no answer within {timeout:g} s")
            return self._failed(row, f"{where.stage} took longer than --timeout ({timeout:g} s)", started)

    def run_row(self, row: CsvRow, started: float) -> RowResult:
        """Attempts, with backoff between them, until one gives the row's result or the retries run out."""
        failure, attempts = CallFailure(""), 0
        for attempt in range(self.options.retries + 1):
            attempts += 1
            outcome = self.bounded_attempt(row, started)
            if isinstance(outcome, RowResult):
                return replace(outcome, attempts=attempts)
            failure = outcome
            if failure.final:
                break
            if attempt < self.options.retries and self.stop.wait(backoff_delay(attempt, self.options)):
                break
        if failure.own_words:
            # A FAILED agent execution's "<Error>: <Cause>", a failed Lambda tool's "<errorType>: <message>":
            # the cell the step-functions engine writes for it (result_writer.caught_error_text), so the
            # same row fails in the same words on either engine.
            return replace(self._failed(row, failure.error, started), attempts=attempts)
        return replace(self._failed(row, f"agent call failed after {attempts} attempt(s): {failure.error}", started),
                       attempts=attempts)

    def process(self, row: CsvRow) -> RowResult | None:
        if self.stop.is_set():
            return None  # stopped before this row's first call: it stays unrun, and --resume runs it
        result = self.run_row(row, time.monotonic())
        self.store.put(result)
        return result


def _take_slot(window: threading.BoundedSemaphore, stop: threading.Event) -> bool:
    """A slot for one more row in flight, or False (holding none) once the run is stopped."""
    while not stop.is_set():
        if window.acquire(timeout=0.2):
            if not stop.is_set():
                return True
            window.release()
    return False


def run_rows(rows: Iterable[CsvRow], processor: RowProcessor, options: RunOptions, progress: Progress,
             summary: RunSummary, skip: set[int]) -> RunSummary:
    """Feed rows to the pool, at most 2×concurrency in flight, until done or stopped."""
    slots = options.concurrency * 2
    window = threading.BoundedSemaphore(slots)
    lock = threading.Lock()
    started = time.monotonic()
    errors: list[BaseException] = []

    def finished(future: Future[RowResult | None]) -> None:
        try:
            count(future)
        finally:
            window.release()  # last: a returned slot means this row's bookkeeping is done

    def count(future: Future[RowResult | None]) -> None:
        try:
            result = future.result()
            if result is None:  # taken into the window, then stopped before its first call: left for --resume
                summary.interrupted = True
                return
        except BaseException as err:  # noqa: BLE001 - a store failure must stop the run, loudly
            processor.stop.set()
            summary.counts["ERROR"] = summary.counts.get("ERROR", 0) + 1
            errors.append(err)
            return
        with lock:
            summary.counts[result.status] = summary.counts.get(result.status, 0) + 1
        progress.row_finished(result.status == STATUS_FAILED)

    pool = DaemonWorkers("row", limit=options.concurrency)
    for row in rows:
        if row.number in skip and not processor.stop.is_set():
            summary.skipped += 1
            continue
        if not _take_slot(window, processor.stop):
            summary.interrupted = True
            break
        pool.submit(processor.process, row).add_done_callback(finished)
    for _ in range(slots):  # each row in flight holds a slot: all of them back means every row has finished
        window.acquire()
    summary.elapsed_s = time.monotonic() - started
    if errors:
        raise errors[0]
    return summary
