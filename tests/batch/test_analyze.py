"""`batch analyze` and `batch config`: streamed CSV facts and a sensible mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from factory.batch import csv_source
from factory.batch.agents import resolve_agent
from factory.batch.analyze import analyze_csv, infer_type
from factory.cli import main
from factory.errors import FactoryError
from tests.conftest import REPO

GENERATED = REPO / "generated"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    "values,expected",
    [
        (["1", "23", ""], "integer"),
        (["1.5", "2"], "number"),
        (["yes", "No", "TRUE"], "boolean"),
        (["2026-01-02"], "date"),
        (["23A", "1"], "string"),
        ([], "string"),
    ],
)
def test_infer_type(values: list[str], expected: str) -> None:
    assert infer_type(values) == expected


def test_mapping_uses_authored_exact_normalized_and_fuzzy_matches(tmp_path: Path) -> None:
    csv_path = write(tmp_path / "q.csv", "Annual kWh,Post Code,fuel,Payment Method Preferred,notes\n3100,SW1A 1AA,gas,direct_debit,x\n")
    agent = resolve_agent("energy_tariff_quotes", GENERATED)
    analysis = analyze_csv(csv_path, agent)
    methods = {m.field: (m.column, m.method) for m in analysis.matches}
    assert methods["annual_kwh"] == ("Annual kWh", "authored")
    assert methods["postcode"] == ("Post Code", "authored")  # authored "Postcode", spacing ignored
    assert methods["fuel_type"] == ("fuel", "authored")  # authored "Fuel", any case
    assert methods["payment_method"][0] == "Payment Method Preferred"
    assert analysis.unused_columns == ["notes"]
    assert analysis.unmapped_required == []
    assert analysis.inferred_types["Annual kWh"] == "integer"


def test_names_match_ignoring_case_spacing_and_punctuation(tmp_path: Path) -> None:
    csv_path = write(tmp_path / "b.csv", "Building Number,STREET,Full-Address,postcode\n1,High St,x,SW1A 1AA\n")
    analysis = analyze_csv(csv_path, resolve_agent("broadband_availability_bt_wholesale", GENERATED))
    assert [(m.column, m.field, m.method) for m in analysis.matches] == [
        ("Building Number", "building_number", "normalized"),
        ("STREET", "street", "normalized"),
        ("postcode", "postcode", "exact"),
        ("Full-Address", "full_address", "normalized"),
    ]


def test_required_fields_left_unmapped_are_listed_and_exit_1(tmp_path: Path) -> None:
    csv_path = write(tmp_path / "a.csv", "building_number,colour\n1,red\n")
    result = CliRunner().invoke(main, ["batch", "analyze", str(csv_path), "--agent",
                                       "broadband-availability-bt-wholesale-agent", "--generated", str(GENERATED)])
    assert result.exit_code == 1
    assert "required fields without a column: street, postcode" in result.stderr


def test_row_count_is_streamed_and_json_output(tmp_path: Path) -> None:
    lines = ["building_number,street,postcode"] + [f"{i},High Street,SW1A 1AA" for i in range(2500)]
    csv_path = write(tmp_path / "big.csv", "\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["batch", "analyze", str(csv_path), "--agent",
                                       "broadband_availability_bt_wholesale", "--generated", str(GENERATED), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["row_count"] == 2500 and len(report["sample_rows"]) == 5
    assert report["unmapped_optional_fields"] == ["full_address"]


def test_config_writes_an_editable_mapping(tmp_path: Path) -> None:
    csv_path = write(tmp_path / "c.csv", "No.,Street,Postcode\n1,High Street,SW1A 1AA\n")
    out = tmp_path / "mapping.yaml"
    result = CliRunner().invoke(main, ["batch", "config", str(csv_path), "--agent",
                                       "broadband_availability_bt_wholesale", "--generated", str(GENERATED), "-o", str(out)])
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(out.read_text())
    assert config["input_mapping"]["column_mappings"] == {"Street": "street", "Postcode": "postcode"}
    assert config["input_mapping"]["unmapped_required_fields"] == ["building_number"]
    assert config["structured_output_fields"][0] == "success"


def test_unknown_agent_names_the_known_ones(tmp_path: Path) -> None:
    csv_path = write(tmp_path / "c.csv", "a\n1\n")
    result = CliRunner().invoke(main, ["batch", "analyze", str(csv_path), "--agent", "nope", "--generated", str(GENERATED)])
    assert result.exit_code == 1
    assert "no agent named 'nope'" in result.stderr and "planning-applications-agent" in result.stderr


# Hostile CSV: each case is a clear error or a documented handling.
def test_bom_and_crlf_are_handled(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\r\n1,2\r\n")
    assert csv_source.header(path) == ["a", "b"]
    assert [r.values for r in csv_source.rows(path)] == [{"a": "1", "b": "2"}]


def test_quoted_newlines_and_big_cells_are_kept(tmp_path: Path) -> None:
    big = "x" * 1_000_000
    path = write(tmp_path / "q.csv", f'a,b\n"line1\nline2",{big}\n')
    (row,) = csv_source.rows(path)
    assert row.values == {"a": "line1\nline2", "b": big}


def test_short_rows_are_padded_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "a,b,c\n1\n\n2,3,4,\n")
    assert [r.values for r in csv_source.rows(path)] == [{"a": "1", "b": "", "c": ""}, {"a": "2", "b": "3", "c": "4"}]


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "CSV is empty: no header row"),
        (b"a,a\n1,2\n", "CSV header repeats column(s): 'a' (columns 1 and 2)"),
        (b"a,,b\n", "blank column name(s) at position(s) 2"),
        (b"a,b\n1,2,3\n", "row 1 has 3 cells but the header has 2 columns"),
        (b"a,b\n1,\xff\n", "not UTF-8: byte 0xff"),
    ],
    ids=["empty", "duplicate-header", "unnamed-column", "ragged-long-row", "not-utf8"],
)
def test_unreadable_csv_is_a_clear_error(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(FactoryError) as caught:
        csv_source.header(path)
        list(csv_source.rows(path))
    (problem,) = caught.value.problems
    assert message in problem.render() and "bad.csv" in problem.render()
