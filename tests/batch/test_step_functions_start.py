"""Issue #19 §2: one Step Functions start under both front ends.

`batch run --engine stepfunctions` and the orchestrator tool `execute_batch_processor`
(given an S3 CSV) both go through `factory.batch.plan.start_on_step_functions`. For the
same CSV, target and config, the batch processor (moto's server, recording its input)
must receive the same request from each; only where the CSV was staged differs. Each
case also checks what the request must carry, so two equal but wrong requests fail too.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from click.testing import CliRunner

from factory.batch.orchestrator_tools import call_tool
from factory.cli import main
from tests.batch.test_lambda_tool import ARN as TOOL_ARN
from tests.batch.test_lambda_tool import CONFIG as TOOL_CONFIG
from tests.batch.test_lambda_tool import TICKETS
from tests.batch.test_orchestrator_contract import AGENT, AGENT_ARN, AGENT_NAME, _batch_processor, _export
from tests.batch.test_orchestrator_contract import aws  # noqa: F401 - the moto fixture
from tests.conftest import REPO
from tests.runtime.transcripts import DESIGN_REGISTRY_YAML

REGISTERED = "broadband-agent-rust"
REGISTERED_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:broadband-agent-rust"


def _write_csv(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _tool_target(project: Path) -> tuple[Path, list[str], dict[str, Any]]:
    """A Lambda tool we did not make, its output mapped by the config's output_mappings."""
    (project / "batch.yaml").write_text(yaml.safe_dump(TOOL_CONFIG, sort_keys=False), "utf-8")
    path = _write_csv(project / "tickets.csv", ["Ticket ID", "Subject", "Body", "Priority"], TICKETS)
    return path, ["--agent", "classify-ticket", "--config", "batch.yaml"], {"agent_name": "classify-ticket",
                                                                             "config": TOOL_CONFIG}


def _check_tool_target(request: dict[str, Any]) -> None:
    assert request["target"] == {"type": "tool", "name": "classify-ticket", "arn": TOOL_ARN}
    assert request["output_mappings"] == TOOL_CONFIG["output_mappings"]
    assert request["mapping"]["structured_output_fields"] == ["category", "confidence", "label_count"]
    assert request["mapping"]["input_mapping"] == TOOL_CONFIG["input_mapping"]
    assert request["agent_name"] == "classify-ticket" and "registered_schema" not in request


def _our_agent(project: Path) -> tuple[Path, list[str], dict[str, Any]]:
    """One of our generated agents (record and mapping verified against the manifest), called at an ARN."""
    path = _write_csv(project / "addresses.csv", ["Building Number", "Street", "Postcode", "Full Address"],
                      [("10", "Downing Street", "SW1A 2AA", "10 Downing Street, London SW1A 2AA"),
                       ("1", "Piccadilly", "M1 1AE", "1 Piccadilly, Manchester M1 1AE")])
    return path, ["--agent", AGENT, "--generated", str(REPO / "generated"), "--invoke", AGENT_ARN], {
        "agent_name": AGENT, "invoke": AGENT_ARN}


def _check_our_agent(request: dict[str, Any]) -> None:
    assert request["target"] == {"type": "agent", "name": AGENT_NAME, "arn": AGENT_ARN}
    assert request["agent_name"] == AGENT_NAME and request["mapping"]["extraction_name"] == AGENT
    assert request["mapping"]["input_mapping"]["column_mappings"]["Postcode"] == "postcode"
    assert "output_mappings" not in request and "registered_schema" not in request


def _registered_agent(project: Path) -> tuple[Path, list[str], dict[str, Any]]:
    """An agent we did not make, with no config: its registered output schema (schemas/<agent>.yaml) becomes
    the suggested config's output_mappings."""
    (project / "schemas").mkdir()
    (project / "schemas" / f"{REGISTERED}.yaml").write_text(DESIGN_REGISTRY_YAML, "utf-8")
    path = _write_csv(project / "addresses.csv", ["address", "postcode"], [("10 Downing Street", "SW1A 2AA")])
    return path, ["--agent", REGISTERED, "--invoke", REGISTERED_ARN], {"agent_name": REGISTERED,
                                                                        "invoke": REGISTERED_ARN}


def _check_registered_agent(request: dict[str, Any]) -> None:
    from factory.runtime.output_mapping.registered import mapping_config

    assert request["target"] == {"type": "agent", "name": REGISTERED, "arn": REGISTERED_ARN}
    assert request["output_mappings"] == mapping_config(yaml.safe_load(DESIGN_REGISTRY_YAML))
    assert request["mapping"]["structured_output_fields"] == ["exchange", "download_speed"]
    assert request["mapping"]["input_mapping"]["column_mappings"] == {"address": "address", "postcode": "postcode"}
    assert "registered_schema" not in request


REGISTERED_CONFIG = {"target": {"type": "agent", "name": REGISTERED, "arn": REGISTERED_ARN},
                     "input_mapping": {"column_mappings": {"postcode": "postcode"}}}


def _registered_with_config(project: Path) -> tuple[Path, list[str], dict[str, Any]]:
    """A config with no output_mappings for an agent with a registered output schema: the schema itself goes
    in the request (the mapper Lambda cannot read schemas/)."""
    path, _args, _input = _registered_agent(project)
    (project / "batch.yaml").write_text(yaml.safe_dump(REGISTERED_CONFIG, sort_keys=False), "utf-8")
    return path, ["--agent", REGISTERED, "--config", "batch.yaml"], {"agent_name": REGISTERED,
                                                                      "config": REGISTERED_CONFIG}


def _check_registered_with_config(request: dict[str, Any]) -> None:
    assert request["target"] == {"type": "agent", "name": REGISTERED, "arn": REGISTERED_ARN}
    assert request["registered_schema"] == yaml.safe_load(DESIGN_REGISTRY_YAML)
    assert request["mapping"]["structured_output_fields"] == ["exchange", "download_speed"]
    assert "output_mappings" not in request


Case = Callable[[Path], tuple[Path, list[str], dict[str, Any]]]


def _deployed(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
              case: Case) -> tuple[str, Path, list[str], dict[str, Any]]:
    """The batch processor and the shared stack's exports, the case's project (the working directory), and its
    CSV uploaded to another bucket, where the tool reads it."""
    project = aws["tmp"] / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    arn = _batch_processor(aws, None)
    _export(aws, arn)
    csv_path, cli_args, tool_input = case(project)
    aws["s3"].upload_file(str(csv_path), "uploads", f"in/{csv_path.name}")
    return arn, csv_path, cli_args, tool_input


@pytest.mark.parametrize(("case", "check"), [(_tool_target, _check_tool_target), (_our_agent, _check_our_agent),
                                             (_registered_agent, _check_registered_agent),
                                             (_registered_with_config, _check_registered_with_config)],
                         ids=["lambda-tool-config", "our-agent", "registered-schema", "registered-with-config"])
def test_the_tool_sends_what_the_cli_sends(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                           case: Case, check: Callable[[dict[str, Any]], None]) -> None:
    arn, csv_path, cli_args, tool_input = _deployed(aws, monkeypatch, case)

    cli = CliRunner().invoke(main, ["batch", "run", csv_path.name, *cli_args, "--engine", "stepfunctions",
                                    "--concurrency", "3", "--json"])
    assert cli.exit_code == 0, cli.output + cli.stderr
    tool = call_tool("execute_batch_processor", {"csv_s3_uri": f"s3://uploads/in/{csv_path.name}",
                                                 "max_concurrency": 3, **tool_input})
    assert tool["ok"], tool

    sent = []
    for execution_arn in (json.loads(cli.stdout)["execution_arn"], tool["result"]["execution_arn"]):
        described = aws["stepfunctions"].describe_execution(executionArn=execution_arn)
        assert described["stateMachineArn"] == arn
        sent.append(json.loads(described["input"]))
    by_cli, by_tool = sent
    assert by_tool == tool["result"]["input_config"]
    for request in (by_cli, by_tool):  # each staged its own copy of the same bytes in the batch bucket
        staged = aws["s3"].get_object(Bucket="batch-bucket", Key=request.pop("csv_key"))["Body"].read()
        assert staged == csv_path.read_bytes()
    assert by_tool == by_cli
    assert by_cli["max_concurrency"] == 3
    check(by_cli)


def test_an_arn_of_the_wrong_kind_starts_nothing(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The Step Functions engine only starts executions and invokes functions: a Lambda tool's config naming a
    state machine, or an `--invoke` that is not an ARN, is refused by both front ends before any upload."""
    arn, csv_path, cli_args, tool_input = _deployed(aws, monkeypatch, _tool_target)
    wrong = {**TOOL_CONFIG, "target": {**TOOL_CONFIG["target"], "arn": AGENT_ARN}}
    tool = call_tool("execute_batch_processor", {"csv_s3_uri": "s3://uploads/in/tickets.csv", **tool_input,
                                                 "config": wrong})
    assert tool["ok"] is False and "$.target.arn: the arn is a state machine's (an agent) but type is tool" in tool["error"], tool
    cli = CliRunner().invoke(main, ["batch", "run", csv_path.name, *cli_args, "--engine", "stepfunctions",
                                    "--invoke", "exec:./classify"])
    assert cli.exit_code == 1 and "calls tools by their ARN, not 'exec:./classify'" in cli.stderr, cli.stderr
    addresses, _args, _input = _our_agent(csv_path.parent)
    ours = CliRunner().invoke(main, ["batch", "run", addresses.name, "--agent", AGENT, "--generated",
                                     str(REPO / "generated"), "--engine", "stepfunctions", "--invoke",
                                     "module:function"])
    assert ours.exit_code == 1 and "calls agents by their ARN, not 'module:function'" in ours.stderr, ours.stderr
    assert aws["stepfunctions"].list_executions(stateMachineArn=arn)["executions"] == []
    assert "Contents" not in aws["s3"].list_objects_v2(Bucket="batch-bucket")


def test_an_input_column_named_like_a_mapped_output_field_is_refused_before_aws(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The result columns are the chosen output mapping's fields (here the config's output_mappings), on the
    Step Functions engine as on the local one: a CSV column `category` is refused before any upload."""
    arn, csv_path, cli_args, _tool_input = _deployed(aws, monkeypatch, _tool_target)
    rows = [(*row, "x") for row in TICKETS]
    _write_csv(csv_path, ["Ticket ID", "Subject", "Body", "Priority", "category"], rows)
    cli = CliRunner().invoke(main, ["batch", "run", csv_path.name, *cli_args, "--engine", "stepfunctions"])
    assert cli.exit_code == 1, cli.output
    assert "input column(s) 'category' have the name of a result column" in cli.stderr, cli.stderr
    assert aws["stepfunctions"].list_executions(stateMachineArn=arn)["executions"] == []
    assert "Contents" not in aws["s3"].list_objects_v2(Bucket="batch-bucket")
