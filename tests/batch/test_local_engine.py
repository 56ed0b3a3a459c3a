"""The local engine end to end with the example agent: retries, crash safety, Ctrl-C."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"
POSTCODES = ["CB1 2AB", "SW1A 1AA", "M1 1AE", "EH1 1YZ", "LS1 4AP", "XX1 1XX"]


def write_addresses(path: Path, count: int) -> Path:
    """Rows unique to this file (the example agent remembers attempts per row in a process)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Building Number", "Street", "Postcode", "Full Address"])
        for index in range(1, count + 1):
            writer.writerow([str(index), f"Street {index} {path.parent.name}", POSTCODES[index % len(POSTCODES)], ""])
    return path


def stored_rows(store: Path) -> list[tuple[str, int, str]]:
    conn = sqlite3.connect(store)
    try:
        return conn.execute("SELECT batch_id, row_number, status FROM results ORDER BY row_number").fetchall()
    finally:
        conn.close()


def calls(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture
def agent_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("EXAMPLE_AGENT_CALL_LOG", str(log))
    monkeypatch.chdir(REPO)
    return log


def run_args(csv_path: Path, store: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", "run", str(csv_path), "--agent", AGENT, "--invoke", "examples.example_agent:invoke",
            "--store", str(store), "--out", str(out), *extra]


def test_thousand_rows_with_flaky_agent(tmp_path: Path, agent_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_AGENT_FAILURE_RATE", "0.1")
    csv_path = write_addresses(tmp_path / "in.csv", 1000)
    store, out = tmp_path / "store.sqlite", tmp_path / "out.csv"
    result = CliRunner().invoke(main, run_args(csv_path, store, out, "--retries", "2", "--json",
                                               "--concurrency", "20") + ["--timeout", "30"])
    summary = json.loads(result.stdout)
    rows = stored_rows(store)
    assert [r[1] for r in rows] == list(range(1, 1001)), "every row stored exactly once"
    with open(out, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert [r["Building Number"] for r in records] == [str(i) for i in range(1, 1001)]
    statuses = [r["_status"] for r in records]
    assert summary["counts"] == {s: statuses.count(s) for s in set(statuses)}
    retried = {json.dumps(c["data"], sort_keys=True) for c in calls(agent_env) if c["attempt"] == 2}
    assert 50 < len(retried) < 150, "about 10% of rows needed their retry"
    assert statuses.count("FAILED") == 0
    # Postcodes the fixture does not know come back success=false, still a complete extraction.
    assert summary["counts"]["SUCCESS"] + summary["counts"].get("PARTIAL", 0) == 1000
    assert result.exit_code == 0


def test_failures_after_retries_are_rows_not_crashes(tmp_path: Path, agent_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("EXAMPLE_AGENT_FAILURE_RATE", "1.0")
    csv_path = write_addresses(tmp_path / "in.csv", 20)
    store, out = tmp_path / "store.sqlite", tmp_path / "out.csv"
    result = CliRunner().invoke(main, run_args(csv_path, store, out, "--retries", "0", "--quiet"))
    assert result.exit_code == 1
    with open(out, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert {r["_status"] for r in records} == {"FAILED"}
    assert "simulated failure" in records[0]["_error"]
    batch_id = stored_rows(store)[0][0]
    # The failed rows re-run on resume (the agent now succeeds: second attempts).
    result = CliRunner().invoke(main, ["batch", "run", "--resume", batch_id, "--store", str(store),
                                       "--invoke", "examples.example_agent:invoke", "--quiet"])
    assert result.exit_code == 0, result.output
    assert {r[2] for r in stored_rows(store)} == {"SUCCESS"} and len(stored_rows(store)) == 20


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "factory", *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_rows(store: Path, count: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.exists():
            try:
                if len(stored_rows(store)) >= count:
                    return
            except sqlite3.OperationalError:
                pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the run made no progress")


@pytest.mark.slow
def test_sigkill_midway_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    csv_path = write_addresses(tmp_path / "in.csv", 300)
    store, out, log = tmp_path / "store.sqlite", tmp_path / "out.csv", tmp_path / "calls.jsonl"
    env = {**os.environ, "EXAMPLE_AGENT_CALL_LOG": str(log), "EXAMPLE_AGENT_LATENCY_MS": "20",
           "PYTHONPATH": str(REPO)}
    proc = _spawn(run_args(csv_path, store, out, "--concurrency", "4", "--quiet"), env)
    _wait_for_rows(store, 60, proc)
    proc.kill()
    proc.wait()
    finished_before = {r[1] for r in stored_rows(store) if r[2] in ("SUCCESS", "PARTIAL")}
    assert 60 <= len(finished_before) < 300
    first_pid = proc.pid
    batch_id = stored_rows(store)[0][0]

    resumed = _spawn(["batch", "run", "--resume", batch_id, "--store", str(store),
                      "--invoke", "examples.example_agent:invoke", "--quiet"], env)
    assert resumed.wait(timeout=120) == 0, resumed.communicate()
    rows = stored_rows(store)
    assert [r[1] for r in rows] == list(range(1, 301))
    assert {r[0] for r in rows} == {batch_id}
    later_calls = [c for c in calls(log) if c["pid"] != first_pid]
    reinvoked = {int(c["data"]["building_number"]) for c in later_calls} & finished_before
    assert reinvoked == set(), "finished rows must not be invoked again"
    with open(out, newline="", encoding="utf-8") as handle:
        assert [r["Building Number"] for r in csv.DictReader(handle)] == [str(i) for i in range(1, 301)]


@pytest.mark.slow
def test_sigint_prints_the_resume_command_and_keeps_the_store_consistent(tmp_path: Path) -> None:
    csv_path = write_addresses(tmp_path / "in.csv", 300)
    store, out = tmp_path / "store.sqlite", tmp_path / "out.csv"
    env = {**os.environ, "EXAMPLE_AGENT_LATENCY_MS": "20", "PYTHONPATH": str(REPO)}
    proc = _spawn(run_args(csv_path, store, out, "--concurrency", "4"), env)
    _wait_for_rows(store, 30, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    batch_id = stored_rows(store)[0][0]
    assert f"schema-factory batch run --resume '{batch_id}'" in stderr
    rows = stored_rows(store)
    assert len({r[1] for r in rows}) == len(rows) < 300
    assert not out.exists(), "no partial results CSV is written for an interrupted run"
    status = CliRunner().invoke(main, ["batch", "status", batch_id, "--store", str(store), "--json"])
    assert json.loads(status.stdout)[0]["state"] == "interrupted"
