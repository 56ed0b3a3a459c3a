"""Every history event the interpreter records, Distributed Map children and started agents included.

`get_execution_history` of the batch execution does not return its Distributed
Map children's events; moto's interpreter records every event of every
execution through `EventManager.add_event`, so `recorded()` wraps that method
for the duration of a `with` block and keeps, per event, its type, the state it
names (for `*StateEntered` / `*StateExited`), the output's size in UTF-8 bytes
(`*StateExited`), and the function a Lambda task calls (`TaskScheduled`).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

STATE_LIMIT_BYTES = 262_144  # 256 KiB: a state's input or output, a task's result
HISTORY_LIMIT_EVENTS = 25_000  # events in one execution's history


@dataclass
class Recorded:
    entered: Counter = field(default_factory=Counter)  # state name -> times entered
    lambda_calls: Counter = field(default_factory=Counter)  # function name -> TaskScheduled events
    largest_output: dict[str, int] = field(default_factory=dict)  # state name -> largest output, bytes
    events_per_history: Counter = field(default_factory=Counter)  # id(EventManager) -> events
    lock: threading.Lock = field(default_factory=threading.Lock)

    def transitions(self, states: set[str]) -> int:
        return sum(count for name, count in self.entered.items() if name in states)

    def calls(self, functions: set[str]) -> int:
        return sum(count for name, count in self.lambda_calls.items() if name in functions)


def _kind(event_type: Any) -> str:
    return str(getattr(event_type, "value", event_type))


@contextlib.contextmanager
def recorded() -> Iterator[Recorded]:
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    record = Recorded()
    add_event = EventManager.add_event

    def counting_add_event(
        self: Any, context: Any, event_type: Any, event_details: Any = None, *a: Any, **k: Any
    ):
        kind, details = _kind(event_type), dict(event_details or {})
        with record.lock:
            record.events_per_history[id(self)] += 1
            if kind.endswith("StateEntered"):
                record.entered[details["stateEnteredEventDetails"]["name"]] += 1
            elif kind.endswith("StateExited"):
                exited = details["stateExitedEventDetails"]
                size = len((exited.get("output") or "").encode("utf-8"))
                record.largest_output[exited["name"]] = max(
                    record.largest_output.get(exited["name"], 0), size
                )
            elif kind == "TaskScheduled":
                scheduled = details["taskScheduledEventDetails"]
                if scheduled.get("resourceType") == "lambda":
                    name = json.loads(scheduled.get("parameters") or "{}").get("FunctionName", "")
                    record.lambda_calls[name.rsplit(":", 1)[-1] if ":function:" in name else name] += 1
        return add_event(self, context, event_type, event_details, *a, **k)

    EventManager.add_event = counting_add_event
    try:
        yield record
    finally:
        EventManager.add_event = add_event
