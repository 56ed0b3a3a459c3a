"""The browser template: a TemplateRegistry item whose `template` is a script.

The script follows the local browser agent's script executor contract
(docs/DESIGN.md): `starting_page`, `abort_on_error: true`, `session`, and steps
with an `action` the executor knows. Every string in the script is Mustache
source: placeholders are triple-braced so values arrive verbatim, and schema
text goes through `mustache.literal` so a `{{` in a description stays text.
The `schema` of an `act_with_schema` step is data, never rendered.
"""

from __future__ import annotations

from typing import Any

from factory import mustache, names
from factory.emit.serialize import json_bytes
from factory.schema.model import CanonicalSchema

TEMPLATE_STATUS = "active"


def template_variables(schema: CanonicalSchema) -> list[dict[str, Any]]:
    """What the template expects from a caller: the input fields, in order."""
    variables = []
    for name, prop in schema.input_schema.properties.items():
        variable: dict[str, Any] = {
            "name": name,
            "type": prop.type,
            "required": schema.input_schema.is_required(name),
        }
        if prop.pattern is not None:
            variable["pattern"] = prop.pattern
        if prop.enum is not None:
            variable["enum"] = list(prop.enum)
        if prop.description is not None:
            variable["description"] = prop.description
        variables.append(variable)
    return variables


def _field_line(name: str, description: str | None) -> str:
    label = name if description is None else f"{name} ({mustache.literal(description)})"
    return f"- {label}: {mustache.placeholder(name)}\n"


def default_steps(schema: CanonicalSchema) -> list[dict[str, Any]]:
    """Fill the form, extract with the output schema, capture the page."""
    lines = []
    for name, prop in schema.input_schema.properties.items():
        line = _field_line(name, prop.description)
        if not schema.input_schema.is_required(name):
            line = mustache.optional_section(name, line)
        lines.append(line)
    fill_prompt = (
        "Use the form on this page to look up the record described by these values, "
        "typing each value exactly as given, then submit the search and open the "
        "matching result.\n" + "".join(lines)
    )
    output_fields = ", ".join(schema.output_schema.properties)
    extract_prompt = (
        "Read the result page and extract these fields as JSON matching the schema: "
        f"{output_fields}. Leave out a field the page does not show."
    )
    return [
        {"action": "act", "prompt": fill_prompt, "description": "Fill in and submit the search form"},
        {
            "action": "act_with_schema",
            "prompt": extract_prompt,
            "schema": schema.output_schema.to_json_schema(),
            "description": "Extract the output fields",
        },
        {"action": "screenshot", "description": "Capture the result page"},
    ]


def authored_steps(schema: CanonicalSchema) -> list[dict[str, Any]]:
    """The schema's own workflow, placeholders made verbatim, schemas filled in."""
    steps = []
    for step in schema.workflow or []:
        out: dict[str, Any] = {"action": step.action}
        if step.prompt is not None:
            out["prompt"] = mustache.normalize_authored(step.prompt)
        if step.action == "act_with_schema":
            out["schema"] = schema.output_schema.to_json_schema()
        out["description"] = mustache.normalize_authored(step.description)
        steps.append(out)
    return steps


def browser_script(schema: CanonicalSchema) -> dict[str, Any]:
    config = schema.browser_config
    return {
        "name": schema.extraction_name,
        "description": mustache.literal(schema.description),
        "starting_page": mustache.literal(config.starting_url),
        "abort_on_error": True,
        "session": {
            "profile_name": mustache.literal(config.profile_name),
            "required_tags": [mustache.literal(tag) for tag in config.required_tags],
            "allow_temp_profile": config.temp_profile_allowed,
            "clone_for_parallel": config.clone_for_parallel,
            "requires_human_login": config.requires_login,
        },
        "steps": authored_steps(schema) if schema.workflow else default_steps(schema),
    }


def template_record(schema: CanonicalSchema) -> dict[str, Any]:
    """The TemplateRegistry item, minus the timestamps set at registration."""
    return {
        "template_id": names.template_id(schema),
        "version": schema.version,
        "extraction_name": schema.extraction_name,
        "status": TEMPLATE_STATUS,
        "description": schema.description,
        "template": browser_script(schema),
        "variables": template_variables(schema),
        "metadata": {
            "canonical_schema_id": schema.extraction_name,
            "canonical_schema_version": schema.version,
            "starting_url": schema.browser_config.starting_url,
            "profile_name": schema.browser_config.profile_name,
            "tags": list(schema.metadata.tags),
        },
    }


def emit_browser_template(schema: CanonicalSchema) -> dict[str, bytes]:
    return {names.template_path(schema): json_bytes(template_record(schema))}


def emit_browser_script(schema: CanonicalSchema) -> dict[str, bytes]:
    """The step-functions-agent form's template file: the bare browser script, as that repository keeps it.

    Its `scripts/register_template.py` reads this file (the id and version from
    the file name, the profile from `session.profile_name`, the starting page
    from `starting_page`); `schema-factory register` wraps the same script into
    the TemplateRegistry item `template_record` describes.
    """
    return {names.template_path(schema): json_bytes(browser_script(schema))}
