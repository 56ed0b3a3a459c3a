"""Tiny JSONata machines, each built to cross one AWS quota (tests/sfn/test_quotas.py runs them)."""

from __future__ import annotations

from typing import Any

from tests.sfn.quotas import STATE_BYTES

OVER = STATE_BYTES + 1  # one byte past 256 KiB
WRAPPER = len('{"s":""}')  # the bytes of the object holding a grown string
JSONATA = "JSONata"


def big_result(event: dict[str, Any], context: Any = None) -> dict[str, str]:
    """A Lambda handler whose result is `event["bytes"]` long as JSON text: {"s": "xx..."}."""
    return {"s": "x" * (int(event["bytes"]) - WRAPPER)}


def machine(states: dict[str, Any], start: str) -> dict[str, Any]:
    return {"QueryLanguage": JSONATA, "StartAt": start, "States": states}


def grown(size: int) -> str:
    """A JSONata expression for {"s": "xx..."}, `size` bytes as JSON text."""
    return f"{{'s': $pad('', {size - WRAPPER}, 'x')}}"


def pass_output(size: int) -> dict[str, Any]:
    """One Pass state whose output is `size` bytes as JSON text."""
    return machine({"Grow": {"Type": "Pass", "Output": f"{{% {grown(size)} %}}", "End": True}}, "Grow")


def lambda_result(function_arn: str, result_bytes: int) -> dict[str, Any]:
    """A Lambda task whose result is `result_bytes` long, behind a Catch of States.ALL."""
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": function_arn, "Payload": {"bytes": result_bytes}},
        "Output": "{% $states.result.Payload %}",
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
        "End": True,
    }
    return machine({"Call": task, "Caught": {"Type": "Succeed"}}, "Call")


def distributed_map(
    items: str, child: dict[str, Any], batcher: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A Distributed Map over the JSONata `items`, each child (or batch) running the one `child` state."""
    state: dict[str, Any] = {
        "Type": "Map",
        "Items": items,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Child",
            "States": {"Child": {**child, "End": True}},
        },
        "ToleratedFailurePercentage": 0,
        "End": True,
    }
    if batcher is not None:
        state["ItemBatcher"] = batcher
    return machine({"Fan": state}, "Fan")


def many_iterations(items: int) -> dict[str, Any]:
    """An inline Map over `items` numbers, one at a time: four history events per item."""
    step = {"Type": "Pass", "End": True}
    processor = {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Step", "States": {"Step": step}}
    fan = {"Type": "Map", "Items": f"{{% [1..{items}] %}}", "MaxConcurrency": 1, "ItemProcessor": processor}
    return machine({"Fan": {**fan, "End": True}}, "Fan")
