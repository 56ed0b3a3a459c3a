"""The AWS Step Functions quotas the harness enforces, so a design that fails on AWS fails here.

AWS Step Functions Developer Guide, Step Functions service quotas:
- "Maximum input or output size for a task, state, or execution: 256 KiB of data as a UTF-8
  encoded string." (STATE_BYTES). moto checks a state's output and a task's result, with `<`;
  here the check is `<=` 262,144 bytes, on every state's input too, in every execution:
  Distributed Map children included.
- "Maximum execution history size: 25,000 events in a single state machine execution history.
  If the execution history reaches this limit the execution fails." (HISTORY_EVENTS). Each child
  workflow of a Distributed Map is an execution with its own history; moto gives all the children
  of a Map Run one event list, the harness gives each child its own (see `own_history`).
- ItemBatcher (Map): "MaxInputBytesPerBatch ... up to 256 KiB", and with neither limit set a batch
  is still held "under the 256KB limit" (`batch_limits`, applied by interpreter.select_and_batch).
- SendTaskSuccess `output`: "Maximum length of 262144" (an activity worker's answer).

The error names are the ones AWS documents for them: `States.DataLimitExceeded` for a payload.
For the history quota AWS names no catchable error; the harness fails the execution with
`States.Runtime` and a cause naming the quota (HISTORY_ERROR), which no Catch can intercept.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STATE_BYTES = 256 * 1024
HISTORY_EVENTS = 25_000
BATCH_BYTES = STATE_BYTES
HISTORY_ERROR = "States.Runtime"


def payload_bytes(value: Any) -> int:
    """The size AWS holds to the quota: the value as UTF-8 JSON text (a string as it is)."""
    if not isinstance(value, str):  # a .sync task's result holds datetimes until it is written out
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    text = value
    return len(text.encode("utf-8"))


def within_state_quota(value: Any) -> bool:
    return payload_bytes(value) <= STATE_BYTES


def batch_limits(batcher: dict[str, Any]) -> tuple[int | None, int]:
    """(MaxItemsPerBatch or None, MaxInputBytesPerBatch or 256 KiB); a limit AWS refuses raises ValueError."""
    items = batcher.get("MaxItemsPerBatch")
    if items is not None and (not isinstance(items, int) or isinstance(items, bool) or items < 1):
        raise ValueError(f"ItemBatcher.MaxItemsPerBatch must be a positive integer, got {items!r}")
    size = batcher.get("MaxInputBytesPerBatch", BATCH_BYTES)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= BATCH_BYTES:
        raise ValueError(f"ItemBatcher.MaxInputBytesPerBatch must be 1..{BATCH_BYTES} bytes, got {size!r}")
    return items, size


class BatchTooLarge(ValueError):
    """One item alone is larger than MaxInputBytesPerBatch: no batch can hold it."""


def split_into_batches(
    items: list[Any], max_items: int | None, max_bytes: int, wrap: Callable[[list[Any]], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Items in order, each batch (`wrap(items)`, the child's input) within both limits."""
    batches: list[dict[str, Any]] = []
    current: list[Any] = []
    for item in items:
        candidate = current + [item]
        full = max_items is not None and len(current) >= max_items
        if current and (full or payload_bytes(wrap(candidate)) > max_bytes):
            batches.append(wrap(current))
            current, candidate = [item], [item]
        if payload_bytes(wrap(candidate)) > max_bytes:
            raise BatchTooLarge(
                f"an item of {payload_bytes(item)} bytes does not fit a batch of"
                f" MaxInputBytesPerBatch {max_bytes} bytes"
            )
        current = candidate
    if current:
        batches.append(wrap(current))
    return batches


@dataclass
class History:
    """Every history event the interpreter records, children included, in the order recorded.

    `events` holds (history id, event type, event details); a history id is one execution's,
    or one Distributed Map child's, event list. `mark()` and `since(mark)` delimit one run.
    """

    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, history_id: int, event_type: str, details: Any) -> int:
        kept = _slim(str(event_type), details or {})
        with self.lock:
            self.events.append((history_id, str(event_type), kept))
            self.counts[history_id] = self.counts.get(history_id, 0) + 1
            return self.counts[history_id]

    def mark(self) -> int:
        with self.lock:
            return len(self.events)

    def since(self, mark: int) -> list[tuple[int, str, dict[str, Any]]]:
        with self.lock:
            return list(self.events[mark:])


HISTORY = History()


def _slim(event_type: str, details: dict[str, Any]) -> dict[str, Any]:
    """What the counts and the quota tests read of an event; payloads are not kept (a 1,000-row run)."""
    if event_type.endswith("StateEntered"):
        return {"stateEnteredEventDetails": {"name": details["stateEnteredEventDetails"]["name"]}}
    if event_type == "TaskScheduled":
        scheduled = details["taskScheduledEventDetails"]
        parameters = {}
        if scheduled.get("resourceType") == "lambda":
            parameters = {"FunctionName": json.loads(scheduled.get("parameters") or "{}").get("FunctionName")}
        kept = {"resourceType": scheduled.get("resourceType"), "parameters": json.dumps(parameters)}
        return {"taskScheduledEventDetails": kept}
    for key, value in details.items():
        if isinstance(value, dict) and "error" in value:
            return {key: {"error": value.get("error"), "cause": value.get("cause")}}
    return {}


@dataclass(frozen=True)
class Counts:
    """What one run cost, counted from its executed events (children included)."""

    transitions: int
    lambda_invocations: int
    events: int
    by_state: dict[str, int]
    lambda_by_function: dict[str, int]
    executions: int


def count(events: list[tuple[int, str, dict[str, Any]]]) -> Counts:
    """State transitions (StateEntered events) and Lambda tasks (TaskScheduled of resource type lambda)."""
    by_state: dict[str, int] = {}
    by_function: dict[str, int] = {}
    for _history, event_type, details in events:
        if event_type.endswith("StateEntered"):
            name = details.get("stateEnteredEventDetails", {}).get("name", "?")
            by_state[name] = by_state.get(name, 0) + 1
        elif event_type == "TaskScheduled":
            scheduled = details.get("taskScheduledEventDetails", {})
            if scheduled.get("resourceType") == "lambda":
                function = json.loads(scheduled.get("parameters") or "{}").get("FunctionName", "?")
                by_function[str(function)] = by_function.get(str(function), 0) + 1
    return Counts(
        transitions=sum(by_state.values()),
        lambda_invocations=sum(by_function.values()),
        events=len(events),
        by_state=by_state,
        lambda_by_function=by_function,
        executions=len({history for history, _type, _details in events}),
    )


def split_agent_runs(
    events: list[tuple[int, str, dict[str, Any]]], first_state: str = "LoadTemplate"
) -> tuple[list[tuple[int, str, dict[str, Any]]], list[tuple[int, str, dict[str, Any]]]]:
    """(the batch machine's events, our agent machine's): an agent run's history starts at `first_state`."""
    starts: dict[int, str] = {}
    for history, event_type, details in events:
        if event_type.endswith("StateEntered") and history not in starts:
            starts[history] = details["stateEnteredEventDetails"]["name"]
    agent = {history for history, name in starts.items() if name == first_state}
    return [e for e in events if e[0] not in agent], [e for e in events if e[0] in agent]
