"""The AgentRegistry record, minus the timestamps and ARN set at registration.

Besides our own fields it carries what the existing step-functions-agent
readers read: top-level `llm_provider`, `llm_model` and `system_prompt`
(`lambda/shared/agent_registry.py`, the UI's agent list), and a
`template_config` with `enabled`, `template_id`, `template_version` both at
the top (as `base_agent_construct.py` stores it) and inside `metadata` (where
the UI's AgentDetailsModal looks before it shows the template). The registry
stores the nested values as JSON text (`factory.registry.records.stored_form`).
"""

from __future__ import annotations

from typing import Any

from factory import names
from factory.emit.serialize import json_bytes
from factory.schema.model import CanonicalSchema

AGENT_STATUS = "active"
RENDERING_ENGINE = "mustache"
# The existing stacks' values for an agent spec that names none
# (stacks/agents/broadband_availability_bt_wholesale_stack.py).
DEFAULT_LLM_PROVIDER = "anthropic"
DEFAULT_LLM_MODEL = "claude-3-5-sonnet-20241022"


def system_prompt(schema: CanonicalSchema) -> str:
    """What the agent does, in plain words, from the schema alone (deterministic)."""
    inputs = ", ".join(f"{name} (required)" if schema.input_schema.is_required(name) else name
                       for name in schema.input_schema.properties)
    outputs = ", ".join(schema.output_schema.field_names())
    return (
        f"You run the browser extraction {schema.extraction_name}: {schema.description}\n"
        f"Input fields: {inputs}.\n"
        f"Render template {names.template_id(schema)} version {schema.version} with the input fields as variables, "
        f"run it with the browser_remote tool, and return the result with "
        f"{names.print_output_tool_name(schema)}, whose fields are: {outputs}."
    )


def template_config(schema: CanonicalSchema) -> dict[str, Any]:
    return {
        "enabled": True,
        "template_id": names.template_id(schema),
        "template_version": schema.version,
        "rendering_engine": RENDERING_ENGINE,
    }


def agent_record(schema: CanonicalSchema) -> dict[str, Any]:
    record: dict[str, Any] = {
        "agent_name": names.agent_name(schema),
        "version": schema.version,
        "status": AGENT_STATUS,
        "description": schema.agent.description or schema.description,
        "extraction_name": schema.extraction_name,
        "tools": [names.tool_name(schema), names.print_output_tool_name(schema)],
        "structured_output": {
            "enabled": True,
            "schemas": {
                "input": schema.input_schema.to_json_schema(),
                "output": schema.output_schema.to_json_schema(),
            },
            "output_fields": schema.output_schema.field_names(),
        },
        "template_config": template_config(schema),
        "llm_provider": schema.agent.llm_provider or DEFAULT_LLM_PROVIDER,
        "llm_model": schema.agent.model_id or DEFAULT_LLM_MODEL,
        "system_prompt": system_prompt(schema),
    }
    record["metadata"] = {
        "canonical_schema_id": schema.extraction_name,
        "canonical_schema_version": schema.version,
        "browser_timeout_seconds": schema.browser_config.timeout,
        "tags": list(schema.metadata.tags),
        "template_config": template_config(schema),
    }
    return record


def emit_agent_record(schema: CanonicalSchema) -> dict[str, bytes]:
    return {names.agent_record_path(schema): json_bytes(agent_record(schema))}
