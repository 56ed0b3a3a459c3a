"""Contract 1 of the interop issue: the browser activity, as the real browser agent and agents use it.

Each test restates a fact of guyernest/step-functions-agent at ffef93d as a literal,
citing where it is stated, and checks it on an executed agent machine.
"""

from __future__ import annotations

import json

import pytest

from factory.runtime.output_mapping.structured import locate_structured_output
from factory.runtime.output_validator import REJECTED, validate_output
from tests.sfn.browser_worker import ExecutorResult, executor_success, poller_answer, script_of, task_label
from tests.sfn.conftest import ENV
from tests.sfn.outputs import VALID_INPUT, executor_result

pytestmark = pytest.mark.slow
NAME = "broadband_availability_bt_wholesale"
MACHINE = f"broadband-availability-bt-wholesale-agent-{ENV}"
EXTRACTED = {"success": True, "fttp_avail": False, "exchange_code": "CAMBRIDGE"}
OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean"},
        "fttp_avail": {"type": "boolean"},
        "exchange_code": {"type": "string"},
    },
    "required": ["success", "fttp_avail"],
}


@pytest.fixture
def answering(browser):
    browser.executor = lambda script: executor_success(executor_result(EXTRACTED))
    browser.approved = True
    yield browser
    browser.approved = True


def test_the_activity_input_is_the_existing_agents_shape(local_aws, answering):
    """The existing agents send the activity
    {"tool_name", "tool_use_id", "tool_input": <rendered script>, "timestamp",
     "context": {"execution_name", "state_machine"}}
    (stacks/agents/step_functions_generator_unified_llm.py, "Wait for Remote", lines ~576-590 at ffef93d),
    and the poller runs `tool_input` as the script (activity_poller.rs execute_task, lines ~209-215),
    which must have a starting_page. Ours adds its own keys inside `context` only.
    """
    runs = [local_aws.run(MACHINE, {"data": VALID_INPUT[NAME]}, name=f"contract-{n}") for n in (1, 2)]
    assert [run.status for run in runs] == ["SUCCEEDED", "SUCCEEDED"]
    first, second = answering.seen[-2:]
    for task, run_name in ((first, "contract-1"), (second, "contract-2")):
        assert set(task) == {"tool_name", "tool_use_id", "tool_input", "timestamp", "context"}
        assert task["tool_name"] == "browser_remote"
        assert task["context"] == {
            "execution_name": run_name,
            "state_machine": MACHINE,
            "extraction_name": NAME,
            "template_id": NAME,
            "template_version": "1.0.0",
        }
        script = script_of(task)
        assert script["starting_page"].startswith("https://")
        assert "CB1 2AB" in script["steps"][0]["prompt"] and "{{" not in script["steps"][0]["prompt"]
    assert first["tool_use_id"] != second["tool_use_id"]
    assert (
        answering.labels[-1] == NAME
    )  # the poller's label: the script's name (execute_task, lines ~219-225)


@pytest.mark.parametrize(
    "payload",
    [
        {"data": VALID_INPUT[NAME]},
        # the existing batch processor's agent input (stacks/tools/batch_processor_state_machine_jsonata.json,
        # InvokeAgent, lines ~126-137 at ffef93d): {"messages": [{"role", "content"}], "input": <row data>}
        {"messages": [{"role": "user", "content": "Check this address"}], "input": VALID_INPUT[NAME]},
        VALID_INPUT[NAME],
    ],
    ids=["data", "messages-and-input", "top-level"],
)
def test_the_agent_accepts_every_callers_input_shape(local_aws, answering, payload):
    """{"data": ...} (ours), {"messages", "input": ...} (the existing callers), or the variables themselves."""
    run = local_aws.run(MACHINE, payload)
    assert (run.status, run.cause) == ("SUCCEEDED", None)
    assert 'Mill "Road"' in answering.seen[-1]["tool_input"]["steps"][0]["prompt"]


def test_a_refused_task_is_a_named_failure(local_aws, answering):
    """The existing agents branch on the worker's `approved` (step_functions_generator_unified_llm.py,
    "Process Remote Response", lines ~617-623 at ffef93d); `approved: false` ends ours in BrowserRunRejected.
    """
    answering.approved = False
    run = local_aws.run(MACHINE, {"data": VALID_INPUT[NAME]})
    assert (run.status, run.error) == ("FAILED", "BrowserRunRejected")


def test_poller_answer_literal():
    """The poller's SendTaskSuccess output (activity_poller.rs execute_task, lines ~258-283 at ffef93d):
    the executor's JSON output under tool_input.script_output, `{"raw_output": text}` when it is not JSON,
    the input's tool_name/tool_use_id/timestamp/context echoed, approved true; on failure SendTaskFailure
    with error "BrowserAutomationError" and the executor's error text (lines ~285-299, 414-427)."""
    task = {
        "tool_name": "browser_remote",
        "tool_use_id": "t1",
        "tool_input": {"name": "s"},
        "timestamp": "T",
        "context": {"execution_name": "e"},
    }
    assert poller_answer(task, ExecutorResult(True, '{"success": true}')) == (
        True,
        {
            "tool_name": "browser_remote",
            "tool_use_id": "t1",
            "tool_input": {"script_output": {"success": True}},
            "timestamp": "T",
            "context": {"execution_name": "e"},
            "approved": True,
        },
    )
    assert poller_answer(task, ExecutorResult(True, "plain text"))[1]["tool_input"] == {
        "script_output": {"raw_output": "plain text"}
    }
    assert poller_answer(task, ExecutorResult(False, None, "Script must have a starting_page")) == (
        False,
        "Script must have a starting_page",
    )
    assert script_of({"starting_page": "https://x"}) == {"starting_page": "https://x"}
    assert task_label({"description": "d", "prompt": "p"}) == "d"


def test_validator_and_mapper_read_the_poller_answer_and_a_bare_result():
    """The validator reads tool_input.script_output, then the executor's step_results[i].parsed_response
    (the last act_with_schema step), and a bare executor result the same way."""
    bare = executor_result(EXTRACTED)
    task = {"tool_name": "browser_remote", "tool_use_id": "t1", "tool_input": {}, "context": {}}
    _, answer = poller_answer(task, ExecutorResult(True, json.dumps(bare)))
    for response in (answer, bare):
        assert validate_output(NAME, json.dumps(OUTPUT_SCHEMA), response) == {
            "valid": True,
            "errors": [],
            "structured_output": EXTRACTED,
        }
        assert locate_structured_output(response).value == EXTRACTED
    refused = {**answer, "approved": False}
    assert validate_output(NAME, OUTPUT_SCHEMA, refused) == {
        "valid": False,
        "errors": [REJECTED],
        "structured_output": {},
    }
