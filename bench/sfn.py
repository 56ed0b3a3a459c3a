"""What the executed state machines cost per row in the local harness (tests/sfn), and how long they take.

    python bench/sfn.py [--rows 200,1000] [--agents N] [--mixed]

Synthesizes the shared stack and the bundled agent stacks once (CDK, timed on
its own), creates them in moto, then prints:

(a) one agent execution (the broadband agent, happy path): the median wall time
    of --agents executions, and the first one (JSONata compiled cold);
(b) for each --rows count, one batch through the batch processor (each row its
    own agent execution): state transitions per row (batch machine and agent
    machine, Distributed Map children and agent runs included), Lambda
    invocations per row, and wall time per row, counted from every executed
    history event (tests/sfn/quotas.py), beside factory/batch/cost.py's estimate.

Rows all succeed unless --mixed (the test suite's mix of good and failing rows).
Wall-clock figures on whatever machine runs it: the harness is CPU-bound Python
in one process, so a loaded machine shows in them. No assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# aws-cdk-lib runs on node through jsii: keep its end-of-life banner for Node 20 (the oldest
# Node this project supports) out of the figures, as tests/conftest.py does for the suite.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
AGENT_MACHINE = "broadband-availability-bt-wholesale-agent"
MAPPING = "broadband_availability_bt_wholesale.yaml"


def rows_for(count: int, mixed: bool) -> list[dict[str, str]]:
    from tests.sfn.batch_input import mixed_rows

    if mixed:
        return [row for row, _status in mixed_rows(count)]
    good: list[dict[str, str]] = []
    size = count
    while len(good) < count:
        size *= 2
        good = [row for row, status in mixed_rows(size) if status == "SUCCESS"]
    return good[:count]


def agent_runs(aws: Any, env: str, runs: int) -> None:
    data = {"building_number": "1", "street": "Mill Road", "postcode": "CB1 2AB"}
    done = [aws.run(f"{AGENT_MACHINE}-{env}", {"data": data}) for _ in range(max(1, runs))]
    assert all(run.status == "SUCCEEDED" for run in done), [run.cause for run in done]
    seconds = [run.seconds for run in done]
    print(
        f"(a) one agent execution: median {statistics.median(seconds):.2f} s over {len(done)}"
        f" (first {seconds[0]:.2f} s)"
    )


def batch_run(aws: Any, clients: dict[str, Any], count: int, mixed: bool) -> None:
    import yaml

    from factory.batch.cost import estimate
    from tests.sfn.batch_input import csv_text
    from tests.sfn.conftest import BATCH_MACHINE
    from tests.sfn.quotas import HISTORY, count as count_events, split_agent_runs

    key = f"inputs/bench-{count}.csv"
    body = csv_text(rows_for(count, mixed)).encode("utf-8")
    clients["s3"].put_object(Bucket=aws.deployment.bucket, Key=key, Body=body)
    mapping = yaml.safe_load((aws.deployment.generated / "batch_mappings" / MAPPING).read_text())
    mark = HISTORY.mark()
    run = aws.run(BATCH_MACHINE, {"csv_key": key, "mapping": mapping}, timeout=7200)
    batch_events, agent_events = split_agent_runs(HISTORY.since(mark))
    batch, agent = count_events(batch_events), count_events(agent_events)
    expected = estimate(count)
    counts = run.output["counts"] if run.output else run.cause
    print(f"(b) {count} rows ({'mixed' if mixed else 'all succeeding'}): {run.status}, {counts}")
    print(
        f"    state transitions per row: batch machine {batch.transitions / count:.3f}"
        f" (estimate {expected.batch_transitions / count:.3f}), agent machine {agent.transitions / count:.3f}"
        f" (estimate {expected.agent_transitions / count:.3f})"
    )
    calls = batch.lambda_invocations + agent.lambda_invocations
    print(
        f"    Lambda invocations per row: {calls / count:.3f} (batch machine {batch.lambda_invocations / count:.3f},"
        f" agent machine {agent.lambda_invocations / count:.3f}; estimate {expected.lambda_invocations / count:.3f})"
    )
    print(f"    wall time per row: {run.seconds / count * 1000:.1f} ms ({run.seconds:.1f} s)")
    print(f"    estimated price: ${expected.total_usd:.4f} at list prices")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="200,1000", help="comma-separated batch sizes")
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--mixed", action="store_true", help="the test suite's mix of good and failing rows")
    args = parser.parse_args()

    import logging

    import boto3
    from moto import mock_aws

    from tests.sfn import agent_behaviour
    from tests.sfn.browser_worker import BrowserWorker
    from tests.sfn.conftest import LocalAws
    from tests.sfn.deployment import ENV, REGION, synthesize
    from tests.sfn.interpreter import local_step_functions

    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    started = time.monotonic()
    deployment = synthesize(REPO, Path(tempfile.mkdtemp(prefix="bench-sfn-")))
    print(f"synthesis (CDK, once per test session): {time.monotonic() - started:.1f} s")
    names = ("stepfunctions", "lambda", "dynamodb", "s3", "iam")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        with local_step_functions({"AWS_DEFAULT_REGION": REGION}):
            clients = {name: boto3.client(name, region_name=REGION) for name in names}
            deployment.create(clients)
            deployment.put_generated_items(clients, f"TemplateRegistry-{ENV}", "templates")
            deployment.put_generated_items(clients, f"AgentRegistry-{ENV}", "registry/agents")
            aws = LocalAws(deployment, clients)
            with BrowserWorker(
                clients["stepfunctions"], deployment.activity_arn, agent_behaviour.execute, threads=4
            ):
                agent_runs(aws, ENV, args.agents)
                for count in (int(part) for part in args.rows.split(",")):
                    batch_run(aws, clients, count, args.mixed)


if __name__ == "__main__":
    main()
