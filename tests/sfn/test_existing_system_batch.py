"""The executed batch machine, started as the existing step-functions-agent orchestrator starts it.

Restated facts of guyernest/step-functions-agent at ffef93d, checked on the executed machine: the
request shape its orchestrator sends (lambda/agents/batch_orchestrator/execute_batch.py), the input
mapping forms it writes (lambda/tools/batch_processor/input_mapper.py), and the input every agent is
started with (stacks/tools/batch_processor_state_machine_jsonata.json, InvokeAgent).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.sfn import agent_behaviour
from tests.sfn.conftest import BATCH_MACHINE, ENV
from tests.sfn.deployment import ACCOUNT, REGION, ROLE_ARN, _empty_zip
from tests.sfn.test_batch_machine import results_csv

pytestmark = pytest.mark.slow
REGISTERED, MODEL = "registered-llm-agent", "registered-llm-agent-model"
OURS = f"broadband-availability-bt-wholesale-agent-{ENV}"
ROWS = [
    {"building_number": "12", "street": "Mill Road", "postcode": "CB1 2AB"},
    {"building_number": "7", "street": "High Street", "postcode": "EH1 1YZ"},
]


def existing_agent_input(prompt: str, data: dict) -> dict:
    """What the existing batch processor starts every agent with (batch_processor_state_machine_jsonata.json,
    InvokeAgent, lines ~126-138 at ffef93d): {"messages": [{"role": "user", "content": prompt}], "input": data}."""
    return {"messages": [{"role": "user", "content": prompt}], "input": data}


def put_rows(local_aws, key: str, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([header, *rows])
    local_aws.clients["s3"].put_object(
        Bucket=local_aws.deployment.bucket, Key=key, Body=buffer.getvalue().encode("utf-8")
    )


def orchestrator_request(local_aws, key: str, target: dict, input_mapping: dict, **extra) -> dict:
    """The existing orchestrator's request (execute_batch.py, lambda_handler, lines ~44-78 at ffef93d)."""
    return {
        "csv_s3_uri": f"s3://{local_aws.deployment.bucket}/{key}",
        "target": target,
        "input_mapping": input_mapping,
        "output_mapping": {"structured_output_fields": [], "include_original": True, "add_metadata": True},
        "execution_config": {"max_concurrency": 2},
        **extra,
    }


def started_inputs(local_aws, machine_arn: str, before: set[str]) -> list[dict]:
    sfn = local_aws.clients["stepfunctions"]
    arns = [e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine_arn)["executions"]]
    return [json.loads(sfn.describe_execution(executionArn=arn)["input"]) for arn in arns if arn not in before]


def execution_arns(local_aws, machine_arn: str) -> set[str]:
    executions = local_aws.clients["stepfunctions"].list_executions(stateMachineArn=machine_arn)["executions"]
    return {e["executionArn"] for e in executions}


@pytest.fixture(scope="module")
def registered_agent(local_aws):
    """An agent of the existing system: registered in AgentRegistry as its records are (JSON-text
    structured_output, enabled: what validate_agent.py, lines ~68-143 at ffef93d, asks), reading only
    `messages` (its model step fails on any other input)."""
    local_aws.clients["lambda"].create_function(
        FunctionName=MODEL,
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="tests.sfn.foreign_targets.llm_model",
        Code={"ZipFile": _empty_zip()},
    )
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Model",
        "States": {
            "Model": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {
                    "FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{MODEL}",
                    "Payload": {"messages": "{% $states.input.messages %}"},
                },
                "Output": "{% $states.result.Payload %}",
                "End": True,
            }
        },
    }
    arn = local_aws.clients["stepfunctions"].create_state_machine(
        name=REGISTERED, definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    local_aws.clients["dynamodb"].put_item(
        TableName=f"AgentRegistry-{ENV}",
        Item={
            "agent_name": {"S": REGISTERED},
            "version": {"S": "v1.0"},
            "status": {"S": "active"},
            "llm_provider": {"S": "anthropic"},
            "structured_output": {"S": json.dumps({"enabled": True, "output_fields": ["exchange"]})},
        },
    )
    return arn


def test_a_registered_agent_of_the_existing_system_gets_messages_and_input(local_aws, registered_agent):
    """A target with an AgentRegistry record that is not ours, mapped by a flat input mapping (the
    orchestrator's simple form, input_mapper.py lines ~168-172 at ffef93d): every row reaches the agent's
    model as the existing batch processor sends it, so its rows succeed."""
    put_rows(local_aws, "inputs/registered-llm.csv", ["Building", "Street", "Postcode"],
             [list(row.values()) for row in ROWS])
    flat = {"Building": "building_number", "Street": "street", "Postcode": "postcode"}
    mappings = {
        REGISTERED: {
            "type": "agent",
            "extraction_methods": [
                {
                    "method": "tool_result",
                    "tool_name": "browser_broadband",
                    "field_mappings": {"exchange": "$.content | parse('Exchange: (.+)')"},
                }
            ],
        }
    }
    target = {"type": "agent", "name": REGISTERED, "arn": registered_agent}
    before = execution_arns(local_aws, registered_agent)
    request = orchestrator_request(local_aws, "inputs/registered-llm.csv", target, flat, output_mappings=mappings)
    run = local_aws.run(BATCH_MACHINE, request, timeout=300)
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    table = list(csv.DictReader(io.StringIO(results_csv(local_aws, run.output["output_csv_uri"]), newline="")))
    assert [(line["exchange"], line["_status"]) for line in table] == [
        ("CAMBRIDGE", "SUCCESS"),
        ("EDINBURGH", "SUCCESS"),
    ]
    inputs = sorted(started_inputs(local_aws, registered_agent, before), key=lambda i: i["input"]["postcode"])
    assert inputs == [existing_agent_input(json.dumps(row), row) for row in ROWS]


def test_our_agent_started_by_the_orchestrator_with_an_empty_input_mapping(local_aws, browser):
    """`{}` as the input mapping (the existing input mapper then takes every column: input_mapper.py
    lines ~174-176 at ffef93d) maps each CSV column to the field of its name; our agent is started with
    the existing shape and reads its `input`."""
    browser.executor = agent_behaviour.execute
    header = ["building_number", "street", "postcode"]
    put_rows(local_aws, "inputs/ours-empty.csv", header, [list(row.values()) for row in ROWS])
    machine = local_aws.deployment.machine_arn(OURS)
    before = execution_arns(local_aws, machine)
    target = {"type": "agent", "name": "broadband-availability-bt-wholesale-agent"}
    request = orchestrator_request(local_aws, "inputs/ours-empty.csv", target, {})
    request["output_mapping"]["structured_output_fields"] = ["exchange_code", "fttp_avail"]
    run = local_aws.run(BATCH_MACHINE, request, timeout=300)
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    assert (run.output["total_rows"], run.output["successful_rows"]) == (2, 2)
    table = list(csv.DictReader(io.StringIO(results_csv(local_aws, run.output["output_csv_uri"]), newline="")))
    assert [line["_status"] for line in table] == ["SUCCESS", "SUCCESS"]
    assert all(line["exchange_code"] for line in table)
    inputs = sorted(started_inputs(local_aws, machine, before), key=lambda i: i["input"]["postcode"])
    assert [set(i) for i in inputs] == [{"messages", "input"}] * 2
    assert [i["input"] for i in inputs] == ROWS
    assert all(i["messages"][0]["role"] == "user" for i in inputs)
