"""Every name derived from a schema, decided once, here.

Emitters, the registry and the consistency check all ask this module, so the
stack module a CDK app imports and the file the writer creates can never
disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from factory.schema.model import CanonicalSchema

    # What the path functions accept: the model, or the light view of a raw document.
    Named = Union[CanonicalSchema, "SchemaView"]

# Output metadata columns the batch aggregator appends to every result row.
METADATA_COLUMNS = ("_status", "_error", "_execution_time_ms", "_timestamp")
# The input tool carries the browser parameters under this property.
RESERVED_INPUT_FIELDS = ("browser_config",)
# `print_<name>_output` must fit the 64-character tool name limit of
# Anthropic's and Bedrock's tool APIs.
EXTRACTION_NAME_MAX = 64 - len("print__output")
# Schema versions: MAJOR.MINOR.PATCH, no leading zeros.
SEMVER_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")
# Environment names end up in table, export and state machine names; the
# state machine `{agent_name}-{env}` must fit Step Functions' 80 characters
# with a 63-character agent name, hence at most 16.
ENV_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,15}\Z")


def tool_name(schema: Named) -> str:
    """The input tool's name: the extraction name in kebab case."""
    return schema.extraction_name.replace("_", "-")


def print_output_tool_name(schema: CanonicalSchema) -> str:
    return f"print_{schema.extraction_name}_output"


def agent_name(schema: Named) -> str:
    """AgentRegistry key; its state machine is `{agent_name}-{env}`."""
    return schema.agent.name or f"{tool_name(schema)}-agent"


def template_id(schema: CanonicalSchema) -> str:
    """TemplateRegistry key: one template per extraction, versioned by the schema."""
    return schema.extraction_name


def pascal_case(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_") if part)


def stack_module(schema: Named) -> str:
    return f"{schema.extraction_name}_stack"


def stack_class(schema: CanonicalSchema) -> str:
    return f"{pascal_case(schema.extraction_name)}AgentStack"


def stack_construct_id(schema: CanonicalSchema) -> str:
    """CDK construct id (also the CloudFormation stack name prefix) in the app."""
    return f"{tool_name(schema)}-agent"


def state_machine_name(agent: str, env_name: str) -> str:
    return f"{agent}-{env_name}"


def stack_path(schema: Named) -> str:
    return f"stacks/agents/{stack_module(schema)}.py"


def template_path(schema: Named) -> str:
    return f"templates/{schema.extraction_name}_v{schema.version}.json"


def tool_specs_path(schema: Named) -> str:
    return f"tool_specs/{schema.extraction_name}.json"


def batch_mapping_path(schema: Named) -> str:
    return f"batch_mappings/{schema.extraction_name}.yaml"


def agent_record_path(schema: Named) -> str:
    return f"registry/agents/{agent_name(schema)}.json"


def output_schema_path(schema: Named) -> str:
    return agent_output_schema_path(agent_name(schema))


def agent_output_schema_path(agent: str) -> str:
    """Where the output-schema file of the agent named `agent` is generated."""
    return f"output_schemas/{agent}.yaml"


# A leading underscore: no extraction name can take this path.
ORCHESTRATOR_TOOL_SPECS_PATH = "tool_specs/_batch_orchestrator.json"


APP_PATH = "app.py"
CDK_JSON_PATH = "cdk.json"
PACKAGE_JSON_PATH = "package.json"  # the CDK CLI, pinned, for `npm ci && npx cdk` in the output directory
PACKAGE_LOCK_PATH = "package-lock.json"
MANIFEST_PATH = "MANIFEST.json"


@dataclass(frozen=True)
class AgentView:
    name: str | None


@dataclass(frozen=True)
class SchemaView:
    """Just enough of a schema for the path functions above, read from the raw document.

    The check's fast path and `register` derive paths without the pydantic
    model; the functions above read only these attributes.
    """

    extraction_name: str
    version: str
    agent: AgentView

    @classmethod
    def of(cls, document: dict[str, Any]) -> SchemaView:
        found = document.get("agent")
        agent: dict[str, Any] = found if isinstance(found, dict) else {}
        return cls(str(document["extraction_name"]), str(document["version"]), AgentView(agent.get("name")))
