"""Fixtures of the executed state machines: one synthesis per session, one moto world per package."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.sfn.deployment import ENV, REGION, Deployment, synthesize
from tests.sfn.interpreter import local_step_functions

REPO = Path(__file__).resolve().parents[2]
BATCH_MACHINE = f"schema-factory-batch-{ENV}"


@dataclass
class Execution:
    """A finished execution as DescribeExecution reports it, output parsed."""

    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    seconds: float


@dataclass
class LocalAws:
    deployment: Deployment
    clients: dict[str, Any]

    def run(self, machine: str, payload: Any, name: str | None = None, timeout: float = 600) -> Execution:
        """Start an execution and wait for its end; `timeout` only bounds a hung one (a loaded machine is slow)."""
        sfn = self.clients["stepfunctions"]
        kwargs = {"name": name} if name else {}
        started = time.monotonic()
        arn = sfn.start_execution(
            stateMachineArn=self.deployment.machine_arn(machine), input=json.dumps(payload), **kwargs
        )["executionArn"]
        pause = 0.01
        while True:
            described = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING" or time.monotonic() - started > timeout:
                break
            # each DescribeExecution costs CPU the execution's own threads need: back off to 0.25 s
            time.sleep(pause)
            pause = min(pause * 1.5, 0.25)
        if described["status"] == "RUNNING":
            sfn.stop_execution(executionArn=arn, error="HarnessTimeout")
            raise TimeoutError(
                f"{arn} still RUNNING after {timeout:.0f} s (pass run(..., timeout=) to wait longer)"
            )
        output = json.loads(described["output"]) if described.get("output") else None
        return Execution(
            arn,
            described["status"],
            output,
            described.get("error"),
            described.get("cause"),
            time.monotonic() - started,
        )

    def history(self, execution: Execution) -> list[dict[str, Any]]:
        sfn = self.clients["stepfunctions"]
        return sfn.get_execution_history(executionArn=execution.arn, maxResults=1000)["events"]


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    pytest.importorskip("aws_cdk")
    return synthesize(REPO, tmp_path_factory.mktemp("sfn-harness"))


@pytest.fixture(scope="package")
def local_aws(deployment: Deployment) -> Any:
    """moto with execution switched on, the harness's patches, and every resource created."""
    import boto3
    from moto import mock_aws

    # moto's interpreter logs every failed state at ERROR; the tests read failures from the executions
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        with local_step_functions({"AWS_DEFAULT_REGION": REGION}):
            clients = {
                name: boto3.client(name, region_name=REGION)
                for name in ("stepfunctions", "lambda", "dynamodb", "s3", "iam")
            }
            deployment.create(clients)
            deployment.put_generated_items(clients, f"TemplateRegistry-{ENV}", "templates")
            deployment.put_generated_items(clients, f"AgentRegistry-{ENV}", "registry/agents")
            yield LocalAws(deployment, clients)


@pytest.fixture(scope="package")
def browser(local_aws: LocalAws) -> Any:
    """Worker threads on the browser activity; a test sets `browser.executor` (script -> ExecutorResult)."""
    from tests.sfn.browser_worker import BrowserWorker, executor_failure

    worker = BrowserWorker(
        local_aws.clients["stepfunctions"],
        local_aws.deployment.activity_arn,
        executor=lambda script: executor_failure("no executor set by the test"),
        threads=4,
    )
    with worker:
        yield worker
    assert not worker.errors, worker.errors[0]
