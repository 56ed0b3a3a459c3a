"""`batch run` as a person uses it (issue #14): resume remembers --invoke, the batch id shows at once,
--out is checked first, no agent call starts after Ctrl-C, and the exit status says whether every row succeeded."""

from __future__ import annotations

import csv
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.batch.test_local_engine import AGENT, calls, stored_rows, write_addresses
from tests.conftest import REPO

EXAMPLE = "examples.example_agent:invoke"


@pytest.fixture
def at_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("EXAMPLE_AGENT_CALL_LOG", str(tmp_path / "calls.jsonl"))
    return tmp_path


def run(csv_path: Path, store: Path, *extra: str):
    return CliRunner().invoke(main, ["batch", "run", str(csv_path), "--agent", AGENT, "--store", str(store),
                                     "--quiet", "--retries", "0", *extra])


def test_resume_remembers_how_the_agent_was_called(at_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's resume command has no --invoke: the batch stores the spec it was started with."""
    monkeypatch.setenv("EXAMPLE_AGENT_FAILURE_RATE", "1.0")
    csv_path, store = write_addresses(at_repo / "in.csv", 8), at_repo / "store.sqlite"
    first = run(csv_path, store, "--invoke", EXAMPLE, "--out", str(at_repo / "out.csv"))
    assert first.exit_code == 1
    batch_id = stored_rows(store)[0][0]
    resumed = CliRunner().invoke(main, ["batch", "run", "--resume", batch_id, "--store", str(store), "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    assert f"agent: {EXAMPLE} (from the --invoke stored with the batch)" in resumed.stderr
    assert {r[2] for r in stored_rows(store)} <= {"SUCCESS", "PARTIAL"}


def test_the_batch_id_is_printed_when_the_run_starts(at_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv_path, store = write_addresses(at_repo / "in.csv", 3), at_repo / "store.sqlite"
    result = run(csv_path, store, "--invoke", EXAMPLE, "--out", str(at_repo / "out.csv"), "--json")
    batch_id = json.loads(result.stdout)["batch_id"]
    assert result.stderr.startswith(f"batch {batch_id} started")


@pytest.mark.parametrize("out", ["missing-dir/out.csv", "in.csv/out.csv"])
def test_out_is_checked_before_the_first_agent_call(at_repo: Path, out: str) -> None:
    csv_path, store = write_addresses(at_repo / "in.csv", 3), at_repo / "store.sqlite"
    result = run(csv_path, store, "--invoke", EXAMPLE, "--out", str(at_repo / out))
    assert result.exit_code == 1
    assert "cannot write the results CSV here" in result.stderr
    assert calls(at_repo / "calls.jsonl") == [], "no agent call was made"


def test_out_not_writable_is_refused_first(at_repo: Path) -> None:
    locked = at_repo / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        result = run(write_addresses(at_repo / "in.csv", 3), at_repo / "s.sqlite", "--invoke", EXAMPLE,
                     "--out", str(locked / "out.csv"))
        assert result.exit_code == 1 and "is not writable" in result.stderr
        assert calls(at_repo / "calls.jsonl") == []
    finally:
        locked.chmod(0o700)


def test_stepfunctions_engine_without_region_is_one_line(at_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(at_repo / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(at_repo / "none"))
    result = CliRunner().invoke(main, ["batch", "run", str(write_addresses(at_repo / "in.csv", 3)), "--agent", AGENT,
                                       "--engine", "stepfunctions"])
    assert result.exit_code == 1
    assert "no AWS region configured (pass --region" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = CliRunner().invoke(main, ["batch", "run", str(at_repo / "in.csv"), "--agent", AGENT,
                                       "--engine", "stepfunctions", "--region", "eu-west-2"])
    assert result.exit_code == 1
    assert "Unable to locate credentials (configure AWS credentials" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 2, "one problem line and the count"


def test_a_record_arn_without_credentials_stops_before_any_row(at_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(at_repo / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(at_repo / "none"))
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:agent-dev"
    result = run(write_addresses(at_repo / "in.csv", 3), at_repo / "s.sqlite", "--invoke", arn, "--region",
                 "us-east-1", "--out", str(at_repo / "o.csv"))
    assert result.exit_code == 1 and "no AWS credentials found" in result.stderr
    assert "started" not in result.stderr


# -- exit status, for every kind of agent ------------------------------------------------------------------


def _fail_on_row(data: dict) -> bool:
    return data.get("building_number") == "2"


def agent_fails_row_2(payload: dict) -> dict:
    """A module:function agent: row 2 fails, the others answer as the example agent does."""
    from examples.example_agent import invoke

    if _fail_on_row(payload["input"]):
        raise RuntimeError("no such address")
    return invoke(payload)


class _Agent(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        from examples.example_agent import invoke

        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, body = (500, b"no such address") if _fail_on_row(payload["input"]) else (
            200, json.dumps(invoke(payload)).encode())
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_agent() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Agent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


EXEC_AGENT = (
    "import json, sys\n"
    "sys.path.insert(0, {repo!r})\n"
    "from examples.example_agent import invoke\n"
    "for line in sys.stdin:\n"
    "    p = json.loads(line)\n"
    "    ok = p['input'].get('building_number') != '2'\n"
    "    print(json.dumps({{'ok': True, 'result': invoke(p)}} if ok else {{'ok': False, 'error': 'no such address'}}),"
    " flush=True)\n"
)


def _spec(kind: str, tmp_path: Path, server: ThreadingHTTPServer) -> str:
    if kind == "module:function":
        return "tests.batch.test_run_cli:agent_fails_row_2"
    if kind == "http":
        return f"http://127.0.0.1:{server.server_address[1]}/agent"
    script = tmp_path / "agent.py"
    script.write_text(EXEC_AGENT.format(repo=str(REPO)), "utf-8")
    return f"exec:{sys.executable} {script}"


@pytest.mark.parametrize("kind", ["module:function", "http", "exec"])
def test_exit_status_is_1_when_any_row_failed_and_0_when_all_succeeded(
    kind: str, at_repo: Path, http_agent: ThreadingHTTPServer
) -> None:
    spec = _spec(kind, at_repo, http_agent)
    some_fail = write_addresses(at_repo / "some.csv", 4)
    result = run(some_fail, at_repo / "a.sqlite", "--invoke", spec, "--out", str(at_repo / "a.csv"))
    assert result.exit_code == 1, result.output
    with open(at_repo / "a.csv", newline="", encoding="utf-8") as handle:
        statuses = [r["_status"] for r in csv.DictReader(handle)]
    assert statuses[1] == "FAILED" and statuses.count("FAILED") == 1

    one_row = at_repo / "one.csv"
    one_row.write_text("Building Number,Street,Postcode,Full Address\n1,High Street,CB1 2AB,\n", "utf-8")
    result = run(one_row, at_repo / "b.sqlite", "--invoke", spec, "--out", str(at_repo / "b.csv"))
    assert result.exit_code == 0, result.output


def agent_exits_on_row_2(payload: dict) -> dict:
    """A module:function agent that calls sys.exit() on row 2 (a BaseException, not an Exception)."""
    from examples.example_agent import invoke

    if _fail_on_row(payload["input"]):
        sys.exit(3)
    return invoke(payload)


def test_an_agent_calling_sys_exit_never_makes_the_run_exit_0(at_repo: Path) -> None:
    result = run(write_addresses(at_repo / "in.csv", 4), at_repo / "s.sqlite", "--invoke",
                 "tests.batch.test_run_cli:agent_exits_on_row_2", "--out", str(at_repo / "o.csv"))
    assert result.exit_code == 1, result.output


def test_exit_status_for_a_state_machine_agent(at_repo: Path, moto_endpoint: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A state machine agent (moto executes the ASL): one that fails every row exits 1, one that succeeds 0."""
    import urllib.request

    import boto3

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))
    config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/config", data=config, method="POST",
                                                  headers={"Content-Type": "application/json"}))
    try:
        sfn = boto3.client("stepfunctions", endpoint_url=moto_endpoint, region_name="us-east-1")
        role = "arn:aws:iam::123456789012:role/sfn"
        output = {"structured_output": {"success": True, "fttp_avail": False}}
        machines = {
            "fails": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "BrowserRunFailed", "Cause": "gone"}}},
            "answers": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": output, "End": True}}},
        }
        arns = {name: sfn.create_state_machine(name=name, definition=json.dumps(body), roleArn=role)["stateMachineArn"]
                for name, body in machines.items()}
        csv_path = write_addresses(at_repo / "in.csv", 2)
        failed = run(csv_path, at_repo / "f.sqlite", "--invoke", arns["fails"], "--endpoint-url", moto_endpoint,
                     "--out", str(at_repo / "f.csv"), "--timeout", "20")
        assert failed.exit_code == 1, failed.output
        answered = run(csv_path, at_repo / "a.sqlite", "--invoke", arns["answers"], "--endpoint-url", moto_endpoint,
                       "--out", str(at_repo / "a.csv"), "--timeout", "20")
        assert answered.exit_code == 0, answered.output + (at_repo / "a.csv").read_text("utf-8")
    finally:
        off = json.dumps({"stepfunctions": {"execute_state_machine": False}}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/config", data=off, method="POST",
                                                      headers={"Content-Type": "application/json"}))


# -- Ctrl-C ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_no_agent_call_starts_after_sigint(tmp_path: Path) -> None:
    csv_path = write_addresses(tmp_path / "in.csv", 200)
    store, log = tmp_path / "store.sqlite", tmp_path / "calls.jsonl"
    env = {**os.environ, "EXAMPLE_AGENT_CALL_LOG": str(log), "EXAMPLE_AGENT_LATENCY_MS": "300",
           "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "factory", "batch", "run", str(csv_path), "--agent", AGENT,
                             "--invoke", EXAMPLE, "--store", str(store), "--out", str(tmp_path / "o.csv"),
                             "--concurrency", "4", "--quiet"], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(calls(log)) < 6:
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    time.sleep(0.1)  # between two bursts of calls: the 4 in flight are 100 ms into their 300 ms
    proc.send_signal(signal.SIGINT)
    at_signal = len(calls(log))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    started_after = len(calls(log)) - at_signal
    assert started_after == 0, f"{started_after} agent calls started after SIGINT"
    finished = len(stored_rows(store))
    assert finished == at_signal, "every call in flight finished its bookkeeping; no other row was touched"


@pytest.mark.slow
def test_a_second_sigint_leaves_at_once_with_the_resume_command(tmp_path: Path) -> None:
    csv_path = write_addresses(tmp_path / "in.csv", 50)
    store, log = tmp_path / "store.sqlite", tmp_path / "calls.jsonl"
    env = {**os.environ, "EXAMPLE_AGENT_CALL_LOG": str(log), "EXAMPLE_AGENT_LATENCY_MS": "5000",
           "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "factory", "batch", "run", str(csv_path), "--agent", AGENT,
                             "--invoke", EXAMPLE, "--store", str(store), "--out", str(tmp_path / "o.csv"),
                             "--concurrency", "2", "--quiet"], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(calls(log)) < 2:
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - started < 3, "left without waiting for the 5 s calls in flight"
    batch_id = stderr.split("batch ", 1)[1].split(" started", 1)[0]
    assert "stopped; finished rows are stored. Resume with:" in stderr
    assert shlex.join(["schema-factory", "batch", "run", "--resume", batch_id, "--store", str(store)]) in stderr
