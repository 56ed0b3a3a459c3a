"""The orchestrator's six tools: inputs validated, one happy path each, errors as tool errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from factory.batch.orchestrator_tools import ORCHESTRATOR_TOOLS, call_tool, handler
from tests.batch.test_local_engine import write_addresses
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCHEMA_FACTORY_GENERATED", str(REPO / "generated"))
    monkeypatch.setenv("SCHEMA_FACTORY_RESULTS", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("SCHEMA_FACTORY_TOOL_ROOT", str(tmp_path))
    monkeypatch.chdir(REPO)
    return write_addresses(tmp_path / "in.csv", 12)


def test_specs_are_valid_and_generated() -> None:
    generated = json.loads((REPO / "generated" / "tool_specs" / "_batch_orchestrator.json").read_text())
    assert [t["name"] for t in generated["anthropic"]] == [t.name for t in ORCHESTRATOR_TOOLS]
    for tool in ORCHESTRATOR_TOOLS:
        Draft202012Validator.check_schema(tool.input_schema)


@pytest.mark.parametrize("tool", [t.name for t in ORCHESTRATOR_TOOLS])
def test_invalid_input_is_a_tool_error(tool: str) -> None:
    result = call_tool(tool, {"bogus": 1})
    assert result["ok"] is False and "invalid input" in result["error"] and "bogus" in result["error"]


def test_unknown_tool_and_failures_are_tool_errors(env: Path) -> None:
    assert call_tool("nope", {})["error"].startswith("unknown tool")
    result = call_tool("analyze_csv_structure", {"csv_path": "missing.csv", "agent_name": AGENT})
    assert result["ok"] is False and "missing.csv" in result["error"]
    result = call_tool("monitor_batch_execution", {"batch_id": "no-such"})
    assert result["ok"] is False and "no batch 'no-such'" in result["error"]


def test_happy_path_through_all_six(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMA_FACTORY_INVOKE", "examples.example_agent:invoke")
    csv_path = str(env)
    analysis = handler({"tool": "analyze_csv_structure", "input": {"csv_path": csv_path, "agent_name": AGENT}})
    assert analysis["ok"] and analysis["result"]["row_count"] == 12
    compatible = call_tool("validate_agent_compatibility", {"csv_path": csv_path, "agent_name": AGENT})
    assert compatible["result"]["compatible"] is True
    config = call_tool("generate_batch_config", {"csv_path": csv_path, "agent_name": AGENT})["result"]["config"]
    assert config["input_mapping"]["column_mappings"]["Postcode"] == "postcode"
    run = call_tool("execute_batch_processor", {"csv_path": csv_path, "agent_name": AGENT, "config": config,
                                                "output_csv": str(tmp_path / "out.csv")})
    assert run["ok"], run
    batch_id = run["result"]["batch_id"]
    status = call_tool("monitor_batch_execution", {"batch_id": batch_id})["result"]
    assert status["state"] == "finished" and sum(status["counts"].values()) == 12
    results = call_tool("get_batch_results", {"batch_id": batch_id, "output_csv": str(tmp_path / "again.csv"),
                                              "preview_rows": 2})["result"]
    assert results["rows"] == 12 and len(results["preview"]) == 2
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "out.csv").read_bytes()


def test_the_generator_reads_the_specs_without_the_batch_engine() -> None:
    """Issue #19 §5c: emit imports nothing of factory.batch, and the tools serve the very specs emit writes."""
    import subprocess
    import sys

    from factory.orchestrator_specs import ORCHESTRATOR_TOOL_SPECS

    code = ("import sys, factory.generation, factory.emit.orchestrator_tool_specs; "
            "print(sorted(m for m in sys.modules if m.startswith('factory.batch')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert [(t.name, t.description, t.input_schema) for t in ORCHESTRATOR_TOOLS] == [
        (s["name"], s["description"], s["input_schema"]) for s in ORCHESTRATOR_TOOL_SPECS]
    from factory.project_files import GENERATOR_SOURCES

    assert not any(entry.startswith("batch") for entry in GENERATOR_SOURCES)


def test_model_input_names_neither_code_nor_files_outside_the_root(env: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #22: the tools' input comes from a model that reads CSV cells; it may name only an ARN to call,
    and only paths under the tools' root."""
    marker = tmp_path / "pwned"
    for invoke in (f"exec:touch {marker}", "examples.example_agent:invoke", "https://example.invalid/x"):
        result = call_tool("execute_batch_processor", {"csv_path": str(env), "agent_name": AGENT, "invoke": invoke})
        assert result["ok"] is False and "must be a state machine ARN" in result["error"]
    assert not marker.exists()
    monkeypatch.setenv("SCHEMA_FACTORY_INVOKE", "examples.example_agent:invoke")
    for key, value in (("output_csv", str(tmp_path.parent / "escaped.csv")), ("output_csv", "../escaped.csv"),
                       ("csv_path", "/etc/passwd")):
        arguments = {"csv_path": str(env), "agent_name": AGENT, key: value}
        result = call_tool("execute_batch_processor", arguments)
        assert result["ok"] is False and "is outside" in result["error"], result
    assert not (tmp_path.parent / "escaped.csv").exists()
