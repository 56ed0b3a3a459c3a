"""Tool specs of the batch orchestrator agent, in the same two dialects as agent tools.

The specs are data in `factory.orchestrator_specs`; emit reads them there and
never imports the batch engine that serves them.
"""

from __future__ import annotations

from factory.emit.serialize import json_bytes
from factory.names import ORCHESTRATOR_TOOL_SPECS_PATH
from factory.emit.tool_specs import bedrock_form
from factory.orchestrator_specs import ORCHESTRATOR_TOOL_SPECS
from factory.schema.model import CanonicalSchema


def emit_orchestrator_tool_specs(schemas: list[CanonicalSchema]) -> dict[str, bytes]:
    tools = [dict(spec) for spec in ORCHESTRATOR_TOOL_SPECS]
    return {
        ORCHESTRATOR_TOOL_SPECS_PATH: json_bytes(
            {"agent": "batch-orchestrator", "anthropic": tools, "bedrock": [bedrock_form(t) for t in tools]}
        )
    }
