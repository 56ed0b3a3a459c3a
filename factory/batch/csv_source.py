"""User CSV files for local runs: streamed, with the runtime's rules for hostile input.

The handling of BOMs, ragged rows, duplicate headers, huge cells and bad
bytes is decided once, in `factory.runtime.csv_source`, so a CSV behaves the
same on a laptop as in the batch processor. This module opens files and turns
its errors into problems naming the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, TextIO

from factory import safe_io
from factory.errors import FactoryError, Problem
from factory.runtime.csv_source import CsvInputError, check_header, iter_rows


@dataclass(frozen=True)
class CsvRow:
    """One data row: its 1-based position among data rows, and its cells by column."""

    number: int
    values: dict[str, str]


def _problem(path: Path, message: str) -> FactoryError:
    return FactoryError(Problem(path.as_posix(), "$", "csv", message, "fix the CSV file"))


@dataclass(frozen=True)
class CsvFingerprint:
    """Size and sha256 of a CSV's bytes: a resumed run must read the very file its batch started on."""

    size: int
    sha256: str


def fingerprint(path: Path, chunk: int = 1 << 20) -> CsvFingerprint:
    """Streamed (memory does not grow with the file)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with safe_io.open_stream(path) as handle:
            while block := handle.read(chunk):
                digest.update(block)
                size += len(block)
    except OSError as err:
        raise FactoryError(Problem(path.as_posix(), "$", "unreadable", f"cannot read file: {err.strerror}",
                                   "check the path")) from None
    return CsvFingerprint(size, digest.hexdigest())


def _open(path: Path) -> TextIO:
    try:
        # surrogateescape: a byte that is not UTF-8 reaches the row reader, which names its row.
        return io.TextIOWrapper(safe_io.open_stream(path), encoding="utf-8-sig", errors="surrogateescape",
                                newline="")
    except OSError as err:
        raise FactoryError(Problem(path.as_posix(), "$", "unreadable", f"cannot read file: {err.strerror}",
                                   "check the path")) from None


def header(path: Path) -> list[str]:
    """Column names, in file order."""
    with _open(path) as handle:
        try:
            for record in csv.reader(handle):
                if record and any(cell.strip() for cell in record):
                    return check_header(record)
        except CsvInputError as err:
            raise _problem(path, str(err)) from None
    raise _problem(path, "CSV is empty: no header row")


def check_result_columns(path: Path, columns: list[str], output_fields: list[str]) -> None:
    """Refuse, before any row runs, input columns whose names the results CSV already uses."""
    from factory.runtime.aggregator import column_collisions  # boto3 comes with it: only for a run

    reason = column_collisions(columns, output_fields)
    if reason is not None:
        raise FactoryError(Problem(
            path.as_posix(), "line 1", "columns", reason,
            "rename those columns (a results CSV is not an input: run the original CSV)",
        ))


def rows(path: Path) -> Iterator[CsvRow]:
    """Data rows, streamed: memory does not grow with the file. Absent cells read as ""."""
    with _open(path) as handle:
        try:
            for number, values in iter_rows(handle):
                yield CsvRow(number, {key: "" if value is None else value for key, value in values.items()})
        except CsvInputError as err:
            raise _problem(path, str(err)) from None
