"""What the batch commands print for a person: analyze's sample rows, results on stdout."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"


def test_analyze_shows_the_sample_rows_without_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    source = tmp_path / "in.csv"
    source.write_text("Building Number,Street,Postcode\n1,High St,CB1 2AB\n2,\x1b[2JEvil,CB1 2AC\n", "utf-8")
    result = CliRunner().invoke(main, ["batch", "analyze", str(source), "--agent", AGENT])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("sample rows (the first 2):")
    assert lines[start + 1 : start + 3] == [
        "  1: Building Number=1, Street=High St, Postcode=CB1 2AB",
        "  2: Building Number=2, Street=\\x1b[2JEvil, Postcode=CB1 2AC",  # the escape cannot clear the screen
    ]


def test_results_without_o_print_the_csv_on_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    store = tmp_path / "s.sqlite"
    run = CliRunner().invoke(
        main,
        [
            "batch",
            "run",
            "examples/addresses.csv",
            "--agent",
            AGENT,
            "--invoke",
            "examples.plain_agent:invoke",
            "--store",
            str(store),
            "--out",
            str(tmp_path / "run.csv"),
            "--quiet",
            "--json",
        ],
    )
    assert run.exit_code == 0, run.output
    batch_id = next(
        line.split('"batch_id": "')[1].split('"')[0]
        for line in run.output.splitlines()
        if '"batch_id": "' in line
    )
    written = CliRunner().invoke(
        main, ["batch", "results", batch_id, "--store", str(store), "-o", str(tmp_path / "o.csv")]
    )
    assert written.exit_code == 0, written.output
    printed = CliRunner().invoke(main, ["batch", "results", batch_id, "--store", str(store)])
    assert printed.exit_code == 0
    assert printed.stdout_bytes == (tmp_path / "o.csv").read_bytes()
    assert printed.stderr == "50 rows\n"
