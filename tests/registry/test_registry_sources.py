"""Registration reads the committed generated records and refuses stale ones."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from factory.errors import FactoryError
from factory.registration import read_generated_records
from factory.registry.sources import read_orchestrator_tools
from tests.registry.helpers import read_json


def test_reads_the_generated_records(project: Path) -> None:
    records = read_generated_records([], Path("generated"))
    assert len(records) == len(list(Path("schemas").glob("*.json")))
    first = records[0]
    assert first.template == read_json(Path("generated/templates") / f"{first.template['template_id']}_v"
                                       f"{first.template['version']}.json")


def test_stale_generated_file_is_refused(project: Path) -> None:
    """The check's fast path answers: a changed schema is a finding, printed with its fix."""
    schema_path = Path("schemas/energy_tariff_quotes.json")
    schema = read_json(schema_path)
    schema["description"] = "changed after generate"
    schema_path.write_text(json.dumps(schema, indent=2) + "\n", "utf-8")
    with pytest.raises(FactoryError) as caught:
        read_generated_records([schema_path], Path("generated"))
    (problem,) = caught.value.problems
    assert problem.rule == "stale"
    assert "schemas/energy_tariff_quotes.json changed" in problem.message
    assert "schema-factory generate" in problem.hint


def test_hand_edited_or_missing_generated_file_is_refused(project: Path) -> None:
    agent = next(Path("generated/registry/agents").glob("*.json"))
    agent.write_text(agent.read_text("utf-8").replace('"enabled": true', '"enabled": false'), "utf-8")
    template = next(Path("generated/templates").glob("*.json"))
    template.unlink()
    with pytest.raises(FactoryError) as caught:
        read_generated_records([], Path("generated"))
    messages = " | ".join(problem.message for problem in caught.value.problems)
    # the hand edit is the check's own `edited` finding, naming the file and the schema to change
    (edit,) = [problem for problem in caught.value.problems if problem.kind == "edited"]
    assert edit.file == agent.as_posix() and "edited by hand" in edit.message
    assert "put the change in schemas/" in edit.hint
    assert f"{agent.as_posix()} differs from the manifest" not in messages  # said once, as `edited`
    assert f"{template.as_posix()} differs from the manifest" in messages


def test_an_edit_the_manifest_vouches_for_is_still_refused_by_the_layers(project: Path) -> None:
    """Hashes vouch for bytes only; the fast path also reads the layers back (a forged manifest entry)."""
    agent = Path("generated/registry/agents/energy-tariff-quotes-agent.json")
    record = read_json(agent)
    record["structured_output"]["output_fields"].reverse()
    agent.write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    manifest_path = Path("generated/MANIFEST.json")
    manifest = read_json(manifest_path)
    manifest["files"]["registry/agents/energy-tariff-quotes-agent.json"]["sha256"] = hashlib.sha256(
        agent.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    with pytest.raises(FactoryError) as caught:
        read_generated_records([], Path("generated"))
    (problem,) = caught.value.problems
    assert problem.rule == "layers-disagree" and problem.file == agent.as_posix()
    assert "schema-factory generate" in problem.hint


def test_records_carry_the_tool_specs_in_the_tool_registry_form(project: Path) -> None:
    records = read_generated_records([Path("schemas/energy_tariff_quotes.json")], Path("generated"))
    (record,) = records
    assert [tool["tool_name"] for tool in record.tools] == ["energy-tariff-quotes", "print_energy_tariff_quotes_output"]
    assert all(set(tool) == {"tool_name", "description", "input_schema"} for tool in record.tools)
    assert [tool["tool_name"] for tool in read_orchestrator_tools(Path("generated"))] == [
        "analyze_csv_structure", "validate_agent_compatibility", "generate_batch_config",
        "execute_batch_processor", "monitor_batch_execution", "get_batch_results"]


def test_no_schemas_is_an_error(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FactoryError, match="no schema files"):
        read_generated_records([empty], Path("generated"))
