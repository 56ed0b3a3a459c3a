"""The batch processor state machine, executed over a CSV in S3 with every kind of row."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml

from tests.sfn import agent_behaviour
from tests.sfn.batch_input import COLUMNS, csv_text, mixed_rows
from tests.sfn.conftest import BATCH_MACHINE, ENV

pytestmark = pytest.mark.slow
EXTRACTION = "broadband_availability_bt_wholesale"
ROWS = 60


def mapping(local_aws) -> dict:
    path = local_aws.deployment.generated / "batch_mappings" / f"{EXTRACTION}.yaml"
    return yaml.safe_load(path.read_text("utf-8"))


def put_csv(local_aws, key: str, rows: list[dict[str, str]]) -> None:
    body = csv_text(rows).encode("utf-8")
    local_aws.clients["s3"].put_object(Bucket=local_aws.deployment.bucket, Key=key, Body=body)


def results_csv(local_aws, uri: str) -> str:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return local_aws.clients["s3"].get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def stored_rows(local_aws, batch_id: str) -> list[dict]:
    from boto3.dynamodb.types import TypeDeserializer

    client, items, kwargs = local_aws.clients["dynamodb"], [], {}
    while True:
        page = client.query(
            TableName=f"batch_processor_results-{ENV}",
            KeyConditionExpression="batch_id = :b",
            ExpressionAttributeValues={":b": {"S": batch_id}},
            **kwargs,
        )
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    deserializer = TypeDeserializer()
    return [{k: deserializer.deserialize(v) for k, v in item.items()} for item in items]


@pytest.fixture(scope="module")
def mixed_batch(local_aws, browser):
    """One run of ROWS mixed rows through the batch machine (the agent machine runs each row)."""
    browser.executor = agent_behaviour.execute
    rows = mixed_rows(ROWS)
    put_csv(local_aws, "inputs/mixed.csv", [row for row, _ in rows])
    run = local_aws.run(BATCH_MACHINE, {"csv_key": "inputs/mixed.csv", "mapping": mapping(local_aws)}, timeout=600)
    return rows, run


def test_every_row_comes_out_once_numbered_as_input_with_its_status(local_aws, mixed_batch):
    rows, run = mixed_batch
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    assert run.output["rows"] == ROWS == run.output["total_rows"]
    stored = stored_rows(local_aws, run.output["batch_id"])
    numbers = sorted(int(item["row_number"]) for item in stored)
    assert numbers == list(range(1, ROWS + 1))
    for item in stored:
        row, status = rows[int(item["row_number"]) - 1]
        assert item["input_data"] == row, item["row_number"]
        assert item["status"] == status, (item["row_number"], item.get("error"))
    table = list(csv.DictReader(io.StringIO(results_csv(local_aws, run.output["csv_uri"]), newline="")))
    assert [{c: line[c] for c in COLUMNS} for line in table] == [
        {c: ("'" + row[c] if row[c].startswith("=") else row[c]) for c in COLUMNS} for row, _ in rows
    ]
    assert [line["_status"] for line in table] == [status for _, status in rows]
