from __future__ import annotations

import enum
import io
from collections import OrderedDict, defaultdict
from decimal import Decimal

import pytest

from factory.runtime.aggregator import (
    MIN_PART_BYTES,
    S3MultipartSink,
    aggregate_batch,
    cell_text,
    default_csv_key,
    handler,
    write_csv,
)
from factory.runtime.output_mapping.structured import extract_structured_output
from factory.runtime.result_store import result_from_mapped_row
from factory.runtime.result_writer import ResultWriter

RESULTS_TABLE = "batch_processor_results"
RESULTS_BUCKET = "batch-results"
BATCH = "bt#exec-9"
FIELDS = ["success", "exchange_code", "speed", "metadata"]


def item(n, status="SUCCESS", inputs=None, outputs=None, error=None, ms=100):
    return {
        "row_id": f"row_{n:06d}",
        "status": status,
        "error": error,
        "execution_time_ms": ms,
        "timestamp": "2026-01-01T00:00:00.000Z",
        "input_data": inputs or {},
        "output_data": outputs or {},
    }


PAGES = [
    [
        item(
            1,
            inputs={"postcode": "SW1A 1AA", "number": "1"},
            outputs={"success": True, "exchange_code": "ELY", "speed": 12.5, "metadata": '{"a":1}'},
        )
    ],
    [
        item(
            2,
            "FAILED",
            inputs={"number": "2", "postcode": '=HYPERLINK("x")'},
            error="no structured output",
            ms=None,
        ),
        item(
            3,
            "PARTIAL",
            inputs={"postcode": "E1 6AN", "number": "-3", "unmapped": "x"},
            outputs={"success": False, "exchange_code": "+44 line\nbreak", "speed": 0},
            error="optional field(s) missing: metadata",
        ),
    ],
]
EXPECTED = (
    b"postcode,number,success,exchange_code,speed,metadata,_status,_error,_execution_time_ms,_timestamp\r\n"
    b'SW1A 1AA,1,true,ELY,12.5,"{""a"":1}",SUCCESS,,100,2026-01-01T00:00:00.000Z\r\n'
    b'"\'=HYPERLINK(""x"")",2,,,,,FAILED,no structured output,,2026-01-01T00:00:00.000Z\r\n'
    b'E1 6AN,-3,false,"\'+44 line\nbreak",0,,PARTIAL,optional field(s) missing: metadata,100,2026-01-01T00:00:00.000Z\r\n'
)


class RecordingSink(io.BytesIO):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, data):
        self.writes += 1
        return super().write(data)


def test_csv_bytes_columns_and_counts():
    sink = RecordingSink()
    summary = write_csv(PAGES, sink, FIELDS, input_columns=["postcode", "number"])
    assert sink.getvalue() == EXPECTED
    assert summary.rows == 3 and summary.counts == {"SUCCESS": 1, "FAILED": 1, "PARTIAL": 1}
    assert sink.writes == 2  # one write per page: memory is bounded by a page


def test_input_columns_default_to_first_items_order():
    sink = io.BytesIO()
    summary = write_csv(PAGES, sink, FIELDS)
    assert summary.columns[:2] == ["postcode", "number"]


def test_neutralising_can_be_switched_off():
    sink = io.BytesIO()
    write_csv(PAGES, sink, FIELDS, ["postcode", "number"], neutralise_formulas=False)
    assert b'"=HYPERLINK(""x"")",2' in sink.getvalue()


def test_empty_batch_is_a_header():
    sink = io.BytesIO()
    summary = write_csv([[]], sink, ["a"], ["in"])
    assert sink.getvalue() == b"in,a,_status,_error,_execution_time_ms,_timestamp\r\n"
    assert summary.rows == 0 and summary.counts == {}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (2.5, "2.5"),
        ("-12.5", "-12.5"),
        ("+1e5", "+1e5"),
        ("-", "'-"),
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        ("", ""),
        ({"k": "é"}, '{"k":"é"}'),
        (["=x"], '["=x"]'),
        (-4, "-4"),
    ],
)
def test_cell_text(value, text):
    """What csv.writer writes for the cell: None as "", numbers as str() (their repr)."""
    cell = cell_text(value)
    assert ("" if cell is None else str(cell)) == text


def test_default_key():
    assert default_csv_key("bt#exec-1") == "results/bt/exec-1.csv"


@pytest.mark.slow
def test_written_batch_aggregates_to_expected_csv(results_store, broadband_mapping):
    dynamodb, s3 = results_store
    rows = [
        (
            {"building_number": "1", "street": "High St", "postcode": "CB1 1AA"},
            {
                "structured_output": {
                    "success": True,
                    "fttp_avail": True,
                    "soadsl_dsl_speed": 0.1,
                    "metadata": {"k": [1]},
                }
            },
        ),
        ({"building_number": "2", "street": "Low St", "postcode": "CB1 1AB"}, {"error": "timeout"}),
    ]
    results = []
    for n, (inputs, response) in enumerate(rows, start=1):
        mapped = extract_structured_output(response, broadband_mapping)
        mapped["_timestamp"] = "2026-01-01T00:00:00.000Z"
        results.append(result_from_mapped_row(BATCH, n, inputs, mapped, 1000 * n))
    ResultWriter(dynamodb, RESULTS_TABLE).write(reversed(results))
    summary = aggregate_batch(
        dynamodb,
        s3,
        RESULTS_TABLE,
        BATCH,
        RESULTS_BUCKET,
        broadband_mapping["structured_output_fields"],
        ["building_number", "street", "postcode"],
        page_size=1,
    )
    assert summary.csv_uri == "s3://batch-results/results/bt/exec-9.csv"
    assert summary.counts == {"SUCCESS": 1, "FAILED": 1}  # absent optional fields are no fault
    body = s3.get_object(Bucket=RESULTS_BUCKET, Key="results/bt/exec-9.csv")["Body"].read()
    lines = body.decode().split("\r\n")
    assert lines[0] == ",".join(
        [
            "building_number",
            "street",
            "postcode",
            *broadband_mapping["structured_output_fields"],
            "_status",
            "_error",
            "_execution_time_ms",
            "_timestamp",
        ]
    )
    assert lines[1] == (
        '1,High St,CB1 1AA,true,,,true,,,0.1,,,,,"{""k"":[1]}",SUCCESS,,1000,2026-01-01T00:00:00.000Z'
    )
    assert lines[2].startswith(
        '2,Low St,CB1 1AB,,,,,,,,,,,,,FAILED,"no structured output in the agent response;'
    )
    assert lines[2].endswith(",2000,2026-01-01T00:00:00.000Z")
    assert lines[3] == "" and len(lines) == 4


@pytest.mark.slow
def test_multipart_upload_as_parts_fill(results_store):
    _, s3 = results_store
    sink = S3MultipartSink(s3, RESULTS_BUCKET, "big.csv", part_bytes=MIN_PART_BYTES)
    chunk = b"x" * (1024 * 1024)
    for _ in range(6):
        sink.write(chunk)
    assert len(sink.parts) == 1 and len(sink.buffer) == 1024 * 1024
    sink.close()
    head = s3.head_object(Bucket=RESULTS_BUCKET, Key="big.csv")
    assert head["ContentLength"] == 6 * 1024 * 1024
    assert head["ETag"].endswith('-2"')


@pytest.mark.slow
def test_failure_aborts_the_upload(results_store):
    dynamodb, s3 = results_store

    def broken_pages():
        yield [item(1)]
        raise RuntimeError("query failed")

    sink = S3MultipartSink(s3, RESULTS_BUCKET, "x.csv", part_bytes=MIN_PART_BYTES)
    sink.write(b"y" * MIN_PART_BYTES)
    assert sink.upload_id
    sink.abort()
    assert s3.list_multipart_uploads(Bucket=RESULTS_BUCKET).get("Uploads", []) == []
    with pytest.raises(RuntimeError):
        write_csv(broken_pages(), io.BytesIO(), ["a"])


def test_part_size_floor():
    with pytest.raises(ValueError):
        S3MultipartSink(None, "b", "k", part_bytes=1024)


@pytest.mark.slow
def test_handler(results_store, monkeypatch):
    monkeypatch.setenv("RESULTS_TABLE", RESULTS_TABLE)
    monkeypatch.setenv("RESULTS_BUCKET", RESULTS_BUCKET)
    out = handler({"batch_id": "none#0", "output_fields": ["a"], "input_columns": ["x"]})
    assert out == {
        "rows": 0,
        "counts": {},
        "columns": ["x", "a", "_status", "_error", "_execution_time_ms", "_timestamp"],
        "csv_uri": "s3://batch-results/results/none/0.csv",
    }


class Colour(enum.IntEnum):
    RED = 1


class Label(str):
    pass


def test_formula_cells_are_neutralised_in_every_column():
    """`@`, `=`, `+`, `-`, tab and CR starts get a leading quote wherever the cell is; plain numbers do not."""
    page = [
        item(
            1,
            "@FAILED",
            inputs={"postcode": "@SUM(A1)", "number": "-2"},
            outputs={"success": "+1+1", "exchange_code": "\tx", "speed": "-1.5e3", "metadata": {"k": "=x"}},
            error="=cmd|' /C calc'!A0",
        )
    ]
    sink = io.BytesIO()
    write_csv([page], sink, FIELDS, ["postcode", "number"])
    assert sink.getvalue().split(b"\r\n")[1] == (
        b'\'@SUM(A1),-2,\'+1+1,\'\tx,-1.5e3,"{""k"":""=x""}",\'@FAILED,\'=cmd|\' /C calc\'!A0,100,'
        b"2026-01-01T00:00:00.000Z"
    )


def test_cells_of_other_types_are_written_as_text():
    page = [
        item(
            1,
            inputs=defaultdict(str, {"postcode": Label("=x"), "number": Decimal("1.50")}),
            outputs=OrderedDict(success=Colour.RED, exchange_code=["a", 1], speed=float("inf")),
        )
    ]
    sink = io.BytesIO()
    summary = write_csv([page], sink, FIELDS, ["postcode", "number"])
    assert sink.getvalue().split(b"\r\n")[1] == (
        b'\'=x,1.50,1,"[""a"",1]",inf,,SUCCESS,,100,2026-01-01T00:00:00.000Z'
    )
    assert summary.counts == {"SUCCESS": 1}
