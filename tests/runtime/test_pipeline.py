"""The runtime end to end on one machine: CSV bytes to result CSV, through moto."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from factory.runtime.aggregator import aggregate_batch
from factory.runtime.batch_validator import validate_batch
from factory.runtime.csv_source import decode_csv_bytes, iter_rows
from factory.runtime.input_mapper import InputRowError, transform_input
from factory.runtime.output_mapping.structured import extract_structured_output
from factory.runtime.result_store import RowResult, make_batch_id, result_from_mapped_row
from factory.runtime.result_writer import ResultWriter, caught_error_text
from factory.runtime.template_renderer import render_script

RESULTS_TABLE = "batch_processor_results"
RESULTS_BUCKET = "batch-results"
TEMPLATE = (
    Path(__file__).resolve().parents[2] / "generated" / "templates" / "energy_tariff_quotes_v2.0.1.json"
)

CSV = (
    "\ufeffPostcode,Annual kWh,Fuel,payment_method,Notes\r\n"
    "SW1A 1AA,2900,gas,direct_debit\r\n"
    "E1 6AN,lots,,,\r\n"
    "CB1 1AA,3100,dual,on_receipt,\"=cmd|' /C calc'!A0\"\r\n"
).encode("utf-8")


def fake_browser(script: dict, row_number: int) -> dict:
    """The executor's result for a rendered script: the last act_with_schema step holds the output."""
    assert "{{" not in script["steps"][0]["prompt"]
    parsed = {
        "quote_date": "2026-01-01",
        "tariffs": [{"supplier": "A", "tariff_name": "Fix", "annual_cost_gbp": 900.5}],
    }
    if row_number == 3:
        parsed = {"quote_date": "2026-01-01", "tariff_count": 1, "cheapest_supplier": "A", "tariffs": []}
    return {
        "success": True,
        "step_results": [
            {"action": "act", "success": True},
            {"action": "act_with_schema", "success": True, "parsed_response": parsed, "matches_schema": True},
        ],
    }


@pytest.mark.slow
def test_csv_through_mappers_store_and_aggregator(results_store, energy_mapping, energy_record):
    dynamodb, s3 = results_store
    template = json.loads(TEMPLATE.read_text())
    rows = list(iter_rows(io.StringIO(decode_csv_bytes(CSV), newline="")))
    header = list(rows[0][1])
    check = validate_batch(energy_record, energy_mapping, header)
    assert check["valid"], check["errors"]
    batch_id = make_batch_id("energy-tariff-quotes", "exec-1")
    results = []
    for row_number, row in rows:
        try:
            agent_input = transform_input(row, energy_mapping, check["input_schema"], row_number)
        except InputRowError as exc:
            error = caught_error_text({"Error": "InputRowError", "Cause": str(exc)})
            results.append(
                RowResult(
                    batch_id, row_number, "FAILED", row, error=error, timestamp="2026-01-01T00:00:00.000Z"
                )
            )
            continue
        response = fake_browser(render_script(template, agent_input["data"]), row_number)
        mapped = extract_structured_output(response, energy_mapping, check["output_schema"])
        mapped["_timestamp"] = "2026-01-01T00:00:00.000Z"
        results.append(result_from_mapped_row(batch_id, row_number, row, mapped, 5))
    ResultWriter(dynamodb, RESULTS_TABLE).write(results)
    summary = aggregate_batch(
        dynamodb,
        s3,
        RESULTS_TABLE,
        batch_id,
        RESULTS_BUCKET,
        energy_mapping["structured_output_fields"],
        check["input_columns"],
    )
    assert summary.counts == {"FAILED": 1, "SUCCESS": 2}  # absent optional fields are no fault
    body = (
        s3.get_object(Bucket=RESULTS_BUCKET, Key="results/energy-tariff-quotes/exec-1.csv")["Body"]
        .read()
        .decode()
    )
    assert body.split("\r\n") == [
        "Postcode,Annual kWh,Fuel,payment_method,Notes,quote_date,tariff_count,cheapest_supplier,tariffs,"
        "_status,_error,_execution_time_ms,_timestamp",
        'SW1A 1AA,2900,gas,direct_debit,,2026-01-01,,,"[{""supplier"":""A"",""tariff_name"":""Fix"",""annual_cost_gbp"":900.5}]",'
        "SUCCESS,,5,2026-01-01T00:00:00.000Z",
        "E1 6AN,lots,,,,,,,,FAILED,row 2: column 'Annual kWh' (annual_kwh): 'lots' is not an integer,,"
        "2026-01-01T00:00:00.000Z",
        "CB1 1AA,3100,dual,on_receipt,'=cmd|' /C calc'!A0,2026-01-01,1,A,[],SUCCESS,,5,2026-01-01T00:00:00.000Z",
        "",
    ]
