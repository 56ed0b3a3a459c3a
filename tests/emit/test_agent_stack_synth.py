"""Generated CDK is proved by its consumers: aws-cdk-lib, cfn-lint, asl-validator, JSONata.

One session-scoped App synthesizes every bundled schema's stack plus a stack
from hostile text (the first synth costs ~3 s, later ones ~0.25 s).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from factory import exports, names
from factory.generation import generate_to_disk
from factory.schema.loader import load_schemas
from tests.cloud_checks import asl_findings, jsonata_syntax_errors, lint_errors, state_machine_definitions
from tests.conftest import BUNDLED, REPO, SCHEMAS_DIR
from tests.hostile import NASTY, hostile_schema

pytestmark = pytest.mark.slow
ENV = "dev"
CASES = BUNDLED + ["hostile_text"]


class Synthesized:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.templates: dict[str, dict[str, Any]] = {}
        self.assertions: dict[str, Any] = {}
        self.schemas: dict[str, Any] = {}
        self.shared: dict[str, Any] = {}


def _import_file(module_name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    root = tmp_path_factory.mktemp("synth")
    (root / "schemas").mkdir()
    for path in SCHEMAS_DIR.glob("*.json"):
        shutil.copy(path, root / "schemas" / path.name)
    (root / "schemas" / "hostile_text.json").write_text(json.dumps(hostile_schema()), "utf-8")
    out = root / "generated"
    generate_to_disk([root / "schemas"], out)
    loaded, problems = load_schemas([root / "schemas"])
    assert not problems

    from factory.infra.shared_stack import SharedStack

    result = Synthesized(root)
    app = cdk.App(outdir=str(root / "cdk.out"))
    shared = SharedStack(app, f"schema-factory-shared-{ENV}", env_name=ENV, asset_dir=root / "lambda-asset")
    stacks = {}
    for item in loaded:
        schema = item.schema
        module = _import_file(f"synth_{names.stack_module(schema)}", out / names.stack_path(schema))
        stack_cls = getattr(module, names.stack_class(schema))
        stacks[schema.extraction_name] = stack_cls(app, f"{names.stack_construct_id(schema)}-{ENV}", env_name=ENV)
        result.schemas[schema.extraction_name] = schema
    for name, stack in stacks.items():
        template = Template.from_stack(stack)
        result.assertions[name] = template
        result.templates[name] = template.to_json()
    result.shared = Template.from_stack(shared).to_json()
    return result


@pytest.mark.parametrize("name", CASES)
def test_state_machine_shape(synthesized: Synthesized, name: str) -> None:
    from aws_cdk.assertions import Match

    schema = synthesized.schemas[name]
    template = synthesized.assertions[name]
    template.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineName": f"{names.agent_name(schema)}-{ENV}",
            "StateMachineType": "STANDARD",
            "Tags": Match.array_with(
                [
                    {"Key": "schema-factory:extraction-name", "Value": schema.extraction_name},
                    {"Key": "schema-factory:schema-version", "Value": schema.version},
                ]
            ),
        },
    )
    definition = state_machine_definitions(synthesized.templates[name])
    (states,) = [d["States"] for d in definition.values()]
    (top,) = definition.values()
    assert top["QueryLanguage"] == "JSONata"
    assert states["RunBrowser"]["TimeoutSeconds"] == schema.browser_config.timeout
    for task in ("LoadTemplate", "RenderTemplate", "RunBrowser", "ValidateOutput"):
        assert states[task]["Type"] == "Task"
        assert states[task]["Retry"], f"{task} has no Retry"
        *named, catch = states[task]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert states[catch["Next"]]["Type"] == "Fail"
        # before it, only the renderer's missing template, caught by name into its own Fail state
        assert [(c["ErrorEquals"], c["Next"]) for c in named] == (
            [(["TemplateNotFound"], "TemplateNotFound")] if task == "RenderTemplate" else []
        )
    fails = sorted(k for k, v in states.items() if v["Type"] == "Fail")
    assert fails == sorted(
        ["TemplateNotFound", "TemplateLoadFailed", "TemplateRenderFailed", "BrowserRunFailed",
         "BrowserRunRejected", "OutputValidationFailed", "OutputInvalid"]
    )
    payload = states["ValidateOutput"]["Arguments"]["Payload"]
    assert json.loads(payload["output_schema"]) == schema.output_schema.to_json_schema()
    succeeded = states["Succeeded"]["Output"]
    assert succeeded["structured_output"] == "{% $states.input.structured_output %}"
    assert [message["role"] for message in succeeded["messages"]] == ["assistant", "user"]
    # what each part does is proved by executing the machine: tests/sfn/test_agent_machines.py


@pytest.mark.parametrize("name", CASES)
def test_iam_is_least_privilege(synthesized: Synthesized, name: str) -> None:
    policies = [
        r for r in synthesized.templates[name]["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
    ]
    (policy,) = policies
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(s["Action"] for s in statements)
    assert actions == ["dynamodb:GetItem", "lambda:InvokeFunction", "lambda:InvokeFunction"]
    assert all(s["Effect"] == "Allow" for s in statements)
    text = json.dumps(statements)
    assert '"*"' not in text
    for export in (exports.TEMPLATE_RENDERER_FUNCTION_ARN, exports.OUTPUT_VALIDATOR_FUNCTION_ARN,
                   exports.TEMPLATE_REGISTRY_TABLE_ARN):
        assert exports.export_name(ENV, export) in text


@pytest.mark.parametrize("name", CASES)
def test_outputs_name_the_state_machine(synthesized: Synthesized, name: str) -> None:
    outputs = synthesized.templates[name]["Outputs"]
    assert {"StateMachineArn", "StateMachineName"} <= set(outputs)


@pytest.mark.parametrize("name", CASES)
def test_cfn_lint_is_clean(synthesized: Synthesized, name: str) -> None:
    assert lint_errors(synthesized.templates[name]) == []


def test_state_machines_pass_asl_validator(synthesized: Synthesized) -> None:
    definitions = {}
    for name, template in synthesized.templates.items():
        for logical_id, definition in state_machine_definitions(template).items():
            definitions[f"{name}-{logical_id}"] = definition
    assert len(definitions) == len(CASES)
    assert asl_findings(definitions, synthesized.workdir) == []


@pytest.mark.parametrize("name", CASES)
def test_every_jsonata_expression_parses(synthesized: Synthesized, name: str) -> None:
    for definition in state_machine_definitions(synthesized.templates[name]).values():
        assert jsonata_syntax_errors(definition) == []


def test_asl_validator_catches_a_broken_definition(synthesized: Synthesized) -> None:
    """The check above can fail: a dangling Next is reported."""
    (definition,) = state_machine_definitions(synthesized.templates[BUNDLED[0]]).values()
    definition["States"]["RenderTemplate"]["Next"] = "NoSuchState"
    assert asl_findings({"broken": definition}, synthesized.workdir)


def test_hostile_text_survives_into_the_synthesized_definition(synthesized: Synthesized) -> None:
    (definition,) = state_machine_definitions(synthesized.templates["hostile_text"]).values()
    output_schema = json.loads(definition["States"]["ValidateOutput"]["Arguments"]["Payload"]["output_schema"])
    assert output_schema["properties"]["answer"]["description"] == NASTY
    assert output_schema["properties"]["answer"]["enum"][0] == NASTY


def test_generated_app_instantiates_every_stack(synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch) -> None:
    """generated/app.py runs as `cdk synth` would run it."""
    import subprocess

    out = synthesized.workdir / "generated"
    env = {"CDK_OUTDIR": str(synthesized.workdir / "app.out"), "SCHEMA_FACTORY_ENV": "qa"}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=out, capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, **env},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((synthesized.workdir / "app.out" / "manifest.json").read_text())
    stacks = sorted(k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack")
    assert stacks == sorted([f"{names.stack_construct_id(s)}-qa" for s in synthesized.schemas.values()]
                            + ["schema-factory-shared-qa"])
    agent_stack = manifest["artifacts"][f"{names.stack_construct_id(next(iter(synthesized.schemas.values())))}-qa"]
    assert "schema-factory-shared-qa" in agent_stack["dependencies"]


def _batch_deploy_line(path: Path) -> str:
    """The documented `npx cdk deploy` line that names foreign batch targets."""
    (line,) = [line.strip() for line in path.read_text("utf-8").splitlines()
               if line.strip().startswith("npx cdk deploy") and "batch_tool_arns" in line]
    return line


def test_the_documented_batch_target_deploy_line_grants_exactly_its_arns(synthesized: Synthesized) -> None:
    """docs/deploying.md's line, as the CDK CLI passes `-c` values (text, in CDK_CONTEXT_JSON), through generated/app.py."""
    import os
    import shlex
    import subprocess

    line = _batch_deploy_line(REPO / "docs" / "deploying.md")
    assert _batch_deploy_line(REPO / "docs" / "generic-mapping.md") == line
    words = shlex.split(line)
    context = dict(words[i + 1].split("=", 1) for i, word in enumerate(words) if word == "-c")
    (agent,), (tool,) = context["batch_agent_arns"].split(","), context["batch_tool_arns"].split(",")
    outdir = synthesized.workdir / "batch-targets.out"
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=synthesized.workdir / "generated", capture_output=True, text=True,
        timeout=300, env={**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shared = json.loads((outdir / f"schema-factory-shared-{context['env']}.template.json").read_text("utf-8"))
    statements = [
        statement
        for resource in shared["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and "BatchStateMachineRole" in json.dumps(resource["Properties"])
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    literal: dict[str, list[str]] = {}  # action -> the literal ARNs it is allowed on (the rest are our own)
    for statement in statements:
        assert statement["Effect"] == "Allow"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            literal.setdefault(action, []).extend(r for r in resources if isinstance(r, str))
    execution = agent.replace(":stateMachine:", ":execution:", 1) + ":*"
    assert {action: arns for action, arns in literal.items() if arns} == {
        "lambda:InvokeFunction": [tool, tool + ":*"],  # the function, its versions and aliases
        "states:StartExecution": [agent],
        "states:DescribeExecution": [execution],  # what .sync:2 polls and stops
        "states:StopExecution": [execution],
    }


def _imports(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["Fn::ImportValue"]} if isinstance(node.get("Fn::ImportValue"), str) else set()
        return found.union(*(_imports(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_imports(v) for v in node)) if node else set()
    return set()


def test_shared_stack_exports_everything_agent_stacks_import(synthesized: Synthesized) -> None:
    exported = {o["Export"]["Name"] for o in synthesized.shared["Outputs"].values() if "Export" in o}
    for name, template in synthesized.templates.items():
        missing = _imports(template) - exported
        assert not missing, f"{name} imports what the shared stack does not export: {missing}"
    assert {exports.export_name(ENV, value) for value in exports.SHARED_EXPORTS} <= exported


def test_shared_stack_is_cfn_lint_clean_and_its_state_machine_valid(synthesized: Synthesized) -> None:
    assert lint_errors(synthesized.shared) == []
    definitions = state_machine_definitions(synthesized.shared)
    assert len(definitions) == 1
    assert asl_findings(definitions, synthesized.workdir) == []
    for definition in definitions.values():
        assert jsonata_syntax_errors(definition) == []


@pytest.mark.parametrize("name", CASES)
def test_validator_lambda_accepts_the_synthesized_payload(synthesized: Synthesized, name: str) -> None:
    """The ValidateOutput payload, as Step Functions would send it, satisfies the real handler."""
    from factory.runtime.output_validator import handler

    (definition,) = state_machine_definitions(synthesized.templates[name]).values()
    payload = dict(definition["States"]["ValidateOutput"]["Arguments"]["Payload"])
    schema = synthesized.schemas[name]
    extracted = {field: SAMPLE_BY_TYPE[prop.type] for field, prop in schema.output_schema.properties.items()
                 if prop.enum is None and prop.pattern is None and prop.type != "array"}
    extracted.update({field: prop.enum[0] for field, prop in schema.output_schema.properties.items() if prop.enum})
    extracted.update({field: [] for field, prop in schema.output_schema.properties.items() if prop.type == "array"})
    payload["agent_response"] = {
        "step_results": [{"action": "act_with_schema", "parsed_response": extracted, "matches_schema": True}]
    }
    result = handler(payload)
    assert result == {"valid": True, "errors": [], "structured_output": extracted}
    del extracted[schema.output_schema.required[0]]
    assert handler(payload)["valid"] is False


SAMPLE_BY_TYPE = {"string": "text", "number": 1.5, "integer": 3, "boolean": True, "object": {"k": "v"}}
