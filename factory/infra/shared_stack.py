"""The shared stack of one environment: everything agent stacks import, and the batch processor.

Agent stacks are generated and stand alone, apart from the values this stack
exports under the names in `factory/exports.py`: the registry tables, the
template-renderer and output-validator functions, the browser activity, and
the batch processor's state machine and bucket. Deploy it before any agent
stack of the same environment (generated/app.py declares the dependency).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from factory import exports
from factory.infra.batch_processor import LAMBDA_RUNTIME, BatchProcessor
from factory.infra.registry_tables import RegistryTables

# Default heartbeat-free activity: the agent state machine sets the task timeout.
ACTIVITY_NAME = "schema-factory-browser-{env_name}"


class SharedStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, env_name: str, asset_dir: Path | None = None,
                 **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("schema-factory:environment", env_name)
        self.registry = RegistryTables(self, "Registry", env_name=env_name)
        asset_dir = asset_dir or Path.cwd() / "cdk.out" / ".lambda-runtime"
        self.batch = BatchProcessor(self, "Batch", env_name=env_name,
                                    agent_registry_table=self.registry.agent_table, asset_dir=asset_dir)
        code = lambda_.Code.from_asset(str(asset_dir))  # built by BatchProcessor: the same runtime package
        self.renderer = lambda_.Function(
            self, "TemplateRenderer", runtime=getattr(lambda_.Runtime, LAMBDA_RUNTIME),
            handler="factory.runtime.template_renderer.handler", code=code,
            timeout=Duration.seconds(30), memory_size=256,
        )
        self.validator = lambda_.Function(
            self, "OutputValidator", runtime=getattr(lambda_.Runtime, LAMBDA_RUNTIME),
            handler="factory.runtime.output_validator.handler", code=code,
            timeout=Duration.seconds(30), memory_size=256,
        )
        self.browser_activity = sfn.Activity(self, "BrowserActivity",
                                             activity_name=ACTIVITY_NAME.format(env_name=env_name))
        for value, arn in (
            (exports.TEMPLATE_RENDERER_FUNCTION_ARN, self.renderer.function_arn),
            (exports.OUTPUT_VALIDATOR_FUNCTION_ARN, self.validator.function_arn),
            (exports.BROWSER_ACTIVITY_ARN, self.browser_activity.activity_arn),
            (exports.BATCH_PROCESSOR_STATE_MACHINE_ARN, self.batch.state_machine.state_machine_arn),
            (exports.BATCH_BUCKET_NAME, self.batch.bucket.bucket_name),
        ):
            CfnOutput(self, value, value=arn, export_name=exports.export_name(env_name, value))
