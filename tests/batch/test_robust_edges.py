"""Issue #14's remaining edges of `batch`: each bad input is one line with exit 1 or 2, never internal error 70;
each agent fault is a failed row; nothing is lost."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.batch.test_local_engine import AGENT, calls, stored_rows, write_addresses
from tests.conftest import REPO

from tests.batch.test_run_cli import EXAMPLE, at_repo, run  # noqa: F401 - at_repo is a fixture


@pytest.mark.parametrize(
    "config",
    [
        "input_mapping: " + "[" * 1000 + "]" * 1000 + "\n",  # RecursionError in PyYAML's composer
    ],
    ids=["deep"],  # aliases, a self-holding one included, are refused: tests/batch/test_hostile_parsing.py
)
def test_a_batch_config_nested_without_end_is_one_line_not_a_crash(at_repo: Path, config: str) -> None:
    (at_repo / "deep.yaml").write_text(config, "utf-8")
    csv_path = write_addresses(at_repo / "in.csv", 2)
    result = run(csv_path, at_repo / "s.sqlite", "--invoke", EXAMPLE, "--config", str(at_repo / "deep.yaml"),
                 "--out", str(at_repo / "out.csv"))
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{at_repo / 'deep.yaml'}: "), lines
    assert "the batch config is nested more than 64 levels deep" in lines[0]
    assert calls(at_repo / "calls.jsonl") == []


SURROGATE_EXEC_AGENT = (
    "import json, sys\n"
    "for line in sys.stdin:\n"
    "    p = json.loads(line)\n"
    "    out = {'success': True, 'fttp_avail': True, 'alk': 'A1', 'exchange_code': 'X', 'sogea_avail': False}\n"
    "    if p['input'].get('building_number') == '2':\n"
    "        out['alk'] = 'A\\ud800'  # json.dumps writes it as the escape \\\\ud800\n"
    "    print(json.dumps({'ok': True, 'result': {'structured_output': out}}), flush=True)\n"
)


def test_an_exec_agent_answering_a_lone_surrogate_fails_that_row_only(at_repo: Path) -> None:
    """`"\\ud800"` is valid JSON text but no UTF-8 string: it crashed the store (exit 70, no CSV, "no rows yet")."""
    script = at_repo / "agent.py"
    script.write_text(SURROGATE_EXEC_AGENT, "utf-8")
    out = at_repo / "out.csv"
    result = run(write_addresses(at_repo / "in.csv", 3), at_repo / "s.sqlite", "--invoke",
                 f"exec:{sys.executable} {script}", "--out", str(out))
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["_status"] for row in rows] == ["SUCCESS", "FAILED", "SUCCESS"]  # optional fields left out
    assert "not valid Unicode (a lone surrogate such as \\ud800) at $.structured_output.alk" in rows[1]["_error"]


def agent_removing_the_out_directory(payload: dict) -> dict:
    """The example agent, after removing the directory the results CSV goes to (as a user might mid-run)."""
    from examples.example_agent import invoke

    shutil.rmtree(os.environ["ROBUST_TEST_OUT_DIR"], ignore_errors=True)
    return invoke(payload)


def test_a_results_csv_that_cannot_be_written_loses_nothing(at_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It was internal error 70 naming `.out.csv.tmp`; now one line naming the CSV and how to write it again."""
    out_dir = at_repo / "results"
    out_dir.mkdir()
    monkeypatch.setenv("ROBUST_TEST_OUT_DIR", str(out_dir))
    store = at_repo / "s.sqlite"
    result = run(write_addresses(at_repo / "in.csv", 3), store, "--invoke",
                 "tests.batch.test_robust_edges:agent_removing_the_out_directory", "--out", str(out_dir / "o.csv"))
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and ".tmp" not in result.stderr
    batch_id = stored_rows(store)[0][0]
    line = [text for text in result.stderr.splitlines() if text.startswith(str(out_dir / "o.csv"))]
    assert line == [f"{out_dir / 'o.csv'}: $: cannot write the results CSV: No such file or directory (the rows are "
                    f"kept in the store; write them with `schema-factory batch results '{batch_id}' -o FILE "
                    f"--store {store}`)"]
    assert len(stored_rows(store)) == 3
    again = CliRunner().invoke(main, ["batch", "results", batch_id, "-o", str(at_repo / "again.csv"),
                                      "--store", str(store)])
    assert again.exit_code == 0, again.output
    with open(at_repo / "again.csv", newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 3


@pytest.mark.parametrize(
    "tables",
    ["CREATE TABLE batches (x, csv_size INTEGER)", "CREATE TABLE batches (batch_id TEXT); CREATE TABLE results (a)"],
    ids=["other-batches", "other-results"],
)
def test_an_sqlite_file_with_other_tables_of_the_same_names_is_not_a_store(tmp_path: Path, tables: str) -> None:
    store = tmp_path / "other.sqlite"
    conn = sqlite3.connect(store)
    conn.executescript(tables)
    conn.close()
    for command in (["batch", "status", "--store", str(store)],
                    ["batch", "results", "b#1", "-o", str(tmp_path / "o.csv"), "--store", str(store)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, result.output
        first = result.stderr.splitlines()[0]
        assert first.startswith(f"{store}: $: "), first
        assert "internal error" not in result.output


def test_a_store_holding_text_where_json_belongs_is_one_line(at_repo: Path) -> None:
    store = at_repo / "s.sqlite"
    result = run(write_addresses(at_repo / "in.csv", 2), store, "--invoke", EXAMPLE, "--out", str(at_repo / "o.csv"))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(store)
    batch_id = conn.execute("SELECT batch_id FROM batches").fetchone()[0]
    conn.execute("UPDATE batches SET config = 'not json {'")
    conn.execute("UPDATE results SET item = 'nor this'")
    conn.commit()
    conn.close()
    for command in (["batch", "status", "--store", str(store)],
                    ["batch", "results", batch_id, "-o", str(at_repo / "again.csv"), "--store", str(store)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[0].startswith(f"{store}: $: cannot read the result store: JSONDecodeError")


@pytest.mark.parametrize(
    "command",
    [
        ["batch", "status", "--env", "X_"],
        ["batch", "results", "b#1", "-o", "out.csv", "--env", "prod env"],
        ["batch", "run", "in.csv", "--agent", AGENT, "--engine", "stepfunctions", "--env", "Bad Env!"],
    ],
    ids=["status", "results", "run"],
)
def test_a_malformed_env_is_a_usage_error_in_batch_commands_too(tmp_path: Path, command: list[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the registry commands (README: "anything else is a usage error, exit 2"); status exited 0."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--env'" in result.stderr
    assert "may only hold lower-case letters, digits and '-'" in result.stderr


def test_the_region_hint_names_the_variable_botocore_reads(at_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hint said "set AWS_REGION", which the installed botocore ignores: a user following it got the same
    error. Both the batch and the registry commands now give the same hint, and following it works."""
    import boto3

    from factory.errors import AWS_REGION_HINT, FactoryError
    from factory.registry.dynamodb import DynamoRegistry, DynamoSettings

    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(at_repo / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(at_repo / "none"))
    monkeypatch.setenv("AWS_REGION", "eu-west-2")  # what the old hint said to set
    assert AWS_REGION_HINT == "pass --region or set AWS_DEFAULT_REGION"
    result = CliRunner().invoke(main, ["batch", "run", str(write_addresses(at_repo / "in.csv", 1)), "--agent", AGENT,
                                       "--engine", "stepfunctions"])
    assert result.exit_code == 1
    assert f"no AWS region configured ({AWS_REGION_HINT}, or run with --engine local)" in result.stderr
    with pytest.raises(FactoryError) as raised:
        DynamoRegistry(DynamoSettings(env_name="test"))
    assert f"no AWS region configured ({AWS_REGION_HINT}, or use --env local)" in str(raised.value)
    arn = "arn:aws:states:eu-west-2:123456789012:stateMachine:agent-dev"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    local = CliRunner().invoke(main, ["batch", "run", str(at_repo / "in.csv"), "--agent", AGENT, "--invoke", arn,
                                      "--store", str(at_repo / "s.sqlite")])
    assert local.exit_code == 1  # already the local engine: the way round is a local agent, not --engine local
    assert f"({AWS_REGION_HINT}, or call a local agent with --invoke)" in local.stderr, local.stderr
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")  # what the hint says now
    assert boto3.session.Session().region_name == "eu-west-2"


@pytest.mark.slow
def test_ctrl_c_at_a_terminal_reaches_the_run_not_its_exec_agents(tmp_path: Path) -> None:
    """A terminal sends SIGINT to the whole foreground process group. `exec:` agents shared it, so each died
    mid-row printing its own KeyboardInterrupt traceback; in their own session they finish the rows in flight."""
    csv_path = write_addresses(tmp_path / "in.csv", 40)
    store, log = tmp_path / "store.sqlite", tmp_path / "calls.jsonl"
    script = tmp_path / "agent.py"
    script.write_text(
        "import json, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from examples.example_agent import invoke\n"
        "for line in sys.stdin:\n"
        "    print(json.dumps(invoke(json.loads(line))), flush=True)\n", "utf-8")
    env = {**os.environ, "EXAMPLE_AGENT_CALL_LOG": str(log), "EXAMPLE_AGENT_LATENCY_MS": "600",
           "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "factory", "batch", "run", str(csv_path), "--agent", AGENT,
                             "--invoke", f"exec:{sys.executable} {script}", "--store", str(store),
                             "--out", str(tmp_path / "o.csv"), "--concurrency", "2", "--quiet"],
                            cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # its own group, as a shell gives a foreground job
    deadline = time.monotonic() + 60
    while len(calls(log)) < 2:
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C at the terminal does
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    statuses = [row[2] for row in stored_rows(store)]
    assert set(statuses) <= {"SUCCESS", "PARTIAL"}, (statuses, stderr)  # the rows in flight finished
    assert len(statuses) == len(calls(log)) < 40, "every call started was stored, and the run stopped"
