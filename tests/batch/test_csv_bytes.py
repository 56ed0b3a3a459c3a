"""A byte that is not UTF-8 is named with its row and column, on both engines' readers (README promise)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.batch import csv_source
from factory.cli import main
from factory.errors import FactoryError
from factory.runtime.csv_source import CsvInputError, header_from_probe
from tests.conftest import REPO

DATA = "Building Number,Street,Postcode\n1,High St,CB1 2AB\n2,Mill Lane,CB1 2AB\n".encode() + (
    b"3,Caf\xe9 Row,CB1 2AB\n4,Long Rd,CB1 2AB\n"
)


def test_local_reader_names_the_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(DATA)
    assert csv_source.header(path) == ["Building Number", "Street", "Postcode"]
    with pytest.raises(FactoryError) as caught:
        list(csv_source.rows(path))
    (problem,) = caught.value.problems
    assert "row 3, column 'Street': not UTF-8: byte 0xe9" in problem.render()
    assert "latin1.csv" in problem.render()


def test_lambda_header_probe_names_the_line_of_a_bad_byte() -> None:
    """The batch validator reads the header from the file's first bytes; a bad byte there is named by line."""
    with pytest.raises(CsvInputError, match=r"not UTF-8: byte 0xe9 at offset \d+ \(line 4\)"):
        header_from_probe(DATA, True)


def test_a_bad_byte_in_the_header_names_its_column(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(b"a,b\xff\n1,2\n")
    with pytest.raises(FactoryError, match=None) as caught:
        csv_source.header(path)
    assert "CSV header, column 2: not UTF-8: byte 0xff" in caught.value.problems[0].render()


def test_batch_run_stops_before_any_call_naming_the_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("EXAMPLE_AGENT_CALL_LOG", str(log))
    monkeypatch.chdir(REPO)
    path = tmp_path / "in.csv"
    path.write_bytes(DATA)
    result = CliRunner().invoke(main, [
        "batch", "run", str(path), "--agent", "broadband_availability_bt_wholesale", "--invoke",
        "examples.example_agent:invoke", "--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "o.csv"),
        "--quiet",
    ])
    assert result.exit_code == 1, result.output
    assert "row 3, column 'Street': not UTF-8" in result.output
    assert "internal error" not in result.output
    assert not log.exists()
