"""The AgentRegistry record, minus the timestamps and ARN set at registration."""

from __future__ import annotations

from typing import Any

from factory import names
from factory.emit.serialize import json_bytes
from factory.schema.model import CanonicalSchema

AGENT_STATUS = "active"
RENDERING_ENGINE = "mustache"


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
        "template_config": {
            "template_id": names.template_id(schema),
            "version": schema.version,
            "rendering_engine": RENDERING_ENGINE,
        },
    }
    if schema.agent.llm_provider or schema.agent.model_id:
        record["llm"] = {
            key: value
            for key, value in (("provider", schema.agent.llm_provider), ("model_id", schema.agent.model_id))
            if value
        }
    record["metadata"] = {
        "canonical_schema_id": schema.extraction_name,
        "canonical_schema_version": schema.version,
        "browser_timeout_seconds": schema.browser_config.timeout,
        "tags": list(schema.metadata.tags),
    }
    return record


def emit_agent_record(schema: CanonicalSchema) -> dict[str, bytes]:
    return {names.agent_record_path(schema): json_bytes(agent_record(schema))}
