"""Map and store a child workflow's rows: the one Lambda call that ends each child of the batch machine.

The child's inline Map keeps, per row, only what its target kind keeps
(`target_kinds`): an agent row the ARN of the agent's execution, a tool row the
tool's (capped) answer, a failed row its caught error. This Lambda then, for
the whole child at once:

1. reads each agent row's answer with DescribeExecution (the answer never
   passes through a state, so a child's state payload does not grow with the
   size of its rows' outputs);
2. maps every answer with ONE compiled output plan, chosen once per event
   (the structured output of our agents, or the generic mapper's
   configuration or registered schema: `mapping_choice`, as both engines do);
3. stores every row, the mapped ones and the failed ones (the input mapper's
   refusals included), with one `ResultWriter` (BatchWriteItem, 25 a request).

Event: {"batch_id", "batch": <BatchInput>, "rows": <the child's Items>,
        "failed": [{"n", "error"}], "results": [{"n", "arn" | "output" | "error", "ms"}]}
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Callable

from factory.runtime.bounded_parse import json_loads
from factory.runtime.csv_source import strip_bom_keys
from factory.runtime.output_mapping.generic import map_output
from factory.runtime.mapping_choice import SOURCE_STRUCTURED, choose_output_mapping, parse_target
from factory.runtime.output_mapping.expressions import OutputMappingConfigError
from factory.runtime.output_mapping.structured import build_row, output_plan
from factory.runtime.output_mapping.config import section_of
from factory.runtime.result_store import DEFAULT_TTL_DAYS, ROW_ID_WIDTH, RowResult, result_from_mapped_row
from factory.runtime.result_writer import ResultWriter, caught_error_text
from factory.runtime.target_kinds import KEPT_EXECUTION, KEPT_INLINE
from factory.runtime.vocabulary import STATUS_FAILED, utc_timestamp

DESCRIBE_THREADS = 8
# What each kind keeps per row (target_kinds.RowTask.kept) -> the key its kept answer is under.
KEPT_READERS = {KEPT_EXECUTION: "arn", KEPT_INLINE: "output"}
Mapper = Callable[[Any], dict[str, Any]]


def row_mapper(batch: dict[str, Any]) -> Mapper:
    """response -> result row, compiled once for the child (never raises for what a response holds)."""
    mapping = batch.get("mapping") or {}
    schema = batch.get("output_schema")
    if batch.get("output_source") == SOURCE_STRUCTURED:
        return output_plan(mapping, schema).map
    config = dict(mapping)
    if batch.get("output_mappings") is not None:
        config["output_mappings"] = section_of(batch["output_mappings"])
    schema = schema if schema else None  # the agent record's, else the registered schema's own
    target = batch.get("target")
    try:
        choice = choose_output_mapping(
            config, parse_target(target) if target else None, batch.get("registered_schema")
        )
    except (OutputMappingConfigError, ValueError) as err:
        problem = f"output mapping: {err}"
        return lambda response: build_row(None, [], [], None, [problem])
    mappings = choice.mappings
    if mappings is None:
        return output_plan(config, schema).map
    return lambda response: map_output(response, mappings, schema)


def execution_answer(client: Any, arn: str) -> Any:
    """An agent execution's answer as `startExecution.sync:2` gives it: Input and Output parsed."""
    described = client.describe_execution(executionArn=arn)
    return {
        "ExecutionArn": arn,
        "Status": described.get("status"),
        "Input": _loaded(described.get("input")),
        "Output": _loaded(described.get("output")),
    }


def _loaded(text: str | None) -> Any:
    """An execution's JSON, depth-bounded: JSON too deep to parse stays text, so its row (not the child) fails."""
    try:
        return json_loads(text or "null")
    except ValueError:
        return text


def answers(results: list[dict[str, Any]], sfn_client: Callable[[], Any]) -> dict[int, Any]:
    """{row number: answer} for the rows that kept one: an execution's read back, a tool's as kept."""
    inline, execution = KEPT_READERS[KEPT_INLINE], KEPT_READERS[KEPT_EXECUTION]
    found = {int(r["n"]): r[inline] for r in results if inline in r and "error" not in r}
    arns = [(int(r["n"]), r[execution]) for r in results if execution in r and "error" not in r]
    if arns:
        client = sfn_client()
        with ThreadPoolExecutor(max_workers=min(DESCRIBE_THREADS, len(arns))) as pool:
            for number, answer in zip(
                [n for n, _ in arns], pool.map(lambda pair: execution_answer(client, pair[1]), arns)
            ):
                found[number] = answer
    return found


def child_results(event: dict[str, Any], sfn_client: Callable[[], Any]) -> list[RowResult]:
    """Every row of the child as a RowResult: mapped answers, caught errors, refused inputs."""
    batch_id, batch = event["batch_id"], event["batch"]
    inputs = {int(item["row_number"]): strip_bom_keys(item.get("row") or {}) for item in event["rows"]}
    outcomes = list(event.get("results") or []) + list(event.get("failed") or [])
    found = answers(outcomes, sfn_client)
    mapper = row_mapper(batch) if found else None
    results = []
    for outcome in outcomes:
        number = int(outcome["n"])
        elapsed = outcome.get("ms")
        if number in found and mapper is not None:
            mapped = mapper(found[number])
            results.append(result_from_mapped_row(batch_id, number, inputs.get(number, {}), mapped, elapsed))
            continue
        results.append(failed_row(batch_id, number, inputs.get(number, {}), outcome.get("error"), elapsed))
    return results


def failed_row(
    batch_id: str,
    number: int,
    input_data: dict[str, Any],
    error: Any,
    elapsed: Any,
    now: datetime | None = None,
) -> RowResult:
    return RowResult(
        batch_id=batch_id,
        row_number=number,
        status=STATUS_FAILED,
        input_data=input_data,
        error=caught_error_text(error),
        execution_time_ms=elapsed,
        timestamp=utc_timestamp(now),
    )


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry (the event above) -> {"written", "requests", "offloaded"}."""
    import boto3

    remaining = context.get_remaining_time_in_millis() / 1000 - 5 if context else 60.0
    writer = ResultWriter(
        boto3.client("dynamodb"),
        os.environ["RESULTS_TABLE"],
        s3_client=boto3.client("s3"),
        bucket=os.environ.get("RESULTS_BUCKET"),
        ttl_days=float(os.environ.get("RESULTS_TTL_DAYS", DEFAULT_TTL_DAYS)),
        row_id_width=int(event.get("row_id_width", ROW_ID_WIDTH)),
        deadline_seconds=max(1.0, remaining),
    )
    report = writer.write(child_results(event, lambda: boto3.client("stepfunctions")))
    return {"written": report.items, "requests": report.requests, "offloaded": report.offloaded}
