"""The synthesized stacks as concrete resources in moto: what `cdk deploy` would create, by name.

`synthesize()` generates the bundled schemas into a scratch directory, synthesizes
the shared stack and every generated agent stack with aws-cdk-lib (in-process),
and resolves the CloudFormation intrinsics the definitions use (Ref, GetAtt,
Join, Select, Split, ImportValue of the shared stack's exports) to the names the
resources get in moto. `Deployment.create()` then creates them in moto.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.sfn.interpreter import prepare_definition

ENV = "dev"
ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/sfn-harness"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}


@dataclass
class Deployment:
    """Everything the executions need, with concrete names."""

    functions: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {handler, environment}
    tables: list[dict[str, Any]] = field(default_factory=list)  # create_table arguments
    bucket: str = ""
    activities: list[str] = field(default_factory=list)
    machines: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> ASL definition
    generated: Path = Path()

    def machine_arn(self, name: str) -> str:
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"

    @property
    def activity_arn(self) -> str:
        (name,) = self.activities
        return f"arn:aws:states:{REGION}:{ACCOUNT}:activity:{name}"

    def create(self, clients: dict[str, Any]) -> None:
        clients["iam"].create_role(RoleName="sfn-harness", AssumeRolePolicyDocument="{}")
        for table in self.tables:
            clients["dynamodb"].create_table(BillingMode="PAY_PER_REQUEST", **table)
        clients["s3"].create_bucket(Bucket=self.bucket)
        for name, function in self.functions.items():
            clients["lambda"].create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=ROLE_ARN,
                Handler=function["handler"],
                Code={"ZipFile": _empty_zip()},
                Environment={"Variables": function["environment"]},
            )
        for name in self.activities:
            clients["stepfunctions"].create_activity(name=name)
        for name, definition in self.machines.items():
            clients["stepfunctions"].create_state_machine(
                name=name, definition=prepare_definition(definition), roleArn=ROLE_ARN
            )

    def put_generated_items(
        self, clients: dict[str, Any], table: str, folder: str, pattern: str = "*.json"
    ) -> None:
        """Items as `schema-factory generate` wrote them (what `register` stores), into a table."""
        from boto3.dynamodb.types import TypeSerializer

        serializer = TypeSerializer()
        for path in sorted((self.generated / folder).glob(pattern)):
            item = json.loads(path.read_text("utf-8"), parse_float=Decimal)
            clients["dynamodb"].put_item(
                TableName=table, Item={key: serializer.serialize(value) for key, value in item.items()}
            )


def _empty_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler_runs_in_process.py", "")
    return buffer.getvalue()


def _concrete(logical: str, resource: dict[str, Any]) -> tuple[str, str]:
    """(name, ARN) a shared-stack resource gets in moto."""
    kind, props = resource["Type"], resource.get("Properties", {})
    if kind == "AWS::Lambda::Function":
        name = logical[:64]
        return name, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    if kind == "AWS::DynamoDB::Table":
        return props["TableName"], f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{props['TableName']}"
    if kind == "AWS::S3::Bucket":
        name = logical.lower()[:63]
        return name, f"arn:aws:s3:::{name}"
    if kind == "AWS::StepFunctions::Activity":
        return props["Name"], f"arn:aws:states:{REGION}:{ACCOUNT}:activity:{props['Name']}"
    if kind == "AWS::StepFunctions::StateMachine":
        name = props["StateMachineName"]
        return name, f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
    return logical, f"arn:aws:iam::{ACCOUNT}:role/{logical}"


class _Resolver:
    def __init__(self, shared: dict[str, Any]) -> None:
        self.shared = shared
        self.exports = {
            out["Export"]["Name"]: out["Value"]
            for out in shared.get("Outputs", {}).values()
            if "Export" in out
        }

    def __call__(self, node: Any, resources: dict[str, Any]) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                if value in PSEUDO:
                    return PSEUDO[value]
                resource = resources[value]
                name, arn = _concrete(value, resource)
                by_name = resource["Type"] in (
                    "AWS::Lambda::Function",
                    "AWS::DynamoDB::Table",
                    "AWS::S3::Bucket",
                )
                return name if by_name else arn
            if key == "Fn::GetAtt":
                logical = value[0] if isinstance(value, list) else value.split(".", 1)[0]
                return _concrete(logical, resources[logical])[1]
            if key == "Fn::Join":
                return value[0].join(str(self(part, resources)) for part in value[1])
            if key == "Fn::Select":
                return self(value[1], resources)[int(value[0])]
            if key == "Fn::Split":
                return str(self(value[1], resources)).split(value[0])
            if key == "Fn::ImportValue":
                return self(self.exports[self(value, resources)], self.shared["Resources"])
        if isinstance(node, dict):
            return {key: self(value, resources) for key, value in node.items()}
        if isinstance(node, list):
            return [self(value, resources) for value in node]
        return node


def synthesize(repo: Path, workdir: Path | None = None) -> Deployment:
    """Generate, synthesize and resolve; the slow part (CDK on node), done once per session."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from factory import names
    from factory.generation import generate_to_disk
    from factory.infra.shared_stack import SharedStack
    from factory.schema.loader import load_schemas

    root = Path(workdir or tempfile.mkdtemp(prefix="sfn-harness-"))
    generated = root / "generated"
    generate_to_disk([repo / "schemas"], generated)
    loaded, problems = load_schemas([repo / "schemas"])
    assert not problems, problems
    app = cdk.App(outdir=str(root / "cdk.out"))
    shared = SharedStack(app, f"schema-factory-shared-{ENV}", env_name=ENV, asset_dir=root / "asset")
    agent_stacks = []
    for item in loaded:
        schema = item.schema
        module_name = f"sfn_harness_stack_{schema.extraction_name}"
        spec = importlib.util.spec_from_file_location(module_name, generated / names.stack_path(schema))
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        stack_class = getattr(module, names.stack_class(schema))
        agent_stacks.append(stack_class(app, f"{names.stack_construct_id(schema)}-{ENV}", env_name=ENV))

    shared_template = Template.from_stack(shared).to_json()
    resolve = _Resolver(shared_template)
    resources = shared_template["Resources"]
    deployment = Deployment(generated=generated)
    for logical, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        name, _ = _concrete(logical, resource)
        if kind == "AWS::Lambda::Function":
            environment = resolve(props.get("Environment", {}).get("Variables", {}), resources)
            deployment.functions[name] = {"handler": props["Handler"], "environment": environment}
        elif kind == "AWS::DynamoDB::Table":
            table = {key: props[key] for key in ("TableName", "KeySchema", "AttributeDefinitions")}
            for kind_of_index in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
                indexes = [
                    {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
                    for index in props.get(kind_of_index, [])
                ]
                if indexes:
                    table[kind_of_index] = indexes
            deployment.tables.append(table)
        elif kind == "AWS::S3::Bucket":
            deployment.bucket = name
        elif kind == "AWS::StepFunctions::Activity":
            deployment.activities.append(name)
    for template in [shared_template] + [Template.from_stack(stack).to_json() for stack in agent_stacks]:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::StepFunctions::StateMachine":
                props = resource["Properties"]
                text = resolve(props["DefinitionString"], template["Resources"])
                deployment.machines[props["StateMachineName"]] = json.loads(text)
    return deployment
