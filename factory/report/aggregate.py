"""The report's numbers, accumulated one row at a time (pure: no I/O, no rendering).

A row is what either engine stores for it: status, error text, execution time, attempts (when
recorded) and the output fields. Memory holds counters and one integer per row (execution times, for
exact percentiles), never a row: 100,000 rows stay well under the report's memory budget.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, NamedTuple

MAX_REASONS = 1000  # distinct failure reasons tracked; more are counted under OTHER_REASONS
MAX_VALUES = 50  # distinct values counted per field; more are counted under OTHER_VALUES
EXAMPLE_ROWS = 5  # example row numbers kept per failure reason
HISTOGRAM_BINS = 20
OTHER_REASONS = "(other reasons)"
OTHER_VALUES = "(other values)"
NO_REASON = "(no error text)"
_DIGITS = re.compile(r"\d+")
_REASON_CHARS = 160


class ReportRow(NamedTuple):
    """One row's outcome, as the report reads it from either engine's results."""

    number: int
    status: str
    error: str | None = None
    execution_time_ms: int | None = None
    attempts: int | None = None
    output: Mapping[str, Any] = {}


def reason_key(error: str | None) -> str:
    """The group a failure belongs to: its first line with numbers masked, so "timed out after 31 s"
    and "... 32 s" are one reason while the page still shows a real example of each group."""
    if not error or not error.strip():
        return NO_REASON
    first = error.strip().splitlines()[0]
    return _DIGITS.sub("#", first)[:_REASON_CHARS]


@dataclass
class Reason:
    count: int = 0
    example: str = ""
    rows: list[int] = field(default_factory=list)


@dataclass
class Aggregate:
    """Everything the page shows, accumulated row by row (`add`)."""

    fields: list[str]
    rows: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, Reason] = field(default_factory=dict)
    filled: Counter[str] = field(default_factory=Counter)
    values: dict[str, Counter[str]] = field(default_factory=dict)
    times: array = field(default_factory=lambda: array("q"))
    attempts: Counter[int] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for name in self.fields:
            self.values.setdefault(name, Counter())

    def add(self, row: ReportRow) -> None:
        number, status, error, elapsed, attempts, output = row
        self.rows += 1
        self.statuses[status] += 1
        if status == "FAILED":
            self._add_reason(number, error)
        if elapsed is not None and elapsed >= 0:
            self.times.append(elapsed)
        if attempts:
            self.attempts[attempts] += 1
        if not output:
            return
        filled, values = self.filled, self.values
        for name in self.fields:
            value = output.get(name)
            if value is None or value == "" or value == [] or value == {}:
                continue  # absent; a value that reached the results passed its schema (the mapper drops others)
            filled[name] += 1
            kind = type(value)
            if kind is dict or kind is list:
                continue  # objects and arrays have no distribution worth a chart
            label = (
                value
                if kind is str
                else "true" if value is True else "false" if value is False else str(value)
            )
            counter = values[name]
            if label in counter or len(counter) < MAX_VALUES:
                counter[label] += 1
            else:
                counter[OTHER_VALUES] += 1

    def add_all(self, rows: Iterable[ReportRow]) -> Aggregate:
        for row in rows:
            self.add(row)
        return self

    def _add_reason(self, number: int, error: str | None) -> None:
        key = reason_key(error)
        reason = self.reasons.get(key)
        if reason is None:
            if len(self.reasons) >= MAX_REASONS:
                key = OTHER_REASONS
                reason = self.reasons.setdefault(
                    key, Reason(example="reasons beyond the first " f"{MAX_REASONS} distinct ones")
                )
            else:
                reason = self.reasons[key] = Reason(example=(error or NO_REASON).strip()[:500])
        reason.count += 1
        if len(reason.rows) < EXAMPLE_ROWS:
            reason.rows.append(number)


def percentile(sorted_values: array | list[int], share: float) -> int | None:
    """Nearest-rank percentile (the value at rank ceil(share * n)): always a time some row took."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return int(sorted_values[rank - 1])


@dataclass(frozen=True)
class Bin:
    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high} ms"


def histogram(sorted_values: array | list[int], bins: int = HISTOGRAM_BINS) -> list[Bin]:
    """Equal-width bins from the fastest to the slowest row; the last bin includes its upper edge."""
    if not sorted_values:
        return []
    low, high = int(sorted_values[0]), int(sorted_values[-1])
    width = max(1, math.ceil((high - low + 1) / bins))
    count = min(bins, math.ceil((high - low + 1) / width))
    tallies = [0] * count
    for value in sorted_values:
        tallies[min(count - 1, (int(value) - low) // width)] += 1
    return [Bin(low + i * width, min(high, low + (i + 1) * width - 1), tallies[i]) for i in range(count)]
