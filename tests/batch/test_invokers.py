"""Each way of calling an agent: Python callable, HTTP, JSON-lines subprocess, state machine."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from factory.batch.invokers import (
    AgentCallError,
    AgentFailedError,
    HttpInvoker,
    PythonInvoker,
    StateMachineInvoker,
    SubprocessInvoker,
    make_invoker,
)
from factory.errors import FactoryError
from tests.conftest import REPO

PAYLOAD = {"prompt": "look up", "data": {"postcode": "CB1 2AB", "building_number": "7"}}


def test_a_python_callable_is_called_in_the_callers_thread_with_no_pool_of_its_own() -> None:
    """The engine's deadline bounds it (tests/batch/test_row_deadline.py); a pool here would be joined at exit."""
    threads: list[threading.Thread] = []
    invoker = PythonInvoker(lambda payload: threads.append(threading.current_thread()) or {"echo": payload})
    assert invoker(PAYLOAD, timeout=5) == {"echo": PAYLOAD}
    assert threads == [threading.current_thread()]
    invoker.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: set[int] = set()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.connections.add(id(self.connection))
        status, reply = (500, b"boom") if body["data"].get("fail") else (200, json.dumps({"got": body}).encode())
        self.send_response(status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_agent():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/invoke"
    server.shutdown()


def test_http_posts_json_and_reuses_the_connection(http_agent: str) -> None:
    _Handler.connections.clear()
    invoker = make_invoker(http_agent)
    assert isinstance(invoker, HttpInvoker)
    for _ in range(5):
        assert invoker(PAYLOAD, timeout=5) == {"got": PAYLOAD}
    assert len(_Handler.connections) == 1, "one kept-alive connection for one worker"
    with pytest.raises(AgentCallError, match="HTTP 500: boom"):
        invoker({"data": {"fail": True}}, timeout=5)


def test_http_unreachable_is_an_agent_error() -> None:
    with pytest.raises(AgentCallError, match="HTTP call failed"):
        HttpInvoker("http://127.0.0.1:9/")(PAYLOAD, timeout=2)


def test_subprocess_speaks_json_lines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EXAMPLE_AGENT_FAILURE_RATE", "0")
    invoker = make_invoker(f"exec:{sys.executable} {REPO / 'examples' / 'example_agent.py'}")
    assert isinstance(invoker, SubprocessInvoker)
    first = invoker(PAYLOAD, timeout=10)
    second = invoker(PAYLOAD, timeout=10)
    assert first["step_results"][1]["parsed_response"]["exchange_code"] == "CAMBRIDGE"
    assert first == second
    invoker.close()


def test_subprocess_errors_and_hangs(tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    script.write_text(
        "import sys, json, time\n"
        "for line in sys.stdin:\n"
        "    d = json.loads(line)['data']\n"
        "    if d.get('hang'): time.sleep(30)\n"
        "    print(json.dumps({'ok': False, 'error': 'no such address'}) if d.get('bad') else 'not json', flush=True)\n"
    )
    invoker = SubprocessInvoker(f"{sys.executable} {script}")
    with pytest.raises(AgentCallError, match="no such address"):
        invoker({"data": {"bad": True}}, timeout=10)
    with pytest.raises(AgentCallError, match="not JSON"):
        invoker({"data": {}}, timeout=10)
    with pytest.raises(AgentCallError, match="agent process restarted"):
        invoker({"data": {"hang": True}}, timeout=0.5)
    invoker.close()


class FakeStepFunctions:
    def __init__(self, statuses: list[dict]) -> None:
        self.statuses = statuses
        self.started: list[dict] = []
        self.stopped: list[str] = []

    def start_execution(self, **kwargs):
        self.started.append(kwargs)
        return {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:agent-dev:x"}

    def describe_execution(self, executionArn):  # noqa: N803 - boto3's naming
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def stop_execution(self, executionArn, cause):  # noqa: N803
        self.stopped.append(executionArn)


def test_state_machine_polls_until_it_succeeds() -> None:
    client = FakeStepFunctions([{"status": "RUNNING"}, {"status": "RUNNING"},
                                {"status": "SUCCEEDED", "output": json.dumps({"structured_output": {"a": 1}})}])
    invoker = StateMachineInvoker(client, "arn:aws:states:us-east-1:123456789012:stateMachine:agent-dev",
                                  first_poll=0.01)
    assert invoker(PAYLOAD, timeout=5) == {"structured_output": {"a": 1}}
    assert json.loads(client.started[0]["input"]) == PAYLOAD


def test_state_machine_failure_and_deadline() -> None:
    # a FAILED execution's own Error and Cause, in the words the batch state machine writes for the row
    failed = FakeStepFunctions([{"status": "FAILED", "error": "BrowserRunFailed", "cause": "page gone"}])
    with pytest.raises(AgentFailedError) as raised:
        StateMachineInvoker(failed, "arn", first_poll=0.01)(PAYLOAD, timeout=5)
    assert str(raised.value) == "BrowserRunFailed: page gone"
    lambda_cause = json.dumps({"errorMessage": "no such page", "errorType": "ValueError", "stackTrace": ["x"]})
    failed = FakeStepFunctions([{"status": "FAILED", "error": "ValueError", "cause": lambda_cause}])
    with pytest.raises(AgentFailedError, match="^ValueError: no such page$"):
        StateMachineInvoker(failed, "arn", first_poll=0.01)(PAYLOAD, timeout=5)
    for described, words in (({"status": "FAILED"}, "execution failed: FAILED"),
                              ({"status": "ABORTED", "cause": "stopped by hand"}, "execution aborted: stopped by hand")):
        with pytest.raises(AgentCallError) as raised:
            StateMachineInvoker(FakeStepFunctions([described]), "arn", first_poll=0.01)(PAYLOAD, timeout=5)
        assert str(raised.value) == words and not isinstance(raised.value, AgentFailedError)
    running = FakeStepFunctions([{"status": "RUNNING"}])
    with pytest.raises(AgentCallError, match="still running after 0.05 s"):
        StateMachineInvoker(running, "arn", first_poll=0.01)(PAYLOAD, timeout=0.05)
    assert running.stopped, "a timed-out execution is stopped"


def test_unknown_invoke_spec_is_a_clear_error() -> None:
    with pytest.raises(FactoryError, match="cannot tell what"):
        make_invoker("nonsense")
    with pytest.raises(FactoryError, match="cannot load 'no_such_module:f'"):
        make_invoker("no_such_module:f")
