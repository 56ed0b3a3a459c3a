"""A worker on the browser activity that does what the real browser agent's poller does.

Restated from guyernest/step-functions-agent at ffef93d,
lambda/tools/local-browser-agent/src-tauri/src/activity_poller.rs, `execute_task`
(lines ~201-305) and `send_task_failure` (lines ~414-427):

- the task input is parsed as JSON; its `tool_input`, or the whole input when
  there is no `tool_input`, is the script handed to the script executor;
- the task label is the script's `name`, else `description`, else `prompt`;
- on success the executor's output is parsed as JSON (`{"raw_output": text}`
  when it is not JSON; `{"success": true}` when there is none) and the worker
  answers SendTaskSuccess with
  `{"tool_name": input's or "browser_remote", "tool_use_id": input's or "",
    "tool_input": {"script_output": <that>}, "timestamp": input's or now,
    "context": input's or {}, "approved": true}`;
- when the executor reports failure (or errs) the worker calls SendTaskFailure
  with error "BrowserAutomationError" and the executor's error text as cause.

The executor here is a function the test passes: script -> ExecutorResult.
"""

from __future__ import annotations

import json
import threading
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable


@dataclass(frozen=True)
class ExecutorResult:
    """What the script executor returns: `output` is its stdout (JSON text on success)."""

    success: bool
    output: str | None = None
    error: str | None = None


def executor_success(result: dict[str, Any]) -> ExecutorResult:
    return ExecutorResult(True, json.dumps(result))


def executor_failure(error: str) -> ExecutorResult:
    return ExecutorResult(False, None, error)


def script_of(task_input: dict[str, Any]) -> Any:
    """The poller's choice of script: `tool_input`, or the whole input."""
    return task_input["tool_input"] if "tool_input" in task_input else task_input


def task_label(script: Any) -> str:
    if isinstance(script, dict):
        for key in ("name", "description", "prompt"):
            if isinstance(script.get(key), str):
                return script[key]
    return "Unknown task"


def poller_answer(task_input: dict[str, Any], result: ExecutorResult) -> tuple[bool, Any]:
    """(succeeded, SendTaskSuccess output or SendTaskFailure cause) for one executed task."""
    if not result.success:
        return False, result.error or "Unknown browser automation error"
    if result.output is None:
        script_output: Any = {"success": True}
    else:
        try:
            script_output = json.loads(result.output)
        except json.JSONDecodeError:
            script_output = {"raw_output": result.output}
    now = datetime.now(timezone.utc).isoformat()
    return True, {
        "tool_name": task_input.get("tool_name", "browser_remote"),
        "tool_use_id": task_input.get("tool_use_id", ""),
        "tool_input": {"script_output": script_output},
        "timestamp": task_input.get("timestamp", now),
        "context": task_input.get("context", {}),
        "approved": True,
    }


@dataclass
class BrowserWorker:
    """Worker threads polling the activity; `seen` keeps every task input, `labels` every label."""

    client: Any
    activity_arn: str
    executor: Callable[[Any], ExecutorResult]
    threads: int = 1
    approved: bool = (
        True  # False: answer as a worker that refused the task (the existing agents' approval flow)
    )
    seen: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._workers = [threading.Thread(target=self._poll, daemon=True) for _ in range(self.threads)]

    def __enter__(self) -> BrowserWorker:
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for worker in self._workers:  # each is back from its poll within about a second
            worker.join(timeout=10)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                task = self.client.get_activity_task(activityArn=self.activity_arn, workerName="sfn-harness")
                if not task.get("taskToken"):
                    continue
                self._execute(task["taskToken"], task["input"])
            except Exception:  # a harness fault must show in the test, not kill the thread
                self.errors.append(traceback.format_exc())

    def _execute(self, token: str, input_text: str) -> None:
        task_input = json.loads(input_text)
        self.seen.append(task_input)
        script = script_of(task_input)
        self.labels.append(task_label(script))
        try:
            result = self.executor(script)
        except Exception as exc:  # the executor itself erred: the poller reports the error text
            result = executor_failure(str(exc))
        succeeded, answer = poller_answer(task_input, result)
        if succeeded and not self.approved:
            answer["approved"] = False
        if succeeded:
            self.client.send_task_success(taskToken=token, output=json.dumps(answer))
        else:
            self.client.send_task_failure(taskToken=token, error="BrowserAutomationError", cause=answer)
