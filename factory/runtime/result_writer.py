"""Write row results to `batch_processor_results`: each batch child's WriteResults (docs/runtime.md)."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable, Iterable

from boto3.dynamodb.types import TypeSerializer

from factory.runtime.bounded_parse import json_loads
from factory.runtime.vocabulary import STATUS_FAILED
from factory.runtime.result_store import (
    DEFAULT_TTL_DAYS,
    MAX_ITEM_BYTES,
    ROW_ID_WIDTH,
    RowResult,
    build_item,
    from_dynamodb,
    item_size,
)

BATCH_WRITE_LIMIT = 25
# Headroom for DynamoDB's own size accounting of the pointer attributes.
SIZE_MARGIN = 2048


class ResultWriteError(RuntimeError):
    """Row results could not be stored."""


class UnprocessedItemsError(ResultWriteError):
    def __init__(self, row_ids: list[str], attempts: int) -> None:
        self.row_ids = row_ids
        shown = ", ".join(row_ids[:10]) + (" ..." if len(row_ids) > 10 else "")
        super().__init__(
            f"{len(row_ids)} row(s) still unprocessed after {attempts} BatchWriteItem attempt(s) "
            f"and the deadline: {shown}"
        )


class ItemTooLargeError(ResultWriteError):
    pass


@dataclass
class WriteReport:
    items: int = 0
    requests: int = 0
    retried_items: int = 0
    offloaded: int = 0


def chunks(items: list[Any], size: int = BATCH_WRITE_LIMIT) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng() * min(cap, base * (2**attempt))


@dataclass
class ResultWriter:
    """Stores row results with BatchWriteItem, retried with full jitter until `deadline_seconds`."""

    dynamodb_client: Any
    table_name: str
    s3_client: Any = None
    bucket: str | None = None
    prefix: str = "batch-results/"
    ttl_days: float = DEFAULT_TTL_DAYS
    row_id_width: int = ROW_ID_WIDTH
    max_item_bytes: int = MAX_ITEM_BYTES
    deadline_seconds: float = 60.0
    base_delay: float = 0.05
    max_delay: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random
    serializer: TypeSerializer = field(default_factory=TypeSerializer, init=False)

    def write(self, results: Iterable[RowResult]) -> WriteReport:
        """Store every result or raise; the last result for a key wins."""
        report = WriteReport()
        deadline = self.clock() + self.deadline_seconds
        by_key: dict[tuple[str, str], dict[str, Any]] = {}
        for result in results:
            item = self._fit_or_fail(result, report)
            by_key[(item["batch_id"], item["row_id"])] = item
        items = list(by_key.values())
        for chunk in chunks(items):
            self._write_chunk(chunk, deadline, report)
        report.items = len(items)
        return report

    def _fit_or_fail(self, result: RowResult, report: WriteReport) -> dict[str, Any]:
        """The row's item; a row too large to store even so is stored FAILED, saying why (its siblings stay)."""
        item = partial(build_item, ttl_days=self.ttl_days, row_id_width=self.row_id_width)
        try:
            return self._fit(item(result), report)
        except ItemTooLargeError as exc:
            failed = replace(result, status=STATUS_FAILED, output_data={}, error=str(exc))
            return self._fit(item(failed), report)

    def _fit(self, item: dict[str, Any], report: WriteReport) -> dict[str, Any]:
        """Move data to S3 while the item is over the limit (output first, then input)."""
        for name in ("output_data", "input_data"):
            if item_size(item) + SIZE_MARGIN <= self.max_item_bytes:
                return item
            if self.s3_client is None or not self.bucket:
                raise ItemTooLargeError(
                    f"{item['row_id']}: the result is {item_size(item):,} bytes, over DynamoDB's item limit of "
                    f"{self.max_item_bytes:,} bytes, and no S3 bucket is configured for large results"
                )
            key = f"{self.prefix}{item['batch_id']}/{item['row_id']}.{name}.json"
            body = json.dumps(from_dynamodb(item[name]), default=str, ensure_ascii=False).encode("utf-8")
            self.s3_client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
            item = {**item, name: {}, f"{name[:-5]}_s3_uri": f"s3://{self.bucket}/{key}"}
            report.offloaded += 1
        if item_size(item) + SIZE_MARGIN > self.max_item_bytes:
            raise ItemTooLargeError(
                f"{item['row_id']}: the result is {item_size(item):,} bytes even with its data in S3, over "
                f"DynamoDB's item limit of {self.max_item_bytes:,} bytes"
            )
        return item

    def _write_chunk(self, chunk: list[dict[str, Any]], deadline: float, report: WriteReport) -> None:
        pending = [
            {"PutRequest": {"Item": {k: self.serializer.serialize(v) for k, v in item.items()}}}
            for item in chunk
        ]
        attempt = 0
        while True:
            response = self.dynamodb_client.batch_write_item(RequestItems={self.table_name: pending})
            report.requests += 1
            pending = (response.get("UnprocessedItems") or {}).get(self.table_name) or []
            if not pending:
                return
            report.retried_items += len(pending)
            delay = backoff_delay(attempt, self.base_delay, self.max_delay, self.rng)
            attempt += 1
            if self.clock() + delay > deadline:
                row_ids = [request["PutRequest"]["Item"]["row_id"]["S"] for request in pending]
                raise UnprocessedItemsError(row_ids, attempt)
            self.sleep(delay)


INPUT_ROW_ERROR = "InputRowError"  # the error name child_inputs gives a row whose input does not map


def caught_error_text(error: Any) -> str:
    """Readable text for a Step Functions Catch output {"Error", "Cause"}: the docs/runtime.md rules."""
    if not error:
        return "no output"
    if not isinstance(error, dict):
        return str(error)
    name, cause = error.get("Error"), error.get("Cause")
    if isinstance(cause, str) and cause.startswith("{"):
        try:
            parsed = json_loads(cause)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            cause = parsed["errorMessage"]
        elif isinstance(parsed, dict) and "ExecutionArn" in parsed and "Status" in parsed:
            return caught_error_text({"Error": parsed.get("Error"), "Cause": parsed.get("Cause")})
    if name == INPUT_ROW_ERROR and cause:
        return str(cause)
    return ": ".join(str(part) for part in (name, cause) if part)
