"""Targets we did not generate, through the executed batch state machine: an LLM-style agent and a Lambda tool.

The agent is a state machine of its own taking `{"messages": [...]}` and answering
with a transcript (tool_use / tool_result pairs); the tool a plain Lambda function
taking the row's mapped fields. Neither is in AgentRegistry: the request's
`output_mappings` (the design's target-keyed form) maps their answers.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml

from tests.sfn.conftest import BATCH_MACHINE
from tests.sfn.deployment import ACCOUNT, REGION, ROLE_ARN, _empty_zip
from tests.sfn.test_batch_machine import blank_timings, results_csv, stored_rows, without_timings

pytestmark = pytest.mark.slow
METADATA = ["_status", "_error", "_execution_time_ms", "_timestamp"]
LLM_AGENT, LLM_MODEL, TOOL = "llm-agent", "llm-agent-model", "classify-ticket"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@pytest.fixture(scope="module")
def foreign(local_aws):
    """The foreign agent's state machine (one Lambda step, the model) and the tool's function, in moto."""
    for name, handler in ((LLM_MODEL, "llm_model"), (TOOL, "classify")):
        local_aws.clients["lambda"].create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE_ARN,
            Handler=f"tests.sfn.foreign_targets.{handler}",
            Code={"ZipFile": _empty_zip()},
        )
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Model",
        "States": {
            "Model": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": function_arn(LLM_MODEL), "Payload": "{% $states.input %}"},
                "Output": "{% $states.result.Payload %}",
                "End": True,
            }
        },
    }
    machine = local_aws.clients["stepfunctions"].create_state_machine(
        name=LLM_AGENT, definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    return {"agent": machine, "tool": function_arn(TOOL)}


def request(local_aws, key: str, target: dict, columns: list[str], output_mappings: dict) -> dict:
    return {
        "csv_s3_uri": f"s3://{local_aws.deployment.bucket}/{key}",
        "target": target,
        "input_mapping": {"column_mappings": {column: column for column in columns}},
        "output_mapping": {},
        "output_mappings": output_mappings,
        "execution_config": {"max_concurrency": 2},
    }


def check_results(local_aws, run, inputs: list[dict], expected: list[dict]) -> list[dict]:
    """Every row once in the table and the CSV, in input order, with the expected cells."""
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    assert run.output["total_rows"] == len(inputs)
    numbers = sorted(int(item["row_number"]) for item in stored_rows(local_aws, run.output["batch_id"]))
    assert numbers == list(range(1, len(inputs) + 1))
    table = list(csv.DictReader(io.StringIO(results_csv(local_aws, run.output["csv_uri"]), newline="")))
    assert list(table[0]) == list(inputs[0]) + list(expected[0]) + METADATA[2:]
    assert [{key: line[key] for key in [*inputs[0], *expected[0]]} for line in table] == [
        {**row, **cells} for row, cells in zip(inputs, expected)
    ]
    return table


def test_an_llm_agent_we_did_not_make_answers_messages_mapped_by_its_tool_results(local_aws, foreign):
    inputs = [
        {"postcode": "CB1 2AB", "building_number": "12"},
        {"postcode": "ZZ9 9ZZ", "building_number": "3"},
        {"postcode": "EH1 1YZ", "building_number": "7"},
    ]
    put_csv_rows(local_aws, "inputs/llm.csv", inputs)
    mappings = {
        LLM_AGENT: {
            "type": "agent",
            "extraction_methods": [
                {
                    "method": "tool_result",
                    "tool_name": "browser_broadband",
                    "field_mappings": {
                        "exchange": "$.content | parse('Exchange: (.+)')",
                        "cabinet": "$.content | parse('Cabinet: (.+)')",
                    },
                }
            ],
        }
    }
    target = {"type": "agent", "name": LLM_AGENT, "arn": foreign["agent"]}
    run = local_aws.run(
        BATCH_MACHINE, request(local_aws, "inputs/llm.csv", target, list(inputs[0]), mappings), timeout=300
    )
    check_results(
        local_aws,
        run,
        inputs,
        [
            {"exchange": "CAMBRIDGE", "cabinet": "12", "_status": "SUCCESS", "_error": ""},
            {
                "exchange": "",
                "cabinet": "",
                "_status": "FAILED",
                "_error": "ModelOverloaded: model overloaded on ZZ9 9ZZ",
            },
            {"exchange": "EDINBURGH", "cabinet": "7", "_status": "SUCCESS", "_error": ""},
        ],
    )
    assert (run.output["successful_rows"], run.output["failed_rows"]) == (2, 1)


TOOL_INPUTS = [{"text": "invoice 42 is wrong"}, {"text": "please crash"}, {"text": 'a "quoted", text'}]
TOOL_MAPPINGS = {
    TOOL: {
        "type": "tool",
        "extraction_methods": [
            {
                "method": "direct",
                "field_mappings": {"category": "$.category", "confidence": "$.confidence_score"},
            }
        ],
    }
}


@pytest.fixture(scope="module")
def tool_run(local_aws, foreign):
    """The Lambda tool's batch through the executed batch machine: (inputs, the run)."""
    put_csv_rows(local_aws, "inputs/tool.csv", TOOL_INPUTS)
    target = {"type": "tool", "name": TOOL, "arn": foreign["tool"]}
    body = request(local_aws, "inputs/tool.csv", target, ["text"], TOOL_MAPPINGS)
    return TOOL_INPUTS, local_aws.run(BATCH_MACHINE, body, timeout=300)


def test_a_lambda_tool_is_invoked_with_the_rows_fields_and_mapped_directly(local_aws, tool_run):
    inputs, run = tool_run
    check_results(
        local_aws,
        run,
        inputs,
        [
            {"category": "billing", "confidence": "0.9", "_status": "SUCCESS", "_error": ""},
            {
                "category": "",
                "confidence": "",
                "_status": "FAILED",
                "_error": "ValueError: cannot classify 'please crash'",
            },
            {"category": "other", "confidence": "0.5", "_status": "SUCCESS", "_error": ""},
        ],
    )


def test_both_engines_give_a_lambda_tools_rows_the_same_cells(
    local_aws, foreign, tool_run, tmp_path, monkeypatch
):
    """`batch run --engine local` with the same config calls the same function (the Lambda Invoke API
    against the same moto) and writes the same results CSV, timings blanked: a failed call is the
    function's own "<errorType>: <errorMessage>" in both (Step Functions catches Error = errorType and
    the JSON report as Cause)."""
    from click.testing import CliRunner

    from factory.cli import main
    from tests.sfn.deployment import REGION

    inputs, run = tool_run
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(inputs[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(inputs)
    (tmp_path / "tool.csv").write_text(buffer.getvalue(), "utf-8", newline="")
    config = {
        "target": {"type": "tool", "name": TOOL, "arn": foreign["tool"]},
        "input_mapping": {"column_mappings": {"text": "text"}},
        "output_mappings": TOOL_MAPPINGS,
    }
    (tmp_path / "batch.yaml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "batch",
            "run",
            "tool.csv",
            "--agent",
            TOOL,
            "--config",
            "batch.yaml",
            "--region",
            REGION,
            "--store",
            "store.sqlite",
            "--out",
            "local.csv",
            "--quiet",
        ],
    )
    assert result.exit_code == 1, result.output  # the crashing row fails, by design
    local_text = (tmp_path / "local.csv").read_bytes().decode("utf-8")
    remote_text = results_csv(local_aws, run.output["csv_uri"])
    assert blank_timings(local_text) == blank_timings(remote_text)  # byte for byte, timings blanked
    assert blank_timings(local_text).count(",,\r\n") == len(inputs)
    assert without_timings(local_text)[1]["_error"] == "ValueError: cannot classify 'please crash'"


@pytest.mark.parametrize(
    ("target", "named"),
    [
        (
            {"type": "robot", "name": TOOL},
            "$.target.type: type 'robot' is not known (agent (a state machine)",
        ),
        ({"type": "tool", "name": TOOL}, "$.target.arn: a tool is called by its ARN"),
        (
            {"type": "tool", "name": TOOL, "arn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:x"},
            "$.target.arn: the arn is a state machine's (an agent) but type is tool",
        ),
        (
            {"type": "agent", "name": "x", "arn": f"arn:aws:states:local:{ACCOUNT}:stateMachine:x"},
            "is not a state machine ARN (e.g. arn:aws:states:eu-west-2:",
        ),
        ({"type": "agent", "name": "x", "arm": "typo"}, "$.target.arm: unknown key 'arm'"),
        ("classify-ticket", "$.target: the target must be a mapping"),
    ],
)
def test_a_malformed_target_ends_in_batch_request_invalid_naming_it(local_aws, target, named):
    body = request(local_aws, "inputs/tool.csv", {}, ["text"], {})
    body["target"] = target
    if not isinstance(target, dict):
        body["agent_name"] = "x"  # the name is not the problem here
    run = local_aws.run(BATCH_MACHINE, body)
    assert (run.status, run.error) == ("FAILED", "BatchRequestInvalid")
    assert named in run.cause, run.cause
    assert "csv_key" not in run.cause and "input_mapping" not in run.cause


def put_csv_rows(local_aws, key: str, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    local_aws.clients["s3"].put_object(
        Bucket=local_aws.deployment.bucket, Key=key, Body=buffer.getvalue().encode("utf-8")
    )


def test_a_registered_output_schema_in_the_request_maps_a_tools_answer(local_aws, foreign):
    inputs = [{"text": "invoice 7"}, {"text": "hello"}]
    put_csv_rows(local_aws, "inputs/registered.csv", inputs)
    registered = {
        "agent": TOOL,
        "version": "1.0",
        "output_format": "json",
        "fields": [
            {
                "name": "category",
                "type": "string",
                "extraction": [{"type": "structured", "path": "$.category"}],
            },
            {
                "name": "confidence",
                "type": "number",
                "extraction": [{"type": "structured", "path": "$.confidence_score"}],
            },
        ],
    }
    body = request(
        local_aws,
        "inputs/registered.csv",
        {"type": "tool", "name": TOOL, "arn": foreign["tool"]},
        ["text"],
        {},
    )
    del body["output_mappings"]
    body["registered_schema"] = registered
    run = local_aws.run(BATCH_MACHINE, body, timeout=300)
    check_results(
        local_aws,
        run,
        inputs,
        [
            {"category": "billing", "confidence": "0.9", "_status": "SUCCESS", "_error": ""},
            {"category": "other", "confidence": "0.5", "_status": "SUCCESS", "_error": ""},
        ],
    )
