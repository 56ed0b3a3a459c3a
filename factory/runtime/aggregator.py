"""Stream one batch's stored results into a CSV: the aggregator Lambda.

Columns come in one stable order, never a sorted union of whatever keys the
items happen to have: the input columns in CSV order, the output fields in
schema order, then `_status`, `_error`, `_execution_time_ms`, `_timestamp`.
Rows come in row order (the table's sort key is the zero-padded row id).

Memory is bounded by one page plus one upload part: pages are read one at a
time, encoded, and the bytes go to a sink; the S3 sink sends a multipart part
each time 8 MiB have filled.

Cells are written as text: None -> "", booleans -> true/false, dicts and
lists -> compact JSON. Spreadsheet formula injection is neutralised by default:
a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a
leading `'`, unless the whole cell is a plain number such as `-12.5`. Pass
`neutralise_formulas=False` (event key of the same name) for a consumer that
reads the CSV as data, not in a spreadsheet.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Iterable, Iterator, Protocol

from boto3.dynamodb.types import TypeDeserializer

from factory.runtime.result_store import decode_item

METADATA_COLUMNS = ("_status", "_error", "_execution_time_ms", "_timestamp")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
MIN_PART_BYTES = 5 * 1024 * 1024
DEFAULT_PART_BYTES = 8 * 1024 * 1024


class ByteSink(Protocol):
    def write(self, data: bytes) -> Any: ...


@dataclass
class AggregateSummary:
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    csv_uri: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "counts": dict(self.counts),
            "columns": list(self.columns),
            "csv_uri": self.csv_uri,
        }


def csv_columns(input_columns: list[str], output_fields: list[str]) -> list[str]:
    return [*input_columns, *output_fields, *METADATA_COLUMNS]


def column_collisions(input_columns: list[str], output_fields: list[str]) -> str | None:
    """Why a results CSV for these input columns would repeat a header, or None.

    Results put input columns, output fields and the metadata columns side by
    side; a name in two places gives two columns nobody can tell apart, so such
    an input is refused before any row runs (rename the column).
    """
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


def cell_text(value: Any, neutralise: bool = True) -> str:
    kind = type(value)
    if kind is str:
        if neutralise and value and value.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.match(value):
            return "'" + value
        return value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return repr(value)
    if kind is dict or kind is list:
        return cell_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")), neutralise)
    return cell_text(str(value), neutralise)


_PASS_THROUGH = frozenset({int, float, type(None)})  # str() (None: "") gives exactly cell_text's text
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)
_NONE_TYPE = type(None)
_TEXT_TYPES = frozenset({str, _NONE_TYPE})
_BOOL_TYPES = frozenset({bool, _NONE_TYPE})
_BOOL_FIELD = {True: "true", False: "false", None: ""}  # only for columns of nothing but bools and None
_FIRST = itemgetter(0)  # a non-empty string's first character
_NONE_TEXT = {None: ""}
_QUOTE_TRIGGERS = (",", '"', "\r", "\n")  # csv.writer quotes a field holding one of these
_NEEDS_QUOTES = re.compile('[,"\r\n]')
_DICT_ONLY = {dict}
_ITEM_KEYS = ("status", "error", "execution_time_ms", "timestamp")  # the item's own cells, after the data


def _cell_by_cell(values: list[Any], neutralise: bool) -> list[Any]:
    """cell_text for the cells csv.writer would not write the same way (the slow path of `column_fields`)."""
    if neutralise:
        return [
            (
                value
                if (type(value) is str and value[:1] not in _FORMULA_STARTS) or type(value) in _PASS_THROUGH
                else cell_text(value, True)
            )
            for value in values
        ]
    return [
        value if type(value) is str or type(value) in _PASS_THROUGH else cell_text(value, False)
        for value in values
    ]


def _quoted(texts: list[str]) -> list[str]:
    """csv.writer's quoting (QUOTE_MINIMAL, quotes doubled) of text fields; per cell only if one needs it."""
    joined = "".join(texts)
    if not any(char in joined for char in _QUOTE_TRIGGERS):
        return texts
    search = _NEEDS_QUOTES.search
    return ['"' + text.replace('"', '""') + '"' if search(text) else text for text in texts]


def _field_texts(cells: list[Any]) -> list[str]:
    """Field text for cells of str, int, float and None, as csv.writer writes them."""
    kinds = set(map(type, cells))
    texts: Any = cells
    if _NONE_TYPE in kinds:
        texts = map(_NONE_TEXT.get, texts, cells)
    if not kinds <= _TEXT_TYPES:
        texts = map(str, texts)  # str(float) is repr(float), as csv.writer writes it
    if texts is not cells:
        texts = list(texts)
    return _quoted(texts) if str in kinds else texts


def column_fields(values: list[Any], neutralise: bool) -> list[str]:
    """One page's column as CSV field text: `cell_text` of each value, quoted as csv.writer quotes it.

    This is the hot loop, so the checks run in C over the whole column: the
    set of its types; for text, the first characters of its non-empty strings
    against the formula starts and the joined text for a character that needs
    quotes. Bools and None go through a table, numbers and None through str,
    plain text passes as it is; only a column holding a formula start, a field
    to quote, or any other type goes cell by cell. csv.writer's text is the
    reference: None is empty, numbers are their repr, a field holding `,`,
    `"`, CR or LF is quoted with its quotes doubled.
    """
    kinds = set(map(type, values))
    if kinds <= _BOOL_TYPES:
        return list(map(_BOOL_FIELD.__getitem__, values))
    if kinds <= _TEXT_TYPES:
        if neutralise and not _FORMULA_STARTS.isdisjoint(map(_FIRST, filter(None, values))):
            values = _cell_by_cell(values, True)
        if _NONE_TYPE in kinds:
            values = list(map(_NONE_TEXT.get, values, values))
        return _quoted(values)
    if kinds <= _PASS_THROUGH:
        if _NONE_TYPE in kinds:
            return list(map(str, map(_NONE_TEXT.get, values, values)))
        return list(map(str, values))
    return _field_texts(_cell_by_cell(values, neutralise))


def encode_rows(columns: list[list[str]]) -> str:
    """Field texts, a list per column, as CSV records each ending in CRLF ("" for no rows)."""
    if not columns or not columns[0]:
        return ""
    return "\r\n".join(map(",".join, zip(*columns))) + "\r\n"


def _group_columns(mappings: list[Any], names: list[str] | tuple[str, ...]) -> list[list[Any]]:
    """`[mapping.get(name) for mapping in mappings]` per name, picked in C where that gives the same values.

    itemgetter is only used on plain dicts and only keeps a column when every
    mapping has the name; a missing key, a dict subclass or a non-dict takes
    the `.get` path, so the values are always exactly what `.get` returns.
    A column is one list: no per-row containers, which would also wake the
    garbage collector every few hundred rows.
    """
    if set(map(type, mappings)) != _DICT_ONLY:
        return [[mapping.get(name) for mapping in mappings] for name in names]
    columns = []
    for name in names:
        try:
            columns.append(list(map(itemgetter(name), mappings)))
        except KeyError:
            columns.append([mapping.get(name) for mapping in mappings])
    return columns


def page_columns(
    page: list[dict[str, Any]], input_columns: list[str], output_fields: list[str]
) -> list[list[Any]]:
    """One page's raw values, a list per CSV column: inputs, outputs, then the item's own keys."""
    no_inputs, no_outputs = dict.fromkeys(input_columns), dict.fromkeys(output_fields)
    return [
        *_group_columns([item.get("input_data") or no_inputs for item in page], input_columns),
        *_group_columns([item.get("output_data") or no_outputs for item in page], output_fields),
        *_group_columns(page, _ITEM_KEYS),
    ]


class _Parts(list):
    """The page's text, piece by piece (also csv.writer's target for the header); joined once per page."""

    def __init__(self) -> None:
        super().__init__()
        self.write = self.append


def write_csv(
    pages: Iterable[Iterable[dict[str, Any]]],
    sink: ByteSink,
    output_fields: list[str],
    input_columns: list[str] | None = None,
    neutralise_formulas: bool = True,
) -> AggregateSummary:
    """Encode decoded result items, page by page, as UTF-8 CSV bytes into `sink`.

    Without `input_columns` the first item's `input_data` key order is used;
    pass the CSV header when you have it (DynamoDB maps keep no order).
    """
    summary = AggregateSummary()
    counts = summary.counts
    parts = _Parts()
    writer = csv.writer(parts, lineterminator="\r\n")
    header: list[str] | None = None  # the input columns, once the header row is written

    def flush() -> None:
        if parts:
            text = "".join(parts)
            parts.clear()
            if text:
                sink.write(text.encode("utf-8"))

    for page in pages:
        if not isinstance(page, list):
            page = list(page)
        if page:
            if header is None:
                header = list(input_columns if input_columns is not None else page[0].get("input_data") or {})
                summary.columns = csv_columns(header, output_fields)
                writer.writerow([cell_text(name, neutralise_formulas) for name in summary.columns])
            columns = page_columns(page, header, output_fields)
            parts.append(encode_rows([column_fields(column, neutralise_formulas) for column in columns]))
            for status, count in Counter(columns[len(header) + len(output_fields)]).items():
                status = status or ""
                counts[status] = counts.get(status, 0) + count
            summary.rows += len(page)
        flush()
    if header is None:
        summary.columns = csv_columns(input_columns or [], output_fields)
        writer.writerow([cell_text(name, neutralise_formulas) for name in summary.columns])
        flush()
    return summary


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
        self.s3 = s3_client
        self.bucket = bucket
        self.key = key
        self.part_bytes = part_bytes
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def write(self, data: bytes) -> int:
        self.buffer.extend(data)
        while len(self.buffer) >= self.part_bytes:
            self._upload_part(bytes(self.buffer[: self.part_bytes]))
            del self.buffer[: self.part_bytes]
        return len(data)

    def _upload_part(self, body: bytes) -> None:
        if self.upload_id is None:
            created = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType="text/csv; charset=utf-8"
            )
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        response = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
        )
        self.parts.append({"ETag": response["ETag"], "PartNumber": number})

    def close(self) -> str:
        if self.upload_id is None:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=bytes(self.buffer),
                ContentType="text/csv; charset=utf-8",
            )
        else:
            if self.buffer:
                self._upload_part(bytes(self.buffer))
            self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        self.buffer.clear()
        return self.uri

    def abort(self) -> None:
        if self.upload_id is not None:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
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
    return summary.as_dict()
