"""`register` writes only what is its own, on both backends: other writers' items are kept, not conflicts.

Two owners besides us write into the same tables in a step-functions-agent
deployment (guyernest/step-functions-agent at ffef93d):

- its BatchOrchestratorAgentStack registers six ToolRegistry items under the
  names our orchestrator tools use, with `author` "batch-orchestrator"
  (stacks/agents/batch_orchestrator_agent_stack.py `_register_tools_in_registry`,
  lines ~406-590; every BaseToolConstruct item carries an author, "system" by
  default: stacks/tools/base_tool_construct.py ~123);
- in the step-functions-agent form, each agent's stack registers its own
  AgentRegistry item through BaseAgentConstruct (version "v1.0":
  stacks/shared/base_agent_construct.py ~78-79), and the UI's
  listAgentsFromRegistry.js (a Scan, one entry per item with an agent_name)
  would list the agent twice if we wrote a second item for it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import boto3
import pytest

from factory.registry.dynamodb import DynamoRegistry, DynamoSettings
from factory.registry.protocol import Registry
from factory.registry.records import Key
from factory.registry.sqlite import SqliteRegistry
from tests.registry.helpers import ENV, REGION, run

SCHEMA = "broadband_availability_bt_wholesale"
AGENT = "broadband-availability-bt-wholesale-agent"
ORCHESTRATOR_TOOLS = ["analyze_csv_structure", "validate_agent_compatibility", "generate_batch_config",
                      "execute_batch_processor", "monitor_batch_execution", "get_batch_results"]
SCHEMA_COUNT = 4


def open_registry(backend: str, where: list[str], project: Path) -> Registry:
    """The registry `where` points at, its tables created, to plant and read items directly."""
    if backend == "dynamodb":
        endpoint = where[where.index("--endpoint-url") + 1]
        registry: Registry = DynamoRegistry(DynamoSettings(env_name=ENV, region=REGION, endpoint_url=endpoint))
    else:
        registry = SqliteRegistry(ENV, project / "registry.sqlite")
    registry.create_tables()
    return registry


def plant_their_tool(backend: str, where: list[str], project: Path, tool_name: str, author: str) -> None:
    """An item as BaseToolConstruct puts it: strings, input_schema and tags as JSON text, no hash of ours."""
    item = {"tool_name": tool_name, "description": "theirs", "input_schema": json.dumps({"type": "object"}),
            "language": "python", "tags": "[]", "status": "active", "author": author, "tool_type": "lambda"}
    if backend == "dynamodb":
        endpoint = where[where.index("--endpoint-url") + 1]
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
        client.put_item(TableName=f"ToolRegistry-{ENV}", Item={k: {"S": v} for k, v in item.items()})
        return
    with sqlite3.connect(project / "registry.sqlite") as conn:
        conn.execute(f'INSERT INTO "ToolRegistry-{ENV}" (tool_name, version_key, content_sha256, item) '
                     "VALUES (?, NULL, NULL, ?)", (tool_name, json.dumps(item)))


def their_tool(backend: str, where: list[str], project: Path, tool_name: str) -> dict[str, Any]:
    if backend == "dynamodb":
        endpoint = where[where.index("--endpoint-url") + 1]
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
        raw = client.get_item(TableName=f"ToolRegistry-{ENV}", Key={"tool_name": {"S": tool_name}})["Item"]
        return {k: v["S"] for k, v in raw.items()}
    with sqlite3.connect(project / "registry.sqlite") as conn:
        (text,) = conn.execute(f'SELECT item FROM "ToolRegistry-{ENV}" WHERE tool_name = ?', (tool_name,)).fetchone()
    return dict(json.loads(text))


# -- the batch orchestrator's six tools ------------------------------------------------------------------


def test_tools_another_writer_owns_are_kept_and_everything_else_is_written(
        backend: str, where: list[str], project: Path) -> None:
    registry = open_registry(backend, where, project)
    for name in ORCHESTRATOR_TOOLS:
        plant_their_tool(backend, where, project, name, "batch-orchestrator")
    before = {name: their_tool(backend, where, project, name) for name in ORCHESTRATOR_TOOLS}
    result = run("register", *where)
    assert result.exit_code == 0, result.output
    for name in ORCHESTRATOR_TOOLS:
        assert f"kept (owned by batch-orchestrator): tool {name} " in result.stdout
        assert their_tool(backend, where, project, name) == before[name]  # not one attribute touched
    assert f"{SCHEMA_COUNT} schema(s) and {SCHEMA_COUNT * 2} tool(s) written; 6 tool(s) left to the writer that " \
           "owns them" in result.stdout
    assert registry.latest("template", SCHEMA) is not None
    assert registry.latest("agent", AGENT) is not None


def test_dry_run_says_the_same(backend: str, where: list[str], project: Path) -> None:
    open_registry(backend, where, project)
    plant_their_tool(backend, where, project, "get_batch_results", "system")  # BaseToolConstruct's default
    result = run("register", *where, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (tool,) = [t for t in report["tools"] if t["tool_name"] == "get_batch_results"]
    assert (tool["outcome"], tool["owner"], tool["written"]) == ("owned", "system", False)
    assert {r["outcome"] for r in report["results"]} == {"new"}


def test_a_control_character_in_their_author_is_not_printed(backend: str, where: list[str], project: Path) -> None:
    open_registry(backend, where, project)
    plant_their_tool(backend, where, project, "get_batch_results", "evil\x1b[2J\nauthor")
    result = run("register", *where)
    assert result.exit_code == 0, result.output
    assert "kept (owned by evil\\x1b[2J\\nauthor): tool get_batch_results" in result.stdout
    assert "\x1b" not in result.output


# -- the step-functions-agent form: the agent's stack owns its AgentRegistry item -------------------------


@pytest.fixture
def sfa_tree(project: Path) -> Path:
    """The bundled schemas generated in the step-functions-agent form into sfa/."""
    result = run("generate", "--form", "step-functions-agent", "--out", "sfa")
    assert result.exit_code == 0, result.output
    return project / "sfa"


def test_the_step_functions_agent_form_registers_no_agent_record(
        backend: str, where: list[str], project: Path, sfa_tree: Path) -> None:
    registry = open_registry(backend, where, project)
    result = run("register", *where, "--generated-dir", "sfa")
    assert result.exit_code == 0, result.output
    assert (f"new (written): {SCHEMA} 1.0.0 (template new, agent {AGENT} left to its step-functions-agent stack "
            "(BaseAgentConstruct, when the stack deploys))") in result.stdout
    assert (f"; {SCHEMA_COUNT} agent record(s) not written: in the step-functions-agent form each agent's stack "
            "registers it (BaseAgentConstruct)") in result.stdout
    assert registry.latest("agent", AGENT) is None
    assert registry.get(Key("agent", AGENT, "1.0.0")) is None
    assert registry.latest("template", SCHEMA)["version"] == "1.0.0"  # templates still register
    assert f"new (written): tool print_{SCHEMA}_output" in result.stdout  # and tools
    report = json.loads(run("register", *where, "--generated-dir", "sfa", "--json").stdout)
    (bt,) = [r for r in report["results"] if r["template_id"] == SCHEMA]
    assert (bt["outcome"], bt["template"], bt["agent"]) == ("unchanged", "unchanged", "left to its stack")


def test_with_the_stacks_item_in_place_the_agent_is_listed_once(
        backend: str, where: list[str], project: Path, sfa_tree: Path) -> None:
    """The stack deployed first: its v1.0 item is the only one for the agent after register, and stays as it was."""
    registry = open_registry(backend, where, project)
    theirs = {"agent_name": AGENT, "version": "v1.0", "status": "active", "description": "the stack's",
              "system_prompt": "You extract broadband availability.", "tools": "[]"}
    assert registry.put_new([(Key("agent", AGENT, "v1.0"), theirs)])
    result = run("register", *where, "--generated-dir", "sfa")
    assert result.exit_code == 0, result.output
    latest = registry.latest("agent", AGENT)
    assert latest is not None and latest["version"] == "v1.0" and latest["description"] == "the stack's"
    assert registry.get(Key("agent", AGENT, "1.0.0")) is None


def test_the_standalone_form_still_registers_agent_records(backend: str, where: list[str], project: Path) -> None:
    registry = open_registry(backend, where, project)
    result = run("register", *where)
    assert result.exit_code == 0, result.output
    assert "left to its" not in result.stdout and "agent record(s) not written" not in result.stdout
    assert registry.get(Key("agent", AGENT, "1.0.0")) is not None


def test_a_tree_in_another_form_than_the_project_configures_is_not_registered(
        backend: str, where: list[str], project: Path) -> None:
    """The project now says step-functions-agent, generated/ is still standalone: registering it would write
    the agent records the stacks will own. The check calls it stale; so does register, and writes nothing."""
    registry = open_registry(backend, where, project)
    (project / "schema-factory.toml").write_text('form = "step-functions-agent"\n', "utf-8")
    result = run("register", *where, "--generated-dir", "generated")
    assert result.exit_code == 1
    assert result.stderr.startswith("generated/MANIFEST.json: stale: "), result.stderr
    # without the flag register reads the project root, where the form generates: nothing there yet
    in_place = run("register", *where)
    assert in_place.exit_code == 1
    assert in_place.stderr.startswith("MANIFEST.json: stale: "), in_place.stderr
    assert registry.latest("agent", AGENT) is None and registry.latest("template", SCHEMA) is None
