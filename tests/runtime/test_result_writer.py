from __future__ import annotations

import json
import re

import pytest
from botocore.awsrequest import AWSResponse

from factory.runtime.result_store import RowResult
from factory.runtime.result_writer import (
    ResultWriter,
    UnprocessedItemsError,
    backoff_delay,
    chunks,
)

RESULTS_TABLE = "batch_processor_results"
RESULTS_BUCKET = "batch-results"

BATCH = "bt#exec-1"


class RawBody:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs):
        yield self.data


class Recorder:
    """Counts requests (registered first) and the items in each BatchWriteItem."""

    def __init__(self) -> None:
        self.requests = 0
        self.batch_sizes: list[int] = []

    def __call__(self, request, **kwargs):
        self.requests += 1
        target = request.headers.get("X-Amz-Target", b"")
        if (target.decode() if isinstance(target, bytes) else target).endswith("BatchWriteItem"):
            body = json.loads(request.body)
            self.batch_sizes.append(sum(len(items) for items in body["RequestItems"].values()))


def unprocessed_injector(plain_client, every: int, keep: int):
    """On every `every`-th BatchWriteItem, write only `keep` items for real and return the rest unprocessed."""
    calls = {"n": 0}

    def inject(request, **kwargs):
        calls["n"] += 1
        if calls["n"] % every:
            return None
        request_items = json.loads(request.body)["RequestItems"]
        ((table, puts),) = request_items.items()
        if keep:
            plain_client.batch_write_item(RequestItems={table: puts[:keep]})
        body = json.dumps({"UnprocessedItems": {table: puts[keep:]}}).encode()
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, RawBody(body))

    return inject


def results(count: int, start: int = 1, payload: str = "x") -> list[RowResult]:
    return [
        RowResult(
            BATCH,
            n,
            "SUCCESS",
            {"postcode": f"P{n}"},
            {"value": payload, "speed": n + 0.5},
            None,
            10,
            "2026-01-01T00:00:00.000Z",
        )
        for n in range(start, start + count)
    ]


def all_items(dynamodb) -> list[dict]:
    items, kwargs = [], {
        "TableName": RESULTS_TABLE,
        "KeyConditionExpression": "batch_id = :b",
        "ExpressionAttributeValues": {":b": {"S": BATCH}},
    }
    while True:
        page = dynamodb.query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_chunks_and_backoff():
    assert [len(chunk) for chunk in chunks(list(range(51)))] == [25, 25, 1]
    assert backoff_delay(0, 0.05, 2.0, lambda: 1.0) == 0.05
    assert backoff_delay(10, 0.05, 2.0, lambda: 1.0) == 2.0
    assert backoff_delay(3, 0.05, 2.0, lambda: 0.5) == 0.2


@pytest.mark.slow
def test_2000_rows_with_injected_unprocessed_items_lose_nothing(results_store, aws):
    dynamodb, _ = results_store
    plain = aws("dynamodb")
    recorder = Recorder()
    dynamodb.meta.events.register_first("before-send.dynamodb", recorder)
    dynamodb.meta.events.register(
        "before-send.dynamodb.BatchWriteItem", unprocessed_injector(plain, every=3, keep=10)
    )
    sleeps: list[float] = []
    writer = ResultWriter(dynamodb, RESULTS_TABLE, sleep=sleeps.append)
    report = writer.write(results(2000))
    assert report.items == 2000
    assert max(recorder.batch_sizes) == 25
    assert report.requests == recorder.requests
    assert report.retried_items > 0 and len(sleeps) > 0
    query = {
        "TableName": RESULTS_TABLE,
        "KeyConditionExpression": "batch_id = :b",
        "ExpressionAttributeValues": {":b": {"S": BATCH}},
    }
    assert plain.query(**query, Select="COUNT")["Count"] == 2000
    (first,) = plain.query(**query, Limit=1)["Items"]
    assert first["row_id"] == {"S": "row_000001"} and first["output_data"]["M"]["speed"] == {"N": "1.5"}


@pytest.mark.slow
def test_requests_per_thousand_rows_without_throttling(results_store):
    dynamodb, _ = results_store
    recorder = Recorder()
    dynamodb.meta.events.register_first("before-send.dynamodb", recorder)
    ResultWriter(dynamodb, RESULTS_TABLE).write(results(1000))
    assert recorder.requests == 40


@pytest.mark.slow
def test_deadline_fails_loudly_naming_rows(results_store, aws):
    dynamodb, _ = results_store
    dynamodb.meta.events.register(
        "before-send.dynamodb.BatchWriteItem", unprocessed_injector(aws("dynamodb"), every=1, keep=0)
    )
    now = {"t": 0.0}

    def sleep(seconds):
        now["t"] += seconds

    writer = ResultWriter(
        dynamodb, RESULTS_TABLE, deadline_seconds=1.0, sleep=sleep, clock=lambda: now["t"], rng=lambda: 1.0
    )
    with pytest.raises(
        UnprocessedItemsError,
        match=r"3 row\(s\) still unprocessed after \d+ BatchWriteItem attempt\(s\).*row_000001",
    ):
        writer.write(results(3))
    assert now["t"] <= 1.0


@pytest.mark.slow
def test_writing_a_row_twice_leaves_one_item(results_store):
    dynamodb, _ = results_store
    writer = ResultWriter(dynamodb, RESULTS_TABLE)
    writer.write(results(3))
    writer.write(results(1, start=2, payload="second"))
    # the same key twice in one call: last wins, and DynamoDB never sees a duplicate key
    report = writer.write(results(1, start=3, payload="a") + results(1, start=3, payload="b"))
    assert report.items == 1
    items = {item["row_id"]["S"]: item["output_data"]["M"]["value"]["S"] for item in all_items(dynamodb)}
    assert items == {"row_000001": "x", "row_000002": "second", "row_000003": "b"}


@pytest.mark.slow
def test_large_output_goes_to_s3_with_a_pointer(results_store):
    dynamodb, s3 = results_store
    writer = ResultWriter(dynamodb, RESULTS_TABLE, s3_client=s3, bucket=RESULTS_BUCKET)
    big = "é" * 250_000  # 500 KB of UTF-8
    report = writer.write(results(1, payload=big) + results(1, start=2))
    assert report.offloaded == 1
    first, second = sorted(all_items(dynamodb), key=lambda item: item["row_id"]["S"])
    uri = first["output_s3_uri"]["S"]
    assert uri == f"s3://{RESULTS_BUCKET}/batch-results/{BATCH}/row_000001.output_data.json"
    assert first["output_data"] == {"M": {}}
    body = json.loads(s3.get_object(Bucket=RESULTS_BUCKET, Key=uri.split("/", 3)[3])["Body"].read())
    assert body["value"] == big and body["speed"] == 1.5
    assert "output_s3_uri" not in second


def test_a_row_too_large_to_store_fails_alone_naming_the_limit_and_its_size(results_store):
    dynamodb, _ = results_store
    writer = ResultWriter(dynamodb, RESULTS_TABLE)  # no bucket for large results
    report = writer.write(results(1, payload="x" * 500_000) + results(1, start=2))
    assert report.items == 2
    first, second = sorted(all_items(dynamodb), key=lambda item: item["row_id"]["S"])
    assert first["status"]["S"] == "FAILED" and first["output_data"] == {"M": {}}
    assert re.fullmatch(
        r"row_000001: the result is 50\d,\d{3} bytes, over DynamoDB's item limit of 409,600 bytes, "
        r"and no S3 bucket is configured for large results",
        first["error"]["S"],
    ), first["error"]
    assert second["status"]["S"] == "SUCCESS"


def test_the_child_writer_keeps_mapped_rows_and_caught_errors_as_the_state_machine_gives_them():
    from factory.runtime.child_results import child_results

    tool = {"type": "tool", "name": "t", "arn": "arn:aws:lambda:eu-west-2:123456789012:function:t"}
    mappings = {
        "t": {"type": "tool", "extraction_methods": [{"method": "direct", "field_mappings": {"v": "$.v"}}]}
    }
    lambda_error = {
        "Error": "InputRowError",
        "Cause": json.dumps(
            {
                "errorMessage": "row 3: column 'Postcode' (postcode): required value is empty",
                "errorType": "InputRowError",
                "stackTrace": ["..."],
            }
        ),
    }
    event = {
        "batch_id": BATCH,
        "batch": {"mapping": {}, "target": tool, "output_source": "config", "output_mappings": mappings},
        "rows": [
            {"row": {"a": "1"}, "row_number": 1},
            {"row": {"a": "2"}, "row_number": 2},
            {"row": {"a": "3"}, "row_number": 3},
            {"row": {"\ufeffPostcode": "E1"}, "row_number": 4},
        ],
        "failed": [],
        "results": [
            {"n": 1, "output": {"v": 1}, "ms": 5},
            {"n": 2, "error": {"Error": "States.TaskFailed", "Cause": "browser timed out"}, "ms": 7},
            {"n": 3, "error": lambda_error},
            {"n": 4},
        ],
    }
    first, second, third, fourth = child_results(event, sfn_client=lambda: None)
    assert (first.status, first.output_data, first.execution_time_ms) == ("SUCCESS", {"v": 1}, 5)
    assert (second.status, second.error, second.row_number) == (
        "FAILED",
        "States.TaskFailed: browser timed out",
        2,
    )
    assert third.error == "row 3: column 'Postcode' (postcode): required value is empty"
    assert fourth.input_data == {"Postcode": "E1"}
    assert (fourth.status, fourth.error) == ("FAILED", "no output")


@pytest.mark.slow
def test_handler_writes_through_boto3_defaults(results_store, monkeypatch):
    from factory.runtime.child_results import handler

    dynamodb, _ = results_store
    monkeypatch.setenv("RESULTS_TABLE", RESULTS_TABLE)
    monkeypatch.setenv("RESULTS_BUCKET", RESULTS_BUCKET)
    event = {
        "batch_id": BATCH,
        "batch": {},
        "rows": [{"row": {}, "row_number": 1}],
        "results": [{"n": 1, "error": "boom"}],
    }
    out = handler(event)
    assert out == {"written": 1, "requests": 1, "offloaded": 0}
    assert all_items(dynamodb)[0]["status"] == {"S": "FAILED"}


def test_an_input_row_error_is_written_as_the_mapper_message_alone():
    """The local engine writes str(InputRowError) for a row whose input does not map; the state machine's
    caught Lambda error must give the same cell, whatever the error's class is called."""
    from factory.runtime.input_mapper import InputRowError
    from factory.runtime.result_writer import INPUT_ROW_ERROR, caught_error_text

    assert INPUT_ROW_ERROR == InputRowError.__name__
    report = json.dumps({"errorMessage": "row 3: column 'x' is empty", "errorType": "InputRowError"})
    assert caught_error_text({"Error": "InputRowError", "Cause": report}) == "row 3: column 'x' is empty"
    assert caught_error_text({"Error": "ValueError", "Cause": "bad"}) == "ValueError: bad"
