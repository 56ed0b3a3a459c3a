"""The parts of step-functions-agent (guyernest/step-functions-agent at ffef93d) that meet our registry items.

Each function restates, as a small literal, what one of its readers or
writers does; the docstring cites the file and lines. Their code stays out of
this repository: these are facts about a wire contract, written in our words,
so a test can feed our items through them and fail when a contract breaks.
"""

from __future__ import annotations

import json
import re
from typing import Any

# -- the tables, exactly as the existing stacks create them ------------------------------------------


def _gsi(name: str, partition: str, sort: str) -> dict[str, Any]:
    return {"IndexName": name, "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": partition, "KeyType": "HASH"},
                          {"AttributeName": sort, "KeyType": "RANGE"}]}


def _strings(*names: str) -> list[dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": "S"} for name in names]


def template_table(env: str) -> dict[str, Any]:
    """stacks/shared/shared_infrastructure_stack.py _create_template_registry, lines ~113-159:
    key template_id/version; GSIs TemplatesByExtractionName (extraction_name, created_at) and
    TemplatesByStatus (status, updated_at); no local index."""
    return {"TableName": f"TemplateRegistry-{env}", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "template_id", "KeyType": "HASH"},
                          {"AttributeName": "version", "KeyType": "RANGE"}],
            "AttributeDefinitions": _strings("template_id", "version", "extraction_name", "created_at", "status",
                                             "updated_at"),
            "GlobalSecondaryIndexes": [_gsi("TemplatesByExtractionName", "extraction_name", "created_at"),
                                       _gsi("TemplatesByStatus", "status", "updated_at")]}


def agent_table(env: str) -> dict[str, Any]:
    """stacks/shared/agent_registry_stack.py, lines ~44-100: key agent_name/version; GSIs AgentsByStatus
    (status, updated_at), AgentsByLLM (llm_provider, agent_name), AgentsByEnvironment (deployment_env,
    agent_name); no AgentVersions, no AgentsByExtractionName."""
    return {"TableName": f"AgentRegistry-{env}", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "agent_name", "KeyType": "HASH"},
                          {"AttributeName": "version", "KeyType": "RANGE"}],
            "AttributeDefinitions": _strings("agent_name", "version", "status", "updated_at", "llm_provider",
                                             "deployment_env"),
            "GlobalSecondaryIndexes": [_gsi("AgentsByStatus", "status", "updated_at"),
                                       _gsi("AgentsByLLM", "llm_provider", "agent_name"),
                                       _gsi("AgentsByEnvironment", "deployment_env", "agent_name")]}


def tool_table(env: str) -> dict[str, Any]:
    """stacks/shared/shared_infrastructure_stack.py _create_tool_registry, lines ~56-110: key tool_name
    alone; GSIs ToolsByLanguage (language, tool_name), ToolsByStatus (status, updated_at),
    ToolsByAuthor (author, created_at)."""
    return {"TableName": f"ToolRegistry-{env}", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "tool_name", "KeyType": "HASH"}],
            "AttributeDefinitions": _strings("tool_name", "language", "status", "updated_at", "author",
                                             "created_at"),
            "GlobalSecondaryIndexes": [_gsi("ToolsByLanguage", "language", "tool_name"),
                                       _gsi("ToolsByStatus", "status", "updated_at"),
                                       _gsi("ToolsByAuthor", "author", "created_at")]}


# -- AgentRegistry readers ----------------------------------------------------------------------------

AGENT_JSON_FIELDS = ("tools", "observability", "parameters", "metadata")


def parse_agent_item(item: dict[str, Any]) -> dict[str, Any]:
    """lambda/shared/agent_registry.py _parse_agent_item, lines ~226-238: json.loads each of tools,
    observability, parameters, metadata when it is a string; a JSONDecodeError only logs a warning
    (returned here as the unparsed string, which the assertions then catch)."""
    parsed = dict(item)
    for field in AGENT_JSON_FIELDS:
        if field in parsed and isinstance(parsed[field], str):
            try:
                parsed[field] = json.loads(parsed[field])
            except json.JSONDecodeError:
                pass
    return parsed


def get_agent_config_latest(table: Any, agent_name: str) -> dict[str, Any]:
    """lambda/shared/agent_registry.py get_agent_config(version="latest"), lines ~44-63: Query on
    agent_name, FilterExpression status = active, ScanIndexForward=False, Limit=1 (the highest
    `version` as text must be active), then _parse_agent_item."""
    response = table.query(KeyConditionExpression="agent_name = :name",
                           ExpressionAttributeValues={":name": agent_name, ":active": "active"},
                           FilterExpression="#status = :active", ExpressionAttributeNames={"#status": "status"},
                           ScanIndexForward=False, Limit=1)
    if not response["Items"]:
        raise ValueError(f"No active agent found with name: {agent_name}")
    return parse_agent_item(response["Items"][0])


def list_agents(table: Any, status: str = "active", llm_provider: str | None = None) -> list[dict[str, Any]]:
    """lambda/shared/agent_registry.py list_agents, lines ~182-224: with llm_provider a Query on the
    AgentsByLLM index filtered by status, else a Query on AgentsByStatus; each item parsed."""
    if llm_provider:
        response = table.query(IndexName="AgentsByLLM", KeyConditionExpression="llm_provider = :provider",
                               ExpressionAttributeValues={":provider": llm_provider, ":status": status},
                               FilterExpression="#status = :status", ExpressionAttributeNames={"#status": "status"})
    else:
        response = table.query(IndexName="AgentsByStatus", KeyConditionExpression="#status = :status",
                               ExpressionAttributeValues={":status": status},
                               ExpressionAttributeNames={"#status": "status"})
    return [parse_agent_item(item) for item in response["Items"]]


def validate_agent_compatibility(table: Any, agent_name: str) -> dict[str, Any]:
    """lambda/agents/batch_orchestrator/validate_agent.py lambda_handler, lines ~43-198, the path our
    records take: Query the newest version (ScanIndexForward=False, Limit=1); `structured_output`
    json.loads'ed when a string, `enabled` read from it; on success `schemas`, `state_machine_arn`
    and `description` copied into the result, which is returned as json.dumps(result) (a Decimal
    anywhere in it raises "Object of type Decimal is not JSON serializable")."""
    response = table.query(KeyConditionExpression="agent_name = :name",
                           ExpressionAttributeValues={":name": agent_name}, ScanIndexForward=False, Limit=1)
    if not response.get("Items"):
        return {"compatible": False, "error": f"Agent '{agent_name}' not found in registry"}
    agent = response["Items"][0]
    structured_output = agent.get("structured_output")
    if isinstance(structured_output, str):
        try:
            structured_output = json.loads(structured_output)
        except ValueError:
            pass
    enabled = structured_output.get("enabled", False) if isinstance(structured_output, dict) else False
    if not enabled:
        return {"compatible": False, "agent_name": agent_name, "structured_output_enabled": False}
    result: dict[str, Any] = {"compatible": True, "agent_name": agent_name, "structured_output_enabled": True}
    if agent.get("state_machine_arn") or agent.get("agentArn", ""):
        result["state_machine_arn"] = agent.get("state_machine_arn") or agent.get("agentArn", "")
    if agent.get("description", ""):
        result["description"] = agent["description"]
    if "schemas" in structured_output:
        result["schemas"] = structured_output["schemas"]
        fields = [key for schema_def in structured_output["schemas"].values()
                  if "schema" in schema_def and "properties" in schema_def["schema"]
                  for key in schema_def["schema"]["properties"]]
        if fields:
            result["output_fields"] = sorted(set(fields))
    return json.loads(json.dumps(result))  # the handler's json.dumps(result) as "content"


def ui_agent(item: dict[str, Any]) -> dict[str, Any]:
    """ui_amplify/amplify/data/listAgentsFromRegistry.js response, lines ~10-55 (AppSync gives plain
    values): tools only from a string starting with '[' (names, or objects' tool_name / name) or a
    list; metadata passed on as it is (the modal then JSON.parse's it)."""
    tools: list[str] = []
    raw = item.get("tools")
    if isinstance(raw, str) and raw[:1] == "[":
        tools = [tool if isinstance(tool, str) else tool.get("tool_name") or tool.get("name") or ""
                 for tool in json.loads(raw)]
        tools = [name for name in tools if name != ""]
    elif isinstance(raw, list):
        tools = raw
    return {"name": item["agent_name"], "tools": tools, "systemPrompt": item.get("system_prompt") or "",
            "llmProvider": item.get("llm_provider") or "", "llmModel": item.get("llm_model") or "",
            "status": item.get("status") or "active", "metadata": item.get("metadata") or "{}"}


def ui_template_lookup(agent: dict[str, Any]) -> tuple[str, str] | None:
    """ui_amplify/src/components/AgentDetailsModal.tsx hasTemplateSupport and fetchTemplateInfo, lines
    ~104-110 and ~217-240: parseJSON(agent.metadata).template_config.enabled, or 'browser_remote' in
    tools, before any template is fetched; then getAgentTemplate(template_config.template_id,
    template_config.template_version || '1.0.0')."""
    metadata = json.loads(agent["metadata"]) if isinstance(agent["metadata"], str) else agent["metadata"]
    config = metadata.get("template_config") or {}
    if not (config.get("enabled") or "browser_remote" in agent["tools"]):
        return None
    return config["template_id"], config.get("template_version") or "1.0.0"


# -- TemplateRegistry readers and writer -------------------------------------------------------------


def templates_by_agent(client: Any, table_name: str, agent_name: str) -> list[dict[str, Any]]:
    """ui_amplify/amplify/data/listTemplatesByAgent.js, lines ~2-76: a Scan filtered by
    contains(metadata, agent_name) OR extraction_name = agent_name OR extraction_name = agent_name with
    '-' made '_'; then template, variables, metadata JSON.parse'd when strings; active ones only."""
    from boto3.dynamodb.types import TypeDeserializer

    response = client.scan(
        TableName=table_name,
        FilterExpression="contains(#metadata, :agent_name) OR #extraction_name = :agent_name "
                         "OR #extraction_name = :extraction_name_value",
        ExpressionAttributeNames={"#metadata": "metadata", "#extraction_name": "extraction_name"},
        ExpressionAttributeValues={":agent_name": {"S": agent_name},
                                   ":extraction_name_value": {"S": "_".join(agent_name.split("-"))}})
    deserializer = TypeDeserializer()
    found = []
    for raw in response["Items"]:
        item = {key: deserializer.deserialize(value) for key, value in raw.items()}
        if not item.get("template_id"):
            continue
        parsed = {name: json.loads(item[name]) if isinstance(item.get(name), str) else item.get(name) or {}
                  for name in ("template", "variables", "metadata")}
        if (item.get("status") or "active") == "active":
            found.append({"template_id": item["template_id"], "version": item.get("version") or "", **parsed})
    return found


def agent_template_parse(item: dict[str, Any]) -> dict[str, Any]:
    """The existing agents load a template with $parse($states.result.Item.template.S)
    (stacks/agents/step_functions_generator_unified_llm.py, template branch): `template` must be a
    DynamoDB string holding JSON."""
    return json.loads(item["template"]["S"])


def register_template_item(template: dict[str, Any], template_id: str, version: str) -> dict[str, Any]:
    """scripts/register_template.py register_template, lines ~128-145, with
    extract_variables_from_template, lines ~59-86: template, variables and metadata as JSON strings;
    variables an object keyed by name ({type, description, required}) found from {{name}} placeholders."""
    names = sorted({match.strip() for match in re.findall(r"\{\{([^#^/][^}]*)\}\}", json.dumps(template))})
    variables = {name: {"type": "string", "description": f"Value for {name}", "required": True} for name in names}
    return {"template_id": {"S": template_id}, "version": {"S": version}, "extraction_name": {"S": template_id},
            "status": {"S": "active"}, "template": {"S": json.dumps(template)},
            "variables": {"S": json.dumps(variables)},
            "metadata": {"S": json.dumps({"author": "schema-factory", "tags": ["browser-automation"]})},
            "created_at": {"S": "2025-10-17T17:00:00Z"}, "updated_at": {"S": "2025-10-17T17:00:00Z"}}


# -- ToolRegistry --------------------------------------------------------------------------------------

TOOL_SPEC_REQUIRED = ("tool_name", "description", "input_schema")


def batched_tool_construct_accepts(tool_specs: list[dict[str, Any]]) -> list[str]:
    """stacks/tools/base_tool_construct_batched.py _register_all_tools_batched, lines ~90-95: each spec
    must hold tool_name, description, input_schema, else ValueError("Tool spec missing required
    field: ..."). Returns the tool names it would register."""
    for spec in tool_specs:
        for field in TOOL_SPEC_REQUIRED:
            if field not in spec:
                raise ValueError(f"Tool spec missing required field: {field}")
    return [spec["tool_name"] for spec in tool_specs]


def ui_tool(item: dict[str, Any]) -> dict[str, Any]:
    """ui_amplify/amplify/data/listToolsFromRegistry.js response, lines ~10-27: name from tool_name
    (or name), description, inputSchema = input_schema as stored (the existing construct stores
    JSON text, base_tool_construct_batched.py lines ~121-128)."""
    return {"name": item.get("tool_name") or item.get("name") or "", "description": item.get("description") or "",
            "language": item.get("language") or "python", "inputSchema": item.get("input_schema")}


def unified_llm_tool_definitions(agent_item: dict[str, Any], get_tool: Any) -> list[dict[str, Any]]:
    """stacks/agents/step_functions_generator_unified_llm.py "Load Tool Definitions", lines ~160-186: a
    Map over $parse($agent_config.tools.S); each element's `tool_name` is the ToolRegistry key; the
    definition is {name: tool_name.S, description: description.S, input_schema: $parse(input_schema.S)}.
    `agent_item` and `get_tool`'s result are typed DynamoDB items (what a GetItem task returns)."""
    definitions = []
    for element in json.loads(agent_item["tools"]["S"]):
        item = get_tool(element["tool_name"])
        definitions.append({"name": item["tool_name"]["S"], "description": item["description"]["S"],
                            "input_schema": json.loads(item["input_schema"]["S"])})
    return definitions
