"""Issue #17 §2 (local engine): an LLM agent we did not generate and a plain Lambda tool as batch targets.

The LLM agent is a Python agent that behaves like a step-functions-agent LLM
agent: it takes `{"messages": [...]}` and answers with the whole transcript,
its browser tool's name only on the `tool_use`, the result matched by
`tool_use_id`. No generated/ directory exists in these projects: a target we
did not make must run from the config (or its registered output schema) alone.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from factory.cli import main
from tests.batch.test_stepfunctions_engine import aws  # noqa: F401 - the moto fixture
from tests.runtime.transcripts import DESIGN_REGISTRY_YAML

AGENT_MODULE = '''
import json, re

LOOKUP = {{
    "SW1A 2AA": "Address: 10 Downing Street\\nExchange: WHITEHALL\\nCabinet: Direct Exchange\\n"
                "Download Speed: 50.0-330.0 Mbps\\nUpload Speed: 3.0-50.0 Mbps",
    "M1 1AE": "Address: 1 Piccadilly\\nExchange: MANCHESTER CENTRAL\\nCabinet: 14\\n"
              "Download Speed: 20.5-80.0 Mbps\\nUpload Speed: 1.0-20.0 Mbps",
}}
CALLS = []


def invoke(event):
    """An LLM agent's run: read the user's message, call browser_broadband, maybe print_output, answer."""
    CALLS.append(event)
    assert set(event) == {{"messages", "input"}}, event
    question = event["messages"][0]["content"]
    if question.startswith("{{"):  # no prompt_template: the inputs as JSON
        postcode = json.loads(question)["postcode"]
    else:
        postcode = re.search(r"postcode ([A-Z0-9 ]+)$", question).group(1)
    messages = [dict(event["messages"][0])]
    messages.append({{"role": "assistant", "content": [
        {{"type": "text", "text": "I'll check that address."}},
        {{"type": "tool_use", "id": "toolu_01" + postcode.replace(" ", ""), "name": "browser_broadband",
          "input": {{"postcode": postcode}}}}]}})
    found = LOOKUP.get(postcode)
    if found is None and postcode.startswith("EH"):
        messages.append({{"role": "user", "content": [{{"type": "tool_result",
            "tool_use_id": "toolu_01" + postcode.replace(" ", ""), "is_error": True,
            "content": "browser session expired"}}]}})
        messages.append({{"role": "assistant", "content": [{{"type": "tool_use", "id": "toolu_02",
            "name": "print_output", "input": {{"exchange": "EDINBURGH NORTH", "speeds": {{"download": "67.0 Mbps"}}}}}}]}})
        messages.append({{"role": "user", "content": [{{"type": "tool_result", "tool_use_id": "toolu_02",
            "content": "printed"}}]}})
    elif found is not None:
        messages.append({{"role": "user", "content": [{{"type": "tool_result",
            "tool_use_id": "toolu_01" + postcode.replace(" ", ""),
            "content": [{{"type": "text", "text": found}}]}}]}})
    else:
        messages.append({{"role": "user", "content": [{{"type": "tool_result",
            "tool_use_id": "toolu_01" + postcode.replace(" ", ""), "content": "No results for this address"}}]}})
    messages.append({{"role": "assistant", "content": [{{"type": "text", "text": "Done."}}]}})
    return {{"messages": messages, "output": {{"message": "Done."}}}}
'''

ROWS = [("10 Downing Street", "SW1A 2AA"), ("1 Piccadilly", "M1 1AE"), ("5 Princes Street", "EH2 2AN"),
        ("Nowhere Farm", "ZZ9 9ZZ")]


def project_with_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schemas").mkdir()
    (tmp_path / f"{module}.py").write_text(AGENT_MODULE.format(), "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with open(tmp_path / "addresses.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["address", "postcode"])
        writer.writerows(ROWS)
    return tmp_path


def dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def results(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["batch", "run", "addresses.csv", "--quiet", "--store", "store.sqlite",
                                     "--retries", "0", *args])


CONFIG = {
    "target": {"type": "agent", "name": "broadband-agent-rust"},
    "input_mapping": {"column_mappings": {"address": "address", "postcode": "postcode"},
                      "prompt_template": "Check broadband for {address}, postcode {postcode}"},
    "output_mappings": {"broadband-agent-rust": {
        "type": "agent",
        "required_fields": ["exchange"],
        "extraction_methods": [
            {"method": "tool_result", "tool_name": "browser_broadband",
             "field_mappings": {"exchange": "$.content | parse('Exchange: (.+)')",
                                "download_mbps": "$.content | parse('Download Speed: [0-9.]+-([0-9.]+) Mbps') "
                                                 "| to_number()"}},
            {"method": "structured_output", "tool_name": "print_output",
             "field_mappings": {"exchange": "$.exchange"}},
        ]}},
}


def test_an_llm_agent_we_did_not_generate_runs_from_its_config(tmp_path: Path, monkeypatch) -> None:
    project = project_with_agent(tmp_path, monkeypatch, "llm_agent_config")
    (project / "batch.yaml").write_text(dump(CONFIG), "utf-8")
    result = run("--agent", "broadband-agent-rust", "--config", "batch.yaml", "--invoke", "llm_agent_config:invoke")
    assert result.exit_code == 1, result.output + result.stderr  # the last row has no exchange: FAILED
    assert not (project / "generated").exists()
    rows = results(project / "addresses.results.csv")
    assert list(rows[0]) == ["address", "postcode", "exchange", "download_mbps", "_status", "_error",
                             "_execution_time_ms", "_timestamp"]
    got = [(r["exchange"], r["download_mbps"], r["_status"]) for r in rows]
    assert got == [("WHITEHALL", "330", "SUCCESS"), ("MANCHESTER CENTRAL", "80", "SUCCESS"),
                   ("EDINBURGH NORTH", "", "SUCCESS"), ("", "", "FAILED")]
    assert rows[3]["_error"] == ("no extraction method found a value in the response (tried: tool_result "
                                 "browser_broadband, structured_output print_output)")
    sent = sys.modules["llm_agent_config"].CALLS
    assert sorted(call["messages"][0]["content"] for call in sent)[0] == \
        "Check broadband for 1 Piccadilly, postcode M1 1AE"
    assert all(call["messages"][0]["role"] == "user" for call in sent)


def test_a_registered_agent_runs_with_no_config(tmp_path: Path, monkeypatch) -> None:
    """schemas/<agent>.yaml alone: every column is an input, the registered schema maps the output."""
    project = project_with_agent(tmp_path, monkeypatch, "llm_agent_registered")
    (project / "schemas" / "broadband-agent-rust.yaml").write_text(DESIGN_REGISTRY_YAML, "utf-8")
    result = run("--agent", "broadband-agent-rust", "--invoke", "llm_agent_registered:invoke", "--json")
    assert result.exit_code == 1, result.output + result.stderr
    rows = results(project / "addresses.results.csv")
    got = [(r["exchange"], r["download_speed"], r["_status"]) for r in rows]
    # The design's pattern `Exchange: ([A-Z\s]+)` stops at the line's end; the print tool's `$.speeds.download`.
    assert got == [("WHITEHALL", "50.0-330.0 Mbps", "SUCCESS"), ("MANCHESTER CENTRAL", "20.5-80.0 Mbps", "SUCCESS"),
                   ("EDINBURGH NORTH", "67.0 Mbps", "SUCCESS"), ("", "", "FAILED")]
    prompts = sorted(call["messages"][0]["content"] for call in sys.modules["llm_agent_registered"].CALLS)
    assert json.loads(prompts[0]) == {"address": "1 Piccadilly", "postcode": "M1 1AE"}


def test_batch_config_and_analyze_for_a_registered_agent(tmp_path: Path, monkeypatch) -> None:
    project = project_with_agent(tmp_path, monkeypatch, "llm_agent_cfg")
    (project / "schemas" / "broadband-agent-rust.yaml").write_text(DESIGN_REGISTRY_YAML, "utf-8")
    analyzed = CliRunner().invoke(main, ["batch", "analyze", "addresses.csv", "--agent", "broadband-agent-rust",
                                         "--json"])
    assert analyzed.exit_code == 0, analyzed.stderr
    report = json.loads(analyzed.output)
    assert report["row_count"] == 4
    assert [(m["column"], m["field"]) for m in report["suggested_mapping"]] == [("address", "address"),
                                                                                  ("postcode", "postcode")]
    written = CliRunner().invoke(main, ["batch", "config", "addresses.csv", "--agent", "broadband-agent-rust",
                                        "-o", "batch.yaml"])
    assert written.exit_code == 0, written.stderr
    config = yaml.safe_load((project / "batch.yaml").read_text("utf-8"))
    assert config["target"] == {"type": "agent", "name": "broadband-agent-rust"}
    assert config["input_mapping"]["column_mappings"] == {"address": "address", "postcode": "postcode"}
    section = config["output_mappings"]
    assert list(section) == ["exchange", "download_speed"]
    assert section["exchange"]["methods"][0] == {"method": "tool_result", "tool_name": "browser_broadband",
                                                 "pattern": "Exchange: ([A-Z\\s]+)"}
    # The written config runs as it is, and gives what the registered schema gives.
    config["input_mapping"]["prompt_template"] = "Check broadband for {address}, postcode {postcode}"
    (project / "batch.yaml").write_text(dump(config), "utf-8")
    (project / "schemas" / "broadband-agent-rust.yaml").unlink()
    result = run("--agent", "broadband-agent-rust", "--config", "batch.yaml", "--invoke", "llm_agent_cfg:invoke")
    assert [r["exchange"] for r in results(project / "addresses.results.csv")] == \
        ["WHITEHALL", "MANCHESTER CENTRAL", "EDINBURGH NORTH", ""], result.stderr


def test_an_unknown_target_says_how_to_name_one(tmp_path: Path, monkeypatch) -> None:
    project_with_agent(tmp_path, monkeypatch, "llm_agent_unknown")
    result = run("--agent", "broadband-agent-rust", "--invoke", "llm_agent_unknown:invoke")
    assert result.exit_code == 1
    assert "no agent named 'broadband-agent-rust'" in result.stderr
    assert "give a --config naming its target" in result.stderr


def test_a_foreign_target_without_output_mapping_stops_before_any_call(tmp_path: Path, monkeypatch) -> None:
    project = project_with_agent(tmp_path, monkeypatch, "llm_agent_nomap")
    config = {key: value for key, value in CONFIG.items() if key != "output_mappings"}
    (project / "batch.yaml").write_text(dump(config), "utf-8")
    result = run("--agent", "broadband-agent-rust", "--config", "batch.yaml", "--invoke", "llm_agent_nomap:invoke")
    assert result.exit_code == 1
    assert "is not one of our agents, so its output has no structured output to read" in result.stderr
    assert sys.modules.get("llm_agent_nomap") is None or not sys.modules["llm_agent_nomap"].CALLS


@pytest.mark.parametrize("target, message", [
    ({"type": "agent", "name": "broadband-agent-rust"}, "has no arn in the config's target"),
    ({"type": "agent", "name": "broadband-agent-rust", "arn": "exec:touch PWNED"},
     "is not a state machine ARN"),
    ({"type": "tool", "name": "broadband-agent-rust",
      "arn": "arn:aws:states:eu-west-2:123456789012:stateMachine:broadband-agent-rust"},
     "the arn is a state machine's (an agent) but type is tool"),
])
def test_the_config_names_only_a_validated_arn(tmp_path: Path, monkeypatch, target, message) -> None:
    """Data never becomes a command: without --invoke, a config's target may only name an ARN of its type."""
    project = project_with_agent(tmp_path, monkeypatch, "llm_agent_arn")
    (project / "batch.yaml").write_text(dump({**CONFIG, "target": target}), "utf-8")
    result = run("--agent", "broadband-agent-rust", "--config", "batch.yaml")
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert not (project / "PWNED").exists()


def test_our_agent_follows_the_same_order(tmp_path: Path, monkeypatch) -> None:
    """Our agent: config output_mappings first, then schemas/<agent>.yaml, then the structured output."""
    from tests.batch.test_local_engine import AGENT, REPO, write_addresses

    monkeypatch.chdir(REPO)
    csv_path = write_addresses(tmp_path / "in.csv", 6)
    schemas = tmp_path / "registry"
    schemas.mkdir()
    base = ["batch", "run", str(csv_path), "--agent", AGENT, "--invoke", "examples.example_agent:invoke",
            "--quiet", "--store", str(tmp_path / "s.sqlite"), "--schemas", str(schemas)]

    def columns_and_first_row(*extra: str) -> tuple[list[str], dict[str, str]]:
        out = tmp_path / "out.csv"
        result = CliRunner().invoke(main, [*base, "--out", str(out), *extra])
        assert result.exit_code in (0, 1), result.stderr
        with open(out, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return list(rows[0]), rows[0]

    columns, first = columns_and_first_row()  # 3. the structured output
    assert "fttp_avail" in columns and first["exchange_code"] == "WESTMINSTER"  # row 1: SW1A 1AA
    registered = {"agent": "broadband-availability-bt-wholesale-agent", "version": "1.0", "output_format": "messages",
                  "fields": [{"name": "exchange", "type": "string", "required": True,
                              "extraction": [{"type": "structured", "path": "$.exchange_code"}]}]}
    (schemas / "broadband-availability-bt-wholesale-agent.yaml").write_text(dump(registered), "utf-8")
    columns, first = columns_and_first_row()  # 2. the registered schema
    assert columns[-5:] == ["exchange", "_status", "_error", "_execution_time_ms", "_timestamp"]
    assert first["exchange"] == "WESTMINSTER" and first["_status"] == "SUCCESS"  # row 1: SW1A 1AA
    config = yaml.safe_load(CliRunner().invoke(main, ["batch", "config", str(csv_path), "--agent", AGENT]).stdout)
    config["output_mappings"] = {"exchange_lower": [
        {"method": "jmespath", "path": "step_results[?action=='act_with_schema'].parsed_response.exchange_code | [0]",
         "transforms": ["lower"]}]}
    (tmp_path / "cfg.yaml").write_text(dump(config), "utf-8")
    columns, first = columns_and_first_row("--config", str(tmp_path / "cfg.yaml"))  # 1. the config
    assert columns[-5:] == ["exchange_lower", "_status", "_error", "_execution_time_ms", "_timestamp"]
    assert first["exchange_lower"] == "westminster"


def test_the_step_functions_engine_sends_the_target_and_its_mapping(tmp_path: Path, monkeypatch, aws) -> None:
    """A target we did not make goes to the batch state machine with its ARN and the config's output_mappings
    (the request keys the executed machine reads: tests/sfn/test_generic_targets.py); a target without an ARN
    is refused before anything is uploaded."""
    from tests.batch.test_stepfunctions_engine import export_shared_stack

    project = project_with_agent(tmp_path, monkeypatch, "llm_agent_sfn")
    (project / "batch.yaml").write_text(dump(CONFIG), "utf-8")
    args = ["batch", "run", "addresses.csv", "--agent", "broadband-agent-rust", "--config", "batch.yaml",
            "--engine", "stepfunctions", "--endpoint-url", aws["endpoint"], "--json"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1
    assert "has no arn in the config's target" in refused.stderr
    assert "Contents" not in aws["s3"].list_objects_v2(Bucket="batch-bucket")

    export_shared_stack(aws)
    agent_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:broadband-agent-rust"
    result = CliRunner().invoke(main, [*args, "--invoke", agent_arn])
    assert result.exit_code == 0, result.output + result.stderr
    started = json.loads(result.stdout)
    request = json.loads(aws["stepfunctions"].describe_execution(executionArn=started["execution_arn"])["input"])
    assert request["target"] == {"type": "agent", "name": "broadband-agent-rust", "arn": agent_arn}
    assert request["output_mappings"] == CONFIG["output_mappings"]
    assert request["mapping"]["structured_output_fields"] == ["exchange", "download_mbps"]
    assert "registered_schema" not in request
