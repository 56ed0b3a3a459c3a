"""Where a report's rows come from: the local result store, a results CSV, or a Step Functions execution.

Each source yields `ReportRow`s one at a time (the store a page of 1,000 items at a time, the CSV a row
at a time), so a report's memory does not grow with the batch. `BatchFacts` is what the page says about
the batch besides its rows: target, mapping and the output fields to report on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from factory.batch import csv_source
from factory.batch.local_store import LocalResultStore
from factory.report.aggregate import ReportRow

METADATA = ("_status", "_error", "_execution_time_ms", "_timestamp")


@dataclass(frozen=True)
class BatchFacts:
    """What is known of a batch besides its rows."""

    title: str
    source: str
    fields: list[str]
    kinds: Mapping[str, str] = field(default_factory=dict)
    meta: list[tuple[str, str]] = field(default_factory=list)
    target_type: str = "agent"


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def store_rows(store: LocalResultStore, batch_id: str) -> Iterator[ReportRow]:
    """A local batch's stored rows, in row order (SQLite extracts the few values the report needs)."""
    for number, status, error, elapsed, attempts, output in store.outcomes(batch_id):
        yield ReportRow(
            number,
            status,
            error if isinstance(error, str) else None,
            _int_or_none(elapsed),
            _int_or_none(attempts),
            output if isinstance(output, dict) else {},
        )


def csv_rows(path: Path) -> Iterator[ReportRow]:
    """A results CSV's rows (either engine writes the same columns); row numbers are data-row positions."""
    for row in csv_source.rows(path):
        values = row.values
        yield ReportRow(
            number=row.number,
            status=values.get("_status", ""),
            error=values.get("_error") or None,
            execution_time_ms=_int_or_none(values.get("_execution_time_ms", "")),
            output={name: value for name, value in values.items() if name not in METADATA},
        )


def csv_fields(path: Path) -> list[str]:
    """The results CSV's columns but the metadata ones: reported when no output fields are known."""
    return [name for name in csv_source.header(path) if name not in METADATA]


def schema_kinds(output_schema: Mapping[str, Any] | None) -> dict[str, str]:
    """field → "enum", "boolean" or its JSON type, from an output schema (top-level properties)."""
    properties = (output_schema or {}).get("properties")
    if not isinstance(properties, dict):
        return {}
    kinds = {}
    for name, spec in properties.items():
        if isinstance(spec, dict):
            kind = "enum" if isinstance(spec.get("enum"), list) else spec.get("type")
            kinds[name] = kind if isinstance(kind, str) else ""
    return kinds


def mapping_meta(mapping: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The mapping in a few lines: columns → fields, output fields, extraction methods, target."""
    lines: list[tuple[str, str]] = []
    columns = (mapping.get("input_mapping") or {}).get("column_mappings") or {}
    if isinstance(columns, dict) and columns:
        lines.append(("input columns", ", ".join(f"{c} → {f}" for c, f in columns.items())))
    outputs = mapping.get("structured_output_fields") or []
    if isinstance(outputs, list) and outputs:
        lines.append(("output fields", ", ".join(map(str, outputs))))
    methods = mapping.get("extraction_methods") or []
    if isinstance(methods, list) and methods:
        lines.append(("extraction", ", ".join(str(m.get("method")) for m in methods if isinstance(m, dict))))
    return lines
