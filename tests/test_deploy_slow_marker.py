"""The fast run (`pytest -q -m "not slow"`) leaves out what tests/conftest.py calls slow.

The marking is by what a test and its fixtures import and call, so a helper's new
test file needs no decorator. These cases are written as another project would
write them, in a scratch directory whose conftest uses this suite's hook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CONFTEST = '''
import pytest
from tests.conftest import pytest_collection_modifyitems  # noqa: F401  (the hook under test)


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer  # a server: slow
    yield ThreadedMotoServer


@pytest.fixture
def backend_endpoint(request):
    return request.getfixturevalue("moto_endpoint")  # slow only for whoever asks


@pytest.fixture
def plain_value():
    return 3
'''

HELPERS = '''
def synthesize():
    import aws_cdk  # CDK synthesis, two calls away from the test
    return aws_cdk


def build():
    return synthesize()
'''

TESTS = '''
import subprocess
import sys

import pytest
from hypothesis import given, strategies

from helpers import build


@pytest.fixture(scope="module")
def stacks():
    return build()


def test_plain(plain_value):
    assert plain_value == 3


def test_uses_synthesis(stacks):
    assert stacks


def test_uses_moto(backend_endpoint):
    assert backend_endpoint


def test_uses_moto_in_process():
    from moto import mock_aws  # an in-process mock: fast

    with mock_aws():
        pass


def test_runs_state_machines():
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):  # the interpreter: slow
        pass


def test_runs_pre_commit():
    subprocess.run([sys.executable, "-m", "pre_commit", "--version"], check=True)


def test_runs_pre_commit_binary():
    subprocess.run(["pre-commit", "--version"], check=True)


def run_app(directory):
    # the CDK app in a subprocess, through the command that generated/cdk.json runs
    return subprocess.run([sys.executable, "-m", "factory", "cdk-app"], cwd=directory)


def test_runs_the_cdk_app(tmp_path):
    run_app(tmp_path)


def test_runs_the_cdk_cli():
    subprocess.run(["npx", "cdk", "synth"], check=False)


@given(strategies.integers())
def test_property(number):
    assert number == number


@pytest.mark.parametrize("word", ["a", "b"])
def test_plain_parametrized(word):
    assert word
'''


def collected(tmp_path: Path, marker: str) -> set[str]:
    for name, text in {"conftest.py": CONFTEST, "helpers.py": HELPERS, "test_cases.py": TESTS}.items():
        (tmp_path / name).write_text(text, "utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", marker,
         "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert result.returncode in (0, 5), result.stdout + result.stderr
    return {line.split("::", 1)[1] for line in result.stdout.splitlines() if "::" in line}


def test_fast_run_keeps_only_the_plain_tests(tmp_path: Path) -> None:
    assert collected(tmp_path, "not slow") == {
        "test_plain",
        "test_uses_moto_in_process",
        "test_plain_parametrized[a]",
        "test_plain_parametrized[b]",
    }


def test_full_run_keeps_everything(tmp_path: Path) -> None:
    assert collected(tmp_path, "slow") == {
        "test_uses_synthesis",
        "test_uses_moto",
        "test_runs_state_machines",
        "test_runs_pre_commit",
        "test_runs_pre_commit_binary",
        "test_runs_the_cdk_app",
        "test_runs_the_cdk_cli",
        "test_property",
    }
