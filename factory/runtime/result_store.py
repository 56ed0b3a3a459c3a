"""The shape of one row's result in `batch_processor_results`, both ways (docs/runtime.md)."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from factory.runtime.vocabulary import METADATA_COLUMNS, STATUS_FAILED, utc_timestamp

DEFAULT_TTL_DAYS = 7
ROW_ID_WIDTH = 6
ROW_ID_PREFIX = "row_"
MAX_ITEM_BYTES = 400 * 1024


class RowIdError(ValueError):
    """A row number that cannot get a row id (not a non-negative integer)."""


def make_batch_id(tool_name: str, execution_id: str) -> str:
    return f"{tool_name}#{execution_id}"


def row_id(row_number: int, width: int = ROW_ID_WIDTH) -> str:
    """`row_000001`: zero-padded, so the sort order is the row order; past `width` digits one `~` (which
    sorts after every digit) per extra digit goes first: `row_~1000000`, `row_~~10000000`."""
    if isinstance(row_number, bool) or not isinstance(row_number, int) or row_number < 0:
        raise RowIdError(f"row number must be a non-negative integer, got {row_number!r}")
    digits = str(row_number)
    if len(digits) <= width:
        return f"{ROW_ID_PREFIX}{digits.zfill(width)}"
    return f"{ROW_ID_PREFIX}{'~' * (len(digits) - width)}{digits}"


def to_dynamodb(value: Any) -> Any:
    """Python JSON-ish values -> values boto3 can serialise (float -> Decimal)."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int, Decimal)):
        return value
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): to_dynamodb(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_dynamodb(inner) for inner in value]
    if isinstance(value, (set, frozenset)):
        return [to_dynamodb(inner) for inner in sorted(value, key=repr)]
    return str(value)


def from_dynamodb(value: Any) -> Any:
    """The reverse: Decimal -> int or float, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: from_dynamodb(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [from_dynamodb(inner) for inner in value]
    if isinstance(value, (set, frozenset)):
        return [from_dynamodb(inner) for inner in sorted(value, key=repr)]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return value


def item_size(item: dict[str, Any]) -> int:
    """An upper bound of DynamoDB's item size: the UTF-8 JSON text (names and values)."""
    return len(json.dumps(item, default=str, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


@dataclass(frozen=True)
class RowResult:
    """One row's outcome, ready to store."""

    batch_id: str
    row_number: int
    status: str
    input_data: dict[str, Any] = field(default_factory=dict)
    output_data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    execution_time_ms: int | None = None
    timestamp: str = ""
    attempts: int | None = None  # calls made for the row, where the engine counts them (the local one)


def result_from_mapped_row(
    batch_id: str,
    row_number: int,
    input_data: dict[str, Any],
    mapped_row: dict[str, Any],
    execution_time_ms: int | None = None,
) -> RowResult:
    """A RowResult from the output mapper's row (fields + _status/_error/_timestamp)."""
    return RowResult(
        batch_id=batch_id,
        row_number=row_number,
        status=mapped_row.get("_status") or STATUS_FAILED,
        input_data=dict(input_data),
        output_data={key: value for key, value in mapped_row.items() if key not in METADATA_COLUMNS},
        error=mapped_row.get("_error"),
        execution_time_ms=execution_time_ms,
        timestamp=mapped_row.get("_timestamp") or utc_timestamp(),
    )


def build_item(
    result: RowResult,
    now_epoch: float | None = None,
    ttl_days: float = DEFAULT_TTL_DAYS,
    row_id_width: int = ROW_ID_WIDTH,
) -> dict[str, Any]:
    """The DynamoDB item (plain Python values with Decimals) for one result."""
    now_epoch = time.time() if now_epoch is None else now_epoch
    return to_dynamodb(
        {
            "batch_id": result.batch_id,
            "row_id": row_id(result.row_number, row_id_width),
            "row_number": result.row_number,
            "status": result.status,
            "error": result.error,
            "input_data": result.input_data,
            "output_data": result.output_data,
            "execution_time_ms": result.execution_time_ms,
            "timestamp": result.timestamp or utc_timestamp(),
            "ttl": int(now_epoch + ttl_days * 86400),
            **({"attempts": result.attempts} if result.attempts is not None else {}),
        }
    )


def decode_item(item: dict[str, Any], s3_client: Any = None) -> dict[str, Any]:
    """A stored item as plain values, with S3-offloaded data fetched back."""
    plain = from_dynamodb(item)
    for name in ("input_data", "output_data"):
        uri = plain.get(f"{name[:-5]}_s3_uri")
        if uri and s3_client is not None:
            plain[name] = read_s3_json(s3_client, uri)
    return plain


def read_s3_json(s3_client: Any, uri: str) -> Any:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return json.loads(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())
