"""moto's interpreter held to the quotas in tests/sfn/quotas.py; installed by `local_step_functions`.

- every state's input and output, and every task result: <= 256 KiB, else `States.DataLimitExceeded`
  (moto checks outputs and results with `<`, inputs not at all);
- each execution's history, and each Distributed Map child's: at most 25,000 events;
- `States.ALL` does not catch `States.DataLimitExceeded` or `States.Runtime` (AWS Step Functions
  Developer Guide, Error names: "States.ALL ... can't catch the States.DataLimitExceeded terminal
  error type and runtime error types"); naming them in ErrorEquals still does;
- every event is recorded in quotas.HISTORY, which the cost tests count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.sfn.quotas import (
    HISTORY,
    HISTORY_ERROR,
    HISTORY_EVENTS,
    STATE_BYTES,
    payload_bytes,
    within_state_quota,
)

TERMINAL = ("States.DataLimitExceeded", HISTORY_ERROR)


def enforce(patch: Callable[[Any, str, Any], None]) -> None:
    """Install the quota patches through the harness's `patch(owner, name, value)` (undone on exit)."""
    from moto.stepfunctions.parser.asl.component.common.error_name import error_equals_decl
    from moto.stepfunctions.parser.asl.component.state import state as state_module
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    for module in (state_module, state_task_lambda, state_task_service):
        patch(module, "is_within_size_quota", within_state_quota)

    add_event = EventManager.add_event

    def recorded_add_event(
        self: Any, context: Any, event_type: Any, event_details: Any = None, **k: Any
    ) -> int:
        event_id = add_event(self, context, event_type, event_details, **k)
        HISTORY.record(id(self), getattr(event_type, "value", event_type), event_details)
        return event_id

    patch(EventManager, "add_event", recorded_add_event)

    state_eval_body = state_module.CommonStateField._eval_body

    def quota_checked_eval_body(self: Any, env: Any) -> None:
        if HISTORY.counts.get(id(env.event_manager), 0) >= HISTORY_EVENTS:
            raise _failure(
                env,
                HISTORY_ERROR,
                f"The execution reached the maximum number of history events ({HISTORY_EVENTS})"
                f" before entering the state '{self.name}'.",
            )
        size = payload_bytes(env.states.get_input())
        if size > STATE_BYTES:
            raise _failure(
                env,
                "States.DataLimitExceeded",
                f"The state '{self.name}' received an input of {size} bytes, more than the"
                f" {STATE_BYTES}-byte service limit.",
            )
        state_eval_body(self, env)

    patch(state_module.CommonStateField, "_eval_body", quota_checked_eval_body)

    errors_match = error_equals_decl.ErrorEqualsDecl._eval_body

    def terminal_aware_match(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        named = [getattr(name, "error_name", None) for name in self.error_names]
        if getattr(error_name, "error_name", None) in TERMINAL and named == ["States.ALL"]:
            env.stack.pop()
            env.stack.append(False)
            return
        errors_match(self, env)

    patch(error_equals_decl.ErrorEqualsDecl, "_eval_body", terminal_aware_match)


def _failure(env: Any, error: str, cause: str) -> Exception:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.from_name(error)),
            event_type=HistoryEventType.ExecutionFailed,
            event_details=EventDetails(
                executionFailedEventDetails=ExecutionFailedEventDetails(error=error, cause=cause)
            ),
        )
    )
