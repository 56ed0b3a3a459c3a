"""From accumulated numbers to what the page shows: sorted, rounded, labelled (pure).

The page's tables and charts are both drawn from these values, so a chart can never show a number
its table does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from factory.report.aggregate import Aggregate, Bin, histogram, percentile

STATUS_ORDER = ("SUCCESS", "PARTIAL", "FAILED")
TOP_REASONS = 10


@dataclass(frozen=True)
class FieldFill:
    name: str
    kind: str
    filled: int
    rate: float  # percent of all rows, one decimal


@dataclass(frozen=True)
class ReasonLine:
    reason: str
    example: str
    count: int
    rows: tuple[int, ...]


@dataclass(frozen=True)
class Distribution:
    name: str
    kind: str
    values: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Summary:
    rows: int
    statuses: tuple[tuple[str, int], ...]
    reasons: tuple[ReasonLine, ...]
    reasons_total: int  # distinct reasons, shown or not
    fields: tuple[FieldFill, ...]
    distributions: tuple[Distribution, ...]
    timed_rows: int
    p50_ms: int | None
    p95_ms: int | None
    max_ms: int | None
    bins: tuple[Bin, ...]
    attempts: tuple[tuple[int, int], ...]  # (attempts, rows); empty when the engine did not record them
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def retried_rows(self) -> int:
        return sum(rows for attempts, rows in self.attempts if attempts > 1)


def _statuses(aggregate: Aggregate) -> tuple[tuple[str, int], ...]:
    known = [(name, aggregate.statuses.get(name, 0)) for name in STATUS_ORDER]
    others = sorted((name, count) for name, count in aggregate.statuses.items() if name not in STATUS_ORDER)
    return tuple(known + others)


def _rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _distributions(aggregate: Aggregate, kinds: Mapping[str, str]) -> tuple[Distribution, ...]:
    shown = []
    for name in aggregate.fields:
        counter = aggregate.values.get(name)
        kind = kinds.get(name, "")
        if not counter:
            continue
        if kind == "" and set(counter) <= {"true", "false"}:
            kind = "boolean"  # no schema at hand: a column of nothing but true/false is a boolean
        if kind not in ("enum", "boolean"):
            continue
        values = tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))
        shown.append(Distribution(name, kind, values))
    return tuple(shown)


def summarise(
    aggregate: Aggregate, kinds: Mapping[str, str], info: Mapping[str, Any], top: int = TOP_REASONS
) -> Summary:
    """`kinds`: field name → "enum", "boolean" or another JSON type, from the output schema when known."""
    times = sorted(aggregate.times)
    ranked = sorted(aggregate.reasons.items(), key=lambda item: (-item[1].count, item[0]))
    reasons = tuple(ReasonLine(key, r.example, r.count, tuple(r.rows)) for key, r in ranked[:top])
    fields = tuple(
        FieldFill(
            name,
            kinds.get(name, ""),
            aggregate.filled.get(name, 0),
            _rate(aggregate.filled.get(name, 0), aggregate.rows),
        )
        for name in aggregate.fields
    )
    return Summary(
        rows=aggregate.rows,
        statuses=_statuses(aggregate),
        reasons=reasons,
        reasons_total=len(ranked),
        fields=fields,
        distributions=_distributions(aggregate, kinds),
        timed_rows=len(times),
        p50_ms=percentile(times, 0.50),
        p95_ms=percentile(times, 0.95),
        max_ms=times[-1] if times else None,
        bins=tuple(histogram(times)),
        attempts=tuple(sorted(aggregate.attempts.items())),
        info=dict(info),
    )
