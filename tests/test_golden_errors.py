"""Failing inputs and the exact error text they produce: a change to a message is a reviewed diff.

Each folder under tests/golden_errors/ is one case: a project holding bad
schema(s) under `schemas/`, the exact expected stderr (`stderr.txt`) and exit
status (`exit_code`) of `schema-factory validate` run at its root, or of the
arguments in `args` (one per line) when the case has that file. After an
intended change to a message, refresh them with

    pytest tests/test_golden_errors.py --update-goldens

and review the diff.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from factory.errors import EXIT_OK

CASES_DIR = Path(__file__).parent / "golden_errors"
CASES = sorted(path.name for path in CASES_DIR.iterdir() if path.is_dir())
EXPECTED = ("stderr.txt", "exit_code", "args")


def _args(case: Path) -> list[str]:
    args_file = case / "args"
    return args_file.read_text("utf-8").splitlines() if args_file.is_file() else ["validate"]


@pytest.mark.parametrize("name", CASES)
def test_failing_input_prints_exactly_its_golden_errors(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, update_goldens: bool
) -> None:
    case = CASES_DIR / name
    shutil.copytree(case, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*EXPECTED))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, _args(case))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code != EXIT_OK, f"{name}: the input is no longer refused:\n{result.output}"
    assert result.stdout == "", result.stdout
    if update_goldens:
        (case / "stderr.txt").write_text(result.stderr, "utf-8")
        (case / "exit_code").write_text(f"{result.exit_code}\n", "utf-8")
        return
    assert result.stderr == (case / "stderr.txt").read_text("utf-8")
    assert result.exit_code == int((case / "exit_code").read_text("utf-8"))


def test_there_are_enough_cases_and_each_is_complete() -> None:
    """At least a dozen distinct failures; a case without its expected files would pass vacuously."""
    assert len(CASES) >= 12
    for name in CASES:
        assert (CASES_DIR / name / "stderr.txt").is_file(), f"{name}: run with --update-goldens"
        assert (CASES_DIR / name / "exit_code").is_file(), f"{name}: run with --update-goldens"
