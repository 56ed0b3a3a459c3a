"""A command never writes over a file it reads or keeps, and never creates a store by reading one.

`--out` (or `-o`, or a tool's `output_csv`) naming the input CSV or the
result store would destroy it: the input's failed rows could never be
retried, and every batch in the store would be gone. Each is refused with
one line, before anything runs or is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.batch.test_run_cli import AGENT, EXAMPLE, at_repo, run  # noqa: F401 - at_repo is a fixture
from tests.batch.test_local_engine import write_addresses


def test_the_results_csv_cannot_be_the_input_or_the_store(at_repo: Path) -> None:
    csv_path, store = write_addresses(at_repo / "in.csv", 3), at_repo / "s.sqlite"
    before = csv_path.read_bytes()
    result = run(csv_path, store, "--invoke", EXAMPLE, "--out", str(csv_path))
    assert result.exit_code == 1, result.output
    assert "cannot write the results CSV here: it is the input CSV" in result.output
    assert csv_path.read_bytes() == before
    assert run(csv_path, store, "--invoke", EXAMPLE).exit_code == 0  # the store now exists
    kept = store.read_bytes()
    result = run(csv_path, store, "--invoke", EXAMPLE, "--out", str(store))
    assert result.exit_code == 1 and "it is the result store" in result.output, result.output
    status = CliRunner().invoke(main, ["batch", "status", "--store", str(store)])
    assert status.exit_code == 0 and "SUCCESS 3" in status.output, status.output  # the batch is still there
    assert store.read_bytes()[:16] == kept[:16]  # still an SQLite file


def test_batch_results_and_config_refuse_the_files_they_read(at_repo: Path) -> None:
    csv_path, store = write_addresses(at_repo / "in.csv", 2), at_repo / "s.sqlite"
    assert run(csv_path, store, "--invoke", EXAMPLE).exit_code == 0
    batch_id = CliRunner().invoke(main, ["batch", "status", "--store", str(store)]).output.split()[0]
    result = CliRunner().invoke(main, ["batch", "results", batch_id, "--store", str(store), "-o", str(store)])
    assert result.exit_code == 1 and "it is the result store" in result.output, result.output
    result = CliRunner().invoke(main, ["batch", "config", str(csv_path), "--agent", AGENT, "-o", str(csv_path)])
    assert result.exit_code == 1 and "cannot write the config here: it is the input CSV" in result.output
    missing = at_repo / "no" / "such" / "dir.yaml"
    result = CliRunner().invoke(main, ["batch", "config", str(csv_path), "--agent", AGENT, "-o", str(missing)])
    assert result.exit_code == 1 and "does not exist" in result.output and "internal error" not in result.output


def test_status_of_a_store_that_does_not_exist_creates_nothing(at_repo: Path) -> None:
    typo = at_repo / "typo" / "x.sqlite"
    result = CliRunner().invoke(main, ["batch", "status", "--store", str(typo)])
    assert result.exit_code == 0 and f"no batches in {typo.as_posix()}" in result.output
    one = CliRunner().invoke(main, ["batch", "status", "some-batch", "--store", str(typo)])
    assert one.exit_code == 1 and "no result store here" in one.output
    assert not typo.parent.exists()


@pytest.mark.parametrize("extra", [["in.csv"], ["--config", "x.yaml"]])
def test_resume_takes_neither_a_csv_nor_a_config(at_repo: Path, extra: list[str]) -> None:
    result = CliRunner().invoke(main, ["batch", "run", "--resume", "b1", *extra])
    assert result.exit_code == 2 and "--resume runs the batch's own CSV and config" in result.output


@pytest.mark.parametrize("value", ["inf", "nan", "1e308"])
def test_a_timeout_beyond_a_day_is_a_usage_error(at_repo: Path, value: str) -> None:
    result = run(write_addresses(at_repo / "in.csv", 1), at_repo / "s.sqlite", "--invoke", EXAMPLE,
                 "--timeout", value)
    assert result.exit_code == 2, result.output
