"""Contract tests: our registry items, in tables the existing step-functions-agent stacks made, through its readers.

The tables are created in moto exactly as guyernest/step-functions-agent (ffef93d)
creates them, `register` writes into them through the CLI, and each reader
restated in `tests/registry/existing_system.py` (docstrings cite file and
lines) reads the items back. Issue #15 §2-§5.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from factory.cli import main
from factory.registry.dynamodb import DynamoRegistry, DynamoSettings
from factory.registry.records import RecordPair
from factory.registry.service import register
from factory.runtime.template_renderer import RenderError, handler
from tests.registry import existing_system as existing
from tests.registry.helpers import REGION, pairs_of, read_json, reset_moto, variant

ENV = "test"
ACCOUNT = "123456789012"
SCHEMA = "broadband_availability_bt_wholesale"
AGENT = "broadband-availability-bt-wholesale-agent"
ORCHESTRATOR_TOOLS = ["analyze_csv_structure", "validate_agent_compatibility", "generate_batch_config",
                      "execute_batch_processor", "monitor_batch_execution", "get_batch_results"]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


class Existing:
    """The three tables as the existing stacks create them, and ways to read them."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
        self.resource = boto3.resource("dynamodb", endpoint_url=endpoint, region_name=REGION)
        for params in (existing.template_table(ENV), existing.agent_table(ENV), existing.tool_table(ENV)):
            self.client.create_table(**params)
        self.where = ["--env", ENV, "--endpoint-url", endpoint, "--region", REGION]

    def get(self, table: str, **key: str) -> dict[str, Any]:
        """A typed item, as a Step Functions GetItem task returns it."""
        response = self.client.get_item(TableName=f"{table}-{ENV}", Key={k: {"S": v} for k, v in key.items()})
        return response["Item"]

    def table(self, name: str) -> Any:
        return self.resource.Table(f"{name}-{ENV}")


@pytest.fixture
def tables(moto_endpoint: str, project: Path) -> Existing:
    reset_moto(moto_endpoint)
    return Existing(moto_endpoint)


@pytest.fixture
def registered(tables: Existing) -> Existing:
    result = run("register", *tables.where, "--account", ACCOUNT)
    assert result.exit_code == 0, result.output
    return tables


# -- §3 tables we did not create -------------------------------------------------------------------------


def test_every_command_works_on_tables_the_existing_stacks_made(registered: Existing) -> None:
    """stacks/shared/shared_infrastructure_stack.py ~113-159 and agent_registry_stack.py ~44-100 create no
    TemplateVersions, AgentVersions or AgentsByExtractionName: each command reads the base table instead,
    says which index is missing on which table, and never that the table does not exist."""
    where = registered.where
    listed = run("list", *where, "--json")
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == 4
    shown = run("show", SCHEMA, *where)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["template_id"] == SCHEMA
    assert f"index TemplateVersions is missing on table TemplateRegistry-{ENV}" in shown.stderr
    deprecated = run("deprecate", SCHEMA, "--version", "1.0.0", *where)
    assert deprecated.exit_code == 0, deprecated.output
    assert f"(and agent {AGENT})" in deprecated.stdout
    assert f"index AgentsByExtractionName is missing on table AgentRegistry-{ENV}" in deprecated.stderr
    archived = run("archive", SCHEMA, "--version", "1.0.0", *where)
    assert archived.exit_code == 0, archived.output
    assert registered.get("AgentRegistry", agent_name=AGENT, version="1.0.0")["status"] == {"S": "archived"}
    again = run("register", *where, "--account", ACCOUNT)
    assert again.exit_code == 0 and "0 new, 4 unchanged, 0 conflict" in again.stdout
    for result in (listed, shown, deprecated, archived, again):
        assert "does not exist" not in result.output


def test_latest_is_semantic_without_the_local_index(tables: Existing, bundled_records: list[RecordPair]) -> None:
    """Without TemplateVersions the base table is queried on the key and ordered here: 1.10.0 after 1.9.0
    (as text, "1.9.0" sorts last)."""
    notices: list[str] = []
    registry = DynamoRegistry(DynamoSettings(env_name=ENV, region=REGION, endpoint_url=tables.endpoint,
                                             page_size=1), notice=notices.append)
    records = [variant(bundled_records[0], version=version) for version in ("1.9.0", "1.10.0", "1.2.0")]
    register(registry, pairs_of(*records))
    assert registry.latest("template", records[0].template["template_id"])["version"] == "1.10.0"
    assert registry.latest("agent", records[0].agent["agent_name"])["version"] == "1.10.0"
    assert notices == [f"notice: index TemplateVersions is missing on table TemplateRegistry-{ENV}; "
                       "reading the base table instead",
                       f"notice: index AgentVersions is missing on table AgentRegistry-{ENV}; "
                       "reading the base table instead"]


def test_a_missing_table_is_still_named_as_missing(moto_endpoint: str, project: Path) -> None:
    reset_moto(moto_endpoint)
    result = run("show", SCHEMA, "--env", ENV, "--endpoint-url", moto_endpoint, "--region", REGION)
    assert result.exit_code == 1 and f"TemplateRegistry-{ENV} does not exist" in result.stderr


# -- §2 TemplateRegistry items -----------------------------------------------------------------------


def test_template_items_have_the_existing_types(registered: Existing) -> None:
    """scripts/register_template.py ~128-145 stores template, variables, metadata as JSON strings (S);
    the existing agents $parse(Item.template.S); TEMPLATE_REGISTRY_SCHEMA.md (lambda/tools/
    local-browser-agent/schema-factory/) gives variables as an object keyed by variable name, each with
    type, description, required and optional pattern/enum."""
    item = registered.get("TemplateRegistry", template_id=SCHEMA, version="1.0.0")
    assert {name: set(value) for name, value in item.items()} == {name: {"S"} for name in item}
    script = existing.agent_template_parse(item)
    assert script["starting_page"].startswith("https://") and script["steps"]
    variables = json.loads(item["variables"]["S"])
    schema = read_json(Path("schemas") / f"{SCHEMA}.json")
    assert list(variables) == list(schema["input_schema"]["properties"])
    for name, spec in variables.items():
        assert spec["type"] == "string" and isinstance(spec["description"], str)
        assert spec["required"] is bool(schema["input_schema"]["properties"][name].get("required"))
    assert variables["postcode"]["pattern"] == schema["input_schema"]["properties"]["postcode"]["pattern"]
    metadata = json.loads(item["metadata"]["S"])
    assert metadata["canonical_schema_id"] == SCHEMA and metadata["author"] == "schema-factory"
    assert {"version_key", "content_sha256"} <= set(item)  # ours, ignored by every reader above


def test_the_ui_finds_our_template_by_agent_name(registered: Existing) -> None:
    """ui_amplify/amplify/data/listTemplatesByAgent.js: contains(metadata, agent_name) finds it."""
    (found,) = existing.templates_by_agent(registered.client, f"TemplateRegistry-{ENV}", AGENT)
    assert (found["template_id"], found["version"]) == (SCHEMA, "1.0.0")
    assert found["template"]["starting_page"] and "postcode" in found["variables"]


VALUES = {"building_number": "23", "street": "High Street", "postcode": "SW1A 1AA"}


def test_our_renderer_reads_our_items_as_getitem_returns_them(registered: Existing) -> None:
    item = registered.get("TemplateRegistry", template_id=SCHEMA, version="1.0.0")
    script = handler({"template_item": item, "variables": VALUES})["script"]
    text = json.dumps(script)
    assert all(value in text for value in VALUES.values()) and "{{{" not in text
    with pytest.raises(RenderError, match="postcode: required but missing"):
        handler({"template_item": item, "variables": {k: v for k, v in VALUES.items() if k != "postcode"}})


def test_our_renderer_reads_the_existing_writers_items_and_our_old_map_items(registered: Existing) -> None:
    """scripts/register_template.py items (JSON strings, variables keyed by name from {{name}}), and items
    our earlier versions wrote with maps (M) and a variables list."""
    template = {"starting_page": "https://example.com", "steps": [
        {"action": "act", "prompt": "Search {{postcode}} at {{building_number}}"}]}
    theirs = existing.register_template_item(template, "theirs", "1.0.0")
    script = handler({"template_item": theirs, "variables": VALUES})["script"]
    assert script["steps"][0]["prompt"] == "Search SW1A 1AA at 23"
    with pytest.raises(RenderError, match="postcode: required but missing"):
        handler({"template_item": theirs, "variables": {"building_number": "23"}})
    ours = json.loads(json.dumps(read_json(Path("generated/templates") / f"{SCHEMA}_v1.0.0.json")))
    from boto3.dynamodb.types import TypeSerializer

    typed = {name: TypeSerializer().serialize(value) for name, value in ours.items()}
    assert typed["template"].keys() == {"M"} and typed["variables"].keys() == {"L"}
    assert handler({"template_item": typed, "variables": VALUES})["script"] == handler(
        {"template_item": registered.get("TemplateRegistry", template_id=SCHEMA, version="1.0.0"),
         "variables": VALUES})["script"]


# -- §4 AgentRegistry records ---------------------------------------------------------------------------


def test_agent_items_hold_strings_as_base_agent_construct_writes_them(registered: Existing) -> None:
    """stacks/shared/base_agent_construct.py ~75-137: every attribute {"S": str(value)} (or BOOL);
    tools, observability, parameters, metadata, structured_output, template_config as JSON text."""
    item = registered.get("AgentRegistry", agent_name=AGENT, version="1.0.0")
    assert {name: set(value) for name, value in item.items()} == {name: {"S"} for name in item}
    for name in ("tools", "metadata", "structured_output", "template_config"):
        json.loads(item[name]["S"])
    assert item["deployment_env"] == {"S": ENV}
    assert item["state_machine_arn"]["S"] == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{AGENT}-{ENV}"


def test_agent_registry_py_reads_our_records(registered: Existing) -> None:
    """lambda/shared/agent_registry.py get_agent_config / list_agents / _parse_agent_item."""
    table = registered.table("AgentRegistry")
    config = existing.get_agent_config_latest(table, AGENT)
    assert config["llm_provider"] == "anthropic" and config["llm_model"]
    assert SCHEMA in config["system_prompt"] and "browser_remote" in config["system_prompt"]
    assert [tool["tool_name"] for tool in config["tools"]] == [
        "broadband-availability-bt-wholesale", f"print_{SCHEMA}_output"]
    assert config["metadata"]["template_config"] == {"enabled": True, "template_id": SCHEMA,
                                                     "template_version": "1.0.0", "rendering_engine": "mustache"}
    providers = [(read_json(path).get("agent") or {}).get("llm_provider") or "anthropic"
                 for path in Path("schemas").glob("*.json")]
    for provider in set(providers):
        by_llm = existing.list_agents(table, llm_provider=provider)
        assert len(by_llm) == providers.count(provider) and all(a["llm_provider"] == provider for a in by_llm)
    assert AGENT in [agent["agent_name"] for agent in existing.list_agents(table, llm_provider="anthropic")]
    assert AGENT in [agent["agent_name"] for agent in existing.list_agents(table)]


def test_the_orchestrator_validates_our_agents(registered: Existing) -> None:
    """lambda/agents/batch_orchestrator/validate_agent.py: compatible, with schemas, and json.dumps of
    the result works (numbers in a JSON string come back as int/float, not Decimal)."""
    table = registered.table("AgentRegistry")
    for agent in ("energy-tariff-quotes-agent", AGENT):
        result = existing.validate_agent_compatibility(table, agent)
        assert result["compatible"] is True and result["state_machine_arn"].endswith(f"{agent}-{ENV}")
        assert set(result["schemas"]) == {"input", "output"}


def test_a_map_with_numbers_is_what_would_crash_the_orchestrator(tables: Existing) -> None:
    """The control: an item holding structured_output as a map with a number is read back with a Decimal."""
    tables.table("AgentRegistry").put_item(Item={
        "agent_name": "map-agent", "version": "1.0.0", "status": "active",
        "structured_output": {"enabled": True, "schemas": {"output": {"type": "object", "minimum": 1}}}})
    with pytest.raises(TypeError, match="Decimal is not JSON serializable"):
        existing.validate_agent_compatibility(tables.table("AgentRegistry"), "map-agent")


def test_the_ui_shows_our_agents_template(registered: Existing) -> None:
    """listAgentsFromRegistry.js, then AgentDetailsModal.tsx's template lookup, then getAgentTemplate."""
    item = registered.table("AgentRegistry").get_item(Key={"agent_name": AGENT, "version": "1.0.0"})["Item"]
    agent = existing.ui_agent(item)
    assert agent["tools"] == ["broadband-availability-bt-wholesale", f"print_{SCHEMA}_output"]
    assert agent["systemPrompt"] and agent["llmProvider"] == "anthropic"
    lookup = existing.ui_template_lookup(agent)
    assert lookup == (SCHEMA, "1.0.0")
    registered.get("TemplateRegistry", template_id=lookup[0], version=lookup[1])


# -- §5 tool specs and ToolRegistry ---------------------------------------------------------------------


def test_tool_spec_files_carry_the_existing_form(project: Path) -> None:
    """stacks/tools/base_tool_construct_batched.py ~90-95 refuses a spec without tool_name, description,
    input_schema; the `step_functions_agent` list of each tool spec file passes."""
    for path in sorted(Path("generated/tool_specs").glob("[!_]*.json")):
        specs = read_json(path)
        names = existing.batched_tool_construct_accepts(specs["step_functions_agent"])
        assert names == [tool["name"] for tool in specs["anthropic"]]
        with pytest.raises(ValueError, match="missing required field: tool_name"):
            existing.batched_tool_construct_accepts(specs["anthropic"])


def test_register_writes_tool_registry_items(registered: Existing) -> None:
    """ToolRegistry-{env} holds each schema's two tools and the six orchestrator tools, input_schema as
    JSON text; the UI lists them and the existing agents load our agents' tool definitions."""
    items = registered.table("ToolRegistry").scan()["Items"]
    names = {item["tool_name"] for item in items}
    assert set(ORCHESTRATOR_TOOLS) <= names
    assert {"broadband-availability-bt-wholesale", f"print_{SCHEMA}_output"} <= names
    assert len(names) == 4 * 2 + 6
    for item in items:
        tool = existing.ui_tool(item)
        assert json.loads(tool["inputSchema"])["type"] == "object" and tool["description"]
    agent = registered.get("AgentRegistry", agent_name=AGENT, version="1.0.0")
    definitions = existing.unified_llm_tool_definitions(
        agent, lambda name: registered.get("ToolRegistry", tool_name=name))
    assert [d["name"] for d in definitions] == ["broadband-availability-bt-wholesale", f"print_{SCHEMA}_output"]
    assert "postcode" in definitions[0]["input_schema"]["properties"]


# The six tools the existing BatchOrchestratorAgentStack registers under the names ours use
# (stacks/agents/batch_orchestrator_agent_stack.py `_register_tools_in_registry`, lines ~406-590 at ffef93d:
# tool_name, description, author "batch-orchestrator"), through BaseToolConstruct, which puts each spec
# with every value as a string ({"S": str(value)}) or a boolean, input_schema and tags as JSON text, and
# defaults for what the spec leaves out (stacks/tools/base_tool_construct.py ~101-160 at ffef93d).
THEIR_ORCHESTRATOR_TOOLS = {
    "analyze_csv_structure": "Analyzes CSV file structure and returns column info and sample data",
    "validate_agent_compatibility": "Validates that an agent has structured output capability",
    "generate_batch_config": "Generates configuration for batch processor",
    "execute_batch_processor": "Starts batch processing execution",
    "monitor_batch_execution": "Monitors the status of a batch processing execution",
    "get_batch_results": "Retrieves results from completed batch processing",
}


def their_tool_item(tool_name: str, description: str, author: str = "batch-orchestrator") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "tool_name": tool_name, "description": description,
        "input_schema": json.dumps({"type": "object", "properties": {}, "required": []}),
        "lambda_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:batch-orchestrator-{ENV}",
        "lambda_function_name": f"batch-orchestrator-{ENV}", "language": "python", "tags": json.dumps(["batch"]),
        "status": "active", "author": author, "human_approval_required": False, "requires_activity": False,
        "activity_type": "", "activity_arn": "", "created_at": "2025-10-17T17:00:00Z",
        "updated_at": "2025-10-17T17:00:00Z", "tool_type": "lambda",
    }
    return {key: {"BOOL": value} if isinstance(value, bool) else {"S": str(value)} for key, value in spec.items()}


def test_the_batch_orchestrators_own_tools_are_kept_and_the_rest_is_written(tables: Existing) -> None:
    """Their six items stand untouched, each reported `kept (owned by batch-orchestrator)`; the templates,
    agent records and the schemas' tools are written (exit 0), where the run used to write nothing."""
    for name, description in THEIR_ORCHESTRATOR_TOOLS.items():
        tables.client.put_item(TableName=f"ToolRegistry-{ENV}", Item=their_tool_item(name, description))
    before = {name: tables.get("ToolRegistry", tool_name=name) for name in ORCHESTRATOR_TOOLS}
    result = run("register", *tables.where, "--account", ACCOUNT)
    assert result.exit_code == 0, result.output
    for name in ORCHESTRATOR_TOOLS:
        assert re.search(rf"^kept \(owned by batch-orchestrator\): tool {name} \S+$", result.stdout, re.M), name
        assert tables.get("ToolRegistry", tool_name=name) == before[name]
    assert "conflict" not in result.stderr
    assert "4 schema(s) and 8 tool(s) written; 6 tool(s) left to the writer that owns them" in result.stdout
    assert len(tables.table("TemplateRegistry").scan()["Items"]) == 4
    assert tables.get("AgentRegistry", agent_name=AGENT, version="1.0.0")["agent_name"] == {"S": AGENT}
    assert tables.get("ToolRegistry", tool_name=f"print_{SCHEMA}_output")["author"] == {"S": "schema-factory"}
    again = run("register", *tables.where, "--account", ACCOUNT, "--json")
    assert again.exit_code == 0, again.output
    tools = {tool["tool_name"]: (tool["outcome"], tool["owner"]) for tool in json.loads(again.stdout)["tools"]}
    assert {name: tools[name] for name in ORCHESTRATOR_TOOLS} == {
        name: ("owned", "batch-orchestrator") for name in ORCHESTRATOR_TOOLS}
    assert tools[f"print_{SCHEMA}_output"] == ("unchanged", None)


def test_a_tool_item_with_no_author_is_kept_too(tables: Existing) -> None:
    """A hand-made item without BaseToolConstruct's author is still not ours: left as it is."""
    tables.client.put_item(TableName=f"ToolRegistry-{ENV}", Item={
        "tool_name": {"S": "get_batch_results"}, "description": {"S": "theirs"}, "input_schema": {"S": "{}"}})
    result = run("register", *tables.where, "--account", ACCOUNT)
    assert result.exit_code == 0, result.output
    assert "kept (owned by a writer that left no author): tool get_batch_results" in result.stdout
    assert tables.get("ToolRegistry", tool_name="get_batch_results")["description"] == {"S": "theirs"}
    assert len(tables.table("TemplateRegistry").scan()["Items"]) == 4


def test_a_forged_item_of_ours_still_conflicts(tables: Existing) -> None:
    """An item that says author schema-factory but lacks our version and hash is not ours to overwrite:
    the run is refused as before, nothing written."""
    item = their_tool_item("get_batch_results", "forged", author="schema-factory")
    tables.client.put_item(TableName=f"ToolRegistry-{ENV}", Item=item)
    result = run("register", *tables.where, "--account", ACCOUNT)
    assert result.exit_code == 1
    assert "get_batch_results" in result.stderr and "tool-conflict" not in result.stdout
    assert "0 schema(s) and 0 tool(s) written" in result.stdout
    assert tables.table("TemplateRegistry").scan()["Items"] == []
    assert tables.get("ToolRegistry", tool_name="get_batch_results")["description"] == {"S": "forged"}


def test_a_new_schema_version_updates_its_tools(
        tables: Existing, project: Path) -> None:
    assert run("register", *tables.where, "--account", ACCOUNT).exit_code == 0
    path = Path("schemas") / f"{SCHEMA}.json"
    schema = read_json(path)
    schema["version"], schema["description"] = "1.1.0", "Newer description"
    path.write_text(json.dumps(schema, indent=2) + "\n", "utf-8")
    from factory.generation import generate_to_disk

    generate_to_disk([], Path("generated"))
    result = run("register", *tables.where, "--account", ACCOUNT, "--json")
    assert result.exit_code == 0, result.output
    tools = {tool["tool_name"]: tool["outcome"] for tool in json.loads(result.stdout)["tools"]}
    assert tools["broadband-availability-bt-wholesale"] == "updated"
    assert tools[f"print_{SCHEMA}_output"] == "unchanged"
    assert tables.get("ToolRegistry", tool_name="broadband-availability-bt-wholesale")["description"] == {
        "S": "Newer description"}


def test_our_batch_validator_reads_the_same_items(registered: Existing) -> None:
    """Our side of the shared table: the batch validator's record check takes the JSON-text form too."""
    import yaml

    from factory.runtime.agent_record_checks import check_agent_record, load_agent_record

    record = load_agent_record(registered.table("AgentRegistry"), AGENT)
    assert isinstance(record["structured_output"], str)
    mapping = yaml.safe_load(Path(f"generated/batch_mappings/{SCHEMA}.yaml").read_text("utf-8"))
    assert check_agent_record(record, mapping, AGENT) == []


@pytest.mark.parametrize("template, message", [
    ({"S": "{not json"}, "attribute 'template' is text but not JSON"),
    ({"S": "[1, 2]"}, "template item has no template object"),
])
def test_a_malformed_template_item_is_a_render_error(template: dict[str, str], message: str) -> None:
    """A corrupt item fails the render step by name (the state machine catches RenderError), not a crash."""
    item = {"template_id": {"S": "x"}, "version": {"S": "1.0.0"}, "template": template, "variables": {"S": "{}"}}
    with pytest.raises(RenderError, match=re.escape(message)):
        handler({"template_item": item, "variables": {}})


def test_deprecate_a_template_another_writer_registered(tables: Existing) -> None:
    """No agent_name in its metadata and no AgentsByExtractionName: the agent table is scanned for the
    schema version's agents; items of theirs without extraction_name are left alone."""
    template = {"starting_page": "https://example.com", "steps": []}
    tables.client.put_item(TableName=f"TemplateRegistry-{ENV}",
                           Item=existing.register_template_item(template, "theirs", "1.0.0"))
    agents = tables.table("AgentRegistry")
    agents.put_item(Item={"agent_name": "their-agent", "version": "1.0.0", "status": "active",
                          "extraction_name": "theirs", "updated_at": "2025-10-17T17:00:00Z"})
    agents.put_item(Item={"agent_name": "other-agent", "version": "1.0.0", "status": "active",
                          "updated_at": "2025-10-17T17:00:00Z"})
    result = run("deprecate", "theirs", "--version", "1.0.0", *tables.where)
    assert result.exit_code == 0, result.output
    assert "theirs 1.0.0: active -> deprecated (and agent their-agent)" in result.stdout
    assert agents.get_item(Key={"agent_name": "other-agent", "version": "1.0.0"})["Item"]["status"] == "active"


@pytest.mark.parametrize("code, message", [
    ("ValidationException", "The table does not have the specified index: TemplateVersions"),
    ("ResourceNotFoundException", "Requested resource not found: Invalid index: TemplateVersions"),
])
def test_an_index_error_names_the_index_not_a_missing_table(code: str, message: str) -> None:
    """Whatever the service says about an index (DynamoDB, moto), the user reads "index X is missing on
    table Y", never that the table does not exist."""
    from botocore.exceptions import ClientError

    from factory.errors import FactoryError

    registry = DynamoRegistry(DynamoSettings(env_name=ENV, region=REGION, endpoint_url="http://127.0.0.1:9"))
    with pytest.raises(FactoryError) as caught:
        with registry._errors("template"):
            raise ClientError({"Error": {"Code": code, "Message": message}}, "Query")
    (problem,) = caught.value.problems
    assert problem.message.startswith(f"index TemplateVersions is missing on table TemplateRegistry-{ENV}")
    assert "does not exist" not in problem.message
