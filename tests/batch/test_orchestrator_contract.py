"""Contract (issue #15 §6): the six orchestrator tools take the existing orchestrator's inputs and answer its fields.

The existing step-functions-agent batch orchestrator (lambda/agents/batch_orchestrator/*.py at ffef93d) takes
S3 URIs and execution ARNs; given those, our tools drive the deployed batch processor (Step Functions), here
moto's server. Each test restates, in its docstring, the fields of the original it relies on.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from factory import exports
from factory.batch.orchestrator_tools import call_tool, handler
from tests.batch.test_local_engine import write_addresses
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"
AGENT_NAME = "broadband-availability-bt-wholesale-agent"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sfn"
AGENT_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:broadband-agent-dev"
# The existing orchestrator's input_mapping / output_mapping for this CSV (execute_batch.py lines 24-35).
INPUT_MAPPING = {"column_mappings": {"Building Number": "building_number", "Street": "street",
                                     "Postcode": "postcode"}}
OUTPUT_MAPPING = {"structured_output_fields": ["success", "fttp_avail", "exchange_code"]}


def _moto_config(endpoint: str, execute: bool) -> None:
    body = json.dumps({"stepfunctions": {"execute_state_machine": execute}}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/config", data=body, method="POST",
                                                  headers={"Content-Type": "application/json"}))


def _batch_processor(clients: dict[str, Any], output: dict[str, Any] | None) -> str:
    """A stand-in batch processor: recorded only (stays RUNNING), or a Pass answering `output`."""
    if output is None:
        definition: dict[str, Any] = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    else:
        definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": output, "End": True}}}
    return clients["stepfunctions"].create_state_machine(name="batch-processor-dev", definition=json.dumps(definition),
                                                         roleArn=ROLE)["stateMachineArn"]


def _export(clients: dict[str, Any], arn: str) -> None:
    """The shared stack's exports, which the tools read as `batch run --engine stepfunctions` does."""
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "Arn": {"Value": arn, "Export": {"Name": exports.export_name("dev", exports.BATCH_PROCESSOR_STATE_MACHINE_ARN)}},
            "Bucket": {"Value": "batch-bucket", "Export": {"Name": exports.export_name("dev", exports.BATCH_BUCKET_NAME)}},
        },
    }
    clients["cloudformation"].create_stack(StackName="schema-factory-shared-dev", TemplateBody=json.dumps(template))


@pytest.fixture
def aws(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": moto_endpoint,
                       "SCHEMA_FACTORY_GENERATED": str(REPO / "generated"),
                       "SCHEMA_FACTORY_RESULTS": str(tmp_path / "store.sqlite"),
                       "SCHEMA_FACTORY_TOOL_ROOT": str(tmp_path)}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SCHEMA_FACTORY_ENV", raising=False)
    monkeypatch.chdir(REPO)
    clients = {name: boto3.client(name, endpoint_url=moto_endpoint, region_name=REGION)
               for name in ("s3", "stepfunctions", "cloudformation")}
    for bucket in ("batch-bucket", "uploads"):
        clients["s3"].create_bucket(Bucket=bucket)
    csv_path = write_addresses(tmp_path / "addresses.csv", 6)
    clients["s3"].upload_file(str(csv_path), "uploads", "in/addresses.csv")
    yield {"endpoint": moto_endpoint, "csv": csv_path, "tmp": tmp_path, **clients}
    _moto_config(moto_endpoint, False)


def _content(event: dict[str, Any]) -> dict[str, Any]:
    """Call as the existing agents call a tool Lambda, and read the answer as they do."""
    answer = handler(event)
    assert answer["type"] == "tool_result" and answer["name"] == event["name"]
    assert answer["tool_use_id"] == event["id"]
    content: dict[str, Any] = json.loads(answer["content"])
    return content


def _finished(aws: dict[str, Any], arn: str, name: str) -> str:
    """Start an execution of the Pass stand-in and wait for moto's interpreter to finish it."""
    execution = aws["stepfunctions"].start_execution(stateMachineArn=arn, name=name, input="{}")["executionArn"]
    deadline = time.monotonic() + 20
    while aws["stepfunctions"].describe_execution(executionArn=execution)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "moto did not finish the execution"
        time.sleep(0.05)
    return execution


def _execution_input(aws: dict[str, Any], arn: str) -> dict[str, Any]:
    (execution,) = aws["stepfunctions"].list_executions(stateMachineArn=arn)["executions"]
    return json.loads(aws["stepfunctions"].describe_execution(executionArn=execution["executionArn"])["input"])


def test_execute_takes_the_existing_inputs_and_answers_its_fields(aws: dict[str, Any]) -> None:
    """execute_batch.py (ffef93d) lines 24-35 take {"csv_s3_uri", "agent_name", "input_mapping", "output_mapping",
    "max_concurrency", "fileProcessingId"}; lines 114-123 answer {"execution_arn", "execution_name", "status",
    "start_time", "state_machine_arn", "input_config", "message", "monitor_command"} in a tool_result (lines
    125-130: {"type": "tool_result", "name", "tool_use_id", "content": JSON text}).

    The tool starts the batch processor as `batch run --engine stepfunctions` does, with our request (the
    machine takes the existing request shape too: tests/sfn/test_batch_machine.py); `input_config` is the
    request sent. The batch processor reads CSVs from its own bucket, so a CSV elsewhere is copied there first.
    """
    arn = _batch_processor(aws, None)
    _export(aws, arn)
    answer = _content({"name": "execute_batch_processor", "id": "toolu_01", "input": {
        "csv_s3_uri": "s3://uploads/in/addresses.csv", "agent_name": AGENT, "input_mapping": INPUT_MAPPING,
        "output_mapping": OUTPUT_MAPPING, "max_concurrency": 7, "fileProcessingId": "fp-42", "invoke": AGENT_ARN}})
    assert {"execution_arn", "execution_name", "status", "start_time", "state_machine_arn", "input_config",
            "message", "monitor_command"} <= set(answer), answer
    assert answer["state_machine_arn"] == arn and answer["status"] == "RUNNING"
    assert answer["execution_arn"].endswith(":" + answer["execution_name"])
    assert answer["execution_arn"] in answer["monitor_command"]

    request = _execution_input(aws, arn)
    assert request == answer["input_config"]
    assert set(request) == {"csv_key", "mapping", "agent_name", "max_concurrency", "target", "fileProcessingId"}
    assert request["target"] == {"type": "agent", "name": AGENT_NAME, "arn": AGENT_ARN}
    assert request["max_concurrency"] == 7 and request["fileProcessingId"] == "fp-42"
    key = request["csv_key"]
    assert key.startswith("inputs/addresses-") and key.endswith(".csv")
    assert answer["csv_s3_uri"] == f"s3://batch-bucket/{key}"
    assert aws["s3"].get_object(Bucket="batch-bucket", Key=key)["Body"].read() == aws["csv"].read_bytes()
    mapping = request["mapping"]
    assert mapping["input_mapping"]["column_mappings"] == INPUT_MAPPING["column_mappings"]
    assert mapping["structured_output_fields"] == OUTPUT_MAPPING["structured_output_fields"]
    assert mapping["agent_name"] == AGENT_NAME and mapping["extraction_name"] == AGENT
    assert "metadata" not in mapping["output_columns"] and "success" in mapping["output_columns"]


def test_our_config_from_an_s3_csv_goes_through_unchanged(aws: dict[str, Any]) -> None:
    """generate_config.py (ffef93d) lines 81-91 answer {"config", "summary": {"target_agent", "mapped_columns",
    "output_fields", "max_concurrency", "include_original_data"}, "message"}. Our `config` handed back to
    execute_batch_processor reaches the batch processor whole, and a CSV already in the batch bucket is not copied.
    """
    arn = _batch_processor(aws, None)
    _export(aws, arn)
    aws["s3"].upload_file(str(aws["csv"]), "batch-bucket", "inputs/mine.csv")
    generated = call_tool("generate_batch_config", {"csv_s3_uri": "s3://batch-bucket/inputs/mine.csv",
                                                    "agent_name": AGENT})
    assert generated["ok"], generated
    result = generated["result"]
    assert result["summary"]["target_agent"] == AGENT_NAME and result["summary"]["mapped_columns"] == 4
    assert result["config"]["input_mapping"]["column_mappings"]["Postcode"] == "postcode"
    started = call_tool("execute_batch_processor", {"csv_s3_uri": "s3://batch-bucket/inputs/mine.csv",
                                                    "agent_name": AGENT, "config": result["config"]})
    assert started["ok"], started
    request = _execution_input(aws, arn)
    assert request["csv_key"] == "inputs/mine.csv"
    assert "target" not in request  # no ARN given, none in the record: the processor derives it
    assert request["mapping"] == result["config"]
    assert [o["Key"] for o in aws["s3"].list_objects_v2(Bucket="batch-bucket")["Contents"]] == ["inputs/mine.csv"]


def test_a_mapping_missing_a_required_field_starts_nothing(aws: dict[str, Any]) -> None:
    """The existing tool starts whatever it is given; ours checks the mapping against the agent first."""
    arn = _batch_processor(aws, None)
    _export(aws, arn)
    answer = _content({"name": "execute_batch_processor", "id": "toolu_02", "input": {
        "csv_s3_uri": "s3://uploads/in/addresses.csv", "agent_name": AGENT,
        "input_mapping": {"Street": "street"}, "output_mapping": {}}})
    assert "postcode" in answer["error"] and answer["message"] == answer["error"]
    assert aws["stepfunctions"].list_executions(stateMachineArn=arn)["executions"] == []


def test_the_original_flow_s3_uri_then_agent_then_columns(aws: dict[str, Any]) -> None:
    """The original's inputs, tool by tool (stacks/agents/batch_orchestrator_agent_stack.py lines 410-480 at
    ffef93d): analyze {"s3_uri"}; validate {"agent_name"}; generate {"csv_columns", "agent_name",
    "input_mapping", "output_mapping"}.

    Answers read: analyze_csv.py lines 88-101 {"columns", "column_count", "row_count", "sample_data",
    "data_types" (number|string), "file_info": {"bucket", "key", "size_bytes", ...}, "analysis_summary"};
    validate_agent.py lines 139-150 {"compatible", "agent_name", "structured_output_enabled", "message"};
    generate_config.py lines 50-71 config.input_mapping.column_mappings and
    config.output_mapping.structured_output_fields.
    """
    analysis = _content({"name": "analyze_csv_structure", "id": "t1", "input": {"s3_uri": "s3://uploads/in/addresses.csv",
                                                                               "sample_rows": 2}})
    assert analysis["columns"] == ["Building Number", "Street", "Postcode", "Full Address"]
    assert analysis["column_count"] == 4 and analysis["row_count"] == 6 and len(analysis["sample_data"]) == 2
    assert analysis["sample_data"][0]["Building Number"] == "1"
    assert analysis["data_types"] == {"Building Number": "number", "Street": "string", "Postcode": "string",
                                      "Full Address": "string"}
    assert analysis["file_info"] == {"bucket": "uploads", "key": "in/addresses.csv",
                                     "size_bytes": aws["csv"].stat().st_size}
    assert analysis["analysis_summary"] == "CSV file contains 6 rows and 4 columns"

    valid = _content({"name": "validate_agent_compatibility", "id": "t2", "input": {"agent_name": AGENT}})
    assert valid["compatible"] is True and valid["structured_output_enabled"] is True
    assert valid["agent_name"] == AGENT_NAME and "success" in valid["output_fields"]

    config = _content({"name": "generate_batch_config", "id": "t3", "input": {
        "csv_columns": analysis["columns"], "agent_name": AGENT, "input_mapping": INPUT_MAPPING["column_mappings"],
        "output_mapping": {"success": "success", "fttp_avail": "fttp_avail"}}})
    assert config["input_mapping"]["column_mappings"] == INPUT_MAPPING["column_mappings"]
    assert config["output_mapping"]["structured_output_fields"] == ["success", "fttp_avail"]
    assert config["config"]["structured_output_fields"] == ["success", "fttp_avail"]
    assert config["summary"]["mapped_columns"] == 3 and config["summary"]["output_fields"] == 2


def test_monitor_follows_an_execution_arn(aws: dict[str, Any]) -> None:
    """monitor_execution.py (ffef93d) lines 35-36 take {"execution_arn"}; lines 80-120 answer {"execution_arn",
    "status", "start_time", "duration_seconds", "is_running", "message"} and, while RUNNING, "polling_guidance"
    whose "recommended_wait_seconds"/"max_attempts" come from the call's "polling_metadata" (line 39; the agents
    send it, step_functions_generator_unified_llm.py lines ~700-716).
    """
    arn = _batch_processor(aws, None)
    _export(aws, arn)
    running = aws["stepfunctions"].start_execution(stateMachineArn=arn, name="b-1", input="{}")["executionArn"]
    status = _content({"name": "monitor_batch_execution", "id": "t4", "input": {"execution_arn": running}})
    assert status["execution_arn"] == running and status["status"] == "RUNNING" and status["is_running"] is True
    assert status["duration_seconds"] >= 0 and status["start_time"] and status["message"]
    assert status["polling_guidance"]["status"] == "in_progress" and "end_time" not in status
    polled = _content({"name": "monitor_batch_execution", "id": "t4b", "input": {"execution_arn": running},
                       "polling_metadata": {"interval": 45, "max_attempts": 12}})
    assert polled["polling_guidance"]["recommended_wait_seconds"] == 45
    assert polled["polling_guidance"]["max_attempts"] == 12


def test_monitor_a_finished_execution(aws: dict[str, Any]) -> None:
    """monitor_execution.py (ffef93d) lines 88-90, 121-140: a SUCCEEDED execution has "end_time",
    "is_running": false and its output as "output_summary"."""
    _moto_config(aws["endpoint"], True)
    output = {"batch_id": "x#b-2", "rows": 6, "counts": {"SUCCESS": 6}, "csv_uri": "s3://batch-bucket/results/x.csv"}
    arn = _batch_processor(aws, output)
    _export(aws, arn)
    done = _finished(aws, arn, "b-2")
    finished = call_tool("monitor_batch_execution", {"execution_arn": done})["result"]
    assert finished["status"] == "SUCCEEDED" and finished["is_running"] is False and finished["end_time"]
    assert finished["output_summary"] == output and finished["counts"] == {"SUCCESS": 6}


# The batch processor's answer: ours today, and with the fields the existing get_results reads.
OURS = {"batch_id": "a#b", "rows": 6, "counts": {"SUCCESS": 4, "PARTIAL": 1, "FAILED": 1},
        "csv_uri": "s3://batch-bucket/results/b.csv"}
EXTENDED = {**OURS, "output_csv_uri": OURS["csv_uri"], "output_location": OURS["csv_uri"], "total_rows": 6,
            "successful_rows": 5, "failed_rows": 1, "column_names": ["Postcode", "success", "_status", "_error"]}


@pytest.mark.parametrize("output", [OURS, EXTENDED], ids=["ours", "with-get_results-fields"])
def test_get_batch_results_answers_as_get_results(aws: dict[str, Any], output: dict[str, Any]) -> None:
    """get_results.py (ffef93d) lines 36-46 take {"execution_arn"} or {"execution_id"}; lines 67-95 read the
    execution output's "output_location", "total_rows", "successful_rows", "failed_rows", "column_names" and
    answer {"execution_arn", "status": "SUCCESS", "output_csv_uri", "summary": {"total_rows", "successful_rows",
    "failed_rows", "success_rate", "processing_time"}, "columns", "execution_details": {"start_time",
    "end_time", "execution_id"}, "message"}; lines 104-108 add "failure_info" when rows failed.
    """
    _moto_config(aws["endpoint"], True)
    arn = _batch_processor(aws, output)
    _export(aws, arn)
    aws["s3"].put_object(Bucket="batch-bucket", Key="results/b.csv", Body=b"Postcode,success\nAB1 2CD,true\n")
    execution = _finished(aws, arn, "run-7")
    result = _content({"name": "get_batch_results", "id": "t5", "input": {"execution_arn": execution}})
    assert result["execution_arn"] == execution and result["status"] == "SUCCESS"
    assert result["output_csv_uri"] == "s3://batch-bucket/results/b.csv" and result["total_rows"] == 6
    summary = result["summary"]
    assert (summary["total_rows"], summary["successful_rows"], summary["failed_rows"]) == (6, 5, 1)
    assert summary["success_rate"] == "83.3%" and summary["processing_time"]
    assert result["columns"] == output.get("column_names", [])
    assert result["execution_details"]["execution_id"] == "run-7" and "1 rows failed" in result["failure_info"]

    by_id = call_tool("get_batch_results", {"execution_id": "run-7", "output_csv": "results.csv"})
    assert by_id["ok"], by_id
    assert by_id["result"]["output_csv_uri"] == result["output_csv_uri"]
    assert (aws["tmp"] / "results.csv").read_bytes() == b"Postcode,success\nAB1 2CD,true\n"


def test_unfinished_or_foreign_executions_are_tool_errors(aws: dict[str, Any]) -> None:
    """get_results.py lines 55-65: an execution not SUCCEEDED is an error naming its status. Ours also refuses
    executions of any state machine other than the deployed batch processor, and output outside the root."""
    arn = _batch_processor(aws, None)
    _export(aws, arn)
    running = aws["stepfunctions"].start_execution(stateMachineArn=arn, name="r-1", input="{}")["executionArn"]
    result = call_tool("get_batch_results", {"execution_arn": running})
    assert result["ok"] is False and "Execution status is RUNNING, not SUCCEEDED" in result["error"]
    other = aws["stepfunctions"].create_state_machine(name="other", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))["stateMachineArn"]
    foreign = aws["stepfunctions"].start_execution(stateMachineArn=other, name="o-1", input="{}")["executionArn"]
    for tool in ("monitor_batch_execution", "get_batch_results"):
        result = call_tool(tool, {"execution_arn": foreign})
        assert result["ok"] is False and "not an execution of the batch processor" in result["error"]


@pytest.mark.parametrize("uri", ["http://uploads/in/a.csv", "s3://uploads", "s3://uploads/", "s3://Up_Loads/a.csv",
                                 "s3://uploads/a.csv\nx", "file:///etc/passwd", "s3://../a.csv"])
def test_s3_uris_are_validated_before_any_call(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tool input is untrusted (docs/security.md): only s3://bucket/key reaches S3."""
    monkeypatch.setenv("SCHEMA_FACTORY_GENERATED", str(REPO / "generated"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: a call would say so
    for tool, arguments in (("analyze_csv_structure", {"s3_uri": uri}),
                            ("validate_agent_compatibility", {"csv_s3_uri": uri, "agent_name": AGENT}),
                            ("execute_batch_processor", {"csv_s3_uri": uri, "agent_name": AGENT})):
        result = call_tool(tool, arguments)
        assert result["ok"] is False and "not an S3 URI of the form s3://bucket/key" in result["error"], result


@pytest.mark.parametrize("arn", ["arn:aws:states:us-east-1:123456789012:stateMachine:batch-processor-dev",
                                 "batch-1", "arn:aws:states:us-east-1:123456789012:execution:m:x\n",
                                 "arn:aws:lambda:us-east-1:123456789012:function:f"])
def test_execution_arns_are_validated_before_any_call(arn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for tool in ("monitor_batch_execution", "get_batch_results"):
        result = call_tool(tool, {"execution_arn": arn})
        assert result["ok"] is False and "not a Step Functions execution ARN" in result["error"], result


def test_local_and_s3_inputs_do_not_mix() -> None:
    for tool, arguments in (("execute_batch_processor", {"csv_path": "a.csv", "csv_s3_uri": "s3://b/k.csv",
                                                         "agent_name": AGENT}),
                            ("monitor_batch_execution", {}),
                            ("get_batch_results", {"batch_id": "b", "execution_id": "e"})):
        result = call_tool(tool, arguments)
        assert result["ok"] is False and "give exactly one of" in result["error"], result


def test_the_original_mappings_drive_the_local_engine_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """execute_batch.py lines 50-66: an output_mapping without structured_output_fields names the fields by its
    keys. Given a local csv_path, the same inputs run on the local engine: only the kept fields become columns."""
    for key, value in {"SCHEMA_FACTORY_GENERATED": str(REPO / "generated"),
                       "SCHEMA_FACTORY_RESULTS": str(tmp_path / "store.sqlite"), "SCHEMA_FACTORY_TOOL_ROOT": str(tmp_path),
                       "SCHEMA_FACTORY_INVOKE": "examples.example_agent:invoke"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(REPO)
    csv_path = write_addresses(tmp_path / "local.csv", 4)
    analysis = call_tool("analyze_csv_structure", {"csv_path": str(csv_path)})["result"]
    assert analysis["row_count"] == 4 and "suggested_mapping" not in analysis
    assert analysis["file_info"] == {"path": csv_path.as_posix(), "size_bytes": csv_path.stat().st_size}
    run = call_tool("execute_batch_processor", {
        "csv_path": str(csv_path), "agent_name": AGENT, "input_mapping": INPUT_MAPPING["column_mappings"],
        "output_mapping": {"success": {}, "fttp_avail": {}}, "max_concurrency": 2, "output_csv": "out.csv"})
    assert run["ok"], run
    assert sum(run["result"]["counts"].values()) == 4
    header = (tmp_path / "out.csv").read_text("utf-8").splitlines()[0].split(",")
    assert "success" in header and "fttp_avail" in header and "exchange_code" not in header
    unknown = call_tool("execute_batch_processor", {"csv_path": str(csv_path), "agent_name": AGENT,
                                                    "output_mapping": {"no_such_field": {}}})
    assert unknown["ok"] is False and "no_such_field" in unknown["error"]


def _local_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tools on the local engine with the example agent, as an operator sets them; the agent's call log."""
    log = tmp_path / "calls.jsonl"
    for key, value in {"SCHEMA_FACTORY_GENERATED": str(REPO / "generated"),
                       "SCHEMA_FACTORY_RESULTS": str(tmp_path / "store.sqlite"), "SCHEMA_FACTORY_TOOL_ROOT": str(tmp_path),
                       "SCHEMA_FACTORY_INVOKE": "examples.example_agent:invoke",
                       "EXAMPLE_AGENT_CALL_LOG": str(log)}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(REPO)
    return log


def test_generate_takes_every_input_of_the_original_and_its_config_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """generate_config.py (ffef93d) lines 34-80 also read "include_original", "add_metadata", "prompt_template",
    "timeout_seconds", "static_values" and "transformations" ({field: {"type", "config"}}, the form of the
    original input_mapper.py lines 200-250: concat {columns, separator}, template {template, variables:
    {placeholder: column}}). They are taken, put where our config keeps them, and the config runs: the
    agent receives the static value and the built fields."""
    log = _local_tools(tmp_path, monkeypatch)
    csv_path = write_addresses(tmp_path / "local.csv", 3)
    generated = call_tool("generate_batch_config", {
        "csv_path": str(csv_path), "agent_name": AGENT, "include_original": False, "add_metadata": True,
        "prompt_template": "Check {postcode}", "timeout_seconds": 120, "static_values": {"full_address": "n/a"},
        "transformations": {
            "full_address": {"type": "template", "config": {"template": "{n} {s}, {p}",
                                                            "variables": {"n": "Building Number", "s": "Street",
                                                                          "p": "Postcode"}}}}})
    assert generated["ok"], generated
    config = generated["result"]["config"]
    section = config["input_mapping"]
    assert section["prompt_template"] == "Check {postcode}" and section["static_values"] == {"full_address": "n/a"}
    assert section["transformations"] == [{"field": "full_address", "type": "template",
                                           "template": "{Building Number} {Street}, {Postcode}"}]
    assert config["execution_config"]["timeout_seconds"] == 120
    assert "input columns" in generated["result"]["notes"][0]  # include_original false: said, not hidden
    run = call_tool("execute_batch_processor", {"csv_path": str(csv_path), "agent_name": AGENT, "config": config,
                                                "output_csv": "out.csv"})
    assert run["ok"], run
    import csv as csv_module

    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv_module.DictReader(handle))
    sent = [json.loads(line)["data"] for line in log.read_text("utf-8").splitlines()]
    assert sorted(call["full_address"] for call in sent) == sorted(
        f"{row['Building Number']} {row['Street']}, {row['Postcode']}" for row in rows)  # the template wins

    broken = call_tool("generate_batch_config", {"csv_path": str(csv_path), "agent_name": AGENT, "transformations": {
        "x": {"type": "template", "config": {"template": "{a}", "variables": {}}}}})
    assert broken["ok"] is False and "transformations.x: placeholder {a} names no column" in broken["error"]


def test_an_empty_input_mapping_maps_same_name_columns_and_says_what_is_unmapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original's input_mapper.py (ffef93d) lines 163-176: `{}` maps each column to the field of its name.
    What stays unmapped among the agent's required inputs is reported, not dropped."""
    monkeypatch.setenv("SCHEMA_FACTORY_GENERATED", str(REPO / "generated"))
    monkeypatch.setenv("SCHEMA_FACTORY_TOOL_ROOT", str(tmp_path))
    monkeypatch.chdir(REPO)
    answer = call_tool("generate_batch_config", {"agent_name": AGENT, "input_mapping": {},
                                                 "csv_columns": ["postcode", "street", "Notes"]})
    assert answer["ok"], answer
    assert answer["result"]["input_mapping"]["column_mappings"] == {"postcode": "postcode", "street": "street",
                                                                    "Notes": "Notes"}
    assert answer["result"]["unmapped_required_fields"] == ["building_number"]


def test_get_batch_results_takes_either_output_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """The original's registered spec lets output_format be "csv" or "json" (batch_orchestrator_agent_stack.py
    ~L560 at ffef93d); neither is refused as an unknown value."""
    for output_format in ("csv", "json"):
        answer = call_tool("get_batch_results", {"batch_id": "no-such-batch", "output_format": output_format})
        assert "output_format" not in answer.get("error", ""), answer


def test_generates_input_mapping_passed_on_whole_keeps_its_prompt_statics_and_transformations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """execute_batch.py (ffef93d) forwards the input_mapping it is given whole; a caller that passes
    generate_batch_config's config.input_mapping on as `input_mapping` loses nothing of it."""
    log = _local_tools(tmp_path, monkeypatch)
    csv_path = write_addresses(tmp_path / "local.csv", 2)
    generated = call_tool("generate_batch_config", {
        "csv_path": str(csv_path), "agent_name": AGENT, "static_values": {"full_address": "n/a"},
        "transformations": [{"field": "street", "type": "template", "template": "{Street} (checked)"}]})
    assert generated["ok"], generated
    section = generated["result"]["config"]["input_mapping"]
    assert "unmapped_required_fields" not in section  # every required field is filled
    run = call_tool("execute_batch_processor", {"csv_path": str(csv_path), "agent_name": AGENT,
                                                "input_mapping": section, "output_csv": "out.csv"})
    assert run["ok"], run
    sent = [json.loads(line)["data"] for line in log.read_text("utf-8").splitlines()]
    assert all(call["street"].endswith(" (checked)") and call["full_address"] == "n/a" for call in sent), sent


def test_odd_tool_inputs_get_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCHEMA_FACTORY_GENERATED", str(REPO / "generated"))
    monkeypatch.setenv("SCHEMA_FACTORY_TOOL_ROOT", str(tmp_path))
    monkeypatch.chdir(REPO)
    bad_fields = call_tool("generate_batch_config", {"agent_name": AGENT, "csv_columns": ["postcode"],
                                                     "output_mapping": {"structured_output_fields": 5}})
    assert bad_fields["ok"] is False
    assert bad_fields["error"] == "ValueError: output_mapping: structured_output_fields must be a list of field names"
    repeated = call_tool("generate_batch_config", {"agent_name": AGENT, "csv_columns": ["a", "a"]})
    assert repeated["ok"] is False and repeated["error"].startswith("csv_columns: ") and "/tmp" not in repeated["error"]
    noted = call_tool("generate_batch_config", {"agent_name": AGENT, "csv_columns": ["postcode"],
                                                "input_mapping": {"Postcode": "postcode", "postcode": "colour"}})
    assert noted["ok"], noted
    assert noted["result"]["notes"] == ["column(s) not in the CSV: 'Postcode'",
                                        f"field(s) {AGENT_NAME!r} does not take: 'colour'"]
    answer = handler({"name": ["a"], "id": "t1", "input": {}})
    assert answer["type"] == "tool_result" and "unknown tool" in json.loads(answer["content"])["error"]


@pytest.mark.parametrize(
    ("input_mapping", "expected"),
    [
        ({"include_columns": ["postcode", "street"]}, {"postcode": "postcode", "street": "street"}),
        ({"exclude_columns": ["Notes"]},
         {"postcode": "postcode", "street": "street", "building_number": "building_number"}),
        ({"include_columns": [], "exclude_columns": ["Notes", "street"]},
         {"postcode": "postcode", "building_number": "building_number"}),
    ],
)
def test_the_include_and_exclude_columns_form_is_accepted_as_the_original_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, input_mapping: dict, expected: dict
) -> None:
    """The original's input_mapper.py (lambda/tools/batch_processor, ffef93d) lines 159-176: `include_columns`
    names the columns to use; without it, every column but `exclude_columns`. Each maps to the field of its name."""
    monkeypatch.setenv("SCHEMA_FACTORY_GENERATED", str(REPO / "generated"))
    monkeypatch.setenv("SCHEMA_FACTORY_TOOL_ROOT", str(tmp_path))
    monkeypatch.chdir(REPO)
    answer = call_tool("generate_batch_config", {"agent_name": AGENT, "input_mapping": input_mapping,
                                                 "csv_columns": ["postcode", "street", "building_number", "Notes"]})
    assert answer["ok"], answer
    assert answer["result"]["input_mapping"]["column_mappings"] == expected


def test_a_column_list_that_is_not_a_list_of_names_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHEMA_FACTORY_GENERATED", str(REPO / "generated"))
    monkeypatch.setenv("SCHEMA_FACTORY_TOOL_ROOT", str(tmp_path))
    monkeypatch.chdir(REPO)
    answer = call_tool("generate_batch_config", {"agent_name": AGENT, "input_mapping": {"include_columns": "postcode"},
                                                 "csv_columns": ["postcode"]})
    assert answer["ok"] is False
    assert "input_mapping.include_columns must be a list of CSV column names" in answer["error"]
