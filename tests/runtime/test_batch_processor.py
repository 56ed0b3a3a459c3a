"""The batch state machine: synthesized once, then checked for what cfn-lint misses.

Needs aws-cdk-lib; asl-validator checks run when `npm ci --prefix tests/node` has been done.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
ASL_VALIDATOR = NODE_DIR / "node_modules" / ".bin" / "asl-validator"
ENV = "dev"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory):
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault(
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(Path(tempfile.gettempdir()) / "schema-factory-jsii-cache")
    )
    cdk = pytest.importorskip("aws_cdk")
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk.assertions import Template

    from factory.infra.batch_processor import BatchProcessor

    root = tmp_path_factory.mktemp("batch-processor")
    app = cdk.App(outdir=str(root / "cdk.out"))
    stack = cdk.Stack(app, "Shared", env=cdk.Environment(account="123456789012", region="us-east-1"))
    registry = dynamodb.Table(
        stack,
        "AgentRegistry",
        partition_key=dynamodb.Attribute(name="agent_name", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="version", type=dynamodb.AttributeType.STRING),
    )
    processor = BatchProcessor(
        stack, "BatchProcessor", env_name=ENV, agent_registry_table=registry, asset_dir=root / "asset"
    )
    template = Template.from_stack(stack).to_json()
    messages = [(str(m.level), str(m.entry.data)) for m in app.synth().get_stack_by_name("Shared").messages]
    return {
        "template": template,
        "asset": root / "asset",
        "root": root,
        "processor_id": processor.node.id,
        "messages": messages,
    }


def resources(template, kind):
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


def resolve(part, template):
    """A plausible value for each intrinsic, as CloudFormation would resolve it."""
    if isinstance(part, str):
        return part
    if "Ref" in part:
        ref = part["Ref"]
        pseudo = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
        if ref in pseudo:
            return pseudo[ref]
        kind = template["Resources"][ref]["Type"]
        if kind == "AWS::StepFunctions::StateMachine":
            return f"arn:aws:states:us-east-1:123456789012:stateMachine:{ref}"
        return ref.lower()
    if "Fn::GetAtt" in part:
        logical, _ = part["Fn::GetAtt"]
        return f"arn:aws:lambda:us-east-1:123456789012:function:{logical}"
    if "Fn::Join" in part:
        separator, parts = part["Fn::Join"]
        return separator.join(resolve(inner, template) for inner in parts)
    raise AssertionError(f"unexpected intrinsic {part}")


@pytest.fixture(scope="session")
def definition(synthesized):
    template = synthesized["template"]
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    text = resolve(machine["Properties"]["DefinitionString"], template)
    return json.loads(text)


def walk_scopes(scope, path="$"):
    """(path, States) for the machine and every Map's ItemProcessor, recursively."""
    yield path, scope
    for name, state in scope["States"].items():
        if "ItemProcessor" in state:
            yield from walk_scopes(state["ItemProcessor"], f"{path}.{name}")


def targets(state):
    found = [state.get("Next"), state.get("Default")]
    found += [choice.get("Next") for choice in state.get("Choices", [])]
    found += [catch.get("Next") for catch in state.get("Catch", [])]
    return [target for target in found if target]


def expressions(node):
    if isinstance(node, str):
        if node.startswith("{%"):
            assert node.endswith("%}"), node
            yield node[2:-2].strip()
    elif isinstance(node, dict):
        for value in node.values():
            yield from expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from expressions(value)


def state(definition, *names):
    scope = definition
    for name in names[:-1]:
        scope = scope["States"][name]["ItemProcessor"]
    return scope["States"][names[-1]]


def evaluate(expression, variables=None, states=None):
    import jsonata

    body = expression.strip()
    assert body.startswith("{%") and body.endswith("%}")
    expr = jsonata.Jsonata(body[2:-2].strip())
    return expr.evaluate(None, {**(variables or {}), "states": states or {}})


def test_every_transition_target_exists_and_every_state_is_reachable(definition):
    for path, scope in walk_scopes(definition):
        names = set(scope["States"])
        assert scope["StartAt"] in names, path
        reached, todo = set(), [scope["StartAt"]]
        while todo:
            name = todo.pop()
            if name in reached:
                continue
            reached.add(name)
            for target in targets(scope["States"][name]):
                assert target in names, f"{path}.{name} -> missing {target}"
                todo.append(target)
        assert reached == names, f"{path}: unreachable {names - reached}"


def test_every_jsonata_expression_parses(definition):
    import jsonata

    found = list(expressions(definition))
    assert len(found) > 40
    for body in found:
        jsonata.Jsonata(body)


def test_synthesis_says_nothing(synthesized):
    """No warning either: CDK ignored the processor's execution type while the map's was set too."""
    assert synthesized["messages"] == []


def test_machine_shape(definition):
    assert definition["QueryLanguage"] == "JSONata"
    rows = state(definition, "ProcessRows")
    assert rows["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert rows["ItemReader"]["ReaderConfig"] == {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}
    assert rows["ItemReader"]["Arguments"]["Key"] == "{% $csv_key %}"
    assert rows["ItemBatcher"]["MaxItemsPerBatch"] == 25
    assert rows["ItemBatcher"]["MaxInputBytesPerBatch"] == 64 * 1024
    assert rows["MaxConcurrency"] == "{% $max_concurrency %}"
    assert rows["ToleratedFailurePercentage"] == 5
    assert "ResultWriter" in rows
    child = rows["ItemProcessor"]
    assert child["StartAt"] == "MapInputs"
    assert set(child["States"]) == {"MapInputs", "TargetKind", "AgentRows", "ToolRows", "WriteResults"}
    for kind, resource in (("Agent", "states:startExecution.sync:2"), ("Tool", "lambda:invoke")):
        inner = state(definition, "ProcessRows", f"{kind}Rows")["ItemProcessor"]
        # each row's work is ONE Task (a failed row goes on to a Pass that keeps its caught error)
        assert inner["StartAt"] == f"Call{kind}" and set(inner["States"]) == {
            f"Call{kind}",
            f"{kind}RowFailed",
        }
        call = inner["States"][f"Call{kind}"]
        assert call["Resource"] == f"arn:aws:states:::{resource}" and call["End"] is True
        assert call["Retry"] and [catch["Next"] for catch in call["Catch"]] == [f"{kind}RowFailed"]
    for name in ("MapInputs", "WriteResults"):
        assert state(definition, "ProcessRows", name)["Retry"]
    fails = {name for name, body in definition["States"].items() if body["Type"] == "Fail"}
    assert fails == {
        "BatchRequestInvalid",
        "TargetInvalid",
        "BatchValidationFailed",
        "BatchInputInvalid",
        "RowProcessingFailed",
        "AggregationFailed",
    }
    assert "TARGET_PROBLEM" not in json.dumps(definition) and "stateMachine:[" not in json.dumps(definition)


def test_request_defaults_and_batch_id(definition):
    assign = state(definition, "ReadRequest")["Assign"]
    request = {
        "csv_key": "inputs/a.csv",
        "mapping": {"extraction_name": "energy_tariff_quotes", "agent_name": "energy-agent"},
    }
    states = {"input": request, "context": {"Execution": {"Name": "run-1"}}}
    assert evaluate(assign["agent_name"], states=states) == "energy-agent"
    assert (
        evaluate(assign["agent_name"], states={**states, "input": {**request, "agent_name": "other"}})
        == "other"
    )
    assert evaluate(assign["max_concurrency"], states=states) == 10
    assert (
        evaluate(assign["max_concurrency"], states={**states, "input": {**request, "max_concurrency": 50}})
        == 50
    )
    assert evaluate(assign["agent_version"], states=states) is None
    for key in ("csv_key", "mapping", "agent_name", "agent_version", "target"):  # absent: null, no error
        assert evaluate(assign[key], states={**states, "input": {}}) is None, key
    batch_id = state(definition, "ValidateInput")["Assign"]["batch_id"]
    variables = {"mapping": request["mapping"], "agent_name": "energy-agent"}
    assert evaluate(batch_id, variables, states) == "energy-tariff-quotes#run-1"
    assert evaluate(batch_id, {"mapping": {}, "agent_name": "energy-agent"}, states) == "energy-agent#run-1"
    condition = state(definition, "RequestWellFormed")["Choices"][0]["Condition"]
    assert evaluate(condition, {"csv_key": "k", "mapping": {}, "agent_name": "a"}) is True
    assert evaluate(condition, {"csv_key": None, "mapping": {}, "agent_name": "a"}) is False
    assert evaluate(condition, {"csv_key": "k", "mapping": {}, "agent_name": None}) is False


def test_the_orchestrators_request_is_read_too(definition):
    """The existing orchestrator's shape (execute_batch.py at ffef93d): csv_s3_uri, target, input/output_mapping."""
    assign = state(definition, "ReadRequest")["Assign"]
    bucket = state(definition, "ProcessRows")["ItemReader"]["Arguments"]["Bucket"]  # as resolved here
    request = {
        "csv_s3_uri": f"s3://{bucket}/inputs/a b.csv",
        "target": {
            "type": "agent",
            "name": "energy-agent",
            "arn": "arn:aws:states:us-east-1:1:stateMachine:x",
        },
        "input_mapping": {"column_mappings": {"Postcode": "postcode"}},
        "output_mapping": {"structured_output_fields": ["tariff_count"], "include_original": True},
        "execution_config": {"max_concurrency": 3},
    }
    states = {"input": request}
    assert evaluate(assign["csv_key"], states=states) == "inputs/a b.csv"
    assert evaluate(assign["agent_name"], states=states) == "energy-agent"
    assert evaluate(assign["target"], states=states) == request["target"]  # checked by ValidateInput
    assert evaluate(assign["max_concurrency"], states=states) == 3
    assert evaluate(assign["mapping"], states=states) == {
        "structured_output_fields": ["tariff_count"],
        "include_original": True,
        "input_mapping": request["input_mapping"],
    }
    elsewhere = {"input": {**request, "csv_s3_uri": "s3://other-bucket/inputs/a.csv"}}
    assert evaluate(assign["csv_key"], states=elsewhere) is None


def test_row_selection_and_target_arn(definition):
    rows = state(definition, "ProcessRows")
    context = {"context": {"Map": {"Item": {"Index": 0, "Value": {"Postcode": "SW1A 1AA"}}}}}
    assert evaluate(rows["ItemSelector"]["row_number"], states=context) == 1
    assert evaluate(rows["ItemSelector"]["row"], states=context) == {"Postcode": "SW1A 1AA"}
    arn = state(definition, "ValidateInput")["Assign"]["target_arn"]
    ours = {"result": {"Payload": {"target": {"type": "agent", "name": "energy-agent"}}}}
    assert (
        evaluate(arn, {"agent_name": "energy-agent"}, ours)
        == "arn:aws:states:us-east-1:123456789012:stateMachine:energy-agent-dev"
    )
    theirs = {"result": {"Payload": {"target": {"type": "tool", "name": "t", "arn": "arn:x"}}}}
    assert evaluate(arn, {"agent_name": "t"}, theirs) == "arn:x"
    assert evaluate(rows["ItemBatcher"]["BatchInput"]["target_arn"], {"target_arn": "a"}) == "a"


def test_child_maps_once_keeps_a_reference_per_row_and_writes_once(definition):
    child_input = {
        "Items": [{"row": {"a": "1"}, "row_number": 7}],
        "BatchInput": {"batch_id": "b#1", "mapping": {}, "target": {"type": "tool"}},
    }
    map_inputs = state(definition, "ProcessRows", "MapInputs")
    result = {"Payload": {"calls": [{"n": 7, "payload": {"a": 1}}], "failed": []}}
    assert (
        evaluate(map_inputs["Output"], states={"input": child_input, "result": result})
        == result["Payload"]["calls"]
    )
    assert evaluate(map_inputs["Assign"]["rows"], states={"input": child_input}) == child_input["Items"]
    choice = state(definition, "ProcessRows", "TargetKind")
    assert [c["Next"] for c in choice["Choices"]] == ["ToolRows"] and choice["Default"] == "AgentRows"
    agent = state(definition, "ProcessRows", "AgentRows", "CallAgent")
    call = {
        "input": {"n": 7, "payload": {"messages": []}},
        "result": {"ExecutionArn": "arn:e", "Output": {"x": 1}},
    }
    kept = evaluate(agent["Output"], {"started": 0}, call)
    assert set(kept) == {"n", "ms", "arn"} and (kept["n"], kept["arn"]) == (7, "arn:e")  # not the Output
    tool = state(definition, "ProcessRows", "ToolRows", "CallTool")
    small = {"input": {"n": 7}, "result": {"Payload": {"category": "billing"}}}
    assert evaluate(tool["Output"], {"started": 0}, small)["output"] == {"category": "billing"}
    big = {"input": {"n": 8}, "result": {"Payload": {"text": "x" * 9000}}}
    kept = evaluate(tool["Output"], {"started": 0}, big)
    assert "output" not in kept and kept["error"]["Error"] == "RowOutputTooLarge"
    assert kept["error"]["Cause"].startswith("the answer is 9011 characters; a row keeps at most 8,000")
    caught = tool["Catch"][0]["Output"]
    error = {"Error": "ValueError", "Cause": "y" * 20_000}
    kept = evaluate(caught, {"started": 0}, {"input": {"n": 9}, "errorOutput": error})
    assert kept["n"] == 9 and kept["error"]["Error"] == "ValueError" and len(kept["error"]["Cause"]) == 8004
    write = state(definition, "ProcessRows", "WriteResults")["Arguments"]["Payload"]
    assert evaluate(write["results"], states={"input": [{"n": 7}]}) == [{"n": 7}]
    assert evaluate(write["batch_id"], {"batch": {"batch_id": "b#1"}}) == "b#1"


def test_done_reports_counts_and_uri(definition):
    outputs = state(definition, "Done")["Output"]
    summary = {
        "rows": 3,
        "counts": {"SUCCESS": 1, "PARTIAL": 1, "FAILED": 1},
        "csv_uri": "s3://b/results/x.csv",
        "columns": ["a", "_status"],
    }
    out = {key: evaluate(value, {"batch_id": "b#1"}, {"input": summary}) for key, value in outputs.items()}
    assert out == {
        "batch_id": "b#1",
        "rows": 3,
        "counts": summary["counts"],
        "csv_uri": "s3://b/results/x.csv",
        # what the existing orchestrator's get_results.py reads (lines ~66-90 at ffef93d)
        "output_csv_uri": "s3://b/results/x.csv",
        "output_location": "s3://b/results/x.csv",
        "total_rows": 3,
        "successful_rows": 2,
        "failed_rows": 1,
        "column_names": ["a", "_status"],
    }
    only_successes = {**summary, "counts": {"SUCCESS": 3}}
    assert evaluate(outputs["failed_rows"], states={"input": only_successes}) == 0


def test_asl_validator_accepts_the_definition(definition, tmp_path):
    if not ASL_VALIDATOR.exists():
        pytest.skip("run `npm ci --prefix tests/node` for asl-validator")
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))
    done = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_asl_validator_catches_a_broken_transition(definition, tmp_path):
    if not ASL_VALIDATOR.exists():
        pytest.skip("run `npm ci --prefix tests/node` for asl-validator")
    broken = json.loads(json.dumps(definition))
    broken["States"]["ProcessRows"]["ItemProcessor"]["States"]["MapInputs"]["Next"] = "Nowhere"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    done = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0


def test_cfn_lint_clean(synthesized):
    from cfnlint.api import lint

    matches = lint(json.dumps(synthesized["template"]), regions=["us-east-1"])
    errors = [match for match in matches if match.rule.id not in ("W3005", "W6001")]
    assert errors == [], "\n".join(str(match) for match in errors)


def test_storage_is_private_encrypted_and_expires(synthesized):
    template = synthesized["template"]
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    properties = bucket["Properties"]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert all(properties["PublicAccessBlockConfiguration"].values())
    rules = {rule["Id"]: rule for rule in properties["LifecycleConfiguration"]["Rules"]}
    assert rules["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    (policy,) = resources(template, "AWS::S3::BucketPolicy").values()
    assert "aws:SecureTransport" in json.dumps(policy)
    tables = resources(template, "AWS::DynamoDB::Table")
    results = next(
        body
        for body in tables.values()
        if body["Properties"].get("TableName") == f"batch_processor_results-{ENV}"
    )
    props = results["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert {index["IndexName"] for index in props["GlobalSecondaryIndexes"]} == {"ByTimestamp", "ByStatus"}
    assert [key["AttributeName"] for key in props["KeySchema"]] == ["batch_id", "row_id"]


def test_lambdas_are_thin_handlers_over_the_asset(synthesized):
    functions = resources(synthesized["template"], "AWS::Lambda::Function")
    handlers = sorted(body["Properties"]["Handler"] for body in functions.values())
    assert handlers == sorted(
        f"factory.runtime.{module}.handler"
        for module in ("aggregator", "batch_validator", "child_inputs", "child_results")
    )
    asset = synthesized["asset"]
    assert (asset / "factory" / "runtime" / "output_mapping" / "structured.py").exists()
    assert (asset / "jmespath" / "__init__.py").exists() and (asset / "chevron").exists()
    assert not list(asset.rglob("pydantic*")) and not list(asset.rglob("jsonschema*"))
    done = import_asset_alone(asset)
    assert done.returncode == 0, done.stderr


# Every runtime module imported with the asset folder as the only place outside the standard library
# (and boto3, which the Lambda runtime brings): `-I` ignores PYTHONPATH and the user site, `-S` drops the
# site-packages where the editable install of `factory` lives, and the probe then fails unless each module
# came from the asset.
ASSET_PROBE = """
import importlib, pathlib, pkgutil, sys
asset = pathlib.Path(sys.argv[1]).resolve()
sys.path.insert(0, str(asset))
import factory.runtime as runtime
for info in pkgutil.walk_packages(runtime.__path__, "factory.runtime."):
    module = importlib.import_module(info.name)
    origin = pathlib.Path(module.__file__).resolve()
    if asset not in origin.parents:
        raise SystemExit(f"{module.__name__} came from {origin}, not from the asset")
for name in ("jmespath", "chevron"):
    origin = pathlib.Path(importlib.import_module(name).__file__).resolve()
    if asset not in origin.parents:
        raise SystemExit(f"{name} came from {origin}, not from the asset")
"""


def import_asset_alone(asset):
    """Run ASSET_PROBE in a fresh interpreter that sees the stdlib, boto3's folder and the asset."""
    import boto3, botocore

    sitedirs = sorted({str(Path(m.__file__).resolve().parents[1]) for m in (boto3, botocore)})
    bootstrap = "import sys; sys.path[:0] = " + repr(sitedirs) + "; exec(" + repr(ASSET_PROBE) + ")"
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", bootstrap, str(asset)],
        cwd=asset,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_asset_probe_fails_when_the_asset_cannot_import(synthesized, tmp_path):
    """The probe is real: without its vendored chevron the asset's renderer cannot import."""
    broken = tmp_path / "asset"
    shutil.copytree(synthesized["asset"], broken)
    shutil.rmtree(broken / "chevron")
    done = import_asset_alone(broken)
    assert done.returncode != 0
    assert "chevron" in done.stderr


def policy_statements(template, role_fragment):
    statements = []
    for body in resources(template, "AWS::IAM::Policy").values():
        roles = json.dumps(body["Properties"]["Roles"])
        if role_fragment in roles:
            statements += body["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_state_machine_may_start_only_this_environments_agents(synthesized):
    template = synthesized["template"]
    statements = policy_statements(template, "StateMachineRole")
    starts = [
        s
        for s in statements
        if "states:StartExecution" in json.dumps(s["Action"])
        and "stateMachine:*-" in json.dumps(s["Resource"])
    ]
    assert len(starts) == 1
    assert (
        resolve(starts[0]["Resource"], template)
        == f"arn:aws:states:us-east-1:123456789012:stateMachine:*-{ENV}"
    )
    for statement in statements:
        assert statement["Resource"] != "*" or statement["Action"] in (
            # CDK grants these for the DistributedMap's own map runs
            ["states:DescribeExecution", "states:StopExecution"],
        ), statement


def test_functions_have_least_privilege(synthesized):
    template = synthesized["template"]
    mapper = json.dumps(policy_statements(template, "ChildInputsServiceRole"))
    assert "dynamodb:" not in mapper and "s3:" not in mapper and "states:" not in mapper
    writer = json.dumps(policy_statements(template, "ChildResultsServiceRole"))
    assert (
        "dynamodb:BatchWriteItem" in writer and "dynamodb:Scan" not in writer and "s3:GetObject" not in writer
    )
    assert "batch-results/*" in writer
    # it reads its agent rows' answers back, from this environment's agent executions only
    describe = [
        s for s in policy_statements(template, "ChildResultsServiceRole") if "states:" in json.dumps(s)
    ]
    assert [s["Action"] for s in describe] == ["states:DescribeExecution"]
    assert "execution:*-dev:*" in json.dumps(describe) and "StartExecution" not in writer


TOOL_ARN = "arn:aws:lambda:us-east-1:123456789012:function:classify-ticket"
FOREIGN_AGENT_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:llm-agent"


def synth_with(tmp_path, **props):
    import aws_cdk as cdk
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk.assertions import Template

    from factory.infra.batch_processor import BatchProcessor

    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Shared", env=cdk.Environment(account="123456789012", region="us-east-1"))
    registry = dynamodb.Table(
        stack, "AgentRegistry", partition_key=dynamodb.Attribute(name="a", type=dynamodb.AttributeType.STRING)
    )
    BatchProcessor(
        stack,
        "BatchProcessor",
        env_name=ENV,
        agent_registry_table=registry,
        asset_dir=tmp_path / "asset",
        **props,
    )
    return Template.from_stack(stack).to_json()


def invoke_grants(template):
    """The resources the batch state machine may lambda:InvokeFunction, other than its own runtime Lambdas."""
    granted = []
    for statement in policy_statements(template, "StateMachineRole"):
        if "lambda:InvokeFunction" in json.dumps(statement["Action"]):
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            granted += [r for r in resources if isinstance(r, str)]
    return granted


def test_tools_and_foreign_agents_are_granted_only_when_listed(synthesized, tmp_path):
    assert invoke_grants(synthesized["template"]) == []  # nothing beyond the runtime Lambdas by default
    pytest.importorskip("aws_cdk")
    template = synth_with(
        tmp_path, tool_function_arns=[TOOL_ARN], agent_state_machine_arns=[FOREIGN_AGENT_ARN]
    )
    assert sorted(invoke_grants(template)) == [TOOL_ARN, TOOL_ARN + ":*"]
    text = json.dumps(policy_statements(template, "StateMachineRole"))
    assert FOREIGN_AGENT_ARN in text
    assert FOREIGN_AGENT_ARN.replace(":stateMachine:", ":execution:") + ":*" in text


@pytest.mark.parametrize(
    "props",
    [
        {"tool_function_arns": ["arn:aws:lambda:us-east-1:123456789012:function:*"]},
        {"tool_function_arns": [FOREIGN_AGENT_ARN]},
        {"agent_state_machine_arns": [TOOL_ARN]},
    ],
)
def test_a_grant_list_takes_only_literal_arns_of_its_kind(tmp_path, props):
    pytest.importorskip("aws_cdk")
    with pytest.raises(ValueError, match="is not a literal"):
        synth_with(tmp_path, **props)
