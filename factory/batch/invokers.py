"""Ways to call a target for one row: a Python callable, HTTP, a subprocess, a state machine, a Lambda.

Each invoker takes the row's request (for an agent `{"messages", "input"}`, for a tool its fields) and
returns the agent's response, whatever its shape: the output mapper finds the
structured output in it. Each raises `AgentCallError` (or lets the agent's
own exception through) on failure. The engine bounds every call with its own
deadline and passes the time left as `timeout`: invokers that wait on a
socket, a process or an execution use it to give up (and clean up) too.
"""

from __future__ import annotations

import http.client
import importlib
import json
import shlex
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Protocol
from urllib.parse import urlsplit

from factory.errors import FactoryError, Problem
from factory.runtime.target_kinds import KINDS, kind_of_arn


class AgentCallError(RuntimeError):
    """One call failed; the engine may retry it."""


class FinalCallError(AgentCallError):
    """The call completed and the target answered with an error (a Lambda FunctionError): not retried."""


class FunctionFailedError(FinalCallError):
    """A Lambda tool ran and failed (a FunctionError): `<errorType>: <errorMessage>`, not retried.

    The step-functions engine catches the same failure as Error = errorType,
    Cause = the function's JSON report, and writes "<Error>: <errorMessage>"
    (result_writer.caught_error_text): the row's error is this text as it
    stands, so both engines give the same cell.
    """


class AgentFailedError(AgentCallError):
    """The agent ran and ended in its own named failure (a FAILED execution's Error and Cause).

    Its text is the row's error as it stands, in the words the step-functions
    engine writes for the same failure, so both engines give the same cell.
    """


class Invoker(Protocol):
    def __call__(self, payload: Any, timeout: float) -> Any: ...

    def close(self) -> None: ...


class PythonInvoker:
    """`module:function`, called in the engine's worker for the row.

    A Python call cannot be interrupted from outside, so `timeout` is not
    enforced here: the engine bounds every attempt at a row with its own
    deadline, on a daemon worker it abandons when the call never returns
    (`factory.batch.engine.RowProcessor`). No pool of our own, then: a pool
    whose threads are joined at exit is what kept a hung agent's process alive.
    """

    def __init__(self, function: Callable[[dict[str, Any]], Any]) -> None:
        self.function = function

    def __call__(self, payload: dict[str, Any], timeout: float) -> Any:
        return self.function(payload)

    def close(self) -> None:
        pass


class HttpInvoker:
    """POST the payload as JSON; one kept-alive connection per worker thread."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname or "", parts.port
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._local = threading.local()

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = cls(self.host, self.port, timeout=timeout)
            self._local.conn = conn
        conn.timeout = timeout
        return conn

    def __call__(self, payload: dict[str, Any], timeout: float) -> Any:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        for attempt in (1, 2):  # a kept-alive connection the server closed is retried once
            conn = self._connection(timeout)
            try:
                conn.request("POST", self.path, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as err:
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise AgentCallError(f"connection lost: {err}") from None
                continue
            except (OSError, http.client.HTTPException) as err:
                conn.close()
                self._local.conn = None
                raise AgentCallError(f"HTTP call failed: {err}") from None
            if response.status >= 300:
                raise AgentCallError(f"HTTP {response.status}: {data[:200].decode('utf-8', 'replace')}")
            try:
                return json.loads(data)
            except ValueError:
                raise AgentCallError("the agent's HTTP response is not JSON") from None
        raise AgentCallError("unreachable")

    def close(self) -> None:
        pass


class SubprocessInvoker:
    """A long-running process per worker thread speaking JSON lines.

    Request: the payload on one line. Response: one line, either
    `{"ok": true, "result": ...}`, `{"ok": false, "error": "..."}`, or any
    other JSON value taken as the result itself.
    """

    def __init__(self, command: str) -> None:
        self.argv = shlex.split(command)
        self._local = threading.local()
        self._processes: list[subprocess.Popen[str]] = []
        self._lock = threading.Lock()

    def _process(self) -> subprocess.Popen[str]:
        proc = getattr(self._local, "proc", None)
        if proc is None or proc.poll() is not None:
            try:
                # A session of its own: a terminal's Ctrl-C goes to the whole foreground process group, and
                # would kill every agent mid-row with its own KeyboardInterrupt traceback. The run's handler
                # decides instead (stop starting rows, let those in flight finish), then closes their stdin.
                proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        encoding="utf-8", bufsize=1, start_new_session=True)
            except OSError as err:
                raise AgentCallError(f"cannot start {self.argv[0]!r}: {err.strerror}") from None
            self._local.proc = proc
            with self._lock:
                self._processes.append(proc)
        return proc

    def __call__(self, payload: dict[str, Any], timeout: float) -> Any:
        proc = self._process()
        assert proc.stdin and proc.stdout
        stdout = proc.stdout
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        try:
            proc.stdin.write(json.dumps(payload, ensure_ascii=False) + "\n")
            proc.stdin.flush()
        except OSError:
            self._local.proc = None
            raise AgentCallError("the agent process exited") from None
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            proc.kill()
            self._local.proc = None
            raise AgentCallError(f"no answer within {timeout:g} s (agent process restarted)")
        line = result[0] if result else ""
        if not line:
            self._local.proc = None
            raise AgentCallError(f"the agent process exited (status {proc.poll()})")
        try:
            answer = json.loads(line)
        except ValueError:
            raise AgentCallError(f"the agent printed a line that is not JSON: {line[:200]!r}") from None
        if isinstance(answer, dict) and "ok" in answer and set(answer) <= {"ok", "result", "error"}:
            if not answer["ok"]:
                raise AgentCallError(str(answer.get("error") or "the agent reported an error"))
            return answer.get("result")
        return answer

    def close(self) -> None:
        with self._lock:
            for proc in self._processes:
                if proc.poll() is None:
                    proc.stdin.close() if proc.stdin else None
                    try:
                        proc.wait(timeout=2)
                    except subprocess.TimeoutExpired:
                        proc.kill()


class StateMachineInvoker:
    """The deployed agent: StartExecution, then DescribeExecution polled with backoff.

    Agent state machines are STANDARD (they wait on the browser activity), so
    StartSyncExecution cannot run them.
    """

    TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")

    def __init__(self, client: Any, arn: str, *, first_poll: float = 1.0, max_poll: float = 15.0) -> None:
        self.client, self.arn = client, arn
        self.first_poll, self.max_poll = first_poll, max_poll

    def __call__(self, payload: dict[str, Any], timeout: float) -> Any:
        started = self.client.start_execution(stateMachineArn=self.arn, name=uuid.uuid4().hex,
                                              input=json.dumps(payload, ensure_ascii=False))
        execution_arn = started["executionArn"]
        deadline = time.monotonic() + timeout
        delay = self.first_poll
        while True:
            described = self.client.describe_execution(executionArn=execution_arn)
            status = described["status"]
            if status == "SUCCEEDED":
                return json.loads(described.get("output") or "null")
            if status == "FAILED" and (described.get("error") or described.get("cause")):
                from factory.runtime.result_writer import caught_error_text

                raise AgentFailedError(caught_error_text({"Error": described.get("error"),
                                                          "Cause": described.get("cause")}))
            if status in self.TERMINAL:
                cause = described.get("cause") or described.get("error") or status
                raise AgentCallError(f"execution {status.lower()}: {cause}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                try:
                    self.client.stop_execution(executionArn=execution_arn, cause="schema-factory batch timeout")
                except Exception:  # noqa: BLE001 - best effort; the timeout is what we report
                    pass
                raise AgentCallError(f"execution still running after {timeout:g} s: {execution_arn}")
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.max_poll)

    def close(self) -> None:
        pass


class LambdaInvoker:
    """A Lambda tool: `lambda:Invoke` (RequestResponse) with the mapped input; its JSON answer is the response.

    A FunctionError (the handler raised, timed out, ran out of memory) is the
    row's failure, in the function's own words "<errorType>: <errorMessage>"
    (FunctionFailedError); it is not retried. Throttling and service errors
    are retried by the engine.
    """

    def __init__(self, client: Any, arn: str) -> None:
        self.client, self.arn = client, arn

    def __call__(self, payload: Any, timeout: float) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.invoke(FunctionName=self.arn, InvocationType="RequestResponse",
                                        Payload=json.dumps(payload, ensure_ascii=False).encode("utf-8"))
            body = answer["Payload"].read()
        except ClientError as err:
            error = err.response.get("Error", {})
            raise AgentCallError(f"lambda invoke failed: {error.get('Code', 'ClientError')}: "
                                 f"{error.get('Message', err)}") from None
        except BotoCoreError as err:
            raise AgentCallError(f"lambda invoke failed: {err}") from None
        try:
            value = json.loads(body) if body else None
        except ValueError:
            value = None
            if not answer.get("FunctionError"):
                raise FinalCallError(f"the function's answer is not JSON: {body[:200]!r}") from None
        if answer.get("FunctionError"):
            detail = value if isinstance(value, dict) else {}
            kind = detail.get("errorType") or answer["FunctionError"]
            message = detail.get("errorMessage") or body[:200].decode("utf-8", "replace")
            raise FunctionFailedError(f"{kind}: {message}")
        return value

    def close(self) -> None:
        pass


def is_lambda_arn(value: Any) -> bool:
    """A Lambda function ARN (optionally with a version or alias): the tool kind's one ARN rule."""
    return KINDS["tool"].arn_ok(value)


# A Step Functions state machine ARN, and nothing else: the only way to call an
# agent that repository data (an agent record) may name. Anything that runs
# code on this machine (exec:, module:function) or sends rows to a URL comes
# from the person running the command (--invoke).
def is_state_machine_arn(value: Any) -> bool:
    return KINDS["agent"].arn_ok(value)


def record_invoke_spec(record: dict[str, Any], source: str) -> str:
    """The default way to call an agent: its record's `state_machine_arn`, validated as an ARN."""
    value = record.get("state_machine_arn")
    name = record.get("agent_name")
    if value is None:
        raise FactoryError(Problem(source, "$.state_machine_arn", "invoke",
                                   f"agent {name!r} has no state_machine_arn in its record",
                                   "say how to call it with --invoke (module:function, http(s)://URL, exec:COMMAND "
                                   "or a state machine ARN)"))
    if not is_state_machine_arn(value):
        raise FactoryError(Problem(source, "$.state_machine_arn", "invoke",
                                   f"agent {name!r}: state_machine_arn is not a state machine ARN: {value!r}",
                                   "regenerate the record, or say how to call the agent with --invoke"))
    return value


# The local engine's invoker for each target kind's ARN (factory.runtime.target_kinds, `invoker`).
INVOKERS: dict[str, Callable[[Any, str], Invoker]] = {"state_machine": StateMachineInvoker, "lambda": LambdaInvoker}


def load_callable(spec: str) -> Callable[[dict[str, Any]], Any]:
    module_name, _, attribute = spec.partition(":")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
        function = getattr(module, attribute)
    except (ImportError, AttributeError) as err:
        raise FactoryError(Problem("--invoke", "$", "invoke", f"cannot load {spec!r}: {err}",
                                   "give module:function importable from the working directory")) from None
    if not callable(function):
        raise FactoryError(Problem("--invoke", "$", "invoke", f"{spec!r} is not callable", "name a function"))
    return function


def make_invoker(spec: str, *, sfn_client: Callable[[], Any] | None = None,
                 lambda_client: Callable[[], Any] | None = None) -> Invoker:
    """An invoker: URL, `exec:COMMAND`, a state machine or Lambda function ARN, or `module:function`."""
    if spec.startswith(("http://", "https://")):
        return HttpInvoker(spec)
    if spec.startswith("exec:"):
        return SubprocessInvoker(spec[len("exec:"):])
    kind = kind_of_arn(spec)
    if kind is not None:
        client = {"state_machine": sfn_client, "lambda": lambda_client}[kind.invoker]
        if client is None:
            raise FactoryError(Problem("--invoke", "$", "invoke", f"no client for {kind.describes}", "configure AWS"))
        return INVOKERS[kind.invoker](client(), spec)
    if spec.startswith("arn:"):
        raise FactoryError(Problem("--invoke", "$", "invoke", f"not a state machine ARN (nor a Lambda function ARN): {spec!r}",
                                   "arn:aws:states:<region>:<account>:stateMachine:<name> or "
                                   "arn:aws:lambda:<region>:<account>:function:<name>"))
    if ":" in spec:
        return PythonInvoker(load_callable(spec))
    raise FactoryError(Problem("--invoke", "$", "invoke", f"cannot tell what {spec!r} is",
                               "use module:function, http(s)://URL, exec:COMMAND, a state machine ARN "
                               "or a Lambda function ARN"))
