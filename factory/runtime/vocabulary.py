"""The runtime's shared words: row statuses and metadata columns, the timestamp format, true/false words, numbers.

Every Lambda and the local engine must agree on these, so they are defined
once, here, and imported by the mappers, the result store and writer, the
engine and the output expressions. Stdlib only: this module is in every
Lambda package.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

STATUS_SUCCESS = "SUCCESS"
STATUS_PARTIAL = "PARTIAL"
STATUS_FAILED = "FAILED"
# The columns a result row adds after the output fields, in the results CSV's order.
METADATA_COLUMNS = ("_status", "_error", "_execution_time_ms", "_timestamp")

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f", "off"})


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_last_stamp: tuple[int, str] = (-1, "")  # (millisecond, its text): rows finish many to a millisecond


def utc_timestamp(now: datetime | None = None) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`: `2026-01-02T03:04:05.678Z` (sorts as text)."""
    global _last_stamp
    if now is None:
        millisecond = time.time_ns() // 1_000_000
        last = _last_stamp  # one read: another thread may replace it, never half of it
        if last[0] == millisecond:
            return last[1]
        text = utc_timestamp(_EPOCH + timedelta(milliseconds=millisecond))
        _last_stamp = (millisecond, text)
        return text
    return now.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_number(text: str) -> int | float:
    """`"12"` -> 12, `"12.5"` -> 12.5 (an int whenever Python's int() takes it); ValueError otherwise."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_integer(text: str) -> int:
    """`"12"` or `"12.0"` -> 12; ValueError for text that is not a whole number."""
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise ValueError(f"{text!r} is not a whole number") from None
        return int(number)
