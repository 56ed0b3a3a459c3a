"""Tool specs of the batch orchestrator agent, in the same two dialects as agent tools."""

from __future__ import annotations

from factory.batch.orchestrator_tools import ORCHESTRATOR_TOOLS
from factory.emit.serialize import json_bytes
from factory.emit.tool_specs import bedrock_form
from factory.schema.model import CanonicalSchema

# A leading underscore: no extraction name can take this path.
ORCHESTRATOR_TOOL_SPECS_PATH = "tool_specs/_batch_orchestrator.json"


def emit_orchestrator_tool_specs(schemas: list[CanonicalSchema]) -> dict[str, bytes]:
    tools = [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in ORCHESTRATOR_TOOLS]
    return {
        ORCHESTRATOR_TOOL_SPECS_PATH: json_bytes(
            {"agent": "batch-orchestrator", "anthropic": tools, "bedrock": [bedrock_form(t) for t in tools]}
        )
    }
