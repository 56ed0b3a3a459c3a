"""Map a child workflow's rows to its target's requests: one Lambda call per child of the batch machine.

The Distributed Map hands each child up to 25 rows (ItemBatcher). This Lambda
maps all of them with ONE compiled input plan (`input_mapper.input_plan`, found
by the mapping's content once per event, then reused for every row) and
answers, for the child's inline Map:

    {"calls":  [{"n": row_number, "payload": <the row's request, in the kind's payload form>}],
     "failed": [{"n": row_number, "error": {"Error": "InputRowError", "Cause": <the mapper's words>}}]}

Only `calls` reach the target. The child's state payload must stay under
256 KiB: the ItemBatcher's MaxInputBytesPerBatch (64 KiB of CSV rows a child)
bounds the requests, which are about twice their rows (an agent's prompt repeats
its data). Measuring each request here would cost as much CPU as mapping it
(bench/child_mapping.py), so a child whose requests still pass the limit (a
prompt template of many kilobytes) fails with Step Functions' own
States.DataLimitExceeded and counts against the tolerated failure percentage.
"""

from __future__ import annotations

from typing import Any

from factory.runtime.input_mapper import InputRowError, MappingConfigError, input_plan
from factory.runtime.result_writer import INPUT_ROW_ERROR
from factory.runtime.target_kinds import kind_of, payload_function


def failure(number: int, error: str, cause: str) -> dict[str, Any]:
    """A row refused here; `ms` 0: it never reached its target."""
    return {"n": number, "error": {"Error": error, "Cause": cause}, "ms": 0}


def map_rows(items: list[dict[str, Any]], batch: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """{"calls", "failed"} for a child's items ({"row", "row_number"}) and its BatchInput."""
    kind = kind_of((batch.get("target") or {}).get("type"))
    try:
        payload = payload_function(kind, input_plan(batch["mapping"], batch.get("input_schema") or None))
    except MappingConfigError as exc:  # the validator refuses these first; every row says why
        error = type(exc).__name__
        return {"calls": [], "failed": [failure(item["row_number"], error, str(exc)) for item in items]}
    calls: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    append = calls.append
    for item in items:
        number = item["row_number"]
        try:
            append({"n": number, "payload": payload(item["row"], number)})
        except InputRowError as exc:
            failed.append(failure(number, INPUT_ROW_ERROR, str(exc)))
    return {"calls": calls, "failed": failed}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: the child's input {"Items": [{"row", "row_number"}], "BatchInput": {...}}."""
    return map_rows(event["Items"], event["BatchInput"])
