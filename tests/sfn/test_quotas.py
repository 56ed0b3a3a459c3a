"""The AWS quotas the harness enforces (tests/sfn/quotas.py), each crossed by a tiny machine.

A design that would fail on AWS must fail here, with the error AWS gives: a payload over
256 KiB anywhere (a state's output, a task's result, a Distributed Map child's state, an
activity worker's answer, an execution's input), a history over 25,000 events, and
ItemBatcher's MaxItemsPerBatch and MaxInputBytesPerBatch.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.sfn import tiny_machines as tiny
from tests.sfn.deployment import ACCOUNT, REGION, ROLE_ARN
from tests.sfn.interpreter import prepare_definition
from tests.sfn.quotas import HISTORY, HISTORY_ERROR, HISTORY_EVENTS, STATE_BYTES

pytestmark = pytest.mark.slow
BIG_RESULT_FUNCTION = "sfn-harness-big-result"


@pytest.fixture(scope="module")
def tiny_run(local_aws):
    """Create a tiny machine by name (once) and run it: `tiny_run(name, definition, payload)`."""
    sfn = local_aws.clients["stepfunctions"]
    local_aws.clients["lambda"].create_function(
        FunctionName=BIG_RESULT_FUNCTION,
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="tests.sfn.tiny_machines.big_result",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    created: set[str] = set()

    def run(name, definition, payload=None, timeout=120):
        if name not in created:
            sfn.create_state_machine(name=name, definition=prepare_definition(definition), roleArn=ROLE_ARN)
            created.add(name)
        return local_aws.run(name, payload or {}, timeout=timeout)

    return run


def child_errors(mark):
    """The errors of failed executions recorded since `mark`, Distributed Map children included."""
    return [
        detail.get("error")
        for _history, event_type, details in HISTORY.since(mark)
        if event_type == "ExecutionFailed"
        for detail in details.values()
    ]


def test_a_state_output_one_byte_over_256_kib_fails_with_data_limit_exceeded(tiny_run):
    at_limit = tiny_run("quota-pass-at", tiny.pass_output(STATE_BYTES))
    assert at_limit.status == "SUCCEEDED", at_limit.cause
    over = tiny_run("quota-pass-over", tiny.pass_output(tiny.OVER))
    assert (over.status, over.error) == ("FAILED", "States.DataLimitExceeded")
    assert "'Grow'" in over.cause


def test_a_lambda_result_over_256_kib_fails_and_states_all_does_not_catch_it(tiny_run):
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{BIG_RESULT_FUNCTION}"
    fits = tiny_run("quota-lambda-fits", tiny.lambda_result(arn, 200_000))
    assert (fits.status, len(json.dumps(fits.output, separators=(",", ":")))) == ("SUCCEEDED", 200_000)
    over = tiny_run("quota-lambda-over", tiny.lambda_result(arn, tiny.OVER))
    # AWS: States.ALL "can't catch the States.DataLimitExceeded terminal error type"
    assert (over.status, over.error) == ("FAILED", "States.DataLimitExceeded")


def test_a_distributed_map_child_over_256_kib_fails_alone_with_data_limit_exceeded(tiny_run):
    mark = HISTORY.mark()
    child = {"Type": "Pass", "Output": "{% $states.input.n = 2 ? " + tiny.grown(tiny.OVER) + " : 'small' %}"}
    run = tiny_run("quota-map-child", tiny.distributed_map("{% [{'n': 1}, {'n': 2}, {'n': 3}] %}", child))
    assert (run.status, run.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert "1 of 3 items failed" in run.cause
    assert child_errors(mark).count("States.DataLimitExceeded") == 1


def test_an_activity_answer_over_256_kib_is_refused_by_send_task_success(local_aws):
    sfn = local_aws.clients["stepfunctions"]
    with pytest.raises(ClientError) as refused:
        sfn.send_task_success(taskToken="any", output=json.dumps("x" * STATE_BYTES))
    assert refused.value.response["Error"]["Code"] == "InvalidOutput"


def test_an_execution_input_over_256_kib_is_refused_by_start_execution(tiny_run, local_aws):
    tiny_run("quota-pass-at", tiny.pass_output(STATE_BYTES))
    with pytest.raises(ClientError) as refused:
        local_aws.run("quota-pass-at", {"s": "x" * STATE_BYTES})
    assert refused.value.response["Error"]["Code"] == "InvalidExecutionInput"


def test_item_batcher_holds_each_batch_to_max_items_and_max_input_bytes(tiny_run):
    count_items = {"Type": "Pass", "Output": "{% $count($states.input.Items) %}"}
    ten = "{% [1..10].({'s': $pad('', 1000, 'x')}) %}"
    by_items = tiny_run("quota-batch-items", tiny.distributed_map(ten, count_items, {"MaxItemsPerBatch": 3}))
    assert (by_items.status, by_items.output) == ("SUCCEEDED", [3, 3, 3, 1])
    by_bytes = tiny_run(
        "quota-batch-bytes",
        tiny.distributed_map(ten, count_items, {"MaxItemsPerBatch": 5, "MaxInputBytesPerBatch": 3000}),
    )
    assert (by_bytes.status, by_bytes.output) == ("SUCCEEDED", [2, 2, 2, 2, 2])
    # neither limit reached, yet no batch passes 256 KiB: five 100 KB items go two to a child
    large = "{% [1..5].({'s': $pad('', 100000, 'x')}) %}"
    default = tiny_run(
        "quota-batch-default", tiny.distributed_map(large, count_items, {"MaxItemsPerBatch": 25})
    )
    assert (default.status, default.output) == ("SUCCEEDED", [2, 2, 1])


def test_an_item_larger_than_max_input_bytes_per_batch_fails_the_map_run(tiny_run):
    items = "{% [{'s': 'small'}, {'s': $pad('', 5000, 'x')}] %}"
    child = {"Type": "Pass", "Output": "{% $count($states.input.Items) %}"}
    run = tiny_run("quota-batch-item", tiny.distributed_map(items, child, {"MaxInputBytesPerBatch": 4000}))
    assert (run.status, run.error) == ("FAILED", "States.DataLimitExceeded")
    assert "MaxInputBytesPerBatch 4000" in run.cause


def test_a_batcher_limit_aws_refuses_fails_at_create_state_machine():
    child = {"Type": "Pass"}
    for batcher in ({"MaxInputBytesPerBatch": STATE_BYTES + 1}, {"MaxItemsPerBatch": 0}):
        with pytest.raises(ValueError, match="ItemBatcher"):
            prepare_definition(tiny.distributed_map("{% [1] %}", child, batcher))


def test_an_execution_past_25000_history_events_fails(tiny_run):
    mark = HISTORY.mark()
    run = tiny_run("quota-history", tiny.many_iterations(HISTORY_EVENTS // 4 + 100), timeout=600)
    assert (run.status, run.error) == ("FAILED", HISTORY_ERROR)
    assert str(HISTORY_EVENTS) in run.cause
    (history,) = {history for history, _type, _details in HISTORY.since(mark)}
    # past the quota only the failure itself is written: the iteration, the Map and the execution failing
    assert HISTORY_EVENTS < HISTORY.counts[history] <= HISTORY_EVENTS + 3
