"""The step-functions-agent form: a Unified-LLM agent stack for an existing repository.

The stack module lands in `stacks/agents/` of a guyernest/step-functions-agent
checkout and imports that repository's own generator and registration
construct by the relative imports its other agent stacks use; nothing of our
shared stack or CDK app is written. The app there must import the new stack:
`app_lines` says exactly what to add.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from factory import names, rules
from factory.emit.python_source import render_python
from factory.emit.system_prompt import BROWSER_TOOL, system_prompt_lines
from factory.errors import Problem
from factory.project_config import STEP_FUNCTIONS_AGENT
from factory.schema.model import CanonicalSchema

# The defaults of the existing generator's signature and of its agent stacks.
DEFAULT_LLM_PROVIDER = "anthropic"
DEFAULT_LLM_MODEL = "claude-3-5-sonnet-20241022"
# The generated state machine reads its AgentRegistry item under this version.
AGENT_REGISTRY_VERSION = "v1.0"
# The generator pastes provider and model into JSONata string literals
# ('...'), and joins them with '#' into the LLMModels key: only these
# characters may reach it.
LLM_VALUE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}\Z")


def stack_class(schema: CanonicalSchema) -> str:
    """The class name the existing repository gives a schema's stack (`<Pascal>Stack`)."""
    return f"{names.pascal_case(schema.extraction_name)}Stack"


def llm_provider(schema: CanonicalSchema) -> str:
    return schema.agent.llm_provider or DEFAULT_LLM_PROVIDER


def llm_model(schema: CanonicalSchema) -> str:
    return schema.agent.model_id or DEFAULT_LLM_MODEL


# aws-cdk-lib resolves these markers inside any string of a construct's
# properties. The standalone stack writes `$` as a JSON escape; here schema text
# reaches the prompt, the agent spec and the existing generator's definition
# verbatim, so text holding a marker is refused rather than resolved.
CDK_TOKEN_MARKERS = ("${Token[", "#{Token[")


def form_problems(schema: CanonicalSchema, display: str) -> list[Problem]:
    """What this form cannot carry safely; checked before anything is rendered."""
    problems = []
    text = json.dumps(schema.model_dump(mode="json"), ensure_ascii=False)
    for marker in CDK_TOKEN_MARKERS:
        if marker in text:
            problems.append(
                Problem(
                    display,
                    "$",
                    rules.CDK_TOKEN_TEXT,
                    f"schema text contains {marker!r}, which aws-cdk-lib would take for a token",
                    "reword that text for the step-functions-agent form",
                )
            )
    for key, value in (("llm_provider", schema.agent.llm_provider), ("model_id", schema.agent.model_id)):
        if value is not None and not LLM_VALUE_RE.match(value):
            problems.append(
                Problem(
                    display,
                    f"$.agent.{key}",
                    rules.AGENT_LLM_VALUE,
                    f"agent.{key} {value!r} cannot be passed to the step-functions-agent generator",
                    f"use letters, digits and . _ : / @ + - only (pattern {LLM_VALUE_RE.pattern})",
                )
            )
    return problems


def emit_sfa_agent_stack(schema: CanonicalSchema) -> dict[str, bytes]:
    context = {
        "form": STEP_FUNCTIONS_AGENT,
        "extraction_name": schema.extraction_name,
        "version": schema.version,
        "agent_name": names.agent_name(schema),
        "registry_version": AGENT_REGISTRY_VERSION,
        "description": schema.agent.description or schema.description,
        "llm_provider": llm_provider(schema),
        "llm_model": llm_model(schema),
        "template_id": names.template_id(schema),
        "browser_tool": BROWSER_TOOL,
        "print_tool": names.print_output_tool_name(schema),
        "profile_name": schema.browser_config.profile_name,
        "tags": list(schema.metadata.tags),
        "output_schema": schema.output_schema.to_json_schema(),
        "output_fields": schema.output_schema.field_names(),
        "system_prompt_lines": system_prompt_lines(schema),
        "class_name": stack_class(schema),
    }
    return {names.stack_path(schema): render_python("sfa_agent_stack.py.jinja", context)}


@dataclass(frozen=True)
class AppLines:
    """What the repository's app.py needs for one stack: an import and an instantiation."""

    import_line: str
    block: list[str]
    class_name: str


# Names the existing app.py binds in main() for the stacks an agent depends on.
APP_DEPENDENCIES = (
    "shared_llm_stack",
    "agent_registry_stack",
    "shared_infrastructure_stack",
    "browser_remote_tool",
)


def app_lines(schema: CanonicalSchema, dependencies: tuple[str, ...] = APP_DEPENDENCIES) -> AppLines:
    """The lines for the existing app's `main()` (indented four spaces), as its other agents are added.

    Every name comes from the extraction name (`^[a-z][a-z0-9_]*$`), so the
    lines are valid Python whatever the schema's text says.
    """
    module, class_name = names.stack_module(schema), stack_class(schema)
    variable = f"{schema.extraction_name}_agent"
    block = [
        f"    {variable} = {class_name}(",
        "        app,",
        f'        f"{class_name}-{{environment}}",',
        "        env_name=environment,",
        "        env=env,",
        "    )",
    ]
    block += [f"    {variable}.add_dependency({name})" for name in dependencies]
    return AppLines(f"from stacks.agents.{module} import {class_name}", block, class_name)
