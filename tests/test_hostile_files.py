"""Issue #25, cases 1, 2 and 6: files a repository plants or a user names, through the real command line.

Case 1: a link planted where the results CSV's temporary file used to go (`.NAME.tmp`) never carries a
write out of the project; a results CSV path that is itself a link is refused, its target untouched.
Case 2: a FIFO, a socket, a device or `-` as an output is refused in one line and never replaced.
Case 6: a schema (or config, or CSV) that is a link to /dev/zero, a FIFO, or over its size cap is refused
in one line: exit 1, no MemoryError, no hang. Each command runs as a person runs it; the "victim" is a
file outside the test's project standing in for ~/.bashrc.
"""

from __future__ import annotations

import os
import resource
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.batch.orchestrator_tools import call_tool
from factory.cli import main
from tests.batch.test_local_engine import AGENT, calls, write_addresses
from tests.conftest import REPO, SCHEMAS_DIR

EXAMPLE = "examples.example_agent:invoke"
PRECIOUS = "export PATH=precious\n"


@pytest.fixture
def room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's project (where the CSV and the outputs are); its parent holds the victim."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("EXAMPLE_AGENT_CALL_LOG", str(tmp_path / "calls.jsonl"))
    project = tmp_path / "project"
    project.mkdir()
    return project


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "bashrc"
    path.write_text(PRECIOUS, "utf-8")
    return path


def batch_run(room: Path, *extra: str):
    csv_path = room / "addresses.csv"
    if not csv_path.exists():
        write_addresses(csv_path, 3)
    return CliRunner().invoke(
        main,
        [
            "batch",
            "run",
            str(csv_path),
            "--agent",
            AGENT,
            "--invoke",
            EXAMPLE,
            "--store",
            str(room / "store.sqlite"),
            "--quiet",
            "--retries",
            "0",
            *extra,
        ],
    )


def one_line_error(result) -> str:
    """The refusal: exit 1, one problem line (and the count line), no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2, result.stderr
    return lines[0]


# -- case 1: the temporary file, and the destination, are never links followed out ----------------------


def test_a_planted_temporary_link_is_never_followed_by_batch_run(room: Path, victim: Path) -> None:
    os.symlink(victim, room / ".addresses.results.csv.tmp")
    result = batch_run(room)
    assert result.exit_code == 0, result.output
    assert victim.read_text("utf-8") == PRECIOUS
    results = room / "addresses.results.csv"
    assert not results.is_symlink() and results.read_text("utf-8").startswith("Building Number")
    assert sorted(p.name for p in room.iterdir() if p.name.endswith(".tmp")) == [".addresses.results.csv.tmp"]


def test_a_planted_temporary_link_is_never_followed_by_batch_results(room: Path, victim: Path) -> None:
    assert batch_run(room).exit_code == 0
    batch_id = (
        CliRunner().invoke(main, ["batch", "status", "--store", str(room / "store.sqlite")]).output.split()[0]
    )
    os.symlink(victim, room / ".again.csv.tmp")
    result = CliRunner().invoke(
        main,
        ["batch", "results", batch_id, "--store", str(room / "store.sqlite"), "-o", str(room / "again.csv")],
    )
    assert result.exit_code == 0, result.output
    assert victim.read_text("utf-8") == PRECIOUS
    assert not (room / "again.csv").is_symlink()


def test_the_orchestrators_output_csv_follows_no_planted_link(
    room: Path, victim: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHEMA_FACTORY_GENERATED", str(REPO / "generated"))
    monkeypatch.setenv("SCHEMA_FACTORY_RESULTS", str(room / "store.sqlite"))
    monkeypatch.setenv("SCHEMA_FACTORY_TOOL_ROOT", str(room))
    monkeypatch.setenv("SCHEMA_FACTORY_INVOKE", EXAMPLE)
    csv_path = str(write_addresses(room / "in.csv", 3))
    os.symlink(victim, room / ".out.csv.tmp")
    run = call_tool(
        "execute_batch_processor",
        {"csv_path": csv_path, "agent_name": AGENT, "output_csv": str(room / "out.csv")},
    )
    assert run["ok"], run
    os.symlink(victim, room / ".again.csv.tmp")
    again = call_tool(
        "get_batch_results", {"batch_id": run["result"]["batch_id"], "output_csv": str(room / "again.csv")}
    )
    assert again["ok"], again
    assert victim.read_text("utf-8") == PRECIOUS
    assert not (room / "out.csv").is_symlink() and not (room / "again.csv").is_symlink()
    kept = room / "kept.csv"
    kept.write_text("mine\n", "utf-8")
    os.symlink(kept, room / "linked.csv")  # inside the tool root, so only the link rule stands in the way
    linked = call_tool(
        "get_batch_results", {"batch_id": run["result"]["batch_id"], "output_csv": str(room / "linked.csv")}
    )
    assert linked["ok"] is False and "is a symbolic link" in linked["error"], linked
    assert kept.read_text("utf-8") == "mine\n" and (room / "linked.csv").is_symlink()


def test_a_results_csv_that_is_a_link_is_refused_before_any_agent_call(room: Path, victim: Path) -> None:
    os.symlink(victim, room / "out.csv")
    line = one_line_error(batch_run(room, "--out", str(room / "out.csv")))
    assert "cannot write the results CSV here: is a symbolic link" in line, line
    assert (room / "out.csv").is_symlink() and victim.read_text("utf-8") == PRECIOUS
    assert calls(room.parent / "calls.jsonl") == []


# -- case 2: special files are refused, never replaced -----------------------------------------------------


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays
    return path


@pytest.mark.parametrize("make, kind", [(_fifo, "a FIFO"), (_socket, "a socket")], ids=["fifo", "socket"])
def test_batch_run_refuses_a_special_out_and_leaves_it_be(room: Path, make, kind: str) -> None:
    special = make(room / "special")
    mode = os.lstat(special).st_mode
    line = one_line_error(batch_run(room, "--out", str(special)))
    assert f"cannot write the results CSV here: is {kind}, not a regular file" in line, line
    assert os.lstat(special).st_mode == mode
    assert calls(room.parent / "calls.jsonl") == []


def test_batch_results_refuses_a_fifo(room: Path) -> None:
    assert batch_run(room).exit_code == 0
    batch_id = (
        CliRunner().invoke(main, ["batch", "status", "--store", str(room / "store.sqlite")]).output.split()[0]
    )
    fifo = _fifo(room / "fifo")
    result = CliRunner().invoke(
        main, ["batch", "results", batch_id, "--store", str(room / "store.sqlite"), "-o", str(fifo)]
    )
    assert "is a FIFO, not a regular file" in one_line_error(result)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize(
    "output, kind",
    [("/dev/null", "a character device"), ("-", "'-' is not a file name")],
    ids=["device", "dash"],
)
def test_batch_config_refuses_a_device_and_dash(
    room: Path, monkeypatch: pytest.MonkeyPatch, output: str, kind: str
) -> None:
    csv_path = write_addresses(room / "in.csv", 2)
    monkeypatch.chdir(room)
    result = CliRunner().invoke(
        main,
        [
            "batch",
            "config",
            str(csv_path),
            "--agent",
            AGENT,
            "--generated",
            str(REPO / "generated"),
            "-o",
            output,
        ],
    )
    assert kind in one_line_error(result)
    assert not (room / "-").exists()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_generate_refuses_a_fifo_where_a_generated_file_goes(bundled_project: Path) -> None:
    (bundled_project / "generated").mkdir()
    fifo = _fifo(bundled_project / "generated" / "app.py")
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 1, result.output
    assert "generated/app.py: $: cannot write: is a FIFO, not a regular file" in result.stderr, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# -- case 6: special and oversized files as inputs: refused by name, in bounded time and memory --------------


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command as the hook runs it, under a 1 GiB address-space limit and a time limit."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "factory", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit,
    )


@pytest.fixture
def schema_project(tmp_path: Path) -> Path:
    (tmp_path / "schemas").mkdir()
    bundled = sorted(SCHEMAS_DIR.glob("*.json"))[0]
    (tmp_path / "schemas" / bundled.name).write_bytes(bundled.read_bytes())
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [["validate"], ["check"], ["validate", "schemas/hostile.json"]],
    ids=["validate", "check", "named"],
)
@pytest.mark.parametrize(
    "plant, kind",
    [
        (
            lambda p: os.symlink("/dev/zero", p),
            "is a character device, not a regular file (a schema must be one)",
        ),
        (lambda p: os.mkfifo(p), "is a FIFO, not a regular file (a schema must be one)"),
        (
            lambda p: os.truncate(p.write_bytes(b"{") and p, 5 << 20),
            "is 5242880 bytes, over the 4 MiB limit for a schema",
        ),
    ],
    ids=["dev-zero", "fifo", "huge"],
)
def test_a_special_or_huge_schema_is_one_line(
    schema_project: Path, command: list[str], plant, kind: str
) -> None:
    plant(schema_project / "schemas" / "hostile.json")
    done = _cli(schema_project, *command)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert f"schemas/hostile.json: $: cannot read file: {kind}" in done.stderr, done.stderr


def test_a_fifo_config_and_csv_never_block_a_batch(room: Path) -> None:
    fifo = _fifo(room / "config.yaml")
    line = one_line_error(batch_run(room, "--config", str(fifo)))
    assert "cannot read the batch config: is a FIFO" in line, line
    csv_fifo = _fifo(room / "rows.csv")
    result = CliRunner().invoke(main, ["batch", "analyze", str(csv_fifo), "--agent", AGENT])
    assert "cannot read file: is a FIFO, not a regular file (a CSV file must be one)" in one_line_error(
        result
    )
