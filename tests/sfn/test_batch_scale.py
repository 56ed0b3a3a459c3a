"""The batch machine at scale, counted from executed histories (Distributed Map children and agents included).

The per-row cost of a STANDARD workflow is its state transitions; the design's
child workflow spends, per batch, ReadRequest, RequestWellFormed, ValidateInput,
InputValid, ProcessRows, Aggregate and Done (7); per child of ROWS_PER_CHILD rows,
MapInputs, TargetKind, <Kind>Rows and WriteResults (4); per row, one Call<Kind>,
plus <Kind>RowFailed for a row whose call fails (a row the input mapper refuses
never reaches its target). Lambda calls of the batch machine's own functions:
ValidateInput and Aggregate per batch, MapInputs and WriteResults per child.
"""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
import yaml

from factory.infra.batch_processor import ROWS_PER_CHILD
from tests.sfn import agent_behaviour
from tests.sfn.conftest import BATCH_MACHINE
from tests.sfn.deployment import ACCOUNT, REGION, ROLE_ARN, _empty_zip
from tests.sfn.history_counts import HISTORY_LIMIT_EVENTS, STATE_LIMIT_BYTES, recorded
from tests.sfn.test_batch_machine import blank_timings, mapping, put_csv, results_csv
from tests.sfn.test_generic_targets import put_csv_rows

pytestmark = pytest.mark.slow
ROWS = 200
PER_BATCH, PER_CHILD = 7, 4
OUR_RUNTIME = ("batch_validator", "child_inputs", "child_results", "aggregator")


def state_names(scope: dict) -> set[str]:
    names = set()
    for name, body in scope["States"].items():
        names.add(name)
        if "ItemProcessor" in body:
            names |= state_names(body["ItemProcessor"])
    return names


@pytest.fixture(scope="module")
def batch_machine(local_aws):
    """(the batch machine's state names, its own Lambda functions' names)."""
    deployment = local_aws.deployment
    names = state_names(deployment.machines[BATCH_MACHINE])
    for other, definition in deployment.machines.items():
        if other != BATCH_MACHINE:  # a state counted as the batch machine's is the batch machine's
            assert not names & state_names(definition), other
    functions = {
        name for name, f in deployment.functions.items() if f["handler"].split(".")[-2] in OUR_RUNTIME
    }
    assert len(functions) == len(OUR_RUNTIME)
    return names, functions


def good_rows(count: int) -> list[dict[str, str]]:
    postcodes = ["CB1 2AB", "SW1A 1AA", "EH1 1YZ", "M1 1AE"]
    return [
        {
            "building_number": str(n),
            "street": f"Mill Road {n}",
            "postcode": postcodes[n % 4],
            "full_address": "",
        }
        for n in range(1, count + 1)
    ]


def expected_transitions(rows: int, called: int, call_failed: int) -> int:
    return PER_BATCH + PER_CHILD * math.ceil(rows / ROWS_PER_CHILD) + called + call_failed


def test_an_agent_batch_whose_rows_all_succeed_costs_under_two_transitions_a_row(
    local_aws, browser, batch_machine
):
    states, functions = batch_machine
    browser.executor = agent_behaviour.execute
    put_csv(local_aws, "inputs/scale-agent.csv", good_rows(ROWS))
    with recorded() as record:
        run = local_aws.run(
            BATCH_MACHINE, {"csv_key": "inputs/scale-agent.csv", "mapping": mapping(local_aws)}, timeout=900
        )
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    assert (run.output["total_rows"], run.output["successful_rows"]) == (ROWS, ROWS)
    transitions, calls = record.transitions(states), record.calls(functions)
    assert record.entered["CallAgent"] == ROWS and record.entered["AgentRowFailed"] == 0
    assert transitions == expected_transitions(ROWS, ROWS, 0) == 239
    assert calls == 2 + 2 * math.ceil(ROWS / ROWS_PER_CHILD) == 18
    assert transitions / ROWS <= 2.0 and calls / ROWS <= 0.15  # 1.195 and 0.09
    within_quotas(record, states)


def within_quotas(record, states: set[str]) -> None:
    """Every state's output within 256 KiB and every history within 25,000 events, children included."""
    for name in states:
        assert record.largest_output.get(name, 0) <= STATE_LIMIT_BYTES, name
    assert max(record.events_per_history.values()) < HISTORY_LIMIT_EVENTS


TOOL = "scale-classify"


@pytest.fixture(scope="module")
def tool_arn(local_aws):
    local_aws.clients["lambda"].create_function(
        FunctionName=TOOL,
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="tests.sfn.foreign_targets.classify",
        Code={"ZipFile": _empty_zip()},
    )
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{TOOL}"


def test_a_tool_batch_with_failed_rows_is_counted_row_by_row(local_aws, batch_machine, tool_arn):
    """Every 10th row crashes the tool (a failed call: one more state), every 17th row is refused by the
    input mapper (an empty required cell: no call at all); the rest succeed."""
    states, functions = batch_machine
    texts = []
    for n in range(1, ROWS + 1):
        texts.append(
            {"text": "" if n % 17 == 0 else (f"please crash {n}" if n % 10 == 0 else f"invoice {n}")}
        )
    put_csv_rows(local_aws, "inputs/scale-tool.csv", texts)
    body = {
        "csv_s3_uri": f"s3://{local_aws.deployment.bucket}/inputs/scale-tool.csv",
        "target": {"type": "tool", "name": TOOL, "arn": tool_arn},
        "input_mapping": {"column_mappings": {"text": "text"}, "required_fields": ["text"]},
        "output_mapping": {},
        "output_mappings": {
            TOOL: {
                "type": "tool",
                "extraction_methods": [{"method": "direct", "field_mappings": {"c": "$.category"}}],
            }
        },
        "execution_config": {"max_concurrency": 4},
    }
    with recorded() as record:
        run = local_aws.run(BATCH_MACHINE, body, timeout=600)
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    refused = sum(1 for n in range(1, ROWS + 1) if n % 17 == 0)
    crashed = sum(1 for n in range(1, ROWS + 1) if n % 10 == 0 and n % 17 != 0)
    assert (run.output["total_rows"], run.output["failed_rows"]) == (ROWS, refused + crashed)
    assert record.entered["CallTool"] == ROWS - refused and record.entered["ToolRowFailed"] == crashed
    transitions, calls = record.transitions(states), record.calls(functions)
    assert transitions == expected_transitions(ROWS, ROWS - refused, crashed)
    assert calls == 2 + 2 * math.ceil(ROWS / ROWS_PER_CHILD)
    assert record.lambda_calls[TOOL] == ROWS - refused  # the target's own calls, one per mapped row
    assert transitions / ROWS <= 2.0 and calls / ROWS <= 0.15
    within_quotas(record, states)
    table = list(csv.DictReader(io.StringIO(results_csv(local_aws, run.output["csv_uri"]), newline="")))
    errors = {int(line["text"].split()[-1]): line["_error"] for line in table if "crash" in line["text"]}
    assert errors[10] == "ValueError: cannot classify 'please crash 10'"
    assert [line["_status"] for line in table].count("SUCCESS") == ROWS - refused - crashed


VERBOSE_AGENT, VERBOSE_MODEL, BIG_ROWS = "verbose-agent", "verbose-agent-model", 100
VERBOSE_MAPPINGS = {
    VERBOSE_AGENT: {
        "type": "agent",
        "extraction_methods": [
            {
                "method": "tool_result",
                "tool_name": "browser_broadband",
                "field_mappings": {
                    "exchange": "$.content | parse('Exchange: (.+)')",
                    "notes": "$.content | parse('Notes: (.+)')",
                },
            }
        ],
    }
}


@pytest.fixture(scope="module")
def verbose_agent(local_aws):
    """An agent we did not make whose every answer carries 100 KB of extracted notes (one state machine)."""
    local_aws.clients["lambda"].create_function(
        FunctionName=VERBOSE_MODEL,
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="tests.sfn.foreign_targets.verbose_model",
        Code={"ZipFile": _empty_zip()},
    )
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Model",
        "States": {
            "Model": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {
                    "FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{VERBOSE_MODEL}",
                    "Payload": "{% $states.input %}",
                },
                "Output": "{% $states.result.Payload %}",
                "End": True,
            }
        },
    }
    return local_aws.clients["stepfunctions"].create_state_machine(
        name=VERBOSE_AGENT, definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]


def test_rows_with_100_kb_outputs_pass_within_every_quota_and_both_engines_agree(
    local_aws, batch_machine, verbose_agent, tmp_path, monkeypatch
):
    """100 rows of 100 KB extracted output each: no state of the batch machine holds more than a row's
    reference, so every child stays far below 256 KiB (the whole child's output would be 10 MB), and
    `batch run --engine local` with the same config writes the same results CSV, byte for byte once the
    timing cells are blanked."""
    from click.testing import CliRunner

    from factory.cli import main
    from tests.sfn.foreign_targets import NOTES_BYTES, notes_for

    states, _ = batch_machine
    rows = [
        {"postcode": ("CB1 2AB", "EH1 1YZ")[n % 2], "building_number": str(n)} for n in range(1, BIG_ROWS + 1)
    ]
    put_csv_rows(local_aws, "inputs/verbose.csv", rows)
    target = {"type": "agent", "name": VERBOSE_AGENT, "arn": verbose_agent}
    body = {
        "csv_s3_uri": f"s3://{local_aws.deployment.bucket}/inputs/verbose.csv",
        "target": target,
        "input_mapping": {"column_mappings": {"postcode": "postcode", "building_number": "building_number"}},
        "output_mapping": {},
        "output_mappings": VERBOSE_MAPPINGS,
        "execution_config": {"max_concurrency": 4},
    }
    with recorded() as record:
        run = local_aws.run(BATCH_MACHINE, body, timeout=900)
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    assert (run.output["total_rows"], run.output["successful_rows"]) == (BIG_ROWS, BIG_ROWS)
    within_quotas(record, states)
    assert max(record.largest_output[name] for name in ("AgentRows", "MapInputs", "WriteResults")) < 20_000
    remote_text = results_csv(local_aws, run.output["csv_uri"])
    table = list(csv.DictReader(io.StringIO(remote_text, newline="")))
    assert [line["notes"] for line in table] == [notes_for(r["postcode"], r["building_number"]) for r in rows]
    assert all(len(line["notes"]) == NOTES_BYTES for line in table)

    (tmp_path / "verbose.csv").write_text(csv_text_of(rows), "utf-8", newline="")
    config = {
        "target": target,
        "input_mapping": body["input_mapping"],
        "output_mappings": VERBOSE_MAPPINGS,
    }
    (tmp_path / "batch.yaml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    monkeypatch.chdir(tmp_path)
    arguments = ["batch", "run", "verbose.csv", "--agent", VERBOSE_AGENT, "--config", "batch.yaml"]
    arguments += ["--region", REGION, "--store", "store.sqlite", "--out", "local.csv", "--quiet"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    local_text = (tmp_path / "local.csv").read_bytes().decode("utf-8")
    assert blank_timings(local_text) == blank_timings(remote_text)
    assert blank_timings(local_text).count(",,\r\n") == BIG_ROWS


def csv_text_of(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
