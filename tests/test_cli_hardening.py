"""The command line under hostile conditions: modes, write failures, closed pipes, nothing to do.

Generated files get the mode an ordinary write gives (the umask decides, not
the temporary file's 0600); a failed write names the file the user asked for;
`... | head` ends quietly; `validate`, `generate` and `check` agree that an
empty schema directory is a user error.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import REPO

BT = "broadband_availability_bt_wholesale"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_generated_files_respect_the_umask(bundled_project: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        assert run("generate").exit_code == 0
    finally:
        os.umask(previous)
    generated = bundled_project / "generated"
    modes = {stat.S_IMODE(p.stat().st_mode) for p in generated.rglob("*") if p.is_file()}
    assert modes == {mode}


def test_a_rewritten_file_gets_the_umask_mode_too(bundled_project: Path) -> None:
    assert run("generate").exit_code == 0
    stack = bundled_project / "generated" / "app.py"
    stack.write_text("# edited\n")
    stack.chmod(0o600)
    previous = os.umask(0o022)
    try:
        assert run("generate", "--force").exit_code == 0  # a hand edit is overwritten only when asked
    finally:
        os.umask(previous)
    assert stat.S_IMODE(stack.stat().st_mode) == 0o644


def test_a_write_failure_names_the_target_not_the_temporary_file(bundled_project: Path) -> None:
    (bundled_project / "generated" / "app.py").mkdir(parents=True)  # a directory where a file must go
    result = run("generate")
    assert result.exit_code == 1
    assert result.stderr.startswith("generated/app.py: $: cannot write:"), result.stderr
    assert ".tmp" not in result.stderr
    assert not [p for p in (bundled_project / "generated").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("command", [["validate"], ["generate"], ["check"], ["check", "--fix"], ["validate", "--json"]])
def test_an_empty_schema_directory_is_the_same_user_error_everywhere(project: Path, command: list[str]) -> None:
    result = run(*command)
    assert result.exit_code == 1, result.output
    assert "no schema files found in schemas" in result.output
    assert "clean" not in result.output


def test_a_closed_pipe_ends_quietly() -> None:
    """`schema-factory batch analyze ... | head`: the reader is gone before the first write."""
    read_end, write_end = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "factory", "batch", "analyze", "examples/addresses.csv", "--agent", BT, "--json"],
        cwd=REPO, stdout=write_end, stderr=subprocess.PIPE, env=env,
    )
    os.close(write_end)
    os.close(read_end)
    stderr = proc.communicate(timeout=120)[1].decode()
    assert "BrokenPipeError" not in stderr and "internal error" not in stderr, stderr
    assert stderr == ""
    assert proc.returncode == 141


def test_commands_return_their_status_and_only_the_group_exits() -> None:
    """Issue #19 §3: one exit path. Commands return an `EXIT_*` status; `FactoryGroup` turns it into the exit code."""
    import factory

    package = Path(factory.__file__).parent
    for path in [package / "cli.py", *sorted((package / "commands").glob("*.py"))]:
        source = path.read_text("utf-8")
        assert "sys.exit(" not in source, f"{path.name}: return an EXIT_* status instead of sys.exit"
        for literal in ("exit(1)", "exit(2)", "exit(130)", "exit(141)"):
            assert literal not in source, f"{path.name}: {literal}: use the constants in factory/errors.py"
