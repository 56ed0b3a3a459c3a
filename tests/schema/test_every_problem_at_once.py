"""A misspelt key does not hide the schema's other problems: `validate` prints them all in one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import SCHEMAS_DIR


def test_a_misspelt_key_and_the_other_problems_are_reported_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = json.loads((SCHEMAS_DIR / "energy_tariff_quotes.json").read_text("utf-8"))
    document["browser_config"]["profle_name"] = "typo"  # a misspelt key, one level down
    document["version"] = "two"  # and a bad version the meta-schema alone would not name
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "energy_tariff_quotes.json").write_text(json.dumps(document), "utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(
        "$.browser_config: Additional properties are not allowed ('profle_name' was unexpected)" in line
        for line in lines
    ), lines
    assert any(
        line.startswith("schemas/energy_tariff_quotes.json: $.version: version 'two'") for line in lines
    ), lines


def test_an_unknown_key_alone_is_the_only_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = json.loads((SCHEMAS_DIR / "energy_tariff_quotes.json").read_text("utf-8"))
    document["colour"] = "blue"
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "energy_tariff_quotes.json").write_text(json.dumps(document), "utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert result.output.count("energy_tariff_quotes.json: ") == 1, result.output
