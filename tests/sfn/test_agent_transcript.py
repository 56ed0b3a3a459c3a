"""Our agent's `messages` as the existing system's readers read them: an executed agent's output, mapped.

Contract 3 of the batch wiring: the `tool_result` block of the transcript carries the tool's `name`,
as the existing agents write it, so a reader that finds a tool's result by name (the existing
generic batch design's `find_tool_result`) and our generic output mapper's `tool_result`,
`jmespath` and `structured_output` methods all read our agents' output (the validated output is
carried once, in that `tool_result`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from factory.runtime.output_mapping.generic import map_response
from tests.sfn.conftest import ENV
from tests.sfn.outputs import VALID_INPUT, executor_result

pytestmark = pytest.mark.slow
NAME = "broadband_availability_bt_wholesale"
MACHINE = f"broadband-availability-bt-wholesale-agent-{ENV}"
EXTRACTED = {"success": True, "fttp_avail": True, "exchange_code": "CAMBRIDGE", "soadsl_dsl_speed": 17.5}


def existing_find_tool_result(data: dict[str, Any], tool_name: str | None) -> Any:
    """The existing generic batch design's reader, restated (lambda/tools/batch_processor/
    GENERIC_BATCH_ARCHITECTURE.md, `find_tool_result`, lines ~353-366 at ffef93d): the first
    `tool_result` item of a `user` message whose `name` is the tool's; its `content`."""
    for message in data.get("messages", []):
        if message.get("role") == "user" and isinstance(message.get("content"), list):
            for item in message["content"]:
                if item.get("type") == "tool_result" and (not tool_name or item.get("name") == tool_name):
                    return item.get("content", "")
    return None


@pytest.fixture
def run(local_aws, browser):
    """One executed agent run, called as the existing batch processor calls agents:
    {"messages": [{"role": "user", "content": prompt}], "input": row data}
    (stacks/tools/batch_processor_state_machine_jsonata.json, InvokeAgent, lines ~126-138 at ffef93d)."""
    from tests.sfn.browser_worker import executor_success

    browser.executor = lambda script: executor_success(executor_result(EXTRACTED))
    execution = local_aws.run(
        MACHINE, {"messages": [{"role": "user", "content": "Check this address"}], "input": VALID_INPUT[NAME]}
    )
    assert (execution.status, execution.error, execution.cause) == ("SUCCEEDED", None, None)
    return execution


def test_the_tool_result_is_named_as_the_existing_agents_name_it(run):
    """The existing agents' browser result is {"type": "tool_result", "tool_use_id", "name": <tool name>,
    "content": <tool_input as JSON text>} (stacks/agents/step_functions_generator_unified_llm.py,
    "Remote Approved", lines ~626-634 at ffef93d); ours is the same block, named `browser_remote`."""
    _tool_use, answer = run.output["messages"]
    (block,) = answer["content"]
    assert set(block) == {"type", "tool_use_id", "name", "content"}
    assert (answer["role"], block["type"], block["name"]) == ("user", "tool_result", "browser_remote")
    content = existing_find_tool_result(run.output, "browser_remote")
    assert json.loads(content) == {"script_output": executor_result(EXTRACTED)}
    assert existing_find_tool_result(run.output, "print_output") is None


def test_the_generic_output_mapper_reads_the_executed_output_by_tool_result_and_jmespath(run):
    """The output mapping a user writes for any agent of the existing system works on ours: a
    `tool_result` method (the browser tool's result, found by its name) and a `jmespath` method
    selecting the tool_result block by its `name` (the field a by-name reader needs); a
    `structured_output` method finds the validated output inside that tool_result."""
    mapping = {
        "output_mappings": {
            "broadband-availability-bt-wholesale-agent": {
                "type": "agent",
                "required_fields": ["exchange", "browser_result_status"],
                "extraction_methods": [
                    {
                        "method": "tool_result",
                        "tool_name": "browser_remote",
                        "field_mappings": {
                            "exchange": "$.json.script_output.step_results[1].parsed_response.exchange_code",
                            "speed": "$.json.script_output.step_results[1].parsed_response.soadsl_dsl_speed",
                        },
                    },
                    {
                        "method": "jmespath",
                        "paths": {
                            "browser_result_status": "messages[].content[] | [?type=='tool_result' && "
                            "name=='browser_remote'] | [0].content",
                        },
                    },
                    {"method": "structured_output", "field_mappings": {"fttp": "$.fttp_avail"}},
                ],
            }
        }
    }
    target = {"type": "agent", "name": "broadband-availability-bt-wholesale-agent"}
    # as DescribeExecution gives the execution back: its envelope, its Output as JSON text
    envelope = {"executionArn": run.arn, "status": "SUCCEEDED", "output": json.dumps(run.output)}
    row = map_response(envelope, mapping, target)
    assert (row["_status"], row["_error"]) == ("SUCCESS", None), row
    assert (row["exchange"], row["speed"], row["fttp"]) == ("CAMBRIDGE", 17.5, True)
    assert json.loads(row["browser_result_status"]) == {"script_output": executor_result(EXTRACTED)}
