from __future__ import annotations

import boto3
import pytest

from factory.runtime.batch_validator import handler, read_s3_header, validate_batch
from factory.runtime.csv_source import CsvInputError
from factory.runtime.result_store import to_dynamodb


def test_valid_batch_returns_header_order(energy_record, energy_mapping):
    header = ["Fuel", "Postcode", "Annual kWh", "payment_method", "notes"]
    schemas = energy_record["structured_output"]["schemas"]
    assert validate_batch(energy_record, energy_mapping, header) == {
        "valid": True,
        "errors": [],
        "warnings": [],
        "input_columns": header,
        "input_schema": schemas["input"],
        "output_schema": schemas["output"],
        "output_source": "structured_output",
        "output_fields": energy_mapping["structured_output_fields"],
        "payload_form": "messages",
        "mapping": energy_mapping,
    }


def test_missing_columns(energy_record, energy_mapping):
    result = validate_batch(energy_record, energy_mapping, ["Postcode", "Fuel"])
    assert result["valid"] is False
    assert result["errors"] == ["CSV has no column 'Annual kWh', which feeds the required field 'annual_kwh'"]
    assert result["warnings"] == ["CSV has no column 'payment_method' (field 'payment_method' will be empty)"]


def test_transformation_columns_are_checked(energy_record):
    mapping = {
        "input_mapping": {
            "column_mappings": {"Annual kWh": "annual_kwh"},
            "transformations": [{"field": "postcode", "type": "template", "template": "{Out} {In}"}],
        }
    }
    result = validate_batch(energy_record, mapping, ["Annual kWh", "Out"])
    assert result["errors"] == ["CSV has no column 'In', which feeds the required field 'postcode'"]


def test_unregistered_agent(energy_mapping):
    assert validate_batch(None, energy_mapping, ["Postcode", "Annual kWh"], "ghost")["errors"] == [
        "agent 'ghost' is not in AgentRegistry; register it first"
    ]


@pytest.mark.slow
def test_handler_reads_header_from_s3_and_record_from_registry(
    aws, monkeypatch, energy_record, energy_mapping
):
    s3, dynamodb = aws("s3"), aws("dynamodb")
    s3.create_bucket(Bucket="batch-input")
    s3.put_object(
        Bucket="batch-input",
        Key="batch.csv",
        Body=b"\xef\xbb\xbfPostcode,Annual kWh\r\n" + b"SW1A 1AA,100\r\n" * 100_000,
    )
    s3.put_object(Bucket="batch-input", Key="empty.csv", Body=b"")
    dynamodb.create_table(
        TableName="AgentRegistry-test",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "agent_name", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "agent_name", "KeyType": "HASH"},
            {"AttributeName": "version", "KeyType": "RANGE"},
        ],
    )
    boto3.resource("dynamodb").Table("AgentRegistry-test").put_item(Item=to_dynamodb(energy_record))
    monkeypatch.setenv("AGENT_REGISTRY_TABLE", "AgentRegistry-test")
    event = {
        "agent_name": "energy-tariff-quotes-agent",
        "mapping": energy_mapping,
        "csv": {"bucket": "batch-input", "key": "batch.csv"},
    }
    result = handler(event)
    assert result["valid"] is True and result["input_columns"] == ["Postcode", "Annual kWh"]
    assert len(result["warnings"]) == 2
    empty = handler({**event, "csv": {"bucket": "batch-input", "key": "empty.csv"}})
    assert empty == {
        "valid": False,
        "errors": ["CSV is empty: no header row"],
        "warnings": [],
        "input_columns": [],
        "input_schema": {},
        "output_schema": {},
        "output_source": "structured_output",
        "output_fields": [],
        "payload_form": "messages",
        "mapping": energy_mapping,
        "target": {"type": "agent", "name": "energy-tariff-quotes-agent"},
    }
    assert result["target"] == {"type": "agent", "name": "energy-tariff-quotes-agent"}
    assert result["output_schema"]["properties"]["tariff_count"]["minimum"] == 0  # Decimal -> int
    with pytest.raises(CsvInputError):
        read_s3_header(s3, "batch-input", "empty.csv")
    local = {"type": "agent", "name": "a", "arn": "arn:aws:states:local:123456789012:stateMachine:a"}
    refused = handler({**event, "target": local, "csv": {"bucket": "no-such-bucket", "key": "x.csv"}})
    assert refused["valid"] is False and "target" not in refused  # refused before S3 or the registry is read
    assert refused["target_problem"].startswith("$.target.arn: 'arn:aws:states:local:")


TOOL = {"type": "tool", "name": "classify", "arn": "arn:aws:lambda:eu-west-2:123456789012:function:classify"}
FOREIGN = {
    "type": "agent",
    "name": "llm-agent",
    "arn": "arn:aws:states:eu-west-2:123456789012:stateMachine:llm",
}
CLASSIFY = {
    name: {
        "type": kind,
        "extraction_methods": [{"method": "direct", "field_mappings": {"classification": "$.label"}}],
    }
    for name, kind in (("classify", "tool"), ("llm-agent", "agent"))
}


def test_a_tool_needs_no_record_and_is_mapped_by_its_output_mappings():
    mapping = {"input_mapping": {"column_mappings": {"text": "text"}}}
    result = validate_batch(None, mapping, ["text"], "classify", TOOL, CLASSIFY)
    assert (result["valid"], result["errors"]) == (True, [])
    assert (result["output_source"], result["output_fields"], result["payload_form"]) == (
        "config",
        ["classification"],
        "data",
    )


def test_an_agent_we_did_not_make_gets_messages_and_a_tool_without_mappings_is_refused():
    mapping = {"input_mapping": {"column_mappings": {"text": "text"}}}
    foreign = validate_batch(None, mapping, ["text"], "llm-agent", FOREIGN, CLASSIFY)
    assert (foreign["valid"], foreign["payload_form"]) == (True, "messages")
    bare = validate_batch(None, mapping, ["text"], "classify", TOOL)
    assert bare["valid"] is False
    assert bare["errors"] == [
        "tool 'classify' has no structured output: give output_mappings or a registered output schema"
    ]
    unknown = validate_batch(None, mapping, ["text"], "llm-agent", FOREIGN)
    assert unknown["errors"] == ["agent 'llm-agent' is not in AgentRegistry; register it first"]


def test_output_mappings_for_another_target_are_refused_before_any_row():
    mapping = {"input_mapping": {"column_mappings": {"text": "text"}}}
    keyed = {"classify": {**CLASSIFY["classify"], "type": "agent"}}
    result = validate_batch(None, mapping, ["text"], "classify", TOOL, keyed)
    assert result["valid"] is False and result["errors"][0].startswith("output mapping: ")
    assert "'classify'" in result["errors"][0]
