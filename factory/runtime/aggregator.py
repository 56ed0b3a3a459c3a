"""Stream one batch's stored results into a CSV: the aggregator Lambda (docs/runtime.md)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator, Protocol

from boto3.dynamodb.types import TypeDeserializer

from factory.runtime.result_store import decode_item
from factory.runtime.vocabulary import METADATA_COLUMNS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
MIN_PART_BYTES = 5 * 1024 * 1024
DEFAULT_PART_BYTES = 8 * 1024 * 1024
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class ByteSink(Protocol):
    def write(self, data: bytes) -> Any: ...


@dataclass
class AggregateSummary:
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    csv_uri: str | None = None


def csv_columns(input_columns: list[str], output_fields: list[str]) -> list[str]:
    return [*input_columns, *output_fields, *METADATA_COLUMNS]


def column_collisions(input_columns: list[str], output_fields: list[str]) -> str | None:
    """Why a results CSV for these input columns would repeat a header (two columns nobody can tell
    apart, so the input is refused before any row runs), or None."""
    taken = set(output_fields) | set(METADATA_COLUMNS)
    clashes = [name for name in input_columns if name in taken]
    if not clashes:
        return None
    if set(METADATA_COLUMNS) <= set(input_columns):
        return (
            "this looks like a results CSV (it has the columns " + ", ".join(METADATA_COLUMNS) + "), "
            "so its results would repeat them"
        )
    return (
        "input column(s) " + ", ".join(map(repr, clashes)) + " have the name of a result column "
        "(an output field or " + ", ".join(METADATA_COLUMNS) + "), so the results CSV would repeat them"
    )


def cell_text(value: Any, neutralise: bool = True) -> Any:
    """A value as csv.writer is handed it: None and numbers as they are (csv.writer writes "" and
    their repr), booleans true/false, dicts and lists compact JSON, and text neutralised
    (`neutralise`): a cell starting with one of FORMULA_PREFIXES gets a leading `'` unless the
    whole cell is a plain number such as `-12.5`."""
    kind = value.__class__
    if kind is str:
        if neutralise and value.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.match(value):
            return "'" + value
        return value
    if value is None or kind is int or kind is float:
        return value
    if kind is bool:
        return _BOOL_TEXT[value]
    if kind is dict or kind is list:
        return cell_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")), neutralise)
    return cell_text(str(value), neutralise)


_BOOL_TEXT = {True: "true", False: "false"}
_AS_IS = frozenset({int, float, type(None)})  # cell_text hands these to csv.writer unchanged
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)  # each a single character
_ITEM_KEYS = ("status", "error", "execution_time_ms", "timestamp")  # the item's own cells, after the data


def _rows(
    page: Iterable[dict[str, Any]], header: list[str], fields: list[str], neutralise: bool, counts: dict
) -> Iterator[list[Any]]:
    """Each item's cells (inputs, outputs, then its own keys), its status counted as it goes."""
    as_is, starts, text, bools = _AS_IS, _FORMULA_STARTS if neutralise else frozenset(), cell_text, _BOOL_TEXT
    status_at = -len(_ITEM_KEYS)
    for item in page:
        inputs, outputs = item.get("input_data") or {}, item.get("output_data") or {}
        values = [*map(inputs.get, header), *map(outputs.get, fields), *map(item.get, _ITEM_KEYS)]
        status = values[status_at] or ""
        counts[status] = counts.get(status, 0) + 1
        yield [
            (
                value
                if (kind := value.__class__) is str and value[:1] not in starts or kind in as_is
                else bools[value] if kind is bool else text(value, neutralise)
            )
            for value in values
        ]


def write_csv(
    pages: Iterable[Iterable[dict[str, Any]]],
    sink: ByteSink,
    output_fields: list[str],
    input_columns: list[str] | None = None,
    neutralise_formulas: bool = True,
) -> AggregateSummary:
    """Encode decoded result items, page by page, as UTF-8 CSV bytes into `sink` (one write a page).
    Without `input_columns` the first item's `input_data` key order is used (DynamoDB maps keep none)."""
    summary = AggregateSummary()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = list(input_columns) if input_columns is not None else None
    for page in pages:
        page = page if isinstance(page, list) else list(page)
        if page and not summary.columns:
            header = header if header is not None else list(page[0].get("input_data") or {})
            summary.columns = csv_columns(header, output_fields)
            writer.writerow([cell_text(name, neutralise_formulas) for name in summary.columns])
        writer.writerows(_rows(page, header or [], output_fields, neutralise_formulas, summary.counts))
        summary.rows += len(page)
        _flush(buffer, sink)
    if not summary.columns:
        summary.columns = csv_columns(input_columns or [], output_fields)
        writer.writerow([cell_text(name, neutralise_formulas) for name in summary.columns])
        _flush(buffer, sink)
    return summary


def _flush(buffer: io.StringIO, sink: ByteSink) -> None:
    """The buffer's text, if any, to the sink as UTF-8; the buffer emptied."""
    text = buffer.getvalue()
    if text:
        sink.write(text.encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()


def query_pages(
    dynamodb_client: Any, table_name: str, batch_id: str, s3_client: Any = None, page_size: int = 1000
) -> Iterator[list[dict[str, Any]]]:
    """One batch's items, page by page, in row order, decoded (S3 pointers followed)."""
    deserializer = TypeDeserializer()
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "batch_id = :batch",
        "ExpressionAttributeValues": {":batch": {"S": batch_id}},
        "ScanIndexForward": True,
        "ConsistentRead": True,
        "Limit": page_size,
    }
    while True:
        page = dynamodb_client.query(**kwargs)
        yield [
            decode_item({key: deserializer.deserialize(value) for key, value in item.items()}, s3_client)
            for item in page.get("Items", [])
        ]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class S3MultipartSink:
    """A write-only byte sink that uploads to S3 in parts as they fill; `close()` finishes."""

    def __init__(self, s3_client: Any, bucket: str, key: str, part_bytes: int = DEFAULT_PART_BYTES) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"S3 parts other than the last must be at least {MIN_PART_BYTES} bytes")
        self.s3, self.object, self.uri = s3_client, {"Bucket": bucket, "Key": key}, f"s3://{bucket}/{key}"
        self.part_bytes = part_bytes
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    def write(self, data: bytes) -> int:
        self.buffer.extend(data)
        while len(self.buffer) >= self.part_bytes:
            self._upload_part(bytes(self.buffer[: self.part_bytes]))
            del self.buffer[: self.part_bytes]
        return len(data)

    def _upload_part(self, body: bytes) -> None:
        if self.upload_id is None:
            created = self.s3.create_multipart_upload(**self.object, ContentType=CSV_CONTENT_TYPE)
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        response = self.s3.upload_part(**self.object, UploadId=self.upload_id, PartNumber=number, Body=body)
        self.parts.append({"ETag": response["ETag"], "PartNumber": number})

    def close(self) -> str:
        if self.upload_id is None:
            self.s3.put_object(**self.object, Body=bytes(self.buffer), ContentType=CSV_CONTENT_TYPE)
        else:
            if self.buffer:
                self._upload_part(bytes(self.buffer))
            upload = {"UploadId": self.upload_id, "MultipartUpload": {"Parts": self.parts}}
            self.s3.complete_multipart_upload(**self.object, **upload)
        self.buffer.clear()
        return self.uri

    def abort(self) -> None:
        if self.upload_id is not None:
            self.s3.abort_multipart_upload(**self.object, UploadId=self.upload_id)
            self.upload_id = None


def default_csv_key(batch_id: str) -> str:
    return "results/" + batch_id.replace("#", "/") + ".csv"


def aggregate_batch(
    dynamodb_client: Any,
    s3_client: Any,
    table_name: str,
    batch_id: str,
    bucket: str,
    output_fields: list[str],
    input_columns: list[str] | None = None,
    key: str | None = None,
    neutralise_formulas: bool = True,
    page_size: int = 1000,
    part_bytes: int = DEFAULT_PART_BYTES,
) -> AggregateSummary:
    """Query the batch, stream it to s3://bucket/key as CSV; counts by status and the URI."""
    sink = S3MultipartSink(s3_client, bucket, key or default_csv_key(batch_id), part_bytes)
    try:
        summary = write_csv(
            query_pages(dynamodb_client, table_name, batch_id, s3_client, page_size),
            sink,
            output_fields,
            input_columns,
            neutralise_formulas,
        )
        summary.csv_uri = sink.close()
    except BaseException:
        sink.abort()
        raise
    return summary


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: {"batch_id", "output_fields", "input_columns"?, "bucket"?, "key"?} -> summary."""
    import boto3

    summary = aggregate_batch(
        boto3.client("dynamodb"),
        boto3.client("s3"),
        os.environ["RESULTS_TABLE"],
        event["batch_id"],
        event.get("bucket") or os.environ["RESULTS_BUCKET"],
        list(event["output_fields"]),
        event.get("input_columns"),
        event.get("key"),
        bool(event.get("neutralise_formulas", True)),
    )
    return asdict(summary)
