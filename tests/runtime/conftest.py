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
