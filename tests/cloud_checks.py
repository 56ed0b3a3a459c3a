"""The real consumers of synthesized CloudFormation: cfn-lint, asl-validator, JSONata.

cfn-lint cannot see inside a state machine whose DefinitionString is an
Fn::Join, which CDK emits whenever the definition references an
ARN. `state_machine_definitions` resolves those joins the way CloudFormation
would, with plausible values, so asl-validator and jsonata-python can check
the real definition.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, Iterator

ASL_VALIDATOR = Path(__file__).resolve().parent / "node" / "node_modules" / ".bin" / "asl-validator"
IGNORED_LINT_RULES = {"W3005", "W6001"}
ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com"}


def lint_errors(template: dict[str, Any]) -> list[str]:
    """cfn-lint findings that matter: every error, warnings other than the two CDK always draws."""
    from cfnlint.api import lint

    matches = lint(json.dumps(template), regions=[REGION])
    return [
        f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}"
        for m in matches
        if m.rule.id not in IGNORED_LINT_RULES and m.rule.id[0] in ("E", "W")
    ]


def _import_value_arn(name: str) -> str:
    tail = re.sub(r"[^A-Za-z0-9-]", "-", name)
    if name.endswith("FunctionArn"):
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{tail}"
    if name.endswith("ActivityArn"):
        return f"arn:aws:states:{REGION}:{ACCOUNT}:activity:{tail}"
    if name.endswith("TableArn"):
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{tail}"
    if name.endswith("StateMachineArn"):
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{tail}"
    if name.endswith("BucketName") or name.endswith("TableName"):
        return tail
    return f"arn:aws:iam::{ACCOUNT}:role/{tail}"


def _ref_value(logical_id: str, resources: dict[str, Any]) -> str:
    kind = resources.get(logical_id, {}).get("Type", "")
    if kind == "AWS::StepFunctions::Activity":
        return f"arn:aws:states:{REGION}:{ACCOUNT}:activity:{logical_id}"
    if kind == "AWS::StepFunctions::StateMachine":
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{logical_id}"
    return logical_id  # functions, tables, buckets: Ref gives the name


def _getatt_value(logical_id: str, attribute: str, resources: dict[str, Any]) -> str:
    kind = resources.get(logical_id, {}).get("Type", "")
    if kind == "AWS::Lambda::Function" and attribute == "Arn":
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"
    if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{logical_id}"
    if kind == "AWS::S3::Bucket" and attribute == "Arn":
        return f"arn:aws:s3:::{logical_id.lower()}"
    return f"arn:aws:states:{REGION}:{ACCOUNT}:{attribute}:{logical_id}"


def resolve(node: Any, resources: dict[str, Any]) -> Any:
    """Evaluate the intrinsic functions CDK puts into definitions."""
    if isinstance(node, dict) and len(node) == 1:
        (key, value), = node.items()
        if key == "Ref":
            return PSEUDO.get(value) or _ref_value(value, resources)
        if key == "Fn::Join":
            separator, parts = value
            return separator.join(str(resolve(part, resources)) for part in parts)
        if key == "Fn::Select":
            index, items = value
            return resolve(items, resources)[int(index)]
        if key == "Fn::Split":
            separator, text = value
            return str(resolve(text, resources)).split(separator)
        if key == "Fn::ImportValue":
            return _import_value_arn(str(resolve(value, resources)))
        if key == "Fn::GetAtt":
            logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
            return _getatt_value(logical_id, attribute, resources)
    if isinstance(node, dict):
        return {k: resolve(v, resources) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, resources) for v in node]
    return node


def state_machine_definitions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = template.get("Resources", {})
    out = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::StepFunctions::StateMachine":
            text = resolve(resource["Properties"]["DefinitionString"], resources)
            out[logical_id] = json.loads(text)
    return out


def asl_findings(definitions: dict[str, dict[str, Any]], workdir: Path) -> list[str]:
    """Run asl-validator over every definition in one node process."""
    if not ASL_VALIDATOR.exists():
        raise RuntimeError(f"{ASL_VALIDATOR} missing: run `npm ci --prefix tests/node`")
    args = [str(ASL_VALIDATOR)]
    for name, definition in definitions.items():
        path = workdir / f"{name}.asl.json"
        path.write_text(json.dumps(definition))
        args += ["--json-path", str(path)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return [] if result.returncode == 0 else [result.stdout + result.stderr]


def jsonata_expressions(node: Any, where: str = "$") -> Iterator[tuple[str, str]]:
    """Every `{% ... %}` string in a definition, with where it sits."""
    if isinstance(node, str):
        stripped = node.strip()
        if stripped.startswith("{%") and stripped.endswith("%}"):
            yield where, stripped[2:-2]
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from jsonata_expressions(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from jsonata_expressions(value, f"{where}[{index}]")


def jsonata_syntax_errors(definition: dict[str, Any]) -> list[str]:
    import jsonata

    errors = []
    for where, body in jsonata_expressions(definition):
        try:
            jsonata.Jsonata(body)
        except Exception as err:  # noqa: BLE001 - every parse failure is a finding
            errors.append(f"{where}: {err}")
    return errors
