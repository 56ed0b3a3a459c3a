"""Issue #17 §3: `validate` and `check` judge `schemas/<agent>.yaml` files; `generate` writes ours.

A broken output-schema file must be reported where people look (validate's
problems, check's `invalid` finding), and the file generated for our own agents
must describe their output exactly as the structured mapper reads it.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from factory.cli import main
from factory.output_schemas import load_output_schema_file
from factory.runtime.output_mapping.generic import map_output
from factory.runtime.output_mapping.structured import extract_structured_output
from factory.runtime.output_mapping.registered import compile_output_schema
from tests.runtime.transcripts import DESIGN_REGISTRY_YAML

def write_registry(project: Path, text: str = DESIGN_REGISTRY_YAML, name: str = "broadband-agent-rust") -> Path:
    path = project / "schemas" / f"{name}.yaml"
    path.write_text(text, "utf-8")
    return path


def test_validate_reports_good_and_broken_output_schema_files(bundled_project: Path) -> None:
    write_registry(bundled_project)
    ok = CliRunner().invoke(main, ["validate"])
    assert ok.exit_code == 0, ok.output
    assert "ok: schemas/broadband-agent-rust.yaml (output schema of broadband-agent-rust 1.0)" in ok.output
    write_registry(bundled_project, DESIGN_REGISTRY_YAML.replace("type: tool_result", "type: xpath", 1))
    bad = CliRunner().invoke(main, ["validate"])
    assert bad.exit_code == 1
    assert "schemas/broadband-agent-rust.yaml: $.fields[0].extraction[0].type:" in bad.stderr
    named = CliRunner().invoke(main, ["validate", "schemas/broadband-agent-rust.yaml"])
    assert named.exit_code == 1 and "$.fields[0].extraction[0].type" in named.stderr
    as_json = CliRunner().invoke(main, ["validate", "--json"])
    assert [p["json_path"] for p in json.loads(as_json.output)["problems"]] == ["$.fields[0].extraction[0].type"]


def test_validate_refuses_a_file_named_after_another_agent(bundled_project: Path) -> None:
    write_registry(bundled_project, name="someone-else")
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert "schemas/someone-else.yaml: $.agent: the file is named 'someone-else' but describes agent " \
           "'broadband-agent-rust' (rename the file to broadband-agent-rust.yaml)" in result.stderr


def test_check_makes_a_broken_output_schema_file_a_finding(bundled_project: Path) -> None:
    assert CliRunner().invoke(main, ["generate"]).exit_code == 0
    write_registry(bundled_project)
    clean = CliRunner().invoke(main, ["check"])
    assert clean.exit_code == 0, clean.output + clean.stderr
    write_registry(bundled_project, DESIGN_REGISTRY_YAML.replace('version: "1.0"', "version: [1]"))
    result = CliRunner().invoke(main, ["check", "--json"])
    assert result.exit_code == 1
    findings = json.loads(result.output)["findings"]
    assert [(f["path"], f["kind"]) for f in findings] == [("schemas/broadband-agent-rust.yaml", "invalid")]
    assert findings[0]["detail"].startswith("$.version: ")


def test_generate_describes_our_agents_as_the_structured_mapper_reads_them(bundled_project: Path) -> None:
    assert CliRunner().invoke(main, ["generate"]).exit_code == 0
    out = bundled_project / "generated"
    manifest = json.loads((out / "MANIFEST.json").read_text("utf-8"))
    files = sorted(p for p in manifest["files"] if p.startswith("output_schemas/"))
    records = sorted((out / "registry" / "agents").glob("*.json"))
    assert files == sorted(f"output_schemas/{p.stem}.yaml" for p in records)
    record = json.loads((out / "registry/agents/broadband-availability-bt-wholesale-agent.json").read_text())
    loaded = load_output_schema_file(out / "output_schemas/broadband-availability-bt-wholesale-agent.yaml")
    assert loaded.problems == []
    assert loaded.document["output_format"] == "structured_output"
    mapping = yaml.safe_load((out / "batch_mappings/broadband_availability_bt_wholesale.yaml").read_text())
    schema = record["structured_output"]["schemas"]["output"]
    assert [f["name"] for f in loaded.document["fields"]] == mapping["structured_output_fields"]
    # One realistic answer of the agent, read both ways, gives the same row.
    answer = {"structured_output": {"success": True, "alk": "A00022059784", "exchange_code": "WHITEHALL",
                                    "fttp_avail": True, "install_type": "Premium", "soadsl_dsl_speed": 24.5,
                                    "metadata": {"checked_by": "bt-wholesale"}}}
    generic = map_output(answer, compile_output_schema(loaded.document), schema)
    structured = extract_structured_output(answer, mapping, schema)
    strip = lambda row: {k: v for k, v in row.items() if k != "_timestamp"}  # noqa: E731
    assert strip(generic) == strip(structured)
    assert generic["_status"] == "SUCCESS" and generic["exchange_code"] == "WHITEHALL"
    assert generic["metadata"] == '{"checked_by":"bt-wholesale"}'
