"""factory/batch/cost.py's counts are what the machines execute: a real batch, counted from its history.

The estimate users see (`batch analyze`, `batch run --dry-run`, the orchestrator's
`generate_batch_config`) rests on WORK's (per batch, per child, per row) counts. This runs a
batch of rows that all succeed through the batch machine and our agent machine, and counts
every state entered and every Lambda task of every execution, Distributed Map children and
the agent executions included. When a machine changes, this fails: update WORK to match.
"""

from __future__ import annotations

import pytest
import yaml

from factory.batch.cost import WORK, estimate
from tests.sfn import agent_behaviour
from tests.sfn.batch_input import csv_text, mixed_rows
from tests.sfn.conftest import BATCH_MACHINE
from tests.sfn.quotas import HISTORY, count, split_agent_runs

pytestmark = pytest.mark.slow
ROWS = 30  # two child workflows: a full one and a part-filled one


@pytest.fixture(scope="module")
def executed_counts(local_aws, browser):
    browser.executor = agent_behaviour.execute
    rows = [row for row, status in mixed_rows(ROWS * 2) if status == "SUCCESS"][:ROWS]
    key = "inputs/cost-estimate.csv"
    local_aws.clients["s3"].put_object(
        Bucket=local_aws.deployment.bucket, Key=key, Body=csv_text(rows).encode()
    )
    mapping_path = (
        local_aws.deployment.generated / "batch_mappings" / "broadband_availability_bt_wholesale.yaml"
    )
    mark = HISTORY.mark()
    run = local_aws.run(
        BATCH_MACHINE, {"csv_key": key, "mapping": yaml.safe_load(mapping_path.read_text())}, timeout=600
    )
    assert (run.status, run.error) == ("SUCCEEDED", None), run.cause
    assert run.output["counts"].get("SUCCESS") == ROWS, run.output["counts"]
    batch_events, agent_events = split_agent_runs(HISTORY.since(mark))
    return count(batch_events), count(agent_events)


def test_the_estimate_counts_what_the_batch_machine_executes(executed_counts):
    batch, _agent = executed_counts
    expected = estimate(ROWS)
    per_row_agent = WORK["agent_machine"]["per_row"]
    assert batch.transitions == expected.batch_transitions, batch.by_state
    assert (
        batch.lambda_invocations == expected.lambda_invocations - per_row_agent.invocations * ROWS
    ), batch.lambda_by_function
    assert batch.executions == 1 + expected.children  # the parent and one history per child workflow


def test_the_estimate_counts_what_the_agent_machine_executes(executed_counts):
    _batch, agent = executed_counts
    expected = estimate(ROWS)
    assert agent.transitions == expected.agent_transitions, agent.by_state
    assert agent.lambda_invocations == WORK["agent_machine"]["per_row"].invocations * ROWS
    assert agent.executions == ROWS
