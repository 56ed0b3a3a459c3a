"""The batch processor state machine, executed over a CSV in S3 with every kind of row."""

from __future__ import annotations

import csv
import io
import json
import re

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
    run = local_aws.run(
        BATCH_MACHINE, {"csv_key": "inputs/mixed.csv", "mapping": mapping(local_aws)}, timeout=600
    )
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


@pytest.mark.parametrize(
    ("missing", "named"),
    [("csv_key", "csv_key"), ("mapping", "mapping"), ("agent_name", "agent_name")],
)
def test_a_request_missing_a_key_ends_in_batch_request_invalid_naming_it(local_aws, missing, named):
    request = {"csv_key": "inputs/mixed.csv", "mapping": mapping(local_aws)}
    if missing == "agent_name":
        del request["mapping"]["agent_name"]
    else:
        del request[missing]
    run = local_aws.run(BATCH_MACHINE, request)
    assert (run.status, run.error) == ("FAILED", "BatchRequestInvalid")
    assert named in run.cause
    other = {"csv_key": "mapping", "mapping": "csv_key", "agent_name": "csv_key"}[missing]
    assert other not in run.cause.replace("input_mapping", "")


def test_a_csv_uri_outside_the_batch_bucket_is_refused(local_aws):
    m = mapping(local_aws)
    request = {
        "csv_s3_uri": "s3://someone-elses-bucket/inputs/mixed.csv",
        "target": {"type": "agent", "name": m["agent_name"]},
        "input_mapping": m["input_mapping"],
        "output_mapping": {},
    }
    run = local_aws.run(BATCH_MACHINE, request)
    assert (run.status, run.error) == ("FAILED", "BatchRequestInvalid")
    assert "csv_s3_uri" in run.cause


def test_the_existing_orchestrators_request_runs_and_gets_the_fields_it_reads(local_aws, browser):
    """The existing batch orchestrator starts the processor with
    {"csv_s3_uri", "target": {"type", "name"}, "input_mapping", "output_mapping": {"structured_output_fields",
    "include_original", "add_metadata"}, "execution_config": {"max_concurrency"}}
    (lambda/agents/batch_orchestrator/execute_batch.py, lambda_handler, lines ~44-78 at ffef93d) and reads
    output_location / output_csv_uri, total_rows, successful_rows, failed_rows, column_names back
    (get_results.py, lines ~66-90)."""
    browser.executor = agent_behaviour.execute
    rows = mixed_rows(7)
    put_csv(local_aws, "inputs/orchestrator.csv", [row for row, _ in rows])
    m = mapping(local_aws)
    request = {
        "csv_s3_uri": f"s3://{local_aws.deployment.bucket}/inputs/orchestrator.csv",
        "target": {"type": "agent", "name": m["agent_name"]},
        "input_mapping": m["input_mapping"],
        "output_mapping": {
            "structured_output_fields": ["exchange_code", "fttp_avail"],
            "include_original": True,
            "add_metadata": True,
        },
        "execution_config": {"max_concurrency": 2},
    }
    run = local_aws.run(BATCH_MACHINE, request, timeout=300)
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    out = run.output
    assert out["total_rows"] == 7 and out["output_csv_uri"] == out["output_location"] == out["csv_uri"]
    expected_failed = sum(status == "FAILED" for _, status in rows)
    assert (out["successful_rows"], out["failed_rows"]) == (7 - expected_failed, expected_failed)
    assert out["column_names"] == COLUMNS + [
        "exchange_code",
        "fttp_avail",
        "_status",
        "_error",
        "_execution_time_ms",
        "_timestamp",
    ]
    table = list(csv.DictReader(io.StringIO(results_csv(local_aws, out["output_csv_uri"]), newline="")))
    assert [line["_status"] for line in table] == [status for _, status in rows]


def test_crossing_the_tolerated_failure_threshold_ends_the_run(local_aws, browser):
    """Only a child workflow's own failure (its results cannot be stored) counts against
    ToleratedFailurePercentage; with the results table gone every child fails and the Map Run stops."""
    browser.executor = agent_behaviour.execute
    rows = mixed_rows(6)
    put_csv(local_aws, "inputs/tolerance.csv", [row for row, _ in rows])
    dynamodb = local_aws.clients["dynamodb"]
    table = f"batch_processor_results-{ENV}"
    described = dynamodb.describe_table(TableName=table)["Table"]
    dynamodb.delete_table(TableName=table)
    try:
        run = local_aws.run(
            BATCH_MACHINE, {"csv_key": "inputs/tolerance.csv", "mapping": mapping(local_aws)}, timeout=300
        )
    finally:
        recreate = {key: described[key] for key in ("TableName", "KeySchema", "AttributeDefinitions")}
        recreate["GlobalSecondaryIndexes"] = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in described.get("GlobalSecondaryIndexes", [])
        ]
        dynamodb.create_table(BillingMode="PAY_PER_REQUEST", **recreate)
    assert (run.status, run.error) == ("FAILED", "RowProcessingFailed")
    assert run.cause.startswith("The specified tolerated failure threshold was exceeded (6 of 6 items")


TIMING_COLUMNS = ("_execution_time_ms", "_timestamp")


# The last two cells of a results record: _execution_time_ms, then _timestamp (ISO 8601, milliseconds, Z).
TIMING_CELLS = re.compile(r",\d+,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\r\n")


def blank_timings(text: str) -> str:
    """The raw results CSV with each record's timing cells emptied: every other byte kept as written."""
    return TIMING_CELLS.sub(",,\r\n", text)


def without_timings(text: str) -> list[dict[str, str]]:
    """The results CSV's records with the timing cells blanked (the only cells two runs may differ in)."""
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    return [
        {key: ("" if key in TIMING_COLUMNS else value) for key, value in record.items()} for record in records
    ]


def test_both_engines_give_the_same_results_csv(local_aws, browser, mixed_batch, tmp_path, monkeypatch):
    """The same CSV and agent behaviour through `batch run --engine local` and the executed state machine
    give the same results CSV, byte for byte once timestamps and durations are blanked. The local engine
    calls the same agent state machine the batch machine runs (`--invoke <its ARN>`, StartExecution and
    DescribeExecution against the same moto), so a row the browser fails carries the agent's named failure
    ("BrowserRunFailed: <the worker's cause>") in both; a row whose input does not map, the mapper's words."""
    from click.testing import CliRunner

    from factory import names
    from factory.cli import main
    from factory.schema.loader import load_schemas
    from tests.sfn.conftest import REPO
    from tests.sfn.deployment import REGION

    rows, run = mixed_batch
    browser.executor = agent_behaviour.execute
    schema = {item.schema.extraction_name: item.schema for item in load_schemas([REPO / "schemas"])[0]}[EXTRACTION]
    agent_arn = local_aws.deployment.machine_arn(f"{names.agent_name(schema)}-{ENV}")
    source = tmp_path / "mixed.csv"
    source.write_text(csv_text([row for row, _ in rows]), "utf-8", newline="")
    out = tmp_path / "local.results.csv"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "batch",
            "run",
            str(source),
            "--agent",
            EXTRACTION,
            "--generated",
            str(local_aws.deployment.generated),
            "--invoke",
            agent_arn,
            "--region",
            REGION,
            "--retries",
            "1",
            "--store",
            str(tmp_path / "store.sqlite"),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 1, result.output  # some rows fail, by design
    local_text = out.read_bytes().decode("utf-8")  # as written: read_text would turn \r\n into \n
    remote_text = results_csv(local_aws, run.output["csv_uri"])
    local, remote = without_timings(local_text), without_timings(remote_text)
    assert len(local) == len(remote) == ROWS
    assert [line["_status"] for line in local] == [status for _, status in rows]
    for number, (mine, theirs) in enumerate(zip(local, remote), start=1):
        assert mine == theirs, number
    crashed = [line["_error"] for line in local if line["postcode"].startswith("ZZ")]
    assert crashed and all(error.startswith("BrowserRunFailed: browser crashed on ZZ") for error in crashed)

    # byte for byte: the raw files, with only the two timing cells that end each record blanked
    assert blank_timings(local_text) == blank_timings(remote_text)
    assert blank_timings(local_text).count(",,\r\n") == ROWS
