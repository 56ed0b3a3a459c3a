"""How long the executed state machines take in the local harness (tests/sfn).

    python bench/sfn.py [--rows N] [--agents N]

Synthesizes the shared stack and the bundled agent stacks once (CDK, timed on
its own), creates them in moto, then prints:

(a) one agent execution (the broadband agent, happy path): the median wall time
    of --agents executions, and the first one (JSONata compiled cold);
(b) one batch of --rows rows (default 60, the size the test suite runs: three
    child workflows of up to 25 rows, each row its own agent execution) through
    the batch processor, with its counts.

Wall-clock figures on whatever machine runs it: the harness is CPU-bound
Python in one process, so a loaded machine shows in them. No assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# aws-cdk-lib runs on node through jsii: keep its end-of-life banner for Node 20 (the oldest
# Node this project supports) out of the figures, as tests/conftest.py does for the suite.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--agents", type=int, default=5)
    args = parser.parse_args()

    import logging

    import boto3
    import yaml
    from moto import mock_aws

    from tests.sfn import agent_behaviour
    from tests.sfn.batch_input import csv_text, mixed_rows
    from tests.sfn.browser_worker import BrowserWorker
    from tests.sfn.conftest import BATCH_MACHINE, LocalAws
    from tests.sfn.deployment import ENV, REGION, synthesize
    from tests.sfn.interpreter import local_step_functions

    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    started = time.monotonic()
    deployment = synthesize(REPO, Path(tempfile.mkdtemp(prefix="bench-sfn-")))
    print(f"synthesis (CDK, once per test session): {time.monotonic() - started:.1f} s")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        with local_step_functions({"AWS_DEFAULT_REGION": REGION}):
            clients = {n: boto3.client(n, region_name=REGION) for n in ("stepfunctions", "lambda", "dynamodb", "s3", "iam")}
            deployment.create(clients)
            deployment.put_generated_items(clients, f"TemplateRegistry-{ENV}", "templates")
            deployment.put_generated_items(clients, f"AgentRegistry-{ENV}", "registry/agents")
            aws = LocalAws(deployment, clients)
            worker = BrowserWorker(clients["stepfunctions"], deployment.activity_arn, agent_behaviour.execute, threads=4)
            with worker:
                machine = f"broadband-availability-bt-wholesale-agent-{ENV}"
                data = {"building_number": "1", "street": "Mill Road", "postcode": "CB1 2AB"}
                runs = [aws.run(machine, {"data": data}) for _ in range(max(1, args.agents))]
                assert all(run.status == "SUCCEEDED" for run in runs), [run.cause for run in runs]
                seconds = [run.seconds for run in runs]
                print(f"(a) one agent execution: median {statistics.median(seconds):.2f} s over {len(runs)}"
                      f" (first {seconds[0]:.2f} s)")
                rows = mixed_rows(args.rows)
                clients["s3"].put_object(Bucket=deployment.bucket, Key="inputs/bench.csv",
                                         Body=csv_text([row for row, _ in rows]).encode("utf-8"))
                mapping = yaml.safe_load(
                    (deployment.generated / "batch_mappings" / "broadband_availability_bt_wholesale.yaml").read_text()
                )
                run = aws.run(BATCH_MACHINE, {"csv_key": "inputs/bench.csv", "mapping": mapping}, timeout=1800)
                counts = run.output["counts"] if run.output else run.cause
                print(f"(b) one {args.rows}-row batch: {run.seconds:.1f} s, {run.status}, {counts}")


if __name__ == "__main__":
    main()
