"""Shared fixtures: the real generated batch mappings and agent records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

GENERATED = Path(__file__).resolve().parents[2] / "generated"


def load_mapping(extraction_name: str) -> dict:
    return yaml.safe_load((GENERATED / "batch_mappings" / f"{extraction_name}.yaml").read_text())


def load_agent_record(agent_name: str) -> dict:
    return json.loads((GENERATED / "registry" / "agents" / f"{agent_name}.json").read_text())


@pytest.fixture(scope="session")
def broadband_mapping() -> dict:
    return load_mapping("broadband_availability_bt_wholesale")


@pytest.fixture(scope="session")
def broadband_record() -> dict:
    return load_agent_record("broadband-availability-bt-wholesale-agent")


@pytest.fixture(scope="session")
def energy_mapping() -> dict:
    return load_mapping("energy_tariff_quotes")


@pytest.fixture(scope="session")
def energy_record() -> dict:
    return load_agent_record("energy-tariff-quotes-agent")


@pytest.fixture(scope="session")
def company_mapping() -> dict:
    return load_mapping("company_profile_companies_house")


@pytest.fixture(scope="session")
def company_record() -> dict:
    return load_agent_record("company-profile-companies-house-agent")


# --- moto in server mode: S3 and DynamoDB over HTTP ---------------------------

RESULTS_TABLE = "batch_processor_results"
RESULTS_BUCKET = "batch-results"


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """Fresh moto state, dummy credentials, and client factories bound to the server."""
    import urllib.request

    import boto3
    from botocore.config import Config

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).read()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(name, value)

    def client(service: str, **config):
        return boto3.session.Session().client(
            service,
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}, **config),
        )

    return client


def create_results_table(dynamodb) -> None:
    """The results table as the batch-processor stack defines it."""
    dynamodb.create_table(
        TableName=RESULTS_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "batch_id", "AttributeType": "S"},
            {"AttributeName": "row_id", "AttributeType": "S"},
            {"AttributeName": "timestamp", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "batch_id", "KeyType": "HASH"},
            {"AttributeName": "row_id", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByTimestamp",
                "KeySchema": [
                    {"AttributeName": "batch_id", "KeyType": "HASH"},
                    {"AttributeName": "timestamp", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "ByStatus",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "timestamp", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    )


@pytest.fixture
def results_store(aws):
    dynamodb = aws("dynamodb")
    s3 = aws("s3")
    create_results_table(dynamodb)
    s3.create_bucket(Bucket=RESULTS_BUCKET)
    return dynamodb, s3
