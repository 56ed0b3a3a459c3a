"""`schema-factory cdk-app`: what generated/cdk.json runs (issue #21).

The command replaces itself with `sys.executable app.py`, so these tests run it as a
real process: the CDK CLI starts it the same way and reads its exit status and output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from factory.cli import main
from tests.conftest import REPO

# Prints what the CDK CLI would care about, then exits with the code it was given.
TINY_APP = """\
import os, sys
print(sys.executable)
print(sys.argv)
print(os.getpid())
print(os.environ.get("CDK_OUTDIR"))
sys.exit(int(os.environ["APP_EXIT"]))
"""


def env_for(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def run_cdk_app(cwd: Path, *args: str, **extra: str) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen([sys.executable, "-m", "factory", "cdk-app", *args], cwd=cwd, env=env_for(**extra),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=60)
    return process, out, err


def test_runs_app_py_with_this_interpreter_in_the_same_process_and_passes_its_exit_code(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(TINY_APP, "utf-8")
    for code in ("0", "7"):
        process, out, err = run_cdk_app(tmp_path, APP_EXIT=code, CDK_OUTDIR=str(tmp_path / "cdk.out"))
        assert process.returncode == int(code), err
        executable, argv, pid, outdir = out.splitlines()
        assert executable == sys.executable
        assert argv == "['app.py']"
        # os.execv: the app is the process the caller started, not a child of it.
        assert int(pid) == process.pid
        assert outdir == str(tmp_path / "cdk.out"), "the CDK CLI's environment reaches the app"
        assert err == ""


def test_cdk_json_runs_the_app_whatever_python3_is_first_on_path(tmp_path: Path) -> None:
    """The generated cdk.json's command, through a shell as the CDK CLI runs it, with a foreign python3 first."""
    command = json.loads((REPO / "generated" / "cdk.json").read_text("utf-8"))["app"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    decoy = bin_dir / "python3"
    decoy.write_text("#!/bin/sh\necho decoy python3\nexit 99\n", "utf-8")
    # What pip writes for a console script: the installing interpreter in the #! line.
    script = bin_dir / "schema-factory"
    script.write_text(f"#!{sys.executable}\nimport sys\nfrom factory.cli import main\nsys.exit(main())\n", "utf-8")
    for path in (decoy, script):
        path.chmod(0o755)
    project = tmp_path / "generated"
    project.mkdir()
    (project / "app.py").write_text(TINY_APP, "utf-8")
    env = env_for(APP_EXIT="3", PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(["sh", "-c", command], cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == sys.executable


def test_no_app_py_is_one_line_naming_the_directory_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "dir" / "app.py").mkdir(parents=True)  # a directory named app.py is no app either
    for where in (tmp_path / "empty", tmp_path / "dir"):
        process, out, err = run_cdk_app(where)
        assert process.returncode == 1
        assert out == ""
        assert err == (f"schema-factory cdk-app: no app.py in {where} (run `schema-factory generate`, then run cdk"
                       " from the generated directory: cd generated)\n")


def test_no_argument_becomes_part_of_the_command(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("open('ran', 'w').close()\n", "utf-8")
    process, out, err = run_cdk_app(tmp_path, "other.py; touch marker")
    assert process.returncode == 2, err
    assert not (tmp_path / "ran").exists() and not (tmp_path / "marker").exists()


def test_hidden_from_the_command_list_but_explained_by_its_own_help() -> None:
    listing = CliRunner().invoke(main, ["--help"])
    assert listing.exit_code == 0 and "cdk-app" not in listing.stdout
    own = CliRunner().invoke(main, ["cdk-app", "--help"])
    assert own.exit_code == 0
    assert "Run ./app.py with the Python that schema-factory is installed in" in own.stdout
