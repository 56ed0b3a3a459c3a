"""Per-row CPU of the mapping as the batch machine deploys it: the Lambda events its children really send.

    python bench/child_mapping.py [--rows N] [--repeat N] [--original DIR]

Each child of the batch machine maps its rows in ONE Lambda event (MapInputs:
`factory.runtime.child_inputs`, up to ROWS_PER_CHILD rows) and maps their answers
in ONE more (WriteResults: `factory.runtime.child_results`, which chooses and
compiles the output mapping once per event). This script builds those events
(the child's `Items` and `BatchInput`, the answers as DescribeExecution gives
them back) for the same rows and responses as bench/runtime.py, and reports rows/s
of CPU time on one core, best of --repeat, beside the original batch
processor's per-row Lambda work as bench/runtime.py calls it (--original DIR: its
lambda/tools/batch_processor folder, kept outside this repository). Every answer
is dropped once made, as a Lambda returns it, on both sides. Storing (BatchWriteItem) and reading
answers (DescribeExecution) are I/O and left out, as bench/runtime.py leaves
them out of the mappers' figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.runtime import (  # noqa: E402
    ORIGINAL_TOOL_MAPPING,
    TOOL_MAPPING,
    csv_rows,
    load_original,
    mapper_responses,
)

WORK = ("output mapper", "input mapper, agent mode", "input mapper, tool mode")


def child_events(rows: list[dict], batch: dict, size: int) -> list[dict]:
    """MapInputs events: the child's Items ({"row", "row_number"}) and its BatchInput, `size` rows each."""
    items = [{"row": row, "row_number": n + 1} for n, row in enumerate(rows)]
    return [{"Items": items[i : i + size], "BatchInput": batch} for i in range(0, len(items), size)]


def workloads(count: int, original: str | None) -> dict:
    """{(work, path): (function doing `count` rows, count)}: as deployed, and the original's per-row Lambdas."""
    from tests.runtime.conftest import load_agent_record, load_mapping

    from factory.infra.batch_processor import ROWS_PER_CHILD
    from factory.runtime import child_inputs
    from factory.runtime.child_results import row_mapper

    mapping = load_mapping("broadband_availability_bt_wholesale")
    schemas = load_agent_record("broadband-availability-bt-wholesale-agent")["structured_output"]["schemas"]
    rows, responses = csv_rows(count), mapper_responses(count)
    agent = {"mapping": mapping, "input_schema": schemas["input"], "target": {"type": "agent", "name": "a"}}
    tool = {"mapping": TOOL_MAPPING, "input_schema": {}, "target": {"type": "tool", "name": "t"}}
    agent_events = child_events(rows, agent, ROWS_PER_CHILD)
    tool_events = child_events(rows, tool, ROWS_PER_CHILD)
    batch = {**agent, "output_schema": schemas["output"], "output_source": "structured_output"}
    answers = [{"ExecutionArn": "arn", "Status": "SUCCEEDED", "Output": r} for r in responses]
    chunks = [answers[i : i + ROWS_PER_CHILD] for i in range(0, len(answers), ROWS_PER_CHILD)]

    def write_events() -> None:
        for chunk in chunks:  # one WriteResults event: the mapping chosen and compiled once, then each row
            mapper = row_mapper(batch)
            [mapper(answer) for answer in chunk]

    def map_events(events: list[dict]) -> None:
        for event in events:  # each event's answer is returned and dropped, as a Lambda does
            child_inputs.handler(event)

    work = {
        ("output mapper", "as deployed"): write_events,
        ("input mapper, agent mode", "as deployed"): lambda: map_events(agent_events),
        ("input mapper, tool mode", "as deployed"): lambda: map_events(tool_events),
    }
    if original:
        work.update(original_workloads(original, mapping, rows, responses))
    return {name: (function, count) for name, function in work.items()}


def original_workloads(directory: str, mapping: dict, rows: list, responses: list) -> dict:
    """The original's per-row Lambda work on the same rows (as bench/runtime.py calls it), answers dropped."""
    original_in, original_out = load_original(directory)
    fields = mapping["structured_output_fields"]
    events = [
        {"agent_output": r, "output_mapping": {"structured_output_fields": fields}, "original_row": {}}
        for r in responses
    ]
    section, context = mapping["input_mapping"], type("Context", (), {"request_id": "bench"})()
    tool_events = [
        {"row": r, "mapping_config": ORIGINAL_TOOL_MAPPING, "target": {"type": "tool", "name": "bench"}}
        for r in rows
    ]

    def each(function, inputs):
        def run() -> None:
            for value in inputs:
                function(value)

        return run

    return {
        ("output mapper", "original"): each(
            lambda e: original_out.extract_structured_output(e, None), events
        ),
        ("input mapper, agent mode", "original"): each(
            lambda r: original_in.create_natural_language_input(r, section), rows
        ),
        ("input mapper, tool mode", "original"): each(
            lambda e: original_in.lambda_handler(e, context), tool_events
        ),
    }


def measure(count: int, repeat: int, original: str | None) -> dict[str, float]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    work = workloads(count, original)
    best: dict[tuple[str, str], float] = {}
    for _ in range(repeat):
        for key, (function, _) in work.items():
            cpu = time.process_time()
            function()
            seconds = time.process_time() - cpu
            best[key] = min(best.get(key, seconds), seconds)
    return {f"{name}|{path}": work[(name, path)][1] / max(s, 1e-9) for (name, path), s in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--original", help="the original's lambda/tools/batch_processor folder")
    args = parser.parse_args()
    rates = measure(args.rows, args.repeat, args.original)
    print(
        f"mapping as deployed, {args.rows:,} rows in events of 25, rows/s of CPU time, best of {args.repeat}:"
    )
    print(f"    {'work':<26}{'as deployed':>14}{'original':>14}")
    for name in WORK:
        ours, theirs = rates[f"{name}|as deployed"], rates.get(f"{name}|original")
        versus = f"   {ours / theirs:.2f}x the original" if theirs else ""
        cell = f"{theirs:>14,.0f}" if theirs else f"{'-':>14}"
        print(f"    {name:<26}{ours:>14,.0f}{cell}{versus}")


if __name__ == "__main__":
    main()
