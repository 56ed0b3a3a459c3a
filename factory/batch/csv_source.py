"""Reading user CSV files: streamed, strict about what cannot be read right.

A CSV is user input: every way it can be malformed gets one clear error
naming the file, the line and the fix, never a half-read batch.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from factory.errors import FactoryError, Problem

# Big enough for a 1 MB cell, small enough that a runaway quote is caught.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass(frozen=True)
class CsvRow:
    """One data row: its 1-based position among data rows, and its cells by column."""

    number: int
    values: dict[str, str]


def _problem(path: Path, where: str, message: str, hint: str) -> FactoryError:
    return FactoryError(Problem(path.as_posix(), where, "csv", message, hint))


def _rows(path: Path, *, header_only: bool = False) -> Iterator[CsvRow]:
    try:
        handle = open(path, "r", encoding="utf-8-sig", newline="")
    except OSError as err:
        raise _problem(path, "$", f"cannot read file: {err.strerror}", "check the path") from None
    with handle:
        reader = csv.reader(handle)
        try:
            try:
                header = next(reader)
            except StopIteration:
                raise _problem(path, "line 1", "the file is empty", "the first line must name the columns") from None
            header = [name.strip() for name in header]
            if not any(header):
                raise _problem(path, "line 1", "the header row is blank", "the first line must name the columns")
            seen: set[str] = set()
            for index, name in enumerate(header, start=1):
                if not name:
                    raise _problem(path, "line 1", f"column {index} has no name", "name every column")
                if name in seen:
                    raise _problem(path, "line 1", f"column {name!r} appears twice", "give each column a unique name")
                seen.add(name)
            if header_only:
                yield CsvRow(0, {name: "" for name in header})
                return
            number = 0
            for cells in reader:
                if not cells or (len(cells) == 1 and cells[0] == ""):
                    continue  # blank line
                number += 1
                if len(cells) > len(header):
                    if any(cell.strip() for cell in cells[len(header):]):
                        raise _problem(path, f"line {reader.line_num}",
                                       f"row {number} has {len(cells)} cells but the header names {len(header)}",
                                       "quote cells that contain commas")
                    cells = cells[: len(header)]
                values = dict(zip(header, cells))
                for name in header[len(cells):]:
                    values[name] = ""  # short rows: missing trailing cells are empty
                yield CsvRow(number, values)
        except UnicodeDecodeError as err:
            raise _problem(path, f"line {reader.line_num + 1}", f"not UTF-8 (byte 0x{err.object[err.start]:02x})",
                           "save the file as UTF-8") from None
        except csv.Error as err:
            raise _problem(path, f"line {reader.line_num}", f"malformed CSV: {err}", "check the quoting") from None


def header(path: Path) -> list[str]:
    """Column names, in file order."""
    first = next(_rows(path, header_only=True))
    return list(first.values)


def rows(path: Path) -> Iterator[CsvRow]:
    """Data rows, streamed: memory does not grow with the file."""
    return _rows(path)

