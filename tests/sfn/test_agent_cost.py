"""Our agent machine, counted from executed histories: its transitions per run, and a 100 KB output.

The machine's result carries the output where each existing reader looks for it: under
`structured_output` (the existing batch processor requires an agent to return it) and in the
transcript's `tool_result` (readers that find a tool's result by name,
tests/sfn/test_agent_transcript.py). With 100 KB of extracted output both copies stay under the
256 KiB quota that tests/sfn/quotas.py enforces; nothing else in the result repeats it.
"""

from __future__ import annotations

import json

import pytest

from factory.runtime.output_mapping.structured import locate_structured_output
from factory.batch.cost import AGENT_STATES, AGENT_TRANSITIONS_PER_RUN
from tests.sfn.browser_worker import executor_success
from tests.sfn.conftest import ENV
from tests.sfn.outputs import VALID_INPUT, executor_result
from tests.sfn.quotas import HISTORY, STATE_BYTES, count, payload_bytes

pytestmark = pytest.mark.slow
NAME = "broadband_availability_bt_wholesale"
MACHINE = f"broadband-availability-bt-wholesale-agent-{ENV}"
SMALL = {"success": True, "fttp_avail": True, "exchange_code": "CAMBRIDGE"}


def extracted_of(size: int) -> dict:
    """A valid output of about `size` bytes: extracted text lines, many short quoted strings."""
    lines = {f"line_{n:05d}": f'"Mill Road" exchange line {n}, 12.5 Mbps' for n in range(size // 55)}
    return {**SMALL, "metadata": lines}


def executed(local_aws, browser, extracted):
    browser.executor = lambda script: executor_success(executor_result(extracted))
    mark = HISTORY.mark()
    run = local_aws.run(MACHINE, {"data": VALID_INPUT[NAME]})
    return run, count(HISTORY.since(mark))


def test_a_run_enters_each_state_once_and_calls_two_lambdas(local_aws, browser):
    run, counts = executed(local_aws, browser, SMALL)
    assert (run.status, run.error) == ("SUCCEEDED", None)
    assert counts.by_state == {state: 1 for state in AGENT_STATES}
    assert counts.transitions == AGENT_TRANSITIONS_PER_RUN == 6
    assert counts.lambda_invocations == 2  # the renderer and the validator


def test_a_run_with_100_kb_of_extracted_output_succeeds_within_the_quota(local_aws, browser):
    extracted = extracted_of(100_000)
    assert payload_bytes(extracted) >= 100_000
    run, counts = executed(local_aws, browser, extracted)
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    assert locate_structured_output(run.output).value == extracted
    assert run.output["structured_output"] == extracted
    (block,) = run.output["messages"][1]["content"]
    assert json.loads(block["content"]) == {"script_output": executor_result(extracted)}
    assert payload_bytes(run.output) <= STATE_BYTES
    assert counts.transitions == AGENT_TRANSITIONS_PER_RUN


def test_the_result_carries_the_output_where_readers_look_and_nowhere_else(local_aws, browser):
    """`structured_output` and the tool_result readers need; the tool_use input is the script, not the output."""
    extracted = extracted_of(100_000)
    run, _counts = executed(local_aws, browser, extracted)
    text = json.dumps(run.output, ensure_ascii=False)
    assert text.count("exchange line 1234,") == 2
    print(f"agent result: {payload_bytes(run.output)} bytes for {payload_bytes(extracted)} bytes of output")
