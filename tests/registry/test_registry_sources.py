"""Registration reads the committed generated records and refuses stale ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factory.errors import FactoryError
from factory.registry.sources import read_generated_records
from tests.registry.helpers import read_json


def test_reads_the_generated_records(project: Path) -> None:
    records = read_generated_records([], Path("generated"))
    assert len(records) == len(list(Path("schemas").glob("*.json")))
    first = records[0]
    assert first.template == read_json(Path("generated/templates") / f"{first.template['template_id']}_v"
                                       f"{first.template['version']}.json")


def test_stale_generated_file_is_refused(project: Path) -> None:
    schema_path = Path("schemas/energy_tariff_quotes.json")
    schema = read_json(schema_path)
    schema["description"] = "changed after generate"
    schema_path.write_text(json.dumps(schema, indent=2) + "\n", "utf-8")
    with pytest.raises(FactoryError) as caught:
        read_generated_records([schema_path], Path("generated"))
    rules = {problem.rule for problem in caught.value.problems}
    assert rules == {"generated-stale"}
    assert "run schema-factory generate" in caught.value.problems[0].hint


def test_hand_edited_or_missing_generated_file_is_refused(project: Path) -> None:
    agent = next(Path("generated/registry/agents").glob("*.json"))
    agent.write_text(agent.read_text("utf-8").replace('"enabled": true', '"enabled": false'), "utf-8")
    template = next(Path("generated/templates").glob("*.json"))
    template.unlink()
    with pytest.raises(FactoryError) as caught:
        read_generated_records([], Path("generated"))
    assert sorted(problem.rule for problem in caught.value.problems) == ["generated-missing", "generated-stale"]


def test_no_schemas_is_an_error(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FactoryError, match="no schema files"):
        read_generated_records([empty], Path("generated"))
