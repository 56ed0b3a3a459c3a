"""`register` puts agent output schemas into AgentRegistry records, on both backends.

Ours travel inside the agent record we write (`output_schema`, JSON text like
`structured_output`); another system's agent gets a minimal record when it has
none, and otherwise only our attribute, by a conditional update: every
attribute that system wrote must read back exactly as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from factory.registry.dynamodb import DynamoRegistry, DynamoSettings
from factory.registry.protocol import Registry
from factory.registry.records import Key
from factory.registry.sqlite import SqliteRegistry
from tests.output_schema.test_output_schema_files import GOOD
from tests.registry.helpers import ENV, REGION, run

OTHER = GOOD  # the same classify-ticket output schema the file tests load

# An item as the existing system's agent construct writes one (base_agent_construct.py: JSON-text
# attributes, a number, free text with odd spacing the update must not normalise).
EXISTING = {
    "agent_name": "classify-ticket",
    "version": "v1.0",
    "status": "active",
    "description": "Classifies  support tickets \u2014 existing system",
    "system_prompt": "You classify.\n\n  Keep  spacing.",
    "llm_provider": "anthropic",
    "llm_model": "claude-3-5-sonnet",
    "tools": '[{"tool_name": "lookup", "enabled": true}]',
    "observability": '{ "log_level": "INFO" }',
    "parameters": '{"temperature": 0.2}',
    "metadata": '{"created_by": "ops"}',
    "deployment_env": "test",
    "max_tokens": 4096,
    "created_at": "2025-01-01T00:00:00Z",
    "updated_at": "2025-01-02T00:00:00Z",
}




def open_registry(backend: str, where: list[str]) -> Registry:
    if backend == "dynamodb":
        return DynamoRegistry(DynamoSettings(env_name=ENV, region=REGION, endpoint_url=where[3]))
    return SqliteRegistry(ENV, Path(where[-1]))


def seed_existing(backend: str, where: list[str], item: dict[str, Any]) -> None:
    """The existing system's record, written as it writes it (PutItem on DynamoDB)."""
    if backend == "dynamodb":
        table = boto3.resource("dynamodb", region_name=REGION, endpoint_url=where[3]).Table(f"AgentRegistry-{ENV}")
        table.put_item(Item=item)
    else:
        assert open_registry(backend, where).put_new([(Key("agent", item["agent_name"], item["version"]), item)])


def raw_item(backend: str, where: list[str], name: str, version: str) -> dict[str, Any] | None:
    """The item as stored: DynamoDB's typed attribute values, or the SQLite row's JSON."""
    if backend == "dynamodb":
        client = boto3.client("dynamodb", region_name=REGION, endpoint_url=where[3])
        return client.get_item(TableName=f"AgentRegistry-{ENV}",
                               Key={"agent_name": {"S": name}, "version": {"S": version}}).get("Item")
    return open_registry(backend, where).get(Key("agent", name, version))


def write_other(project: Path, text: str = OTHER) -> None:
    (project / "schemas" / "classify-ticket.yaml").write_text(text, "utf-8")


def text_of(backend: str, value: Any) -> str:
    return value["S"] if backend == "dynamodb" else value


def test_our_agent_records_carry_the_generated_output_schema(backend: str, where: list[str], project: Path) -> None:
    assert run("register", *where, "--create-tables", "--no-arn").exit_code == 0
    for path in sorted((project / "generated" / "output_schemas").glob("*.yaml")):
        on_disk = yaml.safe_load(path.read_text("utf-8"))
        item = open_registry(backend, where).latest("agent", path.stem)
        assert item is not None, path.stem
        assert isinstance(item["output_schema"], str)  # JSON text, as structured_output is stored
        assert json.loads(item["output_schema"]) == on_disk


def test_an_agent_without_a_record_gets_a_minimal_one(backend: str, where: list[str], project: Path) -> None:
    write_other(project)
    open_registry(backend, where).create_tables()
    dry = run("register", *where, "--no-arn", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert [(r["agent_name"], r["outcome"], r["created"], r["written"]) for r in json.loads(dry.stdout)[
        "output_schemas"]] == [("classify-ticket", "new", True, False)]
    first = run("register", *where, "--create-tables", "--no-arn")
    assert first.exit_code == 0, first.output
    assert "new (written): output schema classify-ticket 2.1.0 (new minimal record)" in first.stdout
    item = open_registry(backend, where).get(Key("agent", "classify-ticket", "2.1.0"))
    assert item is not None and item["status"] == "active"
    assert json.loads(item["output_schema"]) == yaml.safe_load(OTHER)
    again = run("register", *where, "--no-arn", "--json")
    assert [r["outcome"] for r in json.loads(again.stdout)["output_schemas"]] == ["unchanged"]
    assert not json.loads(again.stdout)["written"]


def test_an_existing_record_only_gains_our_attribute(backend: str, where: list[str], project: Path) -> None:
    assert run("register", *where, "--create-tables", "--no-arn").exit_code == 0
    seed_existing(backend, where, EXISTING)
    before = raw_item(backend, where, "classify-ticket", "v1.0")
    assert before is not None
    write_other(project)

    first = run("register", *where, "--no-arn", "--json")
    assert first.exit_code == 0, first.output
    assert [(r["outcome"], r["record_version"], r["created"], r["written"])
            for r in json.loads(first.stdout)["output_schemas"]] == [("new", "v1.0", False, True)]
    after = raw_item(backend, where, "classify-ticket", "v1.0")
    assert after is not None and {k: v for k, v in after.items() if k != "output_schema"} == before
    assert json.loads(text_of(backend, after["output_schema"])) == yaml.safe_load(OTHER)
    assert raw_item(backend, where, "classify-ticket", "2.1.0") is None  # no second record

    assert json.loads(run("register", *where, "--no-arn", "--json").stdout)["output_schemas"][0][
        "outcome"] == "unchanged"

    # Other content under the same version: a conflict; nothing changes.
    write_other(project, OTHER.replace("category", "queue"))
    refused = run("register", *where, "--no-arn")
    assert refused.exit_code == 1
    assert "already holds a different output schema version 2.1.0" in refused.output
    assert raw_item(backend, where, "classify-ticket", "v1.0") == after

    # A new version replaces ours, and still nothing of theirs.
    write_other(project, OTHER.replace("category", "queue").replace('"2.1.0"', '"2.2.0"'))
    updated = run("register", *where, "--no-arn", "--json")
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.stdout)["output_schemas"][0]["outcome"] == "updated"
    final = raw_item(backend, where, "classify-ticket", "v1.0")
    assert final is not None and {k: v for k, v in final.items() if k != "output_schema"} == before
    assert json.loads(text_of(backend, final["output_schema"]))["version"] == "2.2.0"


def test_a_conflicting_output_schema_refuses_the_whole_run(backend: str, where: list[str], project: Path) -> None:
    open_registry(backend, where).create_tables()
    stored = json.dumps({**yaml.safe_load(OTHER), "output_format": "text"})
    seed_existing(backend, where, {**EXISTING, "output_schema": stored})
    write_other(project)
    refused = run("register", *where, "--no-arn")
    assert refused.exit_code == 1, refused.output
    assert "conflict: output schema classify-ticket 2.1.0 (record version v1.0)" in refused.stdout
    registry = open_registry(backend, where)
    assert registry.latest("agent", "energy-tariff-quotes-agent") is None  # our records not written either
    assert registry.get(Key("agent", "classify-ticket", "v1.0"))["output_schema"] == stored


def test_a_broken_output_schema_file_stops_register_before_any_write(backend: str, where: list[str],
                                                                     project: Path) -> None:
    write_other(project, OTHER + "agent: twice\n")
    open_registry(backend, where).create_tables()
    result = run("register", *where, "--no-arn")
    assert result.exit_code == 1
    assert "schemas/classify-ticket.yaml" in result.output and "duplicate key 'agent'" in result.output
    assert open_registry(backend, where).latest("agent", "energy-tariff-quotes-agent") is None


def test_register_with_another_agents_output_schema_imports_nothing_of_the_generator(project: Path) -> None:
    """The YAML reader register uses (factory.output_schemas) keeps the registry commands' import budget."""
    from tests.registry.test_registry_import_budget import probe

    write_other(project)
    where = ["--env", ENV, "--backend", "sqlite", "--registry-file", str(project / "registry.sqlite"), "--no-arn"]
    assert probe(project, "register", "--dry-run", *where) == {"exit": 0, "loaded": []}
    assert probe(project, "register", *where) == {"exit": 0, "loaded": []}
    item = SqliteRegistry(ENV, project / "registry.sqlite").get(Key("agent", "classify-ticket", "2.1.0"))
    assert item is not None and json.loads(item["output_schema"])["agent"] == "classify-ticket"


def test_naming_one_output_schema_file_registers_only_it(backend: str, where: list[str], project: Path) -> None:
    write_other(project)
    open_registry(backend, where).create_tables()
    result = run("register", *where, "--no-arn", "--json", "schemas/classify-ticket.yaml")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["results"] == [] and report["tools"] == []
    assert [(r["agent_name"], r["outcome"], r["written"]) for r in report["output_schemas"]] == [
        ("classify-ticket", "new", True)]
    registry = open_registry(backend, where)
    assert registry.latest("agent", "energy-tariff-quotes-agent") is None
    assert registry.get(Key("agent", "classify-ticket", "2.1.0")) is not None


def _sqlite(project: Path) -> list[str]:
    return ["--env", ENV, "--backend", "sqlite", "--registry-file", str(project / "registry.sqlite"), "--no-arn"]


@pytest.mark.parametrize("tree", ["absent", "stale"])
def test_an_output_schema_file_registers_wherever_it_is(project: Path, tree: str) -> None:
    """`register elsewhere/<agent>.yaml` needs no current generated tree (docs/generic-mapping.md: "once,
    wherever the file is"); it used to be refused by the tree check, whose fix (`generate`) then looped."""
    import shutil

    if tree == "absent":
        shutil.rmtree(project / "generated")
        shutil.rmtree(project / "schemas")
    else:
        schema = project / "schemas" / "energy_tariff_quotes.json"
        schema.write_text(schema.read_text().replace('"description": "', '"description": "changed ', 1))
    (project / "elsewhere").mkdir()
    (project / "elsewhere" / "classify-ticket.yaml").write_text(OTHER, "utf-8")
    result = run("register", *_sqlite(project), "--json", "elsewhere/classify-ticket.yaml")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["results"] == [] and [r["agent_name"] for r in report["output_schemas"]] == ["classify-ticket"]
    item = SqliteRegistry(ENV, project / "registry.sqlite").get(Key("agent", "classify-ticket", "2.1.0"))
    assert item is not None and json.loads(item["output_schema"])["agent"] == "classify-ticket"


def test_an_output_schema_file_of_our_own_agent_is_left_to_its_records(project: Path) -> None:
    """Which agents are ours is read from the manifest, current or not: ours travel with our records."""
    schema = project / "schemas" / "energy_tariff_quotes.json"
    schema.write_text(schema.read_text().replace('"description": "', '"description": "changed ', 1))  # stale tree
    ours = project / "generated" / "output_schemas" / "energy-tariff-quotes-agent.yaml"
    result = run("register", *_sqlite(project), "--json", ours.relative_to(project).as_posix())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output_schemas"] == []
    assert SqliteRegistry(ENV, project / "registry.sqlite").latest("agent", "energy-tariff-quotes-agent") is None


def test_naming_a_canonical_schema_still_needs_a_current_tree(project: Path) -> None:
    schema = project / "schemas" / "energy_tariff_quotes.json"
    schema.write_text(schema.read_text().replace('"description": "', '"description": "changed ', 1))
    result = run("register", *_sqlite(project), "schemas/energy_tariff_quotes.json")
    assert result.exit_code == 1
    assert "generated files are not current" in result.output
