"""The batch processor: a CSV in S3 through an agent, row by row, into a CSV in S3.

    ReadRequest ─▶ RequestWellFormed? ─▶ ValidateInput ─▶ InputValid? ─▶ ProcessRows ─▶ Aggregate ─▶ Done
                        └▶ BatchRequestInvalid      └▶ BatchInputInvalid     (DISTRIBUTED Map)

ProcessRows reads the CSV straight from S3 (header row), and hands 25 rows at
a time (ItemBatcher, at most 64 KiB) to a STANDARD child workflow: `.sync:2`
waits on the agent's own STANDARD state machine, which EXPRESS children cannot
do. A child maps its rows in one Lambda call (MapInputs), picks its target
kind's inline Map once (TargetKind), calls the target once per row in ONE Task
(CallAgent: `states:startExecution.sync:2`, keeping the execution's ARN;
CallTool: `lambda:invoke`, keeping the answer up to ROW_KEEP_CAP characters),
whose Catch keeps a failed row's error, and then maps and stores all its rows
in one more Lambda call (WriteResults: DescribeExecution for the agents'
answers, one compiled output plan, one BatchWriteItem). No answer piles up in
a state, and only a failure to store counts against ToleratedFailurePercentage
(docs/DESIGN.md, "Why the child workflow is shaped this way").

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

A request missing what it needs ends in BatchRequestInvalid, naming the key;
a malformed target too (TargetInvalid), as the validator finds it by the rule of
factory.runtime.target_kinds.

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
from factory.runtime.target_kinds import DEFAULT_KIND, KEPT_EXECUTION, KEPT_INLINE, KINDS, TargetKind

PACKAGE_DIR = Path(__file__).resolve().parents[1]
VENDORED_PACKAGES = ("jmespath", "chevron")
ROWS_PER_CHILD = 25
# ItemBatcher's bound on a child's rows in bytes: their requests (about twice the cells, the prompt
# repeating the data) then stay well within the 256 KiB of the child's MapInputs result.
MAX_INPUT_BYTES_PER_CHILD = 64 * 1024
# What one row may keep in its child's gathered Map result (a tool's answer, an error's cause), in
# characters: ROWS_PER_CHILD of them stay under the 256 KiB state limit with room to spare.
ROW_KEEP_CAP = 8_000
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
# What each row's Task keeps in its child's Map result, by what its kind keeps (target_kinds.RowTask.kept):
# an agent row its execution's ARN (the child's writer reads the answer back), a tool row its answer
# when that fits ROW_KEEP_CAP, else a failure naming both sizes; `ms` is the row's time in the child.
_ROW = "'n': $states.input.n, 'ms': $millis() - $started"
KEPT = {
    KEPT_EXECUTION: "{" + _ROW + ", 'arn': $states.result.ExecutionArn}",
    KEPT_INLINE: "($answer := $states.result.Payload; $size := $length($string($answer));"
    " $size <= " + str(ROW_KEEP_CAP) + " ? {" + _ROW + ", 'output': $answer} : {" + _ROW + ", 'error': "
    "{'Error': 'RowOutputTooLarge', 'Cause': 'the answer is ' & $string($size) & ' characters; a row keeps at"
    " most " + f"{ROW_KEEP_CAP:,}" + " (" + f"{ROWS_PER_CHILD}" + " rows a child within the 256 KiB state"
    " limit): return less, or write large results elsewhere and answer with where'}})",
}
# A caught error, its Cause cut to ROW_KEEP_CAP characters (25 of them stay within the state limit).
CAUGHT = (
    "($e := $states.errorOutput; {"
    + _ROW
    + ", 'error': {'Error': $e.Error, 'Cause': $length($e.Cause) <= "
    + str(ROW_KEEP_CAP)
    + " ? $e.Cause : $substring($e.Cause, 0, "
    + str(ROW_KEEP_CAP)
    + ") & ' ...'}})"
)
# The code is written for Python 3.11 and runs unchanged on newer runtimes;
# cfn-lint (E2533) refuses runtimes whose creation AWS has disabled.
LAMBDA_RUNTIME = "PYTHON_3_13"
FUNCTIONS = {
    "BatchValidator": "batch_validator",
    "ChildInputs": "child_inputs",
    "ChildResults": "child_results",
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


class _RowTask(sfn.CustomState):
    """A Task given as ASL whose Catch keeps `catch_output`: CustomState drops a catch's `outputs`."""

    def __init__(
        self, scope: Construct, state_id: str, *, state_json: dict[str, Any], catch_output: str
    ) -> None:
        super().__init__(scope, state_id, state_json=state_json)
        self.catch_output = catch_output

    def to_state_json(self, query_language: Any = None) -> Any:
        rendered = dict(super().to_state_json(query_language))
        rendered["Catch"] = [{**catch, "Output": self.catch_output} for catch in rendered.get("Catch", [])]
        return rendered


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

        self.bucket = self._bucket(results_ttl_days, csv_retention_days)
        self.table = self._results_table()

        self.functions = self._functions(asset_dir, results_ttl_days, agent_registry_table)
        agent_registry_table.grant_read_data(self.functions["BatchValidator"])
        self.bucket.grant_read(self.functions["BatchValidator"], f"{INPUT_PREFIX}*")
        self.table.grant_write_data(self.functions["ChildResults"])
        self.bucket.grant_put(self.functions["ChildResults"], f"{LARGE_RESULTS_PREFIX}*")
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

    def _bucket(self, results_ttl_days: int, csv_retention_days: int) -> s3.Bucket:
        """Private, encrypted, TLS only; inputs, results and map results expire."""
        bucket = s3.Bucket(
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
        return bucket

    def _results_table(self) -> dynamodb.Table:
        """batch_processor_results-<env>: one item per row, keyed (batch_id, row_id), with a TTL."""
        table = dynamodb.Table(
            self,
            "Results",
            table_name=f"batch_processor_results-{self.env_name}",
            partition_key=dynamodb.Attribute(name="batch_id", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="row_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="ttl",
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.RETAIN,
        )
        table.add_global_secondary_index(
            index_name="ByTimestamp",
            partition_key=dynamodb.Attribute(name="batch_id", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.STRING),
        )
        table.add_global_secondary_index(
            index_name="ByStatus",
            partition_key=dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="timestamp", type=dynamodb.AttributeType.STRING),
        )
        return table

    def _functions(
        self, asset_dir: Path | None, results_ttl_days: int, agent_registry_table: dynamodb.ITable
    ) -> dict[str, lambda_.Function]:
        """The runtime Lambdas, one per FUNCTIONS entry, over one asset."""
        code = lambda_.Code.from_asset(
            str(build_lambda_asset(asset_dir or Path.cwd() / "build" / "lambda-runtime"))
        )
        environment = {
            "RESULTS_TABLE": self.table.table_name,
            "RESULTS_BUCKET": self.bucket.bucket_name,
            "RESULTS_TTL_DAYS": str(results_ttl_days),
            "AGENT_REGISTRY_TABLE": agent_registry_table.table_name,
        }
        functions: dict[str, lambda_.Function] = {}
        for name, module in FUNCTIONS.items():
            functions[name] = lambda_.Function(
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
        return functions

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
            "target": f"{{% $exists({request}.target) ? {request}.target : null %}}",
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
        read_request = sfn.Pass.jsonata(self, "ReadRequest", assign=self._request_variables())
        request_invalid = sfn.Fail.jsonata(
            self,
            "BatchRequestInvalid",
            error="BatchRequestInvalid",
            cause="{% 'the request needs ' & $join(["
            "$type($csv_key) != 'string' ? 'csv_key (a key in the batch bucket) or csv_s3_uri "
            "(s3://" + self.bucket.bucket_name + "/<key>)', "
            "$type($mapping) != 'object' ? 'mapping (the batch mapping) or input_mapping (an object)', "
            "$type($agent_name) != 'string' ? 'agent_name, mapping.agent_name or target.name'"
            "], '; ') %}",
        )
        # the validator checks the request's target by the one rule (factory.runtime.target_kinds)
        target_invalid = sfn.Fail.jsonata(
            self,
            "TargetInvalid",
            error="BatchRequestInvalid",
            cause="{% 'the request needs a target it can call: ' & $states.input.target_problem %}",
        )
        input_invalid = sfn.Fail.jsonata(
            self, "BatchInputInvalid", error="BatchInputInvalid", cause="{% $string($states.input.errors) %}"
        )
        request_ok = sfn.Choice.jsonata(self, "RequestWellFormed")
        input_valid = sfn.Choice.jsonata(self, "InputValid")
        process_rows = self._process_rows(tolerated_failure_percentage)
        rows_then_done = process_rows.next(self._aggregate()).next(self._done())
        return read_request.next(
            request_ok.when(
                sfn.Condition.jsonata(
                    "{% $type($csv_key) = 'string' and $type($mapping) = 'object'"
                    " and $type($agent_name) = 'string' %}"
                ),
                self._validate().next(
                    input_valid.when(
                        sfn.Condition.jsonata("{% $exists($states.input.target_problem) %}"), target_invalid
                    )
                    .when(sfn.Condition.jsonata("{% $states.input.valid = true %}"), rows_then_done)
                    .otherwise(input_invalid)
                ),
            ).otherwise(request_invalid)
        )

    def _validate(self) -> sfn.TaskStateBase:
        """ValidateInput: the batch checked once, before any row; its answers kept as variables."""
        result = "$states.result.Payload"
        target = f"$exists({result}.target) ? {result}.target : null"
        validate = _lambda_task(
            self,
            "ValidateInput",
            self.functions["BatchValidator"],
            {
                "agent_name": "{% $agent_name %}",
                "agent_version": "{% $agent_version %}",
                "mapping": "{% $mapping %}",
                "csv": {"bucket": self.bucket.bucket_name, "key": "{% $csv_key %}"},
                "target": "{% $target %}",
                "output_mappings": "{% $output_mappings %}",
                "registered_schema": "{% $registered_schema %}",
            },
            assign={
                "target": "{% " + target + " %}",
                # the request's input mapping in our form for this CSV (the existing system's flat and {} forms)
                "mapping": f"{{% {result}.mapping %}}",
                "output_source": f"{{% {result}.output_source %}}",
                "output_fields": f"{{% {result}.output_fields %}}",
                "batch_id": "{% $replace($exists($mapping.extraction_name) ? $mapping.extraction_name : $agent_name,"
                " '_', '-') & '#' & $states.context.Execution.Name %}",
                # a target's own ARN, else (one of our agents) this environment's `<agent_name>-<env>`
                "target_arn": f"{{% $type({result}.target.arn) = 'string' ? {result}.target.arn : "
                + self._agent_arn_prefix()
                + " %}",
                "input_columns": f"{{% {result}.input_columns %}}",
                "input_schema": f"{{% {result}.input_schema %}}",
                "output_schema": f"{{% {result}.output_schema %}}",
            },
            outputs=f"{{% {result} %}}",
        )
        validate.add_catch(
            self._failure("BatchValidationFailed"), errors=["States.ALL"], outputs="{% $states.errorOutput %}"
        )
        return validate

    def _process_rows(self, tolerated_failure_percentage: float) -> sfn.DistributedMap:
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
                max_input_bytes_per_batch=MAX_INPUT_BYTES_PER_CHILD,
                batch_input={
                    name: "{% $" + name + " %}"
                    for name in (
                        "batch_id",
                        "mapping",
                        "input_schema",
                        "output_schema",
                        "target",
                        "target_arn",
                        "output_source",
                        "output_mappings",
                        "registered_schema",
                    )
                },
            ),
            jsonata_max_concurrency="{% $max_concurrency %}",
            tolerated_failure_percentage=tolerated_failure_percentage,
            map_execution_type=sfn.StateMachineType.STANDARD,
            result_writer_v2=sfn.ResultWriterV2(bucket=self.bucket, prefix=MAP_RESULTS_PREFIX),
            outputs="{% {'map_run': $states.result} %}",
        )
        process_rows.item_processor(
            self._child_workflow()
        )  # mode and execution type: from the DistributedMap
        process_rows.add_catch(
            self._failure("RowProcessingFailed"), errors=["States.ALL"], outputs="{% $states.errorOutput %}"
        )
        return process_rows

    def _aggregate(self) -> sfn.TaskStateBase:
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
        return aggregate

    def _done(self) -> sfn.Succeed:
        return sfn.Succeed.jsonata(
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

    def _child_workflow(self) -> sfn.IChainable:
        """One STANDARD child: its rows mapped in one call, each row's target call, then one write.

        MapInputs ─▶ TargetKind? ─▶ <Kind>Rows (inline Map: Call<Kind>, one Task per row) ─▶ WriteResults
        """
        map_inputs = _lambda_task(
            self,
            "MapInputs",
            self.functions["ChildInputs"],
            {"Items": "{% $states.input.Items %}", "BatchInput": "{% $states.input.BatchInput %}"},
            assign={
                "batch": "{% $states.input.BatchInput %}",
                "rows": "{% $states.input.Items %}",
                "failed": "{% $states.result.Payload.failed %}",
                "started": "{% $millis() %}",
            },
            outputs="{% $states.result.Payload.calls %}",
        )
        write = _lambda_task(
            self,
            "WriteResults",
            self.functions["ChildResults"],
            {
                "batch_id": "{% $batch.batch_id %}",
                "batch": "{% $batch %}",
                "rows": "{% $rows %}",
                "failed": "{% $failed %}",
                "results": "{% $states.input %}",
            },
            outputs={"written": "{% $states.result.Payload.written %}"},
        )
        write.add_retry(
            errors=["UnprocessedItemsError"],
            interval=Duration.seconds(5),
            max_attempts=2,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        target_kind = sfn.Choice.jsonata(self, "TargetKind")
        for kind in KINDS.values():
            rows = self._rows_of(kind).next(write)
            if kind.name == DEFAULT_KIND:
                target_kind.otherwise(rows)
            else:
                target_kind.when(sfn.Condition.jsonata(f"{{% $batch.target.type = '{kind.name}' %}}"), rows)
        return map_inputs.next(target_kind)

    def _rows_of(self, kind: TargetKind) -> sfn.Map:
        """The inline Map over a child's mapped rows: ONE Task per row, calling a target of this kind."""
        title = kind.name.capitalize()
        rows = sfn.Map.jsonata(
            self,
            f"{title}Rows",
            items=sfn.ProvideItems.jsonata("{% $states.input %}"),
            max_concurrency=ROWS_PER_CHILD,
        )
        task = kind.task
        call = _RowTask(
            self,
            f"Call{title}",
            catch_output="{% " + CAUGHT + " %}",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{Aws.PARTITION}:states:::{task.resource}",
                "Arguments": {
                    task.target_argument: "{% $batch.target_arn %}",
                    task.payload_argument: "{% $states.input.payload %}",
                },
                "Output": "{% " + KEPT[task.kept] + " %}",
            },
        )
        call.add_retry(
            errors=list(task.retry_errors),
            interval=Duration.seconds(2 if task.kept == KEPT_INLINE else 5),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        call.add_catch(sfn.Pass.jsonata(self, f"{title}RowFailed"), errors=["States.ALL"])
        rows.item_processor(call)
        return rows

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
        # each child's writer reads its agent rows' answers back (child_results)
        self.functions["ChildResults"].add_to_role_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution"], resources=executions)
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
    if not KINDS[kind].arn_ok(arn):
        raise ValueError(f"{prop}: {arn!r} is not a literal {kind} ARN (e.g. {KINDS[kind].arn_example})")
