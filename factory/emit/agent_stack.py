"""The CDK agent stack module of one schema (the app that instantiates them: `cdk_app.py`)."""

from __future__ import annotations


from factory import exports, names
from factory.emit.python_source import render_python
from factory.schema.model import CanonicalSchema

# The tool name the browser agent's poller and the existing agents use for a remote browser run.
BROWSER_TOOL_NAME = "browser_remote"


def emit_agent_stack(schema: CanonicalSchema) -> dict[str, bytes]:
    context = {
        "extraction_name": schema.extraction_name,
        "version": schema.version,
        "agent_name": names.agent_name(schema),
        "template_id": names.template_id(schema),
        "timeout": schema.browser_config.timeout,
        "browser_tool_name": BROWSER_TOOL_NAME,
        "output_schema": schema.output_schema.to_json_schema(),
        "class_name": names.stack_class(schema),
        "env_name_pattern": names.ENV_NAME_RE.pattern,
        "exports": {
            "template_table": exports.export_name_template(exports.TEMPLATE_REGISTRY_TABLE_ARN),
            "renderer": exports.export_name_template(exports.TEMPLATE_RENDERER_FUNCTION_ARN),
            "validator": exports.export_name_template(exports.OUTPUT_VALIDATOR_FUNCTION_ARN),
            "activity": exports.export_name_template(exports.BROWSER_ACTIVITY_ARN),
        },
    }
    return {names.stack_path(schema): render_python("agent_stack.py.jinja", context)}
