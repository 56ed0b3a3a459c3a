"""The generated step-functions-agent stacks synthesize with aws-cdk-lib, against a stand-in package.

The stand-in is our own code restating the interface of guyernest/step-functions-agent
at ffef93d: the same module paths (`stacks/agents/step_functions_generator_unified_llm.py`,
`stacks/shared/base_agent_construct.py`) and signatures, and just enough behaviour:

- `UnifiedLLMStepFunctionsGenerator.generate_unified_llm_agent_definition` (signature at
  lines ~15-31) records its keyword arguments and returns a JSON definition that uses
  them where the original does (AgentRegistry getItem with version "v1.0", lines
  ~103-116; the LLM Lambda, line ~228; the template load, render and remote activity
  states, lines ~530-595);
- `BaseAgentConstruct(scope, construct_id, agent_spec, env_name="prod")` (lines ~36-43)
  refuses a spec without agent_name/system_prompt/description (lines ~68-71), fills
  defaults, JSON-encodes dicts and lists (lines ~77-124) and puts the item with an
  AwsCustomResource `putItem`, every value `{"S": str(v)}` or `{"BOOL": v}` (line ~136),
  into the table exported as `SharedTableAgentRegistry-{env}` (naming_conventions.py
  stack_export_name, lines ~171-183).

Every bundled schema's stack and one from hostile text are synthesized in one App.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from factory import names
from factory.emit.sfa_agent_stack import emit_sfa_agent_stack, stack_class
from factory.emit.system_prompt import system_prompt
from factory.schema.loader import load_schemas
from tests.conftest import BUNDLED, SCHEMAS_DIR
from tests.hostile import hostile_schema

pytestmark = pytest.mark.slow
ENV = "dev"

STAND_IN_GENERATOR = '''
import json

CALLS = []


class UnifiedLLMStepFunctionsGenerator:
    @staticmethod
    def generate_unified_llm_agent_definition(
        agent_name,
        unified_llm_arn,
        tool_configs,
        system_prompt,
        default_provider="anthropic",
        default_model="claude-3-5-sonnet-20241022",
        structured_output_schema=None,
        llm_models_table_name=None,
        agent_registry_table_name=None,
        tool_registry_table_name=None,
        approval_activity_arn=None,
        extraction_name=None,
        template_registry_table_name=None,
        template_renderer_lambda_arn=None,
    ):
        CALLS.append(dict(locals()))
        remote = [c for c in tool_configs if c.get("requires_activity") and c.get("activity_type") == "remote_execution"]
        states = {
            "Load Agent Configuration": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Arguments": {"TableName": agent_registry_table_name or "AgentRegistry",
                              "Key": {"agent_name": {"S": agent_name}, "version": {"S": "v1.0"}}},
                "Next": "Call Unified LLM",
            },
            "Call Unified LLM": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": unified_llm_arn, "Payload": {"provider": default_provider,
                                                                           "model": default_model}},
                "Next": "Load Template" if remote else "Done",
            },
            "Done": {"Type": "Succeed"},
        }
        if remote:
            states["Load Template"] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Arguments": {"TableName": template_registry_table_name,
                              "Key": {"template_id": {"S": "{% $states.input.input.template_id %}"},
                                      "version": {"S": "{% $states.input.input.template_version %}"}}},
                "Next": "Render Template",
            }
            states["Render Template"] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": template_renderer_lambda_arn},
                "Next": "Wait for Remote",
            }
            states["Wait for Remote"] = {"Type": "Task", "Resource": remote[0]["activity_arn"], "Next": "Done"}
        return json.dumps({"Comment": agent_name, "QueryLanguage": "JSONata", "StartAt": "Load Agent Configuration",
                           "States": states}, indent=2)
'''

STAND_IN_CONSTRUCT = '''
import json

from aws_cdk import Fn, aws_iam as iam, custom_resources as cr
from constructs import Construct

SPECS = []


class BaseAgentConstruct(Construct):
    def __init__(self, scope, construct_id, agent_spec, env_name="prod", **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        for field in ("agent_name", "system_prompt", "description"):
            if field not in agent_spec:
                raise ValueError(f"Agent spec missing required field: {field}")
        SPECS.append(agent_spec)
        spec = {
            "agent_name": agent_spec["agent_name"],
            "version": agent_spec.get("version", "v1.0"),
            "status": agent_spec.get("status", "active"),
            "system_prompt": agent_spec["system_prompt"],
            "description": agent_spec["description"],
            "llm_provider": agent_spec.get("llm_provider", "claude"),
            "llm_model": agent_spec.get("llm_model", "claude-3-5-sonnet-20241022"),
            "tools": agent_spec.get("tools", []),
            "metadata": agent_spec.get("metadata", {}),
            "structured_output": agent_spec.get("structured_output"),
            "template_config": agent_spec.get("template_config"),
            "state_machine_arn": agent_spec.get("state_machine_arn"),
            "environment": agent_spec.get("environment", env_name),
            "deployment_env": env_name,
        }
        spec = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in spec.items() if v is not None}
        item = {k: ({"BOOL": v} if isinstance(v, bool) else {"S": str(v)}) for k, v in spec.items()}
        table = Fn.import_value(f"SharedTableAgentRegistry-{env_name}")
        call = cr.AwsSdkCall(service="dynamodb", action="putItem",
                             parameters={"TableName": table, "Item": item},
                             physical_resource_id=cr.PhysicalResourceId.of(f"agent-{spec['agent_name']}-{env_name}"))
        cr.AwsCustomResource(
            self, "RegisterAgent", on_create=call, on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_statements([
                iam.PolicyStatement(actions=["dynamodb:PutItem"],
                                    resources=[Fn.import_value(f"SharedTableArnAgentRegistry-{env_name}")])
            ]),
        )
'''


def write_stand_in(root: Path) -> None:
    files = {
        "stacks/__init__.py": "",
        "stacks/agents/__init__.py": "",
        "stacks/agents/step_functions_generator_unified_llm.py": STAND_IN_GENERATOR,
        "stacks/shared/__init__.py": "",
        "stacks/shared/base_agent_construct.py": STAND_IN_CONSTRUCT,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")


class Synth:
    def __init__(self) -> None:
        self.templates: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, Any] = {}
        self.calls: dict[str, dict[str, Any]] = {}
        self.specs: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    import importlib

    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    root = tmp_path_factory.mktemp("sfa_repo")
    write_stand_in(root)
    schemas_dir = root / "schemas"
    schemas_dir.mkdir()
    for name in BUNDLED:
        (schemas_dir / f"{name}.json").write_bytes((SCHEMAS_DIR / f"{name}.json").read_bytes())
    (schemas_dir / "hostile_text.json").write_text(json.dumps(hostile_schema()), "utf-8")
    loaded, problems = load_schemas([schemas_dir])
    assert not problems
    result = Synth()
    for item in loaded:
        for rel, data in emit_sfa_agent_stack(item.schema).items():
            (root / rel).write_bytes(data)
        result.schemas[item.schema.extraction_name] = item.schema

    saved = {name: module for name, module in sys.modules.items() if name == "stacks" or name.startswith("stacks.")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        generator = importlib.import_module("stacks.agents.step_functions_generator_unified_llm")
        construct = importlib.import_module("stacks.shared.base_agent_construct")
        app = cdk.App(outdir=str(root / "cdk.out"))
        stacks = {}
        for name, schema in result.schemas.items():
            module = importlib.import_module(f"stacks.agents.{names.stack_module(schema)}")
            cls = getattr(module, stack_class(schema))
            stacks[name] = cls(app, f"{stack_class(schema)}-{ENV}", env_name=ENV)
            result.calls[name] = generator.CALLS[-1]
            result.specs[name] = construct.SPECS[-1]
        for name, stack in stacks.items():
            result.templates[name] = Template.from_stack(stack).to_json()
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "stacks" or n.startswith("stacks.")]:
            del sys.modules[name]
        sys.modules.update(saved)
    return result


CASES = BUNDLED + ["hostile_text"]


def _one_of(template: dict[str, Any], kind: str, prefix: str) -> tuple[str, dict[str, Any]]:
    found = [(k, r) for k, r in template["Resources"].items() if r["Type"] == kind and k.startswith(prefix)]
    assert len(found) == 1, (kind, prefix, [key for key, _ in found])
    return found[0]


def _one(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = [(key, res) for key, res in template["Resources"].items() if res["Type"] == kind]
    assert len(found) == 1, (kind, [key for key, _ in found])
    return found[0]


@pytest.mark.parametrize("name", CASES)
def test_state_machine_named_and_defined_by_the_generator(synth: Synth, name: str) -> None:
    schema = synth.schemas[name]
    _, machine = _one(synth.templates[name], "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["StateMachineName"] == f"{names.agent_name(schema)}-{ENV}"
    assert props["TracingConfiguration"] == {"Enabled": True}
    call = synth.calls[name]
    assert call["structured_output_schema"] == schema.output_schema.to_json_schema()
    assert call["system_prompt"] == system_prompt(schema)
    assert call["extraction_name"] == schema.extraction_name
    assert call["agent_registry_table_name"] == f"AgentRegistry-{ENV}"
    definition = props["DefinitionString"]
    parts = definition["Fn::Join"][1] if isinstance(definition, dict) else [definition]
    imports = {part["Fn::ImportValue"] for part in parts if isinstance(part, dict) and "Fn::ImportValue" in part}
    assert imports == {
        f"SharedUnifiedRustLLMLambdaArn-{ENV}",
        f"TemplateRegistryTableName-{ENV}",
        f"TemplateRendererLambdaArn-{ENV}",
        f"BrowserRemoteActivityArn-{ENV}",
    }


@pytest.mark.parametrize("name", CASES)
def test_iam_as_the_existing_agents_grant_it(synth: Synth, name: str) -> None:
    role_key, role = _one_of(synth.templates[name], "AWS::IAM::Role", "StateMachineRole")
    (policy,) = [
        res
        for res in synth.templates[name]["Resources"].values()
        if res["Type"] == "AWS::IAM::Policy" and res["Properties"]["Roles"] == [{"Ref": role_key}]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert [s for s in statements if s["Resource"] == "*"] == [
        {"Action": "cloudwatch:PutMetricData", "Effect": "Allow", "Resource": "*"}
    ]
    # The existing stack's statements, lines ~208-251 of broadband_availability_bt_wholesale_stack.py.
    assert actions == sorted([
        "lambda:InvokeFunction", "dynamodb:GetItem", "cloudwatch:PutMetricData",
        "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat",
    ])
    principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "states.amazonaws.com"}


@pytest.mark.parametrize("name", CASES)
def test_registration_item_and_outputs(synth: Synth, name: str) -> None:
    schema = synth.schemas[name]
    template = synth.templates[name]
    agent = names.agent_name(schema)
    _, resource = _one(template, "Custom::AWS")
    create = resource["Properties"]["Create"]
    # The SDK call is serialized as JSON text joined with tokens; the agent item is in it.
    text = "".join(p if isinstance(p, str) else json.dumps(p) for p in create["Fn::Join"][1])
    assert json.dumps(agent) in text and "putItem" in text
    spec = synth.specs[name]
    assert spec["system_prompt"] == system_prompt(schema)
    assert json.loads(spec["structured_output"])["schemas"][f"{schema.extraction_name}_data"]["schema"] == (
        schema.output_schema.to_json_schema()
    )
    outputs = template["Outputs"]
    exports = sorted(o["Export"]["Name"] for o in outputs.values() if "Export" in o)
    assert exports == sorted([f"{agent}-state-machine-arn-{ENV}", f"{agent}-state-machine-name-{ENV}"])
    assert outputs["CanonicalSchemaVersion"]["Value"] == schema.version


@pytest.mark.parametrize("name", CASES)
def test_tags_the_ui_discovers(synth: Synth, name: str) -> None:
    schema = synth.schemas[name]
    _, machine = _one(synth.templates[name], "AWS::StepFunctions::StateMachine")
    tags = {tag["Key"]: tag["Value"] for tag in machine["Properties"]["Tags"]}
    # broadband_availability_bt_wholesale_stack.py lines ~264-276.
    assert {k: tags[k] for k in ("Application", "Type", "AgentName", "Environment", "ManagedBy")} == {
        "Application": "StepFunctionsAgent",
        "Type": "Agent",
        "AgentName": names.agent_name(schema),
        "Environment": ENV,
        "ManagedBy": "StepFunctionsAgentUI",
    }
    assert tags["Generator"] == "schema-factory" and tags["SchemaVersion"] == schema.version
