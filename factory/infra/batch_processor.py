"""The batch processor: a CSV in S3 through an agent, row by row, into a CSV in S3.

    ReadRequest ─▶ RequestWellFormed? ─▶ ValidateInput ─▶ InputValid? ─▶ ProcessRows ─▶ Aggregate ─▶ Done
                        └▶ BatchRequestInvalid      └▶ BatchInputInvalid     (DISTRIBUTED Map)

ProcessRows reads the CSV straight from S3 (header row), and hands 25 rows at
a time (ItemBatcher) to a STANDARD child workflow: `.sync:2` waits on the
agent's own STANDARD state machine, which EXPRESS children cannot do. In the
child an inline Map runs each row: StartRow → TransformInput → TargetKind →
InvokeAgent (`states:startExecution.sync:2`) or InvokeTool (`lambda:invoke`) →
OutputMappedBy → ExtractOutput or ExtractGenericOutput; any error of a row is caught
as a FAILED row (RowFailed), so the batch goes on. WriteResults then stores the
25 rows with one BatchWriteItem (≤ 41 requests per 1,000 rows); only a failure
to store counts against ToleratedFailurePercentage.

Request (the execution input), ours:

    {"csv_key": "inputs/<file>.csv",          # in this construct's bucket
     "mapping": {...batch mapping as JSON...},
     "agent_name"?: "...", "agent_version"?: "1.0.0",   # default: mapping.agent_name, newest active
     "max_concurrency"?: 10}

or the existing step-functions-agent batch orchestrator's (its execute_batch tool):

    {"csv_s3_uri": "s3://<this construct's bucket>/<key>",
     "target": {"type": "agent", "name": "<agent name>", "arn"?: "<agent state machine ARN>"},
     "input_mapping": {...}, "output_mapping": {"structured_output_fields": [...], ...},
     "execution_config"?: {"max_concurrency": 10}}

Either shape may also carry `"output_mappings"` (the design's output mapping
configuration) and `"registered_schema"` (a registered output schema). The
target decides how each row is called: `"type": "agent"` (or no target) runs
the agent's state machine with `states:startExecution.sync:2`, `"type": "tool"`
invokes the Lambda function `target.arn` with `lambda:invoke` (the row's mapped
fields as the payload). ValidateInput decides once per batch how rows are
mapped (the request's output_mappings, else its registered schema: the generic
output mapper; else the structured output mapper, as for our own agents). Every
agent, ours or not, receives what the existing batch processor sends its agents,
`{"messages": [{"role": "user", "content": <prompt>}], "input": <row data>}`
(`payload_form` "messages"; a tool's is "data"). Tools are not looked up in AgentRegistry.

A request missing what it needs, or with a malformed target, ends in
BatchRequestInvalid, naming the key.

Least privilege: the machine may start this environment's agent machines
(`*-<env>`) and, besides, only the agent state machines and tool functions
listed in the construct's `agent_state_machine_arns` and `tool_function_arns`.
A target outside them fails its rows with an AccessDenied error.

Output: {"batch_id", "rows", "counts": {status: n}, "csv_uri"}, plus the fields the
existing orchestrator's get_results reads: "output_csv_uri" and "output_location"
(both the CSV's URI), "total_rows", "successful_rows", "failed_rows", "column_names".

This module needs aws-cdk-lib; import it only where that is installed.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from factory import safe_io

PACKAGE_DIR = Path(__file__).resolve().parents[1]
VENDORED_PACKAGES = ("jmespath", "chevron")
ROWS_PER_CHILD = 25
DEFAULT_MAX_CONCURRENCY = 10
DEFAULT_TOLERATED_FAILURE_PERCENTAGE = 5
INPUT_PREFIX = "inputs/"
RESULTS_PREFIX = "results/"
LARGE_RESULTS_PREFIX = "batch-results/"
MAP_RESULTS_PREFIX = "map-results/"
LAMBDA_RETRY_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
AGENT_RETRY_ERRORS = [
    "StepFunctions.ExecutionLimitExceededException",
    "StepFunctions.AWSStepFunctionsException",
    "StepFunctions.SdkClientException",
]
TARGET_TYPES = ("agent", "tool")
# The same shapes as factory.runtime.mapping_choice.ARN_PATTERNS, in JSONata's regex syntax.
ARN_REGEX = {
    "agent": "/^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/",
    "tool": "/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$/",
}
# What is wrong with the request's target, phrased to follow "the request needs ", or ""; no target
# at all is our own request shape (an agent named by agent_name or the mapping).
TARGET_PROBLEM = (
    "($t := $states.input.target; $not($exists($t)) ? ''"
    " : $type($t) != 'object' ? 'target as an object {type, name, arn}'"
    " : $count($filter($keys($t), function($k) { $not($k in ['type', 'name', 'arn']) })) > 0"
    " ? 'target with only the keys type, name and arn'"
    " : $not($t.type in ['agent', 'tool']) ? 'target.type agent (a state machine) or tool (a Lambda function)'"
    " : $type($t.name) != 'string' or $not($contains($t.name, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/))"
    " ? 'target.name an agent or function name (letters, digits, -, _ and ., at most 80)'"
    " : $t.type = 'tool' and $not($exists($t.arn)) ? 'target.arn for a tool (a Lambda function ARN)'"
    " : $exists($t.arn) and ($type($t.arn) != 'string' or $not($contains($t.arn, $t.type = 'tool' ? "
    + ARN_REGEX["tool"]
    + " : "
    + ARN_REGEX["agent"]
    + ")))"
    " ? 'target.arn a state machine ARN for an agent, a Lambda function ARN for a tool'"
    " : '')"
)
# The code is written for Python 3.11 and runs unchanged on newer runtimes;
# cfn-lint (E2533) refuses runtimes whose creation AWS has disabled.
LAMBDA_RUNTIME = "PYTHON_3_13"
FUNCTIONS = {
    "BatchValidator": "batch_validator",
    "InputMapper": "input_mapper",
    "OutputMapper": "output_mapping.structured",
    "GenericOutputMapper": "output_mapping.generic",
    "ResultWriter": "result_writer",
    "Aggregator": "aggregator",
}


def build_lambda_asset(out_dir: Path) -> Path:
    """The Lambda code directory: `factory/runtime` plus vendored pure-Python deps.

    The dependencies are copied from the installed packages (what `pip install
    --target` would produce for these pure-Python wheels), so synth needs
    neither Docker nor the network; boto3 comes with the Lambda runtime.
    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    runtime = out_dir / "factory" / "runtime"
    runtime.parent.mkdir(parents=True)
    safe_io.copy_file(PACKAGE_DIR / "__init__.py", out_dir / "factory" / "__init__.py")
    _copy_package(PACKAGE_DIR / "runtime", runtime)  # with its subpackages (output_mapping/)
    for name in VENDORED_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed; pip install {name} before synthesizing")
        origin = Path(spec.origin)
        if spec.submodule_search_locations:
            _copy_package(origin.parent, out_dir / name)
        else:
            safe_io.copy_file(origin, out_dir / origin.name)
    return out_dir


def _copy_package(source: Path, destination: Path) -> None:
    """An installed pure-Python package's files (no bytecode), through the one read and the one write."""
    for path in sorted(source.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        target = destination / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        safe_io.copy_file(path, target)


def _lambda_task(
    scope: Construct, state_id: str, function: lambda_.IFunction, payload: dict[str, Any], **kwargs: Any
) -> tasks.LambdaInvoke:
    task = tasks.LambdaInvoke.jsonata(
        scope,
        state_id,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(payload),
        retry_on_service_exceptions=False,
        **kwargs,
    )
    task.add_retry(
        errors=LAMBDA_RETRY_ERRORS,
        interval=Duration.seconds(2),
        max_attempts=3,
        backoff_rate=2,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


class BatchProcessor(Construct):
    """Results table, bucket, the runtime Lambdas and the batch state machine for one environment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        agent_registry_table: dynamodb.ITable,
        asset_dir: Path | None = None,
        tolerated_failure_percentage: float = DEFAULT_TOLERATED_FAILURE_PERCENTAGE,
        results_ttl_days: int = 7,
        csv_retention_days: int = 30,
        tool_function_arns: Sequence[str] = (),
        agent_state_machine_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        # ResultWriterV2 renders only under this feature flag; scoped to this construct.
        self.node.set_context("@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2", True)
        self.env_name = env_name

        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=Duration.days(1)
                ),
                s3.LifecycleRule(
                    id="ExpireInputs", prefix=INPUT_PREFIX, expiration=Duration.days(csv_retention_days)
                ),
                s3.LifecycleRule(
                    id="ExpireResults", prefix=RESULTS_PREFIX, expiration=Duration.days(csv_retention_days)
                ),
                s3.LifecycleRule(
                    id="ExpireLargeResults",
                    prefix=LARGE_RESULTS_PREFIX,
                    expiration=Duration.days(results_ttl_days + 1),
                ),
                s3.LifecycleRule(
                    id="ExpireMapResults", prefix=MAP_RESULTS_PREFIX, expiration=Duration.days(7)
                ),
            ],
        )

        self.table = dynamodb.Table(
            self,
            "Results",
            table_name=f"batch_processor_results-{env_name}",
            partition_key=dynamodb.Attribute(name="batch_id", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="row_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="ttl",
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.table.add_global_secondary_index(
            index_name="ByTimestamp",
            partition_key=dynamodb.Attribute(name="batch_id", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.STRING),
        )
        self.table.add_global_secondary_index(
            index_name="ByStatus",
            partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.STRING),
        )

        code = lambda_.Code.from_asset(
            str(build_lambda_asset(asset_dir or Path.cwd() / "build" / "lambda-runtime"))
        )
        environment = {
            "RESULTS_TABLE": self.table.table_name,
            "RESULTS_BUCKET": self.bucket.bucket_name,
            "RESULTS_TTL_DAYS": str(results_ttl_days),
            "AGENT_REGISTRY_TABLE": agent_registry_table.table_name,
        }
        self.functions: dict[str, lambda_.Function] = {}
        for name, module in FUNCTIONS.items():
            self.functions[name] = lambda_.Function(
                self,
                name,
                runtime=getattr(lambda_.Runtime, LAMBDA_RUNTIME),
                handler=f"factory.runtime.{module}.handler",
                code=code,
                # The aggregator streams a whole batch (a million rows is minutes of
                # Query pages), so it gets Lambda's maximum time and more CPU.
                timeout=Duration.minutes(15 if name == "Aggregator" else 1),
                memory_size=1024 if name == "Aggregator" else 256,
                environment=environment,
            )
        agent_registry_table.grant_read_data(self.functions["BatchValidator"])
        self.bucket.grant_read(self.functions["BatchValidator"], f"{INPUT_PREFIX}*")
        self.table.grant_write_data(self.functions["ResultWriter"])
        self.bucket.grant_put(self.functions["ResultWriter"], f"{LARGE_RESULTS_PREFIX}*")
        self.table.grant_read_data(self.functions["Aggregator"])
        self.bucket.grant_read(self.functions["Aggregator"], f"{LARGE_RESULTS_PREFIX}*")
        self.bucket.grant_put(self.functions["Aggregator"], f"{RESULTS_PREFIX}*")

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=f"schema-factory-batch-{env_name}",
            state_machine_type=sfn.StateMachineType.STANDARD,
            query_language=sfn.QueryLanguage.JSONATA,
            definition_body=sfn.DefinitionBody.from_chainable(self._definition(tolerated_failure_percentage)),
            timeout=Duration.days(7),
        )
        self._grant_agent_invocation(list(agent_state_machine_arns))
        self._grant_tool_invocation(list(tool_function_arns))

    # --- the definition ---------------------------------------------------------

    def _agent_arn_prefix(self) -> str:
        """JSONata for this environment's agent state machine named by $agent_name."""
        prefix = f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:stateMachine:"
        return "'" + prefix + "' & $agent_name & '-" + self.env_name + "'"

    def _request_variables(self) -> dict[str, str]:
        """Each request value read without failing when absent (null then), from either request shape.

        An Assign that reads a missing key fails the state with
        States.QueryEvaluationError, so every read is guarded by $type and the
        RequestWellFormed choice decides, naming what is missing.
        """
        request = "$states.input"
        uri = f"{request}.csv_s3_uri"
        uri_path = f"$substringAfter({uri}, 's3://')"
        own_bucket = f"$substringBefore({uri_path}, '/') = '{self.bucket.bucket_name}'"
        orchestrator_mapping = (
            f"$merge([{{'structured_output_fields': []}}, "
            f"$type({request}.output_mapping) = 'object' ? {request}.output_mapping : {{}}, "
            f"{{'input_mapping': {request}.input_mapping}}])"
        )
        return {
            "csv_key": f"{{% $type({request}.csv_key) = 'string' ? {request}.csv_key"
            f" : ($type({uri}) = 'string' and $substringBefore({uri}, '://') = 's3' and {own_bucket}"
            f" ? $substringAfter({uri_path}, '/') : null) %}}",
            "mapping": f"{{% $type({request}.mapping) = 'object' ? {request}.mapping"
            f" : ($type({request}.input_mapping) = 'object' ? {orchestrator_mapping} : null) %}}",
            "agent_name": f"{{% $type({request}.agent_name) = 'string' ? {request}.agent_name"
            f" : $type({request}.target.name) = 'string' ? {request}.target.name"
            f" : $type({request}.mapping.agent_name) = 'string' ? {request}.mapping.agent_name : null %}}",
            "target_arn": f"{{% $type({request}.target.arn) = 'string' ? {request}.target.arn : null %}}",
            "target_type": f"{{% $type({request}.target.type) = 'string' ? {request}.target.type : 'agent' %}}",
            "target_problem": "{% " + TARGET_PROBLEM + " %}",
            "output_mappings": f"{{% $type({request}.output_mappings) = 'object'"
            f" ? {request}.output_mappings : null %}}",
            "registered_schema": f"{{% $type({request}.registered_schema) = 'object'"
            f" ? {request}.registered_schema : null %}}",
            "agent_version": f"{{% $type({request}.agent_version) = 'string' ? {request}.agent_version : null %}}",
            "max_concurrency": f"{{% $type({request}.max_concurrency) = 'number' ? {request}.max_concurrency"
            f" : $type({request}.execution_config.max_concurrency) = 'number'"
            f" ? {request}.execution_config.max_concurrency : {DEFAULT_MAX_CONCURRENCY} %}}",
        }

    def _definition(self, tolerated_failure_percentage: float) -> sfn.IChainable:
        target = (
            "$merge([{'type': $target_type, 'name': $agent_name},"
            " $type($target_arn) = 'string' ? {'arn': $target_arn} : {}])"
        )
        read_request = sfn.Pass.jsonata(self, "ReadRequest", assign=self._request_variables())
        request_invalid = sfn.Fail.jsonata(
            self,
            "BatchRequestInvalid",
            error="BatchRequestInvalid",
            cause="{% 'the request needs ' & $join(["
            "$type($csv_key) != 'string' ? 'csv_key (a key in the batch bucket) or csv_s3_uri "
            "(s3://" + self.bucket.bucket_name + "/<key>)', "
            "$type($mapping) != 'object' ? 'mapping (the batch mapping) or input_mapping (an object)', "
            "$type($agent_name) != 'string' ? 'agent_name, mapping.agent_name or target.name', "
            "$type($target_problem) = 'string' and $length($target_problem) > 0 ? $target_problem"
            "], '; ') %}",
        )
        request_ok = sfn.Choice.jsonata(self, "RequestWellFormed")

        validate = _lambda_task(
            self,
            "ValidateInput",
            self.functions["BatchValidator"],
            {
                "agent_name": "{% $agent_name %}",
                "agent_version": "{% $agent_version %}",
                "mapping": "{% $mapping %}",
                "csv": {"bucket": self.bucket.bucket_name, "key": "{% $csv_key %}"},
                "target": "{% " + target + " %}",
                "output_mappings": "{% $output_mappings %}",
                "registered_schema": "{% $registered_schema %}",
            },
            assign={
                "target": "{% " + target + " %}",
                # the request's input mapping in our form for this CSV (the existing system's flat and {} forms)
                "mapping": "{% $states.result.Payload.mapping %}",
                "output_source": "{% $states.result.Payload.output_source %}",
                "output_fields": "{% $states.result.Payload.output_fields %}",
                "batch_id": "{% $replace($exists($mapping.extraction_name) ? $mapping.extraction_name : $agent_name,"
                " '_', '-') & '#' & $states.context.Execution.Name %}",
                "agent_state_machine_arn": "{% $type($target_arn) = 'string' ? $target_arn : "
                + self._agent_arn_prefix()
                + " %}",
                "input_columns": "{% $states.result.Payload.input_columns %}",
                "input_schema": "{% $states.result.Payload.input_schema %}",
                "output_schema": "{% $states.result.Payload.output_schema %}",
            },
            outputs="{% $states.result.Payload %}",
        )
        validate.add_catch(
            self._failure("BatchValidationFailed"), errors=["States.ALL"], outputs="{% $states.errorOutput %}"
        )
        input_invalid = sfn.Fail.jsonata(
            self, "BatchInputInvalid", error="BatchInputInvalid", cause="{% $string($states.input.errors) %}"
        )
        input_valid = sfn.Choice.jsonata(self, "InputValid")

        process_rows = sfn.DistributedMap.jsonata(
            self,
            "ProcessRows",
            item_reader=sfn.S3CsvItemReader(
                bucket=self.bucket, key="{% $csv_key %}", csv_headers=sfn.CsvHeaders.use_first_row()
            ),
            item_selector={
                "row": "{% $states.context.Map.Item.Value %}",
                "row_number": "{% $states.context.Map.Item.Index + 1 %}",
            },
            item_batcher=sfn.ItemBatcher(
                max_items_per_batch=ROWS_PER_CHILD,
                batch_input={
                    "batch_id": "{% $batch_id %}",
                    "mapping": "{% $mapping %}",
                    "input_schema": "{% $input_schema %}",
                    "output_schema": "{% $output_schema %}",
                    "agent_state_machine_arn": "{% $agent_state_machine_arn %}",
                    "target": "{% $target %}",
                    "output_source": "{% $output_source %}",
                    "output_mappings": "{% $output_mappings %}",
                    "registered_schema": "{% $registered_schema %}",
                },
            ),
            jsonata_max_concurrency="{% $max_concurrency %}",
            tolerated_failure_percentage=tolerated_failure_percentage,
            map_execution_type=sfn.StateMachineType.STANDARD,
            result_writer_v2=sfn.ResultWriterV2(bucket=self.bucket, prefix=MAP_RESULTS_PREFIX),
            outputs="{% {'map_run': $states.result} %}",
        )
        process_rows.item_processor(self._child_workflow())  # mode and execution type: from the DistributedMap
        process_rows.add_catch(
            self._failure("RowProcessingFailed"), errors=["States.ALL"], outputs="{% $states.errorOutput %}"
        )

        aggregate = _lambda_task(
            self,
            "Aggregate",
            self.functions["Aggregator"],
            {
                "batch_id": "{% $batch_id %}",
                "output_fields": "{% $output_fields %}",
                "input_columns": "{% $input_columns %}",
            },
            outputs="{% $states.result.Payload %}",
        )
        aggregate.add_catch(
            self._failure("AggregationFailed"), errors=["States.ALL"], outputs="{% $states.errorOutput %}"
        )
        done = sfn.Succeed.jsonata(
            self,
            "Done",
            outputs={
                "batch_id": "{% $batch_id %}",
                "rows": "{% $states.input.rows %}",
                "counts": "{% $states.input.counts %}",
                "csv_uri": "{% $states.input.csv_uri %}",
                "output_csv_uri": "{% $states.input.csv_uri %}",
                "output_location": "{% $states.input.csv_uri %}",
                "total_rows": "{% $states.input.rows %}",
                "successful_rows": "{% $sum([$states.input.counts.SUCCESS, $states.input.counts.PARTIAL, 0]) %}",
                "failed_rows": "{% $sum([$states.input.counts.FAILED, 0]) %}",
                "column_names": "{% $states.input.columns %}",
            },
        )

        return read_request.next(
            request_ok.when(
                sfn.Condition.jsonata(
                    "{% $type($csv_key) = 'string' and $type($mapping) = 'object' and $type($agent_name) = 'string'"
                    " and $not($type($target_problem) = 'string' and $length($target_problem) > 0) %}"
                ),
                validate.next(
                    input_valid.when(
                        sfn.Condition.jsonata("{% $states.input.valid = true %}"),
                        process_rows.next(aggregate).next(done),
                    ).otherwise(input_invalid)
                ),
            ).otherwise(request_invalid)
        )

    def _child_workflow(self) -> sfn.IChainable:
        """One STANDARD child: up to 25 rows through the agent, then one write."""
        rows = sfn.Map.jsonata(
            self,
            "RowsInBatch",
            items=sfn.ProvideItems.jsonata("{% $states.input.Items %}"),
            max_concurrency=ROWS_PER_CHILD,
            item_selector={
                "row": "{% $states.context.Map.Item.Value.row %}",
                "row_number": "{% $states.context.Map.Item.Value.row_number %}",
                "batch": "{% $states.input.BatchInput %}",
            },
            assign={"batch_id": "{% $states.input.BatchInput.batch_id %}"},
        )
        rows.item_processor(self._row_workflow())
        write = _lambda_task(
            self,
            "WriteResults",
            self.functions["ResultWriter"],
            {"batch_id": "{% $batch_id %}", "results": "{% $states.input %}"},
            outputs={"written": "{% $states.result.Payload.written %}"},
        )
        write.add_retry(
            errors=["UnprocessedItemsError"],
            interval=Duration.seconds(5),
            max_attempts=2,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        return rows.next(write)

    def _row_workflow(self) -> sfn.IChainable:
        start = sfn.Pass.jsonata(
            self,
            "StartRow",
            assign={
                "row_number": "{% $states.input.row_number %}",
                "input_data": "{% $states.input.row %}",
                "batch": "{% $states.input.batch %}",
                "started": "{% $millis() %}",
            },
        )
        failed = sfn.Pass.jsonata(
            self,
            "RowFailed",
            outputs={
                "row_number": "{% $row_number %}",
                "input_data": "{% $input_data %}",
                "error": "{% $states.input %}",
                "execution_time_ms": "{% $millis() - $started %}",
            },
        )
        transform = _lambda_task(
            self,
            "TransformInput",
            self.functions["InputMapper"],
            {
                "row": "{% $input_data %}",
                "row_number": "{% $row_number %}",
                "mapping": "{% $batch.mapping %}",
                "input_schema": "{% $batch.input_schema %}",
            },
            outputs="{% $states.result.Payload %}",
        )
        invoke = sfn.CustomState(
            self,
            "InvokeAgent",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{Aws.PARTITION}:states:::states:startExecution.sync:2",
                "Arguments": {
                    "StateMachineArn": "{% $batch.agent_state_machine_arn %}",
                    # every agent, ours or not, as the existing batch processor calls agents
                    "Input": "{% {'messages': [{'role': 'user', 'content': $states.input.prompt}],"
                    " 'input': $states.input.data} %}",
                },
                "Output": "{% $states.result %}",
            },
        )
        invoke.add_retry(
            errors=AGENT_RETRY_ERRORS,
            interval=Duration.seconds(5),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        invoke_tool = sfn.CustomState(
            self,
            "InvokeTool",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{Aws.PARTITION}:states:::lambda:invoke",
                "Arguments": {
                    "FunctionName": "{% $batch.target.arn %}",
                    "Payload": "{% $states.input.data %}",
                },
                "Output": "{% $states.result.Payload %}",
            },
        )
        invoke_tool.add_retry(
            errors=LAMBDA_RETRY_ERRORS,
            interval=Duration.seconds(2),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        row_outputs = {
            "row_number": "{% $row_number %}",
            "input_data": "{% $input_data %}",
            "output": "{% $states.result.Payload %}",
            "execution_time_ms": "{% $millis() - $started %}",
        }
        extract = _lambda_task(
            self,
            "ExtractOutput",
            self.functions["OutputMapper"],
            {
                "agent_response": "{% $states.input %}",
                "mapping": "{% $batch.mapping %}",
                "output_schema": "{% $batch.output_schema %}",
            },
            outputs=row_outputs,
        )
        extract_generic = _lambda_task(
            self,
            "ExtractGenericOutput",
            self.functions["GenericOutputMapper"],
            {
                "agent_response": "{% $states.input %}",
                "mapping": "{% $batch.mapping %}",
                "output_mappings": "{% $batch.output_mappings %}",
                "target": "{% $batch.target %}",
                "registered_schema": "{% $batch.registered_schema %}",
                # the agent record's output schema when there is one; else the registered schema's own
                "output_schema": "{% $count($keys($batch.output_schema)) > 0 ? $batch.output_schema : null %}",
            },
            outputs=row_outputs,
        )
        for task in (transform, invoke, invoke_tool, extract, extract_generic):
            task.add_catch(failed, errors=["States.ALL"], outputs="{% $states.errorOutput %}")
        output_kind = sfn.Choice.jsonata(self, "OutputMappedBy")
        output_kind.when(
            sfn.Condition.jsonata("{% $batch.output_source = 'structured_output' %}"), extract
        ).otherwise(extract_generic)
        invoke.next(output_kind)
        invoke_tool.next(output_kind)
        target_kind = sfn.Choice.jsonata(self, "TargetKind")
        target_kind.when(sfn.Condition.jsonata("{% $batch.target.type = 'tool' %}"), invoke_tool).otherwise(
            invoke
        )
        return start.next(transform).next(target_kind)

    def _failure(self, name: str) -> sfn.Fail:
        return sfn.Fail.jsonata(
            self,
            name,
            error=name,
            cause="{% $exists($states.input.Cause) ? $states.input.Cause : $string($states.input) %}",
        )

    def _grant_agent_invocation(self, agent_arns: list[str]) -> None:
        """`.sync:2` on this environment's agent state machines and the listed ones, and nothing else."""
        region_account = f"{Aws.REGION}:{Aws.ACCOUNT_ID}"
        machines = [f"arn:{Aws.PARTITION}:states:{region_account}:stateMachine:*-{self.env_name}"]
        executions = [f"arn:{Aws.PARTITION}:states:{region_account}:execution:*-{self.env_name}:*"]
        for arn in agent_arns:
            _check_arn(arn, "agent", "agent_state_machine_arns")
            machines.append(arn)
            executions.append(arn.replace(":stateMachine:", ":execution:", 1) + ":*")
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=machines)
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"], resources=executions
            )
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    f"arn:{Aws.PARTITION}:events:{region_account}:rule/"
                    "StepFunctionsGetEventsForStepFunctionsExecutionRule"
                ],
            )
        )

    def _grant_tool_invocation(self, tool_arns: list[str]) -> None:
        """lambda:InvokeFunction on the listed tool functions (and their versions and aliases) only.

        A tool's ARN arrives with each request, so it cannot be known at synth
        time: the construct grants exactly what its `tool_function_arns` list;
        a tool not listed fails each row with the Lambda's AccessDenied error.
        """
        resources = []
        for arn in tool_arns:
            _check_arn(arn, "tool", "tool_function_arns")
            resources += [arn] if arn.count(":") > 6 else [arn, arn + ":*"]
        if resources:
            self.state_machine.add_to_role_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=resources)
            )


def _check_arn(arn: str, kind: str, prop: str) -> None:
    """A literal ARN of the right kind: a grant is only as narrow as the text it names."""
    from factory.runtime.mapping_choice import ARN_EXAMPLES, ARN_PATTERNS

    if not isinstance(arn, str) or not ARN_PATTERNS[kind].match(arn):
        raise ValueError(f"{prop}: {arn!r} is not a literal {kind} ARN (e.g. {ARN_EXAMPLES[kind]})")
