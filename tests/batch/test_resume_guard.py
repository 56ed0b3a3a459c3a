"""Resume never mixes rows, and a dead run is shown as resumable.

Row numbers are positions in the CSV, so a batch records its CSV's size and
sha256 when it starts; a resume whose CSV changed is refused, naming the file
and the batch. The owning pid and host are recorded, so `batch status` can
tell a run killed with -9 from one still running.
"""

from __future__ import annotations

import csv
import json
import os
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
INVOKE = "examples.example_agent:invoke"


def write_csv(path: Path, count: int, tag: str = "") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Building Number", "Street", "Postcode"])
        for index in range(1, count + 1):
            writer.writerow([str(index), f"Street {index}{tag}", "CB1 2AB"])
    return path


def batch_ids(store: Path) -> list[str]:
    conn = sqlite3.connect(store)
    try:
        return [row[0] for row in conn.execute("SELECT batch_id FROM batches")]
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def _run(csv_path: Path, store: Path, out: Path) -> str:
    result = CliRunner().invoke(main, ["batch", "run", str(csv_path), "--agent", AGENT, "--invoke", INVOKE,
                                       "--store", str(store), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    (batch_id,) = batch_ids(store)
    return batch_id


@pytest.mark.parametrize("change", ["insert a row after the header", "edit a cell, same size", "append a row"])
def test_a_resume_whose_csv_changed_is_refused(tmp_path: Path, change: str) -> None:
    csv_path, store, out = write_csv(tmp_path / "in.csv", 20), tmp_path / "s.sqlite", tmp_path / "out.csv"
    batch_id = _run(csv_path, store, out)
    lines = csv_path.read_text("utf-8").splitlines(keepends=True)
    if change.startswith("insert"):
        lines.insert(1, "0,New street,CB1 2AB\r\n")
    elif change.startswith("edit"):
        lines[5] = lines[5].replace("Street 5", "Street 6")
    else:
        lines.append("21,Street 21,CB1 2AB\r\n")
    csv_path.write_text("".join(lines), "utf-8")
    before = out.read_bytes()
    result = CliRunner().invoke(main, ["batch", "run", "--resume", batch_id, "--store", str(store),
                                       "--invoke", INVOKE, "--quiet"])
    assert result.exit_code == 1, result.output
    message = result.output
    assert csv_path.as_posix() in message and batch_id in message
    assert "CSV changed since batch" in message and "start a new run" in message
    assert out.read_bytes() == before, "the results CSV is not rewritten"


def test_a_resume_of_the_same_csv_still_runs(tmp_path: Path) -> None:
    csv_path, store, out = write_csv(tmp_path / "in.csv", 10), tmp_path / "s.sqlite", tmp_path / "out.csv"
    batch_id = _run(csv_path, store, out)
    result = CliRunner().invoke(main, ["batch", "run", "--resume", batch_id, "--store", str(store),
                                       "--invoke", INVOKE, "--quiet"])
    assert result.exit_code == 0, result.output


def test_fingerprint_is_streamed_size_and_sha256(tmp_path: Path) -> None:
    import hashlib

    from factory.batch.csv_source import fingerprint

    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n" * 100_000)
    found = fingerprint(path, chunk=4096)
    assert found.size == 400_000
    assert found.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_run_killed_with_sigkill_shows_as_interrupted_and_resumable(tmp_path: Path) -> None:
    csv_path, store, out = write_csv(tmp_path / "in.csv", 400, "k"), tmp_path / "s.sqlite", tmp_path / "out.csv"
    env = {**os.environ, "EXAMPLE_AGENT_LATENCY_MS": "20", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "factory", "batch", "run", str(csv_path), "--agent", AGENT, "--invoke", INVOKE,
         "--store", str(store), "--out", str(out), "--quiet", "--concurrency", "2"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if store.exists() and batch_ids(store):
                    break
            except sqlite3.OperationalError:
                pass
            assert proc.poll() is None
            time.sleep(0.05)
        running = CliRunner().invoke(main, ["batch", "status", "--store", str(store)])
        assert "  running  " in running.output, running.output
    finally:
        proc.kill()
        proc.wait()
    result = CliRunner().invoke(main, ["batch", "status", "--store", str(store)])
    assert result.exit_code == 0
    assert "interrupted (resumable)" in result.output, result.output
    as_json = CliRunner().invoke(main, ["batch", "status", "--store", str(store), "--json"])
    assert json.loads(as_json.stdout)[0]["state"] == "interrupted"


def _set_owner(store: Path, batch_id: str, pid: int, host: str, state: str = "running") -> None:
    """Make process `pid` the batch's owner, as its own run would record it (pid, host, start time)."""
    from factory.batch.local_store import process_started

    conn = sqlite3.connect(store)
    try:
        with conn:
            conn.execute("UPDATE batches SET state = ?, owner_pid = ?, owner_host = ?, owner_started = ? "
                         "WHERE batch_id = ?", (state, pid, host, process_started(pid), batch_id))
    finally:
        conn.close()


def test_a_resume_while_the_batch_is_still_running_is_refused(tmp_path: Path) -> None:
    """Two processes on one batch would call the agent twice for the same rows: the second is refused,
    naming the process that runs it; once that process is gone, the resume takes the batch."""
    import socket

    csv_path, store, out = write_csv(tmp_path / "in.csv", 5), tmp_path / "s.sqlite", tmp_path / "out.csv"
    batch_id = _run(csv_path, store, out)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _set_owner(store, batch_id, sleeper.pid, socket.gethostname())
        result = CliRunner().invoke(main, ["batch", "run", "--resume", batch_id, "--store", str(store),
                                           "--invoke", INVOKE, "--quiet"])
        assert result.exit_code == 1, result.output
        assert f"batch {batch_id} is being run by process {sleeper.pid}" in result.output
        assert "wait for it to finish" in result.output
    finally:
        sleeper.kill()
        sleeper.wait()
    result = CliRunner().invoke(main, ["batch", "run", "--resume", batch_id, "--store", str(store),
                                       "--invoke", INVOKE, "--quiet"])
    assert result.exit_code == 0, result.output


def test_the_new_run_hint_is_a_quoted_command_with_the_invoke_spec(tmp_path: Path) -> None:
    import shlex

    csv_path = write_csv(tmp_path / "in put's.csv", 3)
    store, out = tmp_path / "s.sqlite", tmp_path / "out.csv"
    batch_id = _run(csv_path, store, out)
    csv_path.write_text(csv_path.read_text("utf-8") + "9,Street 9,CB1 2AB\r\n", "utf-8")
    result = CliRunner().invoke(main, ["batch", "run", "--resume", batch_id, "--store", str(store), "--quiet"])
    assert result.exit_code == 1
    line = result.output.split("start a new run instead: ", 1)[1].split(")")[0].strip()
    argv = shlex.split(line)
    assert argv[:4] == ["schema-factory", "batch", "run", csv_path.as_posix()]
    assert argv[argv.index("--invoke") + 1] == INVOKE


def test_a_resume_reaches_the_agent_as_the_batch_was_started(tmp_path: Path) -> None:
    """--region, --profile and --endpoint-url say where the agent is called (a state machine or Lambda ARN
    through LocalStack, say): they are stored with the batch, shown in the resume line, and a resume
    without them uses the stored ones; a flag given at resume time wins."""
    import shlex

    from factory.batch.aws_run import AwsOptions
    from factory.batch.plan import RunRequest, plan_local

    csv_path, store, out = write_csv(tmp_path / "in.csv", 3), tmp_path / "s.sqlite", tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["batch", "run", str(csv_path), "--agent", AGENT, "--invoke", INVOKE,
                                       "--store", str(store), "--out", str(out), "--quiet", "--json",
                                       "--region", "eu-west-2", "--endpoint-url", "http://localhost:4566",
                                       "--timeout", "900", "--retries", "5", "--concurrency", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    line = shlex.split(report["resume"])
    options = {flag: line[line.index(flag) + 1] for flag in ("--timeout", "--retries", "--concurrency")}
    assert options == {"--timeout": "900", "--retries": "5", "--concurrency": "3"}  # the run's own, asked again
    assert line[line.index("--region") + 1] == "eu-west-2"
    assert line[line.index("--endpoint-url") + 1] == "http://localhost:4566"
    resumed = plan_local(RunRequest(resume_id=report["batch_id"], store_path=store))
    assert (resumed.request.aws.region, resumed.request.aws.endpoint_url) == ("eu-west-2", "http://localhost:4566")
    assert resumed.request.aws.profile is None
    override = plan_local(RunRequest(resume_id=report["batch_id"], store_path=store,
                                     aws=AwsOptions(region="us-west-1")))
    assert override.request.aws.region == "us-west-1"
    assert override.request.aws.endpoint_url == "http://localhost:4566"


def _set_started(store: Path, batch_id: str, started: str | None) -> None:
    conn = sqlite3.connect(store)
    try:
        with conn:
            conn.execute("UPDATE batches SET owner_started = ? WHERE batch_id = ?", (started, batch_id))
    finally:
        conn.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times come from /proc")
def test_a_zombie_or_a_reused_pid_is_not_the_batchs_owner(tmp_path: Path) -> None:
    """`kill(pid, 0)` succeeds for an exited process not yet reaped and for a new process that got the
    same pid: the owner is the process with the recorded start time, so either shows as interrupted
    and can be resumed."""
    import socket

    from factory.batch.local_store import process_started

    csv_path, store, out = write_csv(tmp_path / "in.csv", 3), tmp_path / "s.sqlite", tmp_path / "out.csv"
    batch_id = _run(csv_path, store, out)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while process_started(zombie.pid) != "zombie" and time.monotonic() < deadline:
        time.sleep(0.02)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _set_owner(store, batch_id, zombie.pid, socket.gethostname())
        _set_started(store, batch_id, None)
        status = CliRunner().invoke(main, ["batch", "status", "--store", str(store)])
        assert "interrupted (resumable)" in status.output, status.output
        _set_owner(store, batch_id, sleeper.pid, socket.gethostname())
        _set_started(store, batch_id, "1")  # not when the sleeper started: its pid was "reused"
        status = CliRunner().invoke(main, ["batch", "status", "--store", str(store)])
        assert "interrupted (resumable)" in status.output, status.output
        _set_started(store, batch_id, process_started(sleeper.pid))  # the very process: running
        status = CliRunner().invoke(main, ["batch", "status", "--store", str(store)])
        assert "  running  " in status.output, status.output
    finally:
        sleeper.kill()
        sleeper.wait()
        zombie.wait()


def test_a_batch_recorded_without_a_start_time_can_be_resumed(tmp_path: Path) -> None:
    """A store written before start times were kept has the pid alone, which after a reboot may be any
    process (here pid 1, always alive): the resume is not refused for it."""
    import socket

    csv_path, store, out = write_csv(tmp_path / "in.csv", 3), tmp_path / "s.sqlite", tmp_path / "out.csv"
    batch_id = _run(csv_path, store, out)
    _set_owner(store, batch_id, 1, socket.gethostname())
    _set_started(store, batch_id, None)
    result = CliRunner().invoke(main, ["batch", "run", "--resume", batch_id, "--store", str(store),
                                       "--invoke", INVOKE, "--quiet"])
    assert result.exit_code == 0, result.output
