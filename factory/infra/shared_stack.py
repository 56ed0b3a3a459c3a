"""The shared stack of one environment: everything agent stacks import, and the batch processor.

Agent stacks are generated and stand alone, apart from the values this stack
exports under the names in `factory/exports.py`: the registry tables, the
template-renderer and output-validator functions, the browser activity, and
the batch processor's state machine and bucket. Deploy it before any agent
stack of the same environment (generated/app.py declares the dependency).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from factory import exports, names
from factory.infra.batch_processor import LAMBDA_RUNTIME, BatchProcessor, _check_arn
from factory.infra.registry_tables import RegistryTables

# Default heartbeat-free activity: the agent state machine sets the task timeout.
ACTIVITY_NAME = "schema-factory-browser-{env_name}"
DEFAULT_ENV = "dev"
ENV_VARIABLE = "SCHEMA_FACTORY_ENV"
ENV_RULE = "lower-case letters, digits and '-', starting with a letter, at most 16 characters"
# CDK context key -> the kind of ARN it lists (factory.runtime.target_kinds.KINDS).
BATCH_TARGET_KEYS = {"batch_agent_arns": "agent", "batch_tool_arns": "tool"}


class DeployContextError(ValueError):
    """A context value or environment variable the app cannot use; its text is one line for people."""


@dataclass(frozen=True)
class DeploySettings:
    env_name: str
    batch_agent_arns: tuple[str, ...] = ()
    batch_tool_arns: tuple[str, ...] = ()
    env_source: str = "-c env"  # where env_name came from, for the line app.py prints

    def env_line(self) -> str:
        """What app.py says on every run, so a deploy never lands in an environment nobody chose."""
        how = (
            "" if self.env_source != "the default" else "; choose one with -c env=NAME or SCHEMA_FACTORY_ENV"
        )
        return f"app.py: environment {self.env_name} (from {self.env_source}{how})"


def deploy_settings(context: Callable[[str], Any], environ: Mapping[str, str]) -> DeploySettings:
    """The app's settings from `-c key=value` (`context`: `app.node.try_get_context`) and the environment.

    `-c env=NAME`, else `SCHEMA_FACTORY_ENV`, else dev: the name ends up in stack,
    table, export and state machine names, so it is checked here, before any
    construct fails deep inside jsii. `-c batch_agent_arns=ARN,ARN` and
    `-c batch_tool_arns=ARN` (or a JSON list) are the only targets outside this
    environment the batch processor's role may call (least privilege).
    """
    env_name, env_source = _env_name(context("env"), environ.get(ENV_VARIABLE))
    return DeploySettings(
        env_name=env_name,
        env_source=env_source,
        batch_agent_arns=_arn_list(context("batch_agent_arns"), "batch_agent_arns"),
        batch_tool_arns=_arn_list(context("batch_tool_arns"), "batch_tool_arns"),
    )


def _env_name(from_context: Any, from_environ: str | None) -> tuple[str, str]:
    """(the environment name, where it came from)."""
    if from_context is not None and from_context != "":
        source, value, example = "-c env", from_context, "-c env=dev"
    elif from_environ is not None:
        source, value, example = ENV_VARIABLE, from_environ, f"{ENV_VARIABLE}=dev"
    else:
        return DEFAULT_ENV, "the default"
    if not isinstance(value, str) or not names.ENV_NAME_RE.match(value):
        raise DeployContextError(
            f"{source}: {value!r} is not an environment name: {ENV_RULE} (e.g. {example})"
        )
    return value, source


def _arn_list(value: Any, key: str) -> tuple[str, ...]:
    """`ARN,ARN` or a JSON list of ARNs (the CLI passes `-c` values as text; cdk.context.json may hold a list)."""
    option, kind = f"-c {key}", BATCH_TARGET_KEYS[key]
    if value is None:
        return ()
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise DeployContextError(
                f'{option}: not a JSON list ({error.args[0]}): give ARN,ARN or ["ARN", "ARN"]'
            ) from None
    if isinstance(value, str):
        arns = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        arns = [item.strip() for item in value]
    else:
        raise DeployContextError(
            f"{option}: expected {kind} ARNs as ARN,ARN or a JSON list of strings, not {type(value).__name__}"
        )
    for arn in arns:
        try:
            _check_arn(arn, kind, option)
        except ValueError as error:
            raise DeployContextError(str(error)) from None
    return tuple(dict.fromkeys(arns))  # in the order given, each once


class SharedStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        asset_dir: Path | None = None,
        batch_agent_arns: Sequence[str] = (),
        batch_tool_arns: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("schema-factory:environment", env_name)
        self.registry = RegistryTables(self, "Registry", env_name=env_name)
        asset_dir = asset_dir or Path.cwd() / "cdk.out" / ".lambda-runtime"
        self.batch = BatchProcessor(
            self,
            "Batch",
            env_name=env_name,
            agent_registry_table=self.registry.agent_table,
            asset_dir=asset_dir,
            agent_state_machine_arns=batch_agent_arns,
            tool_function_arns=batch_tool_arns,
        )
        code = lambda_.Code.from_asset(str(asset_dir))  # built by BatchProcessor: the same runtime package
        self.renderer = lambda_.Function(
            self,
            "TemplateRenderer",
            runtime=getattr(lambda_.Runtime, LAMBDA_RUNTIME),
            handler="factory.runtime.template_renderer.handler",
            code=code,
            timeout=Duration.seconds(30),
            memory_size=256,
        )
        self.validator = lambda_.Function(
            self,
            "OutputValidator",
            runtime=getattr(lambda_.Runtime, LAMBDA_RUNTIME),
            handler="factory.runtime.output_validator.handler",
            code=code,
            timeout=Duration.seconds(30),
            memory_size=256,
        )
        self.browser_activity = sfn.Activity(
            self, "BrowserActivity", activity_name=ACTIVITY_NAME.format(env_name=env_name)
        )
        for value, arn in (
            (exports.TEMPLATE_RENDERER_FUNCTION_ARN, self.renderer.function_arn),
            (exports.OUTPUT_VALIDATOR_FUNCTION_ARN, self.validator.function_arn),
            (exports.BROWSER_ACTIVITY_ARN, self.browser_activity.activity_arn),
            (exports.BATCH_PROCESSOR_STATE_MACHINE_ARN, self.batch.state_machine.state_machine_arn),
            (exports.BATCH_BUCKET_NAME, self.batch.bucket.bucket_name),
        ):
            CfnOutput(self, value, value=arn, export_name=exports.export_name(env_name, value))
