"""Input columns named like result columns are refused before any row runs.

A results CSV holds input columns, then output fields, then `_status`,
`_error`, `_execution_time_ms`, `_timestamp`. An input column with one of
those names would give two columns of the same name, and re-running a results
CSV as input would stack a second set of results beside the first.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"


@pytest.fixture
def call_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("EXAMPLE_AGENT_CALL_LOG", str(log))
    monkeypatch.chdir(REPO)
    return log


def run(csv_path: Path, tmp_path: Path, out: Path | None = None):
    return CliRunner().invoke(main, [
        "batch", "run", str(csv_path), "--agent", AGENT, "--invoke", "examples.example_agent:invoke",
        "--store", str(tmp_path / "s.sqlite"), "--out", str(out or tmp_path / "out.csv"), "--quiet",
    ])


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("extra", ["alk", "_status", "_timestamp"])
def test_an_input_column_named_like_a_result_column_is_refused(tmp_path: Path, call_log: Path, extra: str) -> None:
    path = write(tmp_path / "in.csv", ["Building Number", "Street", "Postcode", extra],
                 [["1", "High St", "CB1 2AB", "x"]])
    result = run(path, tmp_path)
    assert result.exit_code == 1, result.output
    assert f"{path.as_posix()}: line 1: input column(s) '{extra}' have the name of a result column" in result.output
    assert "rename those columns" in result.output
    assert not call_log.exists(), "no agent call before the refusal"
    assert not (tmp_path / "out.csv").exists()


def test_a_results_csv_as_input_gets_a_clear_message(tmp_path: Path, call_log: Path) -> None:
    first = write(tmp_path / "in.csv", ["Building Number", "Street", "Postcode"], [["1", "High St", "CB1 2AB"]])
    results = tmp_path / "in.results.csv"
    assert run(first, tmp_path, results).exit_code == 0
    call_log.unlink()
    again = run(results, tmp_path, tmp_path / "again.csv")
    assert again.exit_code == 1, again.output
    assert "internal error" not in again.output
    assert "this looks like a results CSV" in again.output and "run the original CSV" in again.output
    assert not call_log.exists()
    header = next(csv.reader(open(results, newline="", encoding="utf-8")))
    assert len(header) == len(set(header)), "the first run's own header has no repeats"
