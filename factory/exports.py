"""CloudFormation export names shared by the shared stack and every agent stack.

Generated agent stacks read shared values with `Fn.import_value(<name>)`; the
shared infrastructure exports them under exactly these names. Both sides take
the names from here, so they cannot drift apart.
"""

from __future__ import annotations

EXPORT_PREFIX = "SchemaFactory"

TEMPLATE_REGISTRY_TABLE_ARN = "TemplateRegistryTableArn"
AGENT_REGISTRY_TABLE_ARN = "AgentRegistryTableArn"
TEMPLATE_RENDERER_FUNCTION_ARN = "TemplateRendererFunctionArn"
OUTPUT_VALIDATOR_FUNCTION_ARN = "OutputValidatorFunctionArn"
BROWSER_ACTIVITY_ARN = "BrowserActivityArn"

SHARED_EXPORTS = (
    TEMPLATE_REGISTRY_TABLE_ARN,
    AGENT_REGISTRY_TABLE_ARN,
    TEMPLATE_RENDERER_FUNCTION_ARN,
    OUTPUT_VALIDATOR_FUNCTION_ARN,
    BROWSER_ACTIVITY_ARN,
)


def export_name(env_name: str, value: str) -> str:
    """`SchemaFactory-<env>-<value>`: one namespace per environment."""
    return f"{EXPORT_PREFIX}-{env_name}-{value}"


def export_name_template(value: str) -> str:
    """The export name with the environment left as a `{env_name}` format field.

    Generated stacks are standalone Python (they do not import this package),
    so they receive the name pattern as a literal and format it at synth time.
    """
    return export_name("{env_name}", value)

# Exported by the shared stack's batch processor, read by `batch run --engine stepfunctions`.
BATCH_PROCESSOR_STATE_MACHINE_ARN = "BatchProcessorStateMachineArn"
BATCH_BUCKET_NAME = "BatchBucketName"
