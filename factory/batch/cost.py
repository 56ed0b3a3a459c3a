"""What a batch of N rows costs on AWS: counts of billed work and a price estimate at list prices.

An estimate, not a bill. The counts are what our machines execute for rows that all succeed
(a failed row usually costs less); tests/sfn/test_cost_estimate.py runs a real batch in the
harness and asserts these counts equal its executed history, so a change to a machine that
changes them fails there until WORK below is updated. The price uses the public list prices
in PRICES (us-east-1, taken on PRICES_TAKEN) and the assumptions in ASSUMED; the browser or
LLM work of the agent itself, data transfer, S3, CloudWatch and free tiers are not included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from factory.runtime.target_kinds import TARGET_TYPES

PRICES_TAKEN = "2026-12-07"
PRICES_REGION = "us-east-1"
# Public list prices (USD), us-east-1, as published on PRICES_TAKEN.
PRICES = {
    "step_functions_standard_per_1000_transitions": 0.025,
    "lambda_per_million_requests": 0.20,
    "lambda_per_gb_second": 0.0000166667,  # x86
    "dynamodb_on_demand_per_million_write_units": 0.625,
}
# What the estimate assumes where a price depends on more than a count.
ASSUMED = {
    "lambda_seconds_per_invocation": 0.1,  # validating, or mapping and writing one child's rows
    "aggregator_seconds_per_1000_rows": 1.0,  # the Aggregator reads every row back and writes the CSV
    "write_units_per_row": 1,  # a result row up to 1 KB; each further KB is one more unit
}
# Memory (MB) of each function, as the stacks set it (factory/infra/batch_processor.py,
# factory/infra/shared_stack.py).
MEMORY_MB = {
    "BatchValidator": 256,
    "ChildInputs": 256,
    "ChildResults": 256,
    "Aggregator": 1024,
    "TemplateRenderer": 256,
    "OutputValidator": 256,
    "Tool": 256,  # a Lambda tool target: its own memory, 256 MB assumed
}


@dataclass(frozen=True)
class Work:
    """State transitions entered, and Lambda invocations by function, at one level of a run."""

    transitions: int = 0
    lambdas: tuple[tuple[str, int], ...] = ()

    @property
    def invocations(self) -> int:
        return sum(count for _name, count in self.lambdas)


# (per batch, per child, per row) for each machine, for a row that succeeds: what the executed
# history counts (tests/sfn/test_cost_estimate.py). A child workflow takes ROWS_PER_CHILD rows.
ROWS_PER_CHILD = 25
WORK = {
    "batch_machine": {
        "per_batch": Work(7, (("BatchValidator", 1), ("Aggregator", 1))),
        # MapInputs, TargetKind, AgentRows (or ToolRows), WriteResults: two Lambda calls for 25 rows.
        "per_child": Work(4, (("ChildInputs", 1), ("ChildResults", 1))),
        # The target call, one Task state; a failed call adds one (its pass-through state).
        "per_row": Work(1),
    },
    "agent_machine": {
        "per_batch": Work(),
        "per_child": Work(),
        "per_row": Work(6, (("TemplateRenderer", 1), ("OutputValidator", 1))),
    },
    "tool_target": {
        "per_batch": Work(),
        "per_child": Work(),
        "per_row": Work(0, (("Tool", 1),)),
    },
}
# The agent machine's states, in the order one run enters them (its transitions per run).
AGENT_STATES = ("LoadTemplate", "RenderTemplate", "RunBrowser", "ValidateOutput", "OutputValid", "Succeeded")
AGENT_TRANSITIONS_PER_RUN = WORK["agent_machine"]["per_row"].transitions


@dataclass(frozen=True)
class Estimate:
    """Counts and price for `rows` rows; `prices` in USD by line item."""

    rows: int
    target: str
    children: int
    batch_transitions: int
    agent_transitions: int
    lambda_invocations: int
    lambda_gb_seconds: float
    dynamodb_write_units: int
    prices: dict[str, float]

    @property
    def total_usd(self) -> float:
        return round(sum(self.prices.values()), 6)

    def as_dict(self) -> dict[str, object]:
        """The estimate as the CLI's --json and the orchestrator's answers carry it."""
        return {
            "rows": self.rows,
            "target": self.target,
            "child_workflows": self.children,
            "state_transitions": {
                "batch_machine": self.batch_transitions,
                "agent_machine": self.agent_transitions,
            },
            "lambda_invocations": self.lambda_invocations,
            "lambda_gb_seconds": round(self.lambda_gb_seconds, 3),
            "dynamodb_write_units": self.dynamodb_write_units,
            "estimated_usd": {**{k: round(v, 6) for k, v in self.prices.items()}, "total": self.total_usd},
            "prices_taken": PRICES_TAKEN,
            "prices_region": PRICES_REGION,
            "note": "an estimate at public list prices; the agent's own browser or LLM work is not included",
        }


def _level_totals(machine: str, rows: int, children: int) -> Work:
    levels = WORK[machine]
    multipliers = {"per_batch": 1 if rows else 0, "per_child": children, "per_row": rows}
    transitions = 0
    calls: dict[str, int] = {}
    for level, multiplier in multipliers.items():
        work = levels[level]
        transitions += work.transitions * multiplier
        for name, count in work.lambdas:
            calls[name] = calls.get(name, 0) + count * multiplier
    return Work(transitions, tuple(sorted(calls.items())))


def estimate(rows: int, target: str = "agent", rows_per_child: int = ROWS_PER_CHILD) -> Estimate:
    """The estimate for `rows` rows through the batch machine to an `agent` or a Lambda `tool` target."""
    if rows < 0 or rows_per_child < 1:
        raise ValueError("rows must be >= 0 and rows_per_child >= 1")
    if target not in TARGET_TYPES:
        raise ValueError(f"target must be one of {', '.join(TARGET_TYPES)}, got {target!r}")
    children = math.ceil(rows / rows_per_child)
    batch = _level_totals("batch_machine", rows, children)
    per_target = _level_totals("agent_machine" if target == "agent" else "tool_target", rows, children)
    calls = dict(batch.lambdas)
    for name, count in per_target.lambdas:
        calls[name] = calls.get(name, 0) + count
    seconds = ASSUMED["lambda_seconds_per_invocation"]
    gb_seconds = sum(
        MEMORY_MB[name] / 1024 * count * (0 if name == "Aggregator" else seconds)
        for name, count in calls.items()
    )
    gb_seconds += (
        MEMORY_MB["Aggregator"] / 1024 * ASSUMED["aggregator_seconds_per_1000_rows"] * max(rows, 1) / 1000
    )
    invocations = sum(calls.values())
    writes = int(ASSUMED["write_units_per_row"]) * rows
    transitions = batch.transitions + per_target.transitions
    prices = {
        "step_functions": transitions / 1000 * PRICES["step_functions_standard_per_1000_transitions"],
        "lambda_requests": invocations / 1_000_000 * PRICES["lambda_per_million_requests"],
        "lambda_duration": gb_seconds * PRICES["lambda_per_gb_second"],
        "dynamodb_writes": writes / 1_000_000 * PRICES["dynamodb_on_demand_per_million_write_units"],
    }
    return Estimate(
        rows,
        target,
        children,
        batch.transitions,
        per_target.transitions,
        invocations,
        gb_seconds,
        writes,
        prices,
    )


def summary_line(result: Estimate) -> str:
    """One line for people: the counts and the price, marked as an estimate."""
    per_1000 = estimate(1000, result.target).total_usd
    return (
        f"cost estimate for {result.rows} rows ({result.target} target, list prices {PRICES_REGION}"
        f" {PRICES_TAKEN}): {result.batch_transitions} batch + {result.agent_transitions} agent state transitions,"
        f" {result.lambda_invocations} Lambda invocations, {result.dynamodb_write_units} DynamoDB write units,"
        f" about ${result.total_usd:.4f} (${per_1000:.4f} per 1,000 rows; the agent's own work not included)"
    )
