"""The mixed CSV the executed batch runs on, and what each row must come out as."""

from __future__ import annotations

import csv
import io

COLUMNS = ["building_number", "street", "postcode", "full_address"]
POSTCODES = ["CB1 2AB", "SW1A 1AA", "EH1 1YZ", "M1 1AE"]


def mixed_rows(count: int) -> list[tuple[dict[str, str], str]]:
    """(row, expected _status) for `count` rows: good ones, and every kind of failure, in a fixed cycle.

    - every 7th row has no building number: the input does not map (FAILED before the agent);
    - every 9th row has a ZZ postcode: the browser fails (FAILED by the agent);
    - every 11th row has a postcode off the input schema's pattern: the input does not map (FAILED);
    - row 2 holds a quoted newline and row 3 a formula cell; both are good rows.
    """
    rows = []
    for number in range(1, count + 1):
        postcode = POSTCODES[number % len(POSTCODES)]
        row = {
            "building_number": str(number),
            "street": f'Mill "Road" {number}',
            "postcode": postcode,
            "full_address": "",
        }
        status = "SUCCESS"
        if number == 2:
            row["street"] = "Mill Road,\nFlat 2"
        if number == 3:
            row["full_address"] = '=HYPERLINK("http://evil.example","x")'
        if number % 7 == 0:
            row["building_number"], status = "", "FAILED"
        elif number % 9 == 0:
            row["postcode"], status = "ZZ9 9ZZ", "FAILED"
        elif number % 11 == 0:
            row["postcode"], status = "not a postcode", "FAILED"
        rows.append((row, status))
    return rows


def csv_text(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
