"""Every attempt at a row is bounded by `--timeout`, and nothing a row leaves behind holds the process.

A `module:function` agent that never returns fails its rows after `--timeout`, and the process exits after
the last row (the engine's workers are daemon threads it abandons, not a pool joined at exit). One Ctrl-C
waits for rows in flight only until their deadline; a second leaves at once, 130, with no traceback. The
deadline covers the input mapping, the call and the output mapping, and the invoker is told the time left.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from factory.batch import engine, plan
from factory.cli import main
from tests.batch.test_local_engine import AGENT, stored_rows
from tests.conftest import REPO

HUNG_AGENT = """
import json, os, time

ANSWER = {"success": True, "fttp_avail": True, "alk": "A1", "exchange_code": "X", "sogea_avail": False}


def invoke(payload):
    data = payload.get("input", payload)
    with open(os.environ["HUNG_AGENT_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(data.get("street")) + "\\n")
    if data.get("street") == "answers":
        return {"structured_output": ANSWER}
    while True:
        time.sleep(3600)
"""


def write_rows(path: Path, streets: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Building Number", "Street", "Postcode"])
        for number, street in enumerate(streets, 1):
            writer.writerow([str(number), street, "CB1 2AB"])
    return path


def read_results(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class HungRun:
    """`batch run` in a child process with the hung agent, as a person starts it."""

    def __init__(self, tmp_path: Path, streets: list[str], *flags: str) -> None:
        agents = tmp_path / "agents"
        agents.mkdir()
        (agents / "hung_agent_for_deadline_tests.py").write_text(HUNG_AGENT, "utf-8")
        self.log, self.store, self.out = (
            tmp_path / "calls.log",
            tmp_path / "store.sqlite",
            tmp_path / "out.csv",
        )
        env = {
            **os.environ,
            "HUNG_AGENT_LOG": str(self.log),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(agents)]),
        }
        argv = [
            sys.executable,
            "-m",
            "factory",
            "batch",
            "run",
            str(write_rows(tmp_path / "in.csv", streets)),
            "--agent",
            AGENT,
            "--invoke",
            "hung_agent_for_deadline_tests:invoke",
            "--store",
            str(self.store),
            "--out",
            str(self.out),
            "--retries",
            "0",
            "--quiet",
            *flags,
        ]
        self.proc = subprocess.Popen(
            argv, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def calls(self) -> int:
        return len(self.log.read_text("utf-8").splitlines()) if self.log.exists() else 0

    def wait_for(self, calls: int, stored: int) -> None:
        deadline = time.monotonic() + 60
        while self.calls() < calls or not self.store.exists() or len(stored_rows(self.store)) < stored:
            assert time.monotonic() < deadline and self.proc.poll() is None, self.proc.communicate()
            time.sleep(0.05)

    def finish(self, within: float) -> tuple[float, str]:
        """Seconds until the process exited (failing after `within`), and its stderr."""
        started = time.monotonic()
        try:
            _, stderr = self.proc.communicate(timeout=within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, stderr = self.proc.communicate()
            pytest.fail(f"still running {within} s later; stderr: {stderr}")
        return time.monotonic() - started, stderr


def test_a_hung_agent_fails_its_rows_and_the_process_exits(tmp_path: Path) -> None:
    run = HungRun(tmp_path, ["hangs", "hangs too"], "--timeout", "0.5")
    _, stderr = run.finish(within=60)
    assert run.proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    rows = read_results(run.out)
    assert [row["_status"] for row in rows] == ["FAILED", "FAILED"]
    assert {row["_error"] for row in rows} == {"agent call failed after 1 attempt(s): no answer within 0.5 s"}


def test_one_ctrl_c_waits_for_rows_in_flight_only_until_their_deadline(tmp_path: Path) -> None:
    run = HungRun(
        tmp_path, ["answers", "hangs", "hangs", "never called"], "--timeout", "2", "--concurrency", "2"
    )
    run.wait_for(calls=3, stored=1)
    run.proc.send_signal(signal.SIGINT)
    seconds, stderr = run.finish(within=30)
    assert run.proc.returncode == 130, stderr
    assert seconds < 2 + 3, "the row in flight was waited for until its deadline, then the run ended"
    assert "Traceback" not in stderr
    assert [status for _, _, status in stored_rows(run.store)] == [
        "SUCCESS",
        "FAILED",
        "FAILED",
    ]  # answered (its optional fields absent); timed out


def test_a_second_ctrl_c_ends_a_run_held_by_a_hung_agent_within_2_s(tmp_path: Path) -> None:
    run = HungRun(tmp_path, ["answers", "hangs", "hangs", "hangs"], "--timeout", "600", "--concurrency", "2")
    run.wait_for(calls=3, stored=1)
    run.proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    run.proc.send_signal(signal.SIGINT)
    seconds, stderr = run.finish(within=30)
    assert run.proc.returncode == 130, stderr
    assert seconds < 2
    assert "Traceback" not in stderr
    assert "stopped; finished rows are stored. Resume with:" in stderr
    assert [(number, status) for _, number, status in stored_rows(run.store)] == [
        (1, "SUCCESS")
    ]  # the answered row, kept


# -- the deadline, in-process -------------------------------------------------------------------------


class BlockingInvoker:
    """Records the timeout each call is given, then blocks until released: a call that never answers."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []
        self.release = threading.Event()

    def __call__(self, payload: Any, timeout: float) -> Any:
        self.timeouts.append(timeout)
        self.release.wait(60)
        return {}

    def close(self) -> None:
        pass


def run_bounded(
    tmp_path: Path, timeout: str, limit: float, rows: int = 3, concurrency: int = 3
) -> tuple[Result, list[dict[str, str]], float]:
    """`batch run` in-process on a thread the test stops waiting for after `limit` seconds."""
    csv_path, out = (
        write_rows(tmp_path / "in.csv", [f"street {n}" for n in range(rows)]),
        tmp_path / "out.csv",
    )
    argv = ["batch", "run", str(csv_path), "--agent", AGENT, "--invoke", "examples.example_agent:invoke"]
    argv += ["--store", str(tmp_path / "s.sqlite"), "--out", str(out), "--quiet", "--retries", "0"]
    argv += ["--concurrency", str(concurrency), "--timeout", timeout]
    results: list[Result] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: results.append(CliRunner().invoke(main, argv)), daemon=True)
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"the run did not end within {limit} s: --timeout {timeout} was not applied"
    return results[0], read_results(out), time.monotonic() - started


@pytest.fixture
def blocking(monkeypatch: pytest.MonkeyPatch) -> Any:
    invoker = BlockingInvoker()
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(plan, "make_plan_invoker", lambda _plan: invoker)
    yield invoker
    invoker.release.set()


def test_the_timeout_bounds_the_call_and_reaches_the_invoker(
    tmp_path: Path, blocking: BlockingInvoker
) -> None:
    """Issue 26: a fast test that fails when the engine ignores `options.timeout`, at either place it is used."""
    result, rows, seconds = run_bounded(tmp_path, "0.4", limit=15)
    assert result.exit_code == 1, result.output
    assert {row["_error"] for row in rows} == {"agent call failed after 1 attempt(s): no answer within 0.4 s"}
    assert len(blocking.timeouts) == 3 and all(0.3 < timeout <= 0.4 for timeout in blocking.timeouts)
    assert seconds < 10


@pytest.mark.parametrize("stage", ["input", "output"])
def test_the_timeout_bounds_the_mapping_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    """A mapping that does not end (a slow expression over a huge cell or answer) fails its row at the deadline."""
    monkeypatch.chdir(REPO)
    endless = threading.Event()

    def slow(*args: Any) -> Any:
        endless.wait(60)
        raise AssertionError("reached only when the test is over")

    if stage == "input":
        monkeypatch.setattr(engine, "request_payload", slow)
    else:
        monkeypatch.setattr(engine.RowProcessor, "map_response", lambda self, response: slow())
    try:
        result, rows, _ = run_bounded(tmp_path, "0.4", limit=15)
    finally:
        endless.set()
    what = "mapping the row's input" if stage == "input" else "mapping the agent's output"
    assert result.exit_code == 1, result.output
    assert {row["_error"] for row in rows} == {f"{what} took longer than --timeout (0.4 s)"}


def test_calls_that_never_return_leave_a_bounded_number_of_threads_behind(
    tmp_path: Path, blocking: BlockingInvoker
) -> None:
    """Past ABANDONED_PER_ROW × concurrency hung attempts, rows fail unrun instead of leaving a thread each."""
    bound = engine.ABANDONED_PER_ROW
    result, rows, _ = run_bounded(tmp_path, "0.3", limit=30, rows=bound + 2, concurrency=1)
    assert result.exit_code == 1, result.output
    assert len(blocking.timeouts) == bound, "one call per worker, then none"
    errors = [row["_error"] for row in rows]
    assert errors[:bound] == ["agent call failed after 1 attempt(s): no answer within 0.3 s"] * bound
    assert (
        errors[bound:]
        == [
            f"not called within 0.3 s: {bound} earlier attempts that never "
            "ended hold every worker (the agent hangs)"
        ]
        * 2
    )
