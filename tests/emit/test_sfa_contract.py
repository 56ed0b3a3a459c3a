"""Contract tests: what the generated step-functions-agent stack passes to the existing repository's code.

Each contract is restated here as a small literal from guyernest/step-functions-agent
at commit ffef93d (files and lines cited per literal); the generated module is
parsed with `ast` (never imported) and every call it makes is checked against them.
"""

from __future__ import annotations

import ast

import pytest

from factory import names
from factory.emit.sfa_agent_stack import emit_sfa_agent_stack, stack_class
from factory.schema.loader import load_schemas
from tests.conftest import BUNDLED, SCHEMAS_DIR
from tests.sfa_module import GENERATOR_CALL, StackModule

REQUIRED = object()

# stacks/agents/step_functions_generator_unified_llm.py, lines ~15-31 at ffef93d:
# the staticmethod's parameters, in order, with their defaults.
GENERATOR_SIGNATURE = {
    "agent_name": REQUIRED,
    "unified_llm_arn": REQUIRED,
    "tool_configs": REQUIRED,
    "system_prompt": REQUIRED,
    "default_provider": "anthropic",
    "default_model": "claude-3-5-sonnet-20241022",
    "structured_output_schema": None,
    "llm_models_table_name": None,
    "agent_registry_table_name": None,
    "tool_registry_table_name": None,
    "approval_activity_arn": None,
    "extraction_name": None,
    "template_registry_table_name": None,
    "template_renderer_lambda_arn": None,
}
# Same file, lines ~509-512: the template-aware remote branch is built only when
# the tool config says remote_execution with an activity_arn AND both of these
# keyword arguments are given; otherwise the tool falls back to a plain Lambda call.
TEMPLATE_BRANCH_ARGUMENTS = ("template_registry_table_name", "template_renderer_lambda_arn")
# Same file, lines ~58-59 and ~437-440, ~511, ~691-712: the keys a tool config is read by.
TOOL_CONFIG_KEYS = {
    "tool_name": str,
    "lambda_arn": object,
    "requires_activity": bool,
    "activity_type": str,
    "activity_arn": object,
    "polling_interval": int,
    "max_polling_attempts": int,
}
REMOTE_EXECUTION = {"requires_activity": True, "activity_type": "remote_execution"}
# Same file, lines ~530-549: the template branch reads $states.input.input.template_id,
# .template_version (default '1.0.0') and .variables of the tool call.
TEMPLATE_MODE_ARGUMENTS = ("template_id", "template_version", "variables")
# Same file, lines ~103-116: "Load Agent Configuration" reads the AgentRegistry item
# keyed agent_name and version "v1.0".
STATE_MACHINE_AGENT_VERSION = "v1.0"
# Same file, line ~162: `$parse($agent_config.tools.S)`, each item's `tool_name` (line ~176).
TOOLS_ITEM_KEYS = {"tool_name"}

# stacks/shared/base_agent_construct.py, lines ~36-43: __init__(scope, construct_id, agent_spec, env_name="prod").
CONSTRUCT_PARAMETERS = ("scope", "construct_id", "agent_spec", "env_name")
# Same file, lines ~68-71: refused when missing.
AGENT_SPEC_REQUIRED = {"agent_name", "system_prompt", "description"}
# Same file, lines ~77-96: every key it reads from agent_spec, with the type each
# must have: str values are stored as they are; lines ~104-124 json.dumps dicts
# and lists, and store structured_output / template_config strings "already a
# JSON string from the agent stack"; line ~136 turns bools into BOOL, all else str().
AGENT_SPEC_READ = {
    "agent_name": str,
    "version": str,
    "status": str,
    "system_prompt": str,
    "description": str,
    "llm_provider": str,
    "llm_model": str,
    "tools": "json",
    "observability": dict,
    "parameters": dict,
    "metadata": dict,
    "structured_output": "json",
    "template_config": "json",
    "state_machine_arn": "token",
    "environment": str,
}

# Exports the agent imports: stacks/shared/shared_llm_stack.py line ~371,
# stacks/tools/browser_remote_tool_stack.py lines ~137 and ~144,
# stacks/shared/shared_infrastructure_stack.py lines ~617 and ~635.
IMPORTED_EXPORTS = {
    "SharedUnifiedRustLLMLambdaArn-{env}",
    "BrowserRemoteLambdaArn-{env}",
    "BrowserRemoteActivityArn-{env}",
    "TemplateRegistryTableName-{env}",
    "TemplateRendererLambdaArn-{env}",
}
# Exports an agent stack makes: stacks/agents/broadband_availability_bt_wholesale_stack.py lines ~329-342.
AGENT_EXPORTS = {"{agent_name}-state-machine-arn-{env}", "{agent_name}-state-machine-name-{env}"}
# Same file, lines ~18-19: the relative imports of an agent stack module.
RELATIVE_IMPORTS = [
    (1, "step_functions_generator_unified_llm", ["UnifiedLLMStepFunctionsGenerator"]),
    (2, "shared.base_agent_construct", ["BaseAgentConstruct"]),
]
# app.py lines ~58 and ~461-467: `from stacks.agents.<module> import <Class>`,
# `<Class>(app, f"<Class>-{environment}", env_name=environment, env=env, ...)`;
# the stack's own __init__ (broadband stack line ~30): (scope, id, env_name="prod", **kwargs).
STACK_INIT_ARGS = ["self", "scope", "id", "env_name"]


def _modules() -> list[tuple[object, StackModule]]:
    loaded, problems = load_schemas([SCHEMAS_DIR])
    assert not problems
    out = []
    for item in loaded:
        (data,) = emit_sfa_agent_stack(item.schema).values()
        out.append((item.schema, StackModule.parse(data)))
    return out


MODULES = _modules()
IDS = [schema.extraction_name for schema, _ in MODULES]  # type: ignore[attr-defined]


def test_every_bundled_schema_is_covered() -> None:
    assert sorted(IDS) == BUNDLED


@pytest.mark.parametrize(("schema", "module"), MODULES, ids=IDS)
def test_generator_call_matches_its_signature(schema, module: StackModule) -> None:
    (call,) = module.calls(GENERATOR_CALL)
    assert isinstance(call.func, ast.Attribute) and ast.unparse(call.func.value) == "UnifiedLLMStepFunctionsGenerator"
    assert not call.args, "keyword arguments only: a positional one could land on the wrong parameter"
    passed = module.keywords(call)
    assert set(passed) <= set(GENERATOR_SIGNATURE), set(passed) - set(GENERATOR_SIGNATURE)
    assert {name for name, default in GENERATOR_SIGNATURE.items() if default is REQUIRED} <= set(passed)
    for name in TEMPLATE_BRANCH_ARGUMENTS:
        assert passed[name][0] == "import", f"{name} must be given for the template branch"
    assert passed["extraction_name"] == schema.extraction_name  # print_<extraction_name>_output is the finish
    assert passed["structured_output_schema"] == schema.output_schema.to_json_schema()
    assert isinstance(passed["system_prompt"], str) and passed["system_prompt"]
    assert isinstance(passed["default_provider"], str) and isinstance(passed["default_model"], str)
    assert "approval_activity_arn" not in passed


@pytest.mark.parametrize(("schema", "module"), MODULES, ids=IDS)
def test_tool_configs_use_the_remote_template_branch(schema, module: StackModule) -> None:
    (call,) = module.calls(GENERATOR_CALL)
    (config,) = module.keywords(call)["tool_configs"]
    assert set(config) <= set(TOOL_CONFIG_KEYS)
    for key, value in config.items():
        expected = TOOL_CONFIG_KEYS[key]
        if expected is not object:
            assert isinstance(value, expected), key
    assert {key: config[key] for key in REMOTE_EXECUTION} == REMOTE_EXECUTION
    assert config["tool_name"] == "browser_remote"
    assert config["activity_arn"] == ("import", "BrowserRemoteActivityArn-{env}")
    assert config["lambda_arn"] == ("import", "BrowserRemoteLambdaArn-{env}")


@pytest.mark.parametrize(("schema", "module"), MODULES, ids=IDS)
def test_agent_spec_keys_and_types(schema, module: StackModule) -> None:
    (call,) = module.calls("BaseAgentConstruct")
    assert len(call.args) == 2  # scope, construct_id
    passed = module.keywords(call)
    assert set(passed) <= set(CONSTRUCT_PARAMETERS[2:])
    spec = passed["agent_spec"]
    assert AGENT_SPEC_REQUIRED <= set(spec)
    assert set(spec) <= set(AGENT_SPEC_READ), set(spec) - set(AGENT_SPEC_READ)
    for key, value in spec.items():
        kind = AGENT_SPEC_READ[key]
        if kind == "json":
            assert isinstance(value, tuple) and value[0] == "json", f"{key} must be a JSON string (json.dumps)"
        elif kind == "token":
            assert value == ("expr", "self.state_machine.attr_arn")
        else:
            assert isinstance(value, kind), key
    assert spec["version"] == STATE_MACHINE_AGENT_VERSION
    tools = spec["tools"][1]
    assert isinstance(tools, list) and all(TOOLS_ITEM_KEYS <= set(item) for item in tools)
    template = spec["template_config"][1]
    assert template["template_id"] == names.template_id(schema) and template["template_version"] == schema.version
    structured = spec["structured_output"][1]
    (entry,) = structured["schemas"].values()
    assert entry["schema"] == schema.output_schema.to_json_schema()
    assert structured["output_fields"] == schema.output_schema.field_names()


@pytest.mark.parametrize(("schema", "module"), MODULES, ids=IDS)
def test_export_names(schema, module: StackModule) -> None:
    imported = {module.resolve(call.args[0]) for call in module.calls("import_value")}
    assert imported == IMPORTED_EXPORTS
    exported = {module.keywords(call).get("export_name") for call in module.calls("CfnOutput")} - {None}
    agent = names.agent_name(schema)
    assert exported == {pattern.replace("{agent_name}", agent) for pattern in AGENT_EXPORTS}


@pytest.mark.parametrize(("schema", "module"), MODULES, ids=IDS)
def test_module_paths_imports_and_class(schema, module: StackModule) -> None:
    assert module.relative_imports() == RELATIVE_IMPORTS
    (cls,) = module.classes()
    assert cls.name == stack_class(schema) == names.pascal_case(schema.extraction_name) + "Stack"
    assert [ast.unparse(base) for base in cls.bases] == ["Stack"]
    init = module.init()
    assert [arg.arg for arg in init.args.args] == STACK_INIT_ARGS
    assert init.args.kwarg is not None and ast.literal_eval(init.args.defaults[-1]) == "prod"
    assert names.stack_path(schema) == f"stacks/agents/{schema.extraction_name}_stack.py"


@pytest.mark.parametrize(("schema", "module"), MODULES, ids=IDS)
def test_system_prompt_states_template_mode(schema, module: StackModule) -> None:
    prompt = module.resolve(module.constants()["SYSTEM_PROMPT"])
    for argument in TEMPLATE_MODE_ARGUMENTS:
        assert f'"{argument}"' in prompt
    assert f'"template_id": "{names.template_id(schema)}"' in prompt
    assert f'"template_version": "{schema.version}"' in prompt
    assert names.print_output_tool_name(schema) in prompt and "browser_remote" in prompt


def test_generated_module_compiles_with_the_same_paths() -> None:
    """The module is valid Python 3.11 (compiled, not run) at its path in a package."""
    for schema, module in MODULES:
        compile(module.source, names.stack_path(schema), "exec")  # type: ignore[arg-type]
