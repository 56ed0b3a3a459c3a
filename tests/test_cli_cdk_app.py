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


# --- the generated app's own settings: one line, exit 1, before any construct -----------------------

ENV_RULE = "lower-case letters, digits and '-', starting with a letter, at most 16 characters"


def assert_one_line(process: subprocess.Popen[str], out: str, err: str, expected: str) -> None:
    assert process.returncode == 1, err
    assert "Traceback" not in err and out == ""
    assert err == expected + "\n"


def test_a_bad_environment_name_is_one_line_naming_where_it_came_from(tmp_path: Path) -> None:
    """`SCHEMA_FACTORY_ENV=Prod schema-factory cdk-app` used to end in a 20-line jsii traceback."""
    generated = REPO / "generated"
    outdir = str(tmp_path / "cdk.out")
    process, out, err = run_cdk_app(generated, SCHEMA_FACTORY_ENV="Prod", CDK_OUTDIR=outdir)
    assert_one_line(process, out, err, f"app.py: SCHEMA_FACTORY_ENV: 'Prod' is not an environment name: {ENV_RULE}"
                    " (e.g. SCHEMA_FACTORY_ENV=dev)")
    # `-c env=...` reaches the app as the CDK CLI passes context, and wins over the variable.
    context = json.dumps({"env": 'Bad Env"'})
    process, out, err = run_cdk_app(generated, SCHEMA_FACTORY_ENV="dev", CDK_CONTEXT_JSON=context, CDK_OUTDIR=outdir)
    assert_one_line(process, out, err, f"app.py: -c env: 'Bad Env\"' is not an environment name: {ENV_RULE}"
                    " (e.g. -c env=dev)")


def test_a_batch_target_that_is_no_literal_arn_of_its_kind_is_one_line_naming_the_context_key(tmp_path: Path) -> None:
    tool = "arn:aws:lambda:eu-west-2:123456789012:function:classify-ticket"
    wildcard = "arn:aws:lambda:eu-west-2:123456789012:function:*"
    context = json.dumps({"env": "qa", "batch_tool_arns": f"{tool},{wildcard}"})
    process, out, err = run_cdk_app(REPO / "generated", CDK_CONTEXT_JSON=context, CDK_OUTDIR=str(tmp_path / "out"))
    assert_one_line(process, out, err, f"app.py: -c batch_tool_arns: {wildcard!r} is not a literal tool ARN"
                    " (e.g. arn:aws:lambda:eu-west-2:123456789012:function:NAME)")
    assert not (tmp_path / "out" / "manifest.json").exists()
