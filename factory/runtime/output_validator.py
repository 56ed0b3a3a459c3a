"""Check an agent's result against its output schema: the output-validator Lambda (docs/runtime.md)."""

from __future__ import annotations

import json
from typing import Any

from factory.runtime.output_mapping.structured import PLACES, locate_structured_output
from factory.runtime.value_checks import object_problems


class OutputSchemaError(ValueError):
    """The output schema passed in is not a JSON object schema (a stack bug, not a row)."""


def parse_output_schema(output_schema: Any) -> dict[str, Any]:
    if isinstance(output_schema, str):
        try:
            output_schema = json.loads(output_schema)
        except json.JSONDecodeError as exc:
            raise OutputSchemaError(f"output_schema is not valid JSON: {exc}") from None
    if not isinstance(output_schema, dict) or not isinstance(output_schema.get("properties", {}), dict):
        raise OutputSchemaError("output_schema must be a JSON object schema with 'properties'")
    return output_schema


REJECTED = "the browser worker answered approved: false (the task was rejected, the script not run)"


def validate_output(extraction_name: str, output_schema: Any, agent_response: Any) -> dict[str, Any]:
    """{"valid", "errors", "structured_output"}; an absent output is invalid, not an exception."""
    schema = parse_output_schema(output_schema)
    if isinstance(agent_response, dict) and agent_response.get("approved") is False:
        return {"valid": False, "errors": [REJECTED], "structured_output": {}}
    tool_names = (f"print_{extraction_name}_output",) if extraction_name else ()
    located = locate_structured_output(agent_response, tool_names)
    if not located.found:
        if located.problem:
            errors = [f"{located.problem} at {located.where}"]
        else:
            errors = [f"no structured output in the agent response; looked for {PLACES}"]
        reported = agent_response.get("error") if isinstance(agent_response, dict) else None
        if reported:
            errors.append(f"agent reported: {reported}")
        return {"valid": False, "errors": errors, "structured_output": {}}
    errors = object_problems(located.value, schema)
    if located.problem:
        errors.insert(0, f"{located.problem} at {located.where}")
    return {"valid": not errors, "errors": errors, "structured_output": located.value}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return validate_output(
        event.get("extraction_name", ""), event["output_schema"], event.get("agent_response")
    )
