"""`--engine stepfunctions` against moto's server: upload, StartExecution shape, status, discovery."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from factory import exports
from factory.cli import main
from tests.batch.test_local_engine import write_addresses
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"
REGION = "us-east-1"


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(REPO)
    clients = {name: boto3.client(name, endpoint_url=moto_endpoint, region_name=REGION)
               for name in ("s3", "stepfunctions", "cloudformation", "iam")}
    clients["s3"].create_bucket(Bucket="batch-bucket")
    role = clients["iam"].create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    arn = clients["stepfunctions"].create_state_machine(
        name="batch-processor-dev", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
    return {"endpoint": moto_endpoint, "arn": arn, **clients}


def export_shared_stack(aws: dict, env_name: str = "dev") -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "Arn": {"Value": aws["arn"], "Export": {"Name": exports.export_name(env_name, exports.BATCH_PROCESSOR_STATE_MACHINE_ARN)}},
            "Bucket": {"Value": "batch-bucket", "Export": {"Name": exports.export_name(env_name, exports.BATCH_BUCKET_NAME)}},
        },
    }
    aws["cloudformation"].create_stack(StackName=f"schema-factory-shared-{env_name}", TemplateBody=json.dumps(template))


def test_run_uploads_the_csv_and_starts_one_execution(aws: dict, tmp_path: Path) -> None:
    export_shared_stack(aws)
    csv_path = write_addresses(tmp_path / "addresses.csv", 30)
    result = CliRunner().invoke(main, ["batch", "run", str(csv_path), "--agent", AGENT, "--engine", "stepfunctions",
                                       "--endpoint-url", aws["endpoint"], "--concurrency", "7", "--json"])
    assert result.exit_code == 0, result.output
    started = json.loads(result.stdout)
    key = started["csv_uri"].removeprefix("s3://batch-bucket/")
    assert key.startswith("inputs/addresses-")
    assert aws["s3"].get_object(Bucket="batch-bucket", Key=key)["Body"].read() == csv_path.read_bytes()
    (execution,) = aws["stepfunctions"].list_executions(stateMachineArn=aws["arn"])["executions"]
    assert execution["executionArn"] == started["execution_arn"]
    request = json.loads(aws["stepfunctions"].describe_execution(executionArn=execution["executionArn"])["input"])
    assert request["csv_key"] == key and request["agent_name"] == "broadband-availability-bt-wholesale-agent"
    assert request["max_concurrency"] == 7
    assert request["mapping"]["input_mapping"]["column_mappings"]["Postcode"] == "postcode"

    status = CliRunner().invoke(main, ["batch", "status", started["execution_arn"], "--endpoint-url",
                                       aws["endpoint"], "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["state"] in ("RUNNING", "SUCCEEDED")


def test_flags_name_the_target_without_exports(aws: dict, tmp_path: Path) -> None:
    csv_path = write_addresses(tmp_path / "a.csv", 3)
    result = CliRunner().invoke(main, ["batch", "run", str(csv_path), "--agent", AGENT, "--engine", "stepfunctions",
                                       "--endpoint-url", aws["endpoint"], "--state-machine-arn", aws["arn"],
                                       "--bucket", "batch-bucket"])
    assert result.exit_code == 0, result.output
    assert "started arn:aws:states:" in result.output


def test_missing_shared_stack_is_a_clear_error(aws: dict, tmp_path: Path) -> None:
    csv_path = write_addresses(tmp_path / "a.csv", 3)
    result = CliRunner().invoke(main, ["batch", "run", str(csv_path), "--agent", AGENT, "--engine", "stepfunctions",
                                       "--endpoint-url", aws["endpoint"], "--env", "qa"])
    assert result.exit_code == 1
    assert "SchemaFactory-qa-BatchProcessorStateMachineArn" in result.stderr and "(cd generated && npx cdk deploy --all -c env=qa)" in result.stderr


def test_results_of_an_unfinished_execution_say_so(aws: dict, tmp_path: Path) -> None:
    started = aws["stepfunctions"].start_execution(stateMachineArn=aws["arn"], input="{}")
    result = CliRunner().invoke(main, ["batch", "results", started["executionArn"], "-o", str(tmp_path / "r.csv"),
                                       "--endpoint-url", aws["endpoint"]])
    assert result.exit_code == 1
    assert "no results CSV yet" in result.stderr
