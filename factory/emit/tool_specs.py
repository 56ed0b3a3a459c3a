"""Tool specs: the input tool and `print_<name>_output`, in both API dialects.

One file carries the Anthropic form (`name`, `description`, `input_schema`),
the Bedrock Converse form (`toolSpec` with `inputSchema.json`) and the form
step-functions-agent's tool construct takes (`tool_name`, `description`,
`input_schema`: `stacks/tools/base_tool_construct_batched.py`), all built from
the same dicts, so they cannot differ.
"""

from __future__ import annotations

from typing import Any

from factory import names
from factory.emit.serialize import json_bytes
from factory.schema.model import CanonicalSchema


def browser_parameters(schema: CanonicalSchema) -> dict[str, Any]:
    """The fixed browser settings, offered to the model as defaults."""
    config = schema.browser_config
    return {
        "type": "object",
        "description": "Browser settings for this extraction; the defaults are the configured ones.",
        "properties": {
            "profile_name": {"type": "string", "default": config.profile_name},
            "starting_url": {"type": "string", "default": config.starting_url},
            "timeout": {"type": "integer", "minimum": 1, "default": config.timeout},
            "requires_login": {"type": "boolean", "default": config.requires_login},
            "clone_for_parallel": {"type": "boolean", "default": config.clone_for_parallel},
        },
    }


def input_tool(schema: CanonicalSchema) -> dict[str, Any]:
    input_schema = schema.input_schema.to_json_schema()
    input_schema["properties"]["browser_config"] = browser_parameters(schema)
    return {
        "name": names.tool_name(schema),
        "description": schema.description,
        "input_schema": input_schema,
    }


def print_output_tool(schema: CanonicalSchema) -> dict[str, Any]:
    return {
        "name": names.print_output_tool_name(schema),
        "description": (
            f"Return the result of {schema.extraction_name} as structured output. "
            "Call it exactly once, with every field the page showed."
        ),
        "input_schema": schema.output_schema.to_json_schema(),
    }


def bedrock_form(tool: dict[str, Any]) -> dict[str, Any]:
    return {
        "toolSpec": {
            "name": tool["name"],
            "description": tool["description"],
            "inputSchema": {"json": tool["input_schema"]},
        }
    }


def step_functions_agent_form(tool: dict[str, Any]) -> dict[str, Any]:
    """The spec as BatchedToolConstruct(tool_specs=[...]) and the ToolRegistry read it."""
    return {"tool_name": tool["name"], "description": tool["description"], "input_schema": tool["input_schema"]}


def tool_specs(schema: CanonicalSchema) -> dict[str, Any]:
    tools = [input_tool(schema), print_output_tool(schema)]
    return {
        "extraction_name": schema.extraction_name,
        "version": schema.version,
        "anthropic": tools,
        "bedrock": [bedrock_form(tool) for tool in tools],
        "step_functions_agent": [step_functions_agent_form(tool) for tool in tools],
    }


def emit_tool_specs(schema: CanonicalSchema) -> dict[str, bytes]:
    return {names.tool_specs_path(schema): json_bytes(tool_specs(schema))}
