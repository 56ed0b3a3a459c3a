"""Read a batch CSV defensively: what hostile files get, decided once, here (docs/runtime.md)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable, Iterator

BOM = "\ufeff"
# A byte that is not UTF-8, as `errors="surrogateescape"` decodes it.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
DEFAULT_MAX_CELL_BYTES = 8 * 1024 * 1024
HEADER_PROBE_BYTES = 1024 * 1024


class CsvInputError(ValueError):
    """The CSV cannot be read as a batch; the message says where."""


def strip_bom_keys(row: dict[str, Any]) -> dict[str, Any]:
    """A row whose first key still carries a BOM (a reader that kept it), with plain keys."""
    if any(isinstance(key, str) and key.startswith(BOM) for key in row):
        return {(key.lstrip(BOM) if isinstance(key, str) else key): value for key, value in row.items()}
    return row


def decode_csv_bytes(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CsvInputError(
            f"CSV is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}); "
            "re-save it as UTF-8"
        ) from None
    return text[1:] if text.startswith(BOM) else text


def _bad_byte(cells: list[str]) -> tuple[int, int] | None:
    """(cell index, byte value) of the first byte that was not UTF-8, or None (one C-speed search a row)."""
    if not _ESCAPED_BYTE.search("\0".join(cells)):
        return None
    for index, cell in enumerate(cells):
        found = _ESCAPED_BYTE.search(cell)
        if found:
            return index, ord(found.group()) - 0xDC00
    return None


def check_header(header: list[str]) -> list[str]:
    bad = _bad_byte(header)
    if bad is not None:
        raise CsvInputError(
            f"CSV header, column {bad[0] + 1}: not UTF-8: byte 0x{bad[1]:02x}; re-save the file as UTF-8"
        )
    names = [name.strip() for name in header]
    if names:
        names[0] = names[0].lstrip(BOM)
    blank = [str(index + 1) for index, name in enumerate(names) if not name]
    if blank:
        raise CsvInputError(f"CSV header has blank column name(s) at position(s) {', '.join(blank)}")
    seen: dict[str, int] = {}
    duplicates = []
    for index, name in enumerate(names):
        if name in seen:
            duplicates.append(f"{name!r} (columns {seen[name] + 1} and {index + 1})")
        else:
            seen[name] = index
    if duplicates:
        raise CsvInputError("CSV header repeats column(s): " + ", ".join(duplicates))
    return names


def _ensure_field_limit(max_cell_bytes: int) -> None:
    """Raise (never lower) the csv module's per-process limit, so our check, naming the row, fires first."""
    if csv.field_size_limit() < max_cell_bytes + 1:
        csv.field_size_limit(max_cell_bytes + 1)


def parse_header(text: str) -> list[str]:
    """The checked header of CSV text (only the first record is read)."""
    reader = csv.reader(io.StringIO(text.lstrip(BOM) if text.startswith(BOM) else text, newline=""))
    _ensure_field_limit(DEFAULT_MAX_CELL_BYTES)
    for record in reader:
        if record and any(cell.strip() for cell in record):
            return check_header(record)
    raise CsvInputError("CSV is empty: no header row")


def header_from_probe(data: bytes, complete: bool) -> list[str]:
    """The header from the first bytes of a file (`complete` when that is the whole file)."""
    if not complete:
        cut = data.rfind(b"\n")
        if cut < 0:
            raise CsvInputError(f"CSV header is longer than {len(data)} bytes")
        data = data[: cut + 1]
    return parse_header(decode_csv_bytes(data))


def iter_rows(
    lines: Iterable[str], max_cell_bytes: int = DEFAULT_MAX_CELL_BYTES
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row_number, {column: cell}) for each data row of decoded CSV text, 1-based."""
    _ensure_field_limit(max_cell_bytes)
    reader = csv.reader(lines)
    header: list[str] | None = None
    row_number = 0
    try:
        for record in reader:
            if not record or not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = check_header(record)
                continue
            row_number += 1
            bad = _bad_byte(record)
            if bad is not None:
                where = repr(header[bad[0]]) if bad[0] < len(header) else f"{bad[0] + 1} (beyond the header)"
                raise CsvInputError(
                    f"row {row_number}, column {where}: not UTF-8: byte 0x{bad[1]:02x}; "
                    "re-save the file as UTF-8"
                )
            if len(record) > len(header):
                extra = record[len(header) :]
                if any(cell.strip() for cell in extra):
                    raise CsvInputError(
                        f"row {row_number} has {len(record)} cells but the header has {len(header)} columns"
                    )
                record = record[: len(header)]
            for column, cell in zip(header, record):
                if len(cell) > max_cell_bytes // 4 and len(cell.encode("utf-8")) > max_cell_bytes:
                    raise CsvInputError(
                        f"row {row_number}, column {column!r}: cell is over {max_cell_bytes} bytes"
                    )
            row: dict[str, Any] = dict(zip(header, record))
            for column in header[len(record) :]:
                row[column] = None
            yield row_number, row
    except csv.Error as exc:
        raise CsvInputError(f"CSV is malformed after row {row_number}: {exc}") from None
    if header is None:
        raise CsvInputError("CSV is empty: no header row")
