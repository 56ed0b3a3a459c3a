from __future__ import annotations

import io

import pytest

from factory.runtime.csv_source import (
    CsvInputError,
    decode_csv_bytes,
    header_from_probe,
    iter_rows,
    parse_header,
)


def rows(data: bytes, **kwargs):
    """A whole file's rows, decoded as the local reader decodes (a bad byte reaches `iter_rows`, which names it)."""
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    return list(iter_rows(io.StringIO(text, newline=""), **kwargs))


def test_bom_crlf_and_quoted_newlines():
    data = '\ufeffPostcode,Note\r\n"SW1A 1AA","line one\r\nline two"\r\n\r\nE1 6AN,"say ""hi"""\r\n'.encode()
    assert rows(data) == [
        (1, {"Postcode": "SW1A 1AA", "Note": "line one\r\nline two"}),
        (2, {"Postcode": "E1 6AN", "Note": 'say "hi"'}),
    ]


def test_ragged_rows():
    assert rows(b"a,b,c\n1\n1,2,3,,\n") == [
        (1, {"a": "1", "b": None, "c": None}),
        (2, {"a": "1", "b": "2", "c": "3"}),
    ]
    with pytest.raises(CsvInputError, match="row 2 has 4 cells but the header has 3 columns"):
        rows(b"a,b,c\n1,2,3\n1,2,3,4\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "CSV is empty: no header row"),
        (b"\n\n", "CSV is empty: no header row"),
        (b"\xef\xbb\xbf", "CSV is empty: no header row"),
        (b"a,b,a\n1,2,3\n", "CSV header repeats column\\(s\\): 'a' \\(columns 1 and 3\\)"),
        (b"a,,b\n", "blank column name\\(s\\) at position\\(s\\) 2"),
        (b"a\nok\n\xff\xfe\n", "row 2, column 'a': not UTF-8: byte 0xff"),
    ],
)
def test_hostile_files_give_clear_errors(data, message):
    with pytest.raises(CsvInputError, match=message):
        rows(data)


def test_header_only_is_an_empty_batch():
    assert rows(b"a,b\r\n") == []


def test_one_megabyte_cell_is_read_and_limit_is_enforced():
    big = "x" * (1024 * 1024)
    data = f"a,b\n1,{big}\n".encode()
    assert rows(data)[0][1]["b"] == big
    with pytest.raises(CsvInputError, match="row 1, column 'b': cell is over 1000 bytes"):
        rows(data, max_cell_bytes=1000)


def test_latin1_file_is_refused_not_garbled():
    with pytest.raises(CsvInputError, match="re-save it as UTF-8"):
        decode_csv_bytes("Café\n".encode("latin-1"))


def test_header_from_a_probe_of_a_larger_file():
    assert header_from_probe(b"\xef\xbb\xbfPostcode , Fuel\r\n1,2\r\n3,", complete=False) == [
        "Postcode",
        "Fuel",
    ]
    with pytest.raises(CsvInputError, match="header is longer than"):
        header_from_probe(b"a,b,c", complete=False)
    assert parse_header('"a,1",b\n') == ["a,1", "b"]
