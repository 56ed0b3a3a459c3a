"""Every generated agent state machine, executed: the happy path and each named failure.

The browser activity is served by tests/sfn/browser_worker.py, which follows the
real poller's contract; Lambdas are the project's own handlers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from factory import names
from factory.runtime.output_mapping.structured import locate_structured_output
from factory.schema.loader import load_schemas
from tests.sfn.browser_worker import executor_failure, executor_success
from tests.sfn.conftest import ENV, REPO
from tests.sfn.outputs import BAD_INPUT, VALID_INPUT, executor_result, valid_output

pytestmark = pytest.mark.slow
SCHEMAS = {item.schema.extraction_name: item.schema for item in load_schemas([REPO / "schemas"])[0]}
CASES = sorted(SCHEMAS)


def machine(name: str) -> str:
    return f"{names.agent_name(SCHEMAS[name])}-{ENV}"


def output_schema(name: str) -> dict[str, Any]:
    return SCHEMAS[name].output_schema.to_json_schema()


@pytest.mark.parametrize("name", CASES)
def test_happy_path_returns_structured_output_and_the_transcript(local_aws, browser, name):
    extracted = valid_output(output_schema(name))
    browser.executor = lambda script: executor_success(executor_result(extracted))
    run = local_aws.run(machine(name), {"data": VALID_INPUT[name]})
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    # `structured_output`, which the existing batch processor requires of an agent, and the transcript
    assert set(run.output) == {"structured_output", "messages"}
    assert run.output["structured_output"] == extracted
    assert locate_structured_output(run.output).value == extracted
    task = browser.seen[-1]
    tool_use, tool_result = run.output["messages"]
    assert tool_use == {
        "role": "assistant",
        "content": [
            {
                "type": "tool_use",
                "id": task["tool_use_id"],
                "name": "browser_remote",
                "input": task["tool_input"],
            }
        ],
    }
    (result_block,) = tool_result["content"]
    assert tool_result["role"] == "user" and result_block["type"] == "tool_result"
    assert result_block["tool_use_id"] == task["tool_use_id"]
    assert json.loads(result_block["content"]) == {"script_output": executor_result(extracted)}


@pytest.mark.parametrize("name", CASES)
def test_missing_template_ends_in_template_not_found(local_aws, browser, name):
    schema = SCHEMAS[name]
    key = {"template_id": {"S": names.template_id(schema)}, "version": {"S": schema.version}}
    table = f"TemplateRegistry-{ENV}"
    item = local_aws.clients["dynamodb"].get_item(TableName=table, Key=key)["Item"]
    local_aws.clients["dynamodb"].delete_item(TableName=table, Key=key)
    try:
        run = local_aws.run(machine(name), {"data": VALID_INPUT[name]})
    finally:
        local_aws.clients["dynamodb"].put_item(TableName=table, Item=item)
    assert (run.status, run.error) == ("FAILED", "TemplateNotFound")
    assert names.template_id(schema) in run.cause and "schema-factory register" in run.cause


@pytest.mark.parametrize("name", CASES)
def test_a_variable_off_its_pattern_ends_in_template_render_failed_naming_it(local_aws, browser, name):
    field, bad = BAD_INPUT[name]
    variables = {k: v for k, v in VALID_INPUT[name].items() if k != field}
    if bad is not None:
        variables[field] = bad
    run = local_aws.run(machine(name), {"data": variables})
    assert (run.status, run.error) == ("FAILED", "TemplateRenderFailed")
    assert f"{field}:" in json.loads(run.cause)["errorMessage"]


@pytest.mark.parametrize("name", CASES)
def test_a_failing_browser_ends_in_browser_run_failed_with_the_workers_cause(local_aws, browser, name):
    browser.executor = lambda script: executor_failure(f"Element not found: search box ({name})")
    before = len(browser.seen)
    run = local_aws.run(machine(name), {"data": VALID_INPUT[name]})
    assert (run.status, run.error) == ("FAILED", "BrowserRunFailed")
    assert run.cause == f"Element not found: search box ({name})"
    assert len(browser.seen) - before == 2  # the task's one Retry ran, then the Catch


@pytest.mark.parametrize("name", CASES)
def test_output_off_the_schema_ends_in_output_invalid_naming_the_field(local_aws, browser, name):
    extracted = valid_output(output_schema(name))
    field = output_schema(name)["required"][0]
    extracted[field] = ["not", "the", "declared", "type"]
    browser.executor = lambda script: executor_success(executor_result(extracted))
    run = local_aws.run(machine(name), {"data": VALID_INPUT[name]})
    assert (run.status, run.error) == ("FAILED", "OutputInvalid")
    assert field in run.cause
