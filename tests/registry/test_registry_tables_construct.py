"""The shared registry tables synthesize, match the CLI's tables, export what agent stacks import."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from factory.exports import AGENT_REGISTRY_TABLE_ARN, TEMPLATE_REGISTRY_TABLE_ARN, export_name
from factory.registry.tables import AGENT_TABLE, TEMPLATE_TABLE, TOOL_TABLE, TableShape
from tests.registry.helpers import REPO

pytestmark = pytest.mark.slow
IGNORED_LINT = ["W3005", "W6001"]


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """One app, two stacks (dev and prod), synthesized once."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(REPO / ".pytest_cache" / "jsii"))
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from factory.infra.registry_tables import RegistryTables

    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stacks = {}
    for env_name in ("dev", "prod"):
        stack = cdk.Stack(app, f"SchemaFactoryShared-{env_name}")
        RegistryTables(stack, "Registries", env_name=env_name)
        stacks[env_name] = stack
    return {env_name: Template.from_stack(stack).to_json() for env_name, stack in stacks.items()}


def tables_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["TableName"]: r for r in template["Resources"].values()
            if r["Type"] == "AWS::DynamoDB::Table"}


def index_shape(index: dict[str, Any]) -> tuple[str, ...]:
    return tuple(key["AttributeName"] for key in index["KeySchema"])


@pytest.mark.parametrize("shape", [TEMPLATE_TABLE, AGENT_TABLE, TOOL_TABLE], ids=lambda s: s.prefix)
def test_tables_match_the_shared_shape(templates: dict[str, dict[str, Any]], shape: TableShape) -> None:
    table = tables_of(templates["dev"])[shape.table_name("dev")]["Properties"]
    assert index_shape(table) == (shape.partition_key,) + ((shape.sort_key,) if shape.sort_key else ())
    declared: dict[str, tuple[str, ...]] = {
        i["IndexName"]: index_shape(i) for i in table.get("GlobalSecondaryIndexes", [])}
    declared |= {i["IndexName"]: index_shape(i) for i in table.get("LocalSecondaryIndexes", [])}
    assert declared == {i.name: (i.partition_key, i.sort_key) for i in shape.indexes}
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_prod_is_protected_and_dev_is_not(templates: dict[str, dict[str, Any]]) -> None:
    for name, resource in tables_of(templates["prod"]).items():
        props = resource["Properties"]
        assert props["DeletionProtectionEnabled"] is True, name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert resource["DeletionPolicy"] == "Retain", name
    for name, resource in tables_of(templates["dev"]).items():
        assert not resource["Properties"].get("DeletionProtectionEnabled", False), name
        assert resource["DeletionPolicy"] == "Delete", name


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_exports_carry_the_names_agent_stacks_import(templates: dict[str, dict[str, Any]], env_name: str) -> None:
    outputs = templates[env_name]["Outputs"].values()
    exported = {o["Export"]["Name"]: o["Value"]["Fn::GetAtt"] for o in outputs}
    resources = templates[env_name]["Resources"]
    by_name = {resources[ref[0]]["Properties"]["TableName"]: ref for ref in exported.values()}
    assert set(exported) == {export_name(env_name, TEMPLATE_REGISTRY_TABLE_ARN),
                             export_name(env_name, AGENT_REGISTRY_TABLE_ARN)}
    assert exported[export_name(env_name, TEMPLATE_REGISTRY_TABLE_ARN)] == by_name[TEMPLATE_TABLE.table_name(env_name)]
    assert exported[export_name(env_name, AGENT_REGISTRY_TABLE_ARN)] == by_name[AGENT_TABLE.table_name(env_name)]
    assert all(ref[1] == "Arn" for ref in exported.values())


def test_cfn_lint_clean(templates: dict[str, dict[str, Any]]) -> None:
    from cfnlint.api import ManualArgs, lint

    config = ManualArgs(regions=["us-east-1"], ignore_checks=IGNORED_LINT)
    for env_name, template in templates.items():
        errors = [m for m in lint(json.dumps(template), config=config) if m.rule.id.startswith("E")]
        assert errors == [], f"{env_name}: " + "\n".join(str(m) for m in errors)


def test_cli_path_never_imports_cdk() -> None:
    import subprocess
    import sys

    code = ("import sys, factory.cli, factory.registry.connect, factory.registry.service; "
            "sys.exit(1 if any(m.startswith(('aws_cdk', 'factory.infra')) for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(REPO)).returncode == 0


def test_the_existing_stacks_indexes_are_on_our_tables(templates: dict[str, dict[str, Any]]) -> None:
    """One deployment serves both systems: every key and index the existing stacks create (restated in
    tests/registry/existing_system.py with their sources) is on the table RegistryTables creates."""
    from tests.registry import existing_system

    ours = tables_of(templates["dev"])
    for existing in (existing_system.template_table("dev"), existing_system.agent_table("dev"),
                     existing_system.tool_table("dev")):
        table = ours[existing["TableName"]]["Properties"]
        assert index_shape(table) == index_shape(existing)
        declared = {i["IndexName"]: index_shape(i) for i in table.get("GlobalSecondaryIndexes", [])}
        for index in existing["GlobalSecondaryIndexes"]:
            assert declared.get(index["IndexName"]) == index_shape(index), (existing["TableName"], index)
