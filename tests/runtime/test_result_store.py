from __future__ import annotations

from decimal import Decimal

import pytest

from factory.runtime.result_store import (
    RowIdError,
    RowResult,
    build_item,
    decode_item,
    from_dynamodb,
    item_size,
    make_batch_id,
    result_from_mapped_row,
    row_id,
    to_dynamodb,
)


@pytest.mark.parametrize(
    ("number", "expected"), [(0, "row_000000"), (1, "row_000001"), (999999, "row_999999")]
)
def test_row_id_is_zero_padded(number, expected):
    assert row_id(number) == expected


def test_row_ids_sort_in_row_order_past_a_million():
    numbers = [1, 2, 10, 99, 100, 12345, 999_999, 1_000_000, 1_000_001, 9_999_999, 10_000_000, 123_456_789]
    ids = [row_id(n) for n in numbers]
    assert sorted(ids) == ids
    assert ids[7:] == ["row_~1000000", "row_~1000001", "row_~9999999", "row_~~10000000", "row_~~~123456789"]
    assert row_id(1_000_000, width=7) == "row_1000000"


@pytest.mark.parametrize("bad", [-1, "1", True, 1.0])
def test_row_id_refuses_unsortable(bad):
    with pytest.raises(RowIdError):
        row_id(bad)


def test_decimal_round_trip():
    data = {"a": 0.1, "b": 3, "c": [1.5, {"d": 2.0}], "e": True, "f": None, "g": float("nan"), "h": "x"}
    stored = to_dynamodb(data)
    assert stored["a"] == Decimal("0.1") and stored["c"][1]["d"] == Decimal("2.0") and stored["g"] is None
    assert from_dynamodb(stored) == {
        "a": 0.1,
        "b": 3,
        "c": [1.5, {"d": 2}],
        "e": True,
        "f": None,
        "g": None,
        "h": "x",
    }


def test_build_item_from_mapped_row():
    mapped = {
        "alk": "A1",
        "speed": 12.5,
        "_status": "PARTIAL",
        "_error": "optional field(s) missing: x",
        "_timestamp": "2026-01-01T00:00:00.000Z",
    }
    result = result_from_mapped_row(make_batch_id("bt", "exec-1"), 3, {"postcode": "SW1A 1AA"}, mapped, 1500)
    item = build_item(result, now_epoch=1_000_000)
    assert item == {
        "batch_id": "bt#exec-1",
        "row_id": "row_000003",
        "row_number": 3,
        "status": "PARTIAL",
        "error": "optional field(s) missing: x",
        "input_data": {"postcode": "SW1A 1AA"},
        "output_data": {"alk": "A1", "speed": Decimal("12.5")},
        "execution_time_ms": 1500,
        "timestamp": "2026-01-01T00:00:00.000Z",
        "ttl": 1_000_000 + 7 * 86400,
    }
    assert decode_item(item)["output_data"] == {"alk": "A1", "speed": 12.5}


def test_item_size_counts_utf8_bytes():
    assert item_size({"a": "é"}) == len('{"a":"é"}'.encode())


def test_row_result_defaults():
    result = RowResult(batch_id="b", row_number=1, status="FAILED")
    assert build_item(result, now_epoch=0, ttl_days=1)["ttl"] == 86400
