"""The batch machine's two per-child Lambdas, on the events the child really sends them."""

from __future__ import annotations

import json

from factory.runtime.child_inputs import map_rows
from factory.runtime.child_results import child_results

ROWS = [
    {
        "row": {"building_number": "12", "street": "Mill Road", "postcode": "CB1 2AB", "full_address": ""},
        "row_number": 1,
    },
    {
        "row": {"building_number": "", "street": "Mill Road", "postcode": "CB1 2AB", "full_address": ""},
        "row_number": 2,
    },
    {
        "row": {"building_number": "7", "street": "High St", "postcode": "EH1 1YZ", "full_address": ""},
        "row_number": 3,
    },
]


def agent_batch(broadband_mapping, broadband_record) -> dict:
    schemas = broadband_record["structured_output"]["schemas"]
    return {
        "batch_id": "bt#run",
        "mapping": broadband_mapping,
        "input_schema": schemas["input"],
        "output_schema": schemas["output"],
        "output_source": "structured_output",
        "target": {"type": "agent", "name": broadband_record["agent_name"]},
    }


def test_map_inputs_maps_a_childs_rows_once_refusing_rows_alone(broadband_mapping, broadband_record):
    mapped = map_rows(ROWS, agent_batch(broadband_mapping, broadband_record))
    assert [call["n"] for call in mapped["calls"]] == [1, 3]
    payload = mapped["calls"][0]["payload"]
    assert set(payload) == {"messages", "input"} and payload["input"]["postcode"] == "CB1 2AB"
    assert payload["messages"][0]["role"] == "user"
    (refused,) = mapped["failed"]
    assert refused["n"] == 2 and refused["ms"] == 0
    assert refused["error"]["Error"] == "InputRowError" and "building_number" in refused["error"]["Cause"]


def test_a_tool_gets_the_fields_alone():
    batch = {
        "mapping": {"input_mapping": {"column_mappings": {"text": "text"}}},
        "target": {"type": "tool", "name": "t"},
    }
    mapped = map_rows([{"row": {"text": " hi "}, "row_number": 4}], batch)
    assert mapped == {"calls": [{"n": 4, "payload": {"text": "hi"}}], "failed": []}


class Executions:
    """DescribeExecution over answers kept by ARN, counting the calls."""

    def __init__(self, outputs: dict[str, dict]) -> None:
        self.outputs, self.calls = outputs, 0

    def describe_execution(self, executionArn: str) -> dict:
        self.calls += 1
        return {"status": "SUCCEEDED", "input": "{}", "output": json.dumps(self.outputs[executionArn])}


def test_write_results_reads_each_agent_answer_back_and_keeps_every_row(broadband_mapping, broadband_record):
    from tests.sfn.outputs import valid_output

    schema = broadband_record["structured_output"]["schemas"]["output"]
    answer = {"structured_output": valid_output(schema)}
    executions = Executions({"arn:1": answer})
    event = {
        "batch_id": "bt#run",
        "batch": agent_batch(broadband_mapping, broadband_record),
        "rows": ROWS,
        "failed": [
            {"n": 2, "error": {"Error": "InputRowError", "Cause": "row 2: building_number is empty"}, "ms": 0}
        ],
        "results": [
            {"n": 1, "arn": "arn:1", "ms": 40},
            {"n": 3, "error": {"Error": "BrowserRunFailed", "Cause": "crashed"}, "ms": 9},
        ],
    }
    results = sorted(child_results(event, lambda: executions), key=lambda r: r.row_number)
    assert executions.calls == 1
    assert [(r.row_number, r.status) for r in results] == [
        (1, "SUCCESS"),
        (2, "FAILED"),
        (3, "FAILED"),
    ]  # optional fields absent
    assert results[0].input_data == ROWS[0]["row"] and results[0].execution_time_ms == 40
    required = dict(answer["structured_output"])
    assert required and {k: results[0].output_data[k] for k in required} == required
    assert [r.error for r in results[1:]] == ["row 2: building_number is empty", "BrowserRunFailed: crashed"]
