"""The Unified-LLM agent's system prompt, written from the canonical schema.

It says what the hand-written prompts of the existing step-functions-agent
stacks say: the task, the input fields with their required marks, the output
fields with their types, how to call `browser_remote` in template mode
(`template_id`, `template_version`, `variables`) and to finish with
`print_<extraction_name>_output`.

Schema text is data here: every description is folded onto one line (so it
cannot open a section of its own) and every value the model must copy
(template id, version, enum values) is written as a JSON literal. The prompt
is returned as lines; the stack module holds them as Python literals.
"""

from __future__ import annotations

import json
from typing import Any

from factory import names
from factory.schema.model import CanonicalSchema, ObjectSchema, PropertySchema

BROWSER_TOOL = "browser_remote"
OMIT_HINT = "<value from input if provided, otherwise omit>"
VALUE_HINT = "<value from input>"


def one_line(text: str) -> str:
    """Whitespace (newlines included) folded to single spaces."""
    return " ".join(text.split())


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _type_text(prop: PropertySchema) -> str:
    text: str = prop.type
    if prop.type == "array" and prop.items is not None:
        text = f"array of {prop.items.type}"
    if prop.enum is not None:
        text += ", one of: " + ", ".join(_literal(value) for value in prop.enum)
    return text


def _field_lines(schema: ObjectSchema, required_mark: str, optional_mark: str) -> list[str]:
    lines = []
    for name, prop in schema.properties.items():
        mark = required_mark if schema.is_required(name) else optional_mark
        description = one_line(prop.description or prop.title or "")
        line = f"- {name} ({_type_text(prop)}) {mark}"
        lines.append(f"{line}: {description}" if description else line)
    return lines


def template_call(schema: CanonicalSchema) -> dict[str, Any]:
    """The `browser_remote` arguments the template branch of the state machine reads."""
    return {
        "template_id": names.template_id(schema),
        "template_version": schema.version,
        "variables": {
            name: VALUE_HINT if schema.input_schema.is_required(name) else OMIT_HINT
            for name in schema.input_schema.field_names()
        },
    }


def system_prompt_lines(schema: CanonicalSchema) -> list[str]:
    config = schema.browser_config
    print_tool = names.print_output_tool_name(schema)
    template = names.template_id(schema)
    required_out = [
        name for name in schema.output_schema.field_names() if schema.output_schema.is_required(name)
    ]
    inputs = ", ".join(schema.input_schema.field_names())
    call = json.dumps(template_call(schema), indent=2, ensure_ascii=False).splitlines()
    return [
        f"You are the {schema.extraction_name} agent. You use browser automation for this task: "
        f"{one_line(schema.description)}",
        "",
        "REMOTE EXECUTION:",
        f"- The {BROWSER_TOOL} tool runs your browser task on a remote browser through a Step Functions activity.",
        f"- The browser uses the profile {_literal(config.profile_name)} and starts at {_literal(config.starting_url)}.",
        "- You use a PRE-BUILT TEMPLATE: it navigates, fills the forms and extracts the data.",
        "",
        "INPUT:",
        "You will receive:",
        *_field_lines(schema.input_schema, "[REQUIRED]", "(optional)"),
        "",
        "OUTPUT:",
        "You must extract and return:",
        *_field_lines(schema.output_schema, "[REQUIRED]", "(optional)"),
        "",
        "TEMPLATE MODE:",
        f"Call the {BROWSER_TOOL} tool in template mode with these arguments:",
        *call,
        "",
        "GUIDELINES:",
        f"- Always use template_id {_literal(template)} and template_version {_literal(schema.version)}.",
        f"- Map the input fields ({inputs}) to the template variables of the same names; "
        "leave out optional fields the input does not give.",
        "- The template handles the browser navigation, form filling and data extraction.",
        "- Report only what the page shows; never invent a value.",
        "",
        "WORKFLOW:",
        "1. Receive the input fields from the user.",
        f"2. Call the {BROWSER_TOOL} tool with template_id, template_version and variables as shown above.",
        "3. The template is loaded, rendered with your variables and run on the remote browser.",
        f"4. Read the structured data in the {BROWSER_TOOL} response.",
        f"5. Call the {print_tool} tool with every required field "
        f"({', '.join(required_out) or 'none'}) and every other field the page showed.",
        "",
        f"IMPORTANT: when the extraction is complete, you MUST call the {print_tool} tool to return the "
        "structured output, so every LLM provider returns it in the same form.",
    ]


def system_prompt(schema: CanonicalSchema) -> str:
    return "\n".join(system_prompt_lines(schema))
