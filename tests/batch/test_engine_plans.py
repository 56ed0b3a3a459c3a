"""The local engine compiles the input and output plans once per run, not once per row (issue: runtime
mappers compiled once). Finding a plan by the config's content costs about as much as the old per-row
code, so the engine holds the plans it was given instead of looking them up for each row."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from factory.batch import engine
from factory.cli import main
from tests.conftest import REPO


def test_one_run_compiles_each_plan_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"input": 0, "output": 0}
    real_input, real_output = engine.input_plan, engine.output_plan

    def counted_input(*args: Any) -> Any:
        calls["input"] += 1
        return real_input(*args)

    def counted_output(*args: Any) -> Any:
        calls["output"] += 1
        return real_output(*args)

    monkeypatch.setattr(engine, "input_plan", counted_input)
    monkeypatch.setattr(engine, "output_plan", counted_output)
    monkeypatch.chdir(REPO)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, [
        "batch", "run", "examples/addresses.csv", "--agent", "broadband_availability_bt_wholesale",
        "--invoke", "examples.example_agent:invoke", "--store", str(tmp_path / "s.sqlite"), "--out", str(out),
        "--quiet", "--concurrency", "4",
    ])
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 50 and {row["_status"] for row in rows} == {"SUCCESS"}
    assert calls == {"input": 1, "output": 1}
