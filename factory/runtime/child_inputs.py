"""Map a child workflow's rows to its target's requests: one Lambda call per child of the batch machine.

The Distributed Map hands each child up to 25 rows (ItemBatcher). This Lambda
maps all of them with ONE compiled input plan (`input_mapper.input_plan`, found
by the mapping's content once per event, then reused for every row) and
answers, for the child's inline Map:

    {"calls":  [{"n": row_number, "payload": <the row's request, in the kind's payload form>}],
     "failed": [{"n": row_number, "error": {"Error": "InputRowError", "Cause": <the mapper's words>}}]}

Only `calls` reach the target. The child's state payload must stay under
256 KiB: the ItemBatcher's MaxInputBytesPerBatch bounds the rows, and rows whose
requests would take the calls past CALLS_BUDGET fail, each with the sizes.
"""

from __future__ import annotations

import json
from typing import Any

from factory.runtime.input_mapper import InputRowError, MappingConfigError, input_plan
from factory.runtime.result_writer import INPUT_ROW_ERROR
from factory.runtime.target_kinds import kind_of, row_payload

# Bytes of requests a child may carry to its inline Map (the state limit is 262,144; the rest is headroom
# for the child's other keys).
CALLS_BUDGET = 200_000
ROW_INPUT_TOO_LARGE = "RowInputTooLarge"


def failure(number: int, error: str, cause: str) -> dict[str, Any]:
    """A row refused here; `ms` 0: it never reached its target."""
    return {"n": number, "error": {"Error": error, "Cause": cause}, "ms": 0}


def map_rows(items: list[dict[str, Any]], batch: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """{"calls", "failed"} for a child's items ({"row", "row_number"}) and its BatchInput."""
    kind = kind_of((batch.get("target") or {}).get("type"))
    calls: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    try:
        plan = input_plan(batch["mapping"], batch.get("input_schema") or None)
    except MappingConfigError as exc:  # the validator refuses these first; every row says why
        error = type(exc).__name__
        return {"calls": [], "failed": [failure(int(i["row_number"]), error, str(exc)) for i in items]}
    used = 0
    for item in items:
        number = int(item["row_number"])
        try:
            payload = row_payload(kind, plan, item["row"], number)
        except InputRowError as exc:
            failed.append(failure(number, INPUT_ROW_ERROR, str(exc)))
            continue
        size = len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
        if used + size > CALLS_BUDGET:
            failed.append(
                failure(
                    number,
                    ROW_INPUT_TOO_LARGE,
                    f"row {number}: its request is {size:,} bytes and the child's rows already take "
                    f"{used:,}; a child carries at most {CALLS_BUDGET:,} bytes of requests (Step Functions' "
                    "256 KiB state limit): shorten the row's cells",
                )
            )
            continue
        used += size
        calls.append({"n": number, "payload": payload})
    return {"calls": calls, "failed": failed}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: the child's input {"Items": [{"row", "row_number"}], "BatchInput": {...}}."""
    return map_rows(event["Items"], event["BatchInput"])
