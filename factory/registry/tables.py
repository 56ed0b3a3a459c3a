"""The registry tables' shape, as data, shared by every place that builds them.

The DynamoDB backend's `--create-tables`, the SQLite backend's DDL and the CDK
construct in `factory/infra/` all read these definitions, so a dev table made
by the CLI and the production table deployed by CloudFormation cannot differ
in a key or an index name. Pure data: no boto3, no aws-cdk-lib.
"""

from __future__ import annotations

from dataclasses import dataclass

TEMPLATE_TABLE_PREFIX = "TemplateRegistry"
AGENT_TABLE_PREFIX = "AgentRegistry"
TOOL_TABLE_PREFIX = "ToolRegistry"


@dataclass(frozen=True)
class Index:
    """A secondary index: `local` ones share the table's partition key."""

    name: str
    partition_key: str
    sort_key: str
    local: bool = False


@dataclass(frozen=True)
class TableShape:
    """Key schema and indexes of one registry table; every key attribute is a string.

    `sort_key` is None for ToolRegistry, which the existing system keys by
    `tool_name` alone.
    """

    prefix: str
    partition_key: str
    sort_key: str | None
    indexes: tuple[Index, ...]

    def table_name(self, env_name: str) -> str:
        return f"{self.prefix}-{env_name}"

    @property
    def key_attributes(self) -> tuple[str, ...]:
        seen: dict[str, None] = {self.partition_key: None}
        if self.sort_key is not None:
            seen[self.sort_key] = None
        for index in self.indexes:
            seen[index.partition_key] = None
            seen[index.sort_key] = None
        return tuple(seen)

    def index(self, name: str) -> Index:
        return next(index for index in self.indexes if index.name == name)


# `version` is the key the agent stacks read with GetItem; it sorts as text,
# so 1.10.0 would come before 1.9.0. `version_key` (zero-padded) sorts as a
# semantic version, and the local index on it answers "latest version".
TEMPLATE_VERSIONS_INDEX = "TemplateVersions"
TEMPLATES_BY_EXTRACTION_NAME = "TemplatesByExtractionName"
TEMPLATES_BY_STATUS = "TemplatesByStatus"
AGENT_VERSIONS_INDEX = "AgentVersions"
AGENTS_BY_EXTRACTION_NAME = "AgentsByExtractionName"
AGENTS_BY_STATUS = "AgentsByStatus"
# The existing system's agent indexes (stacks/shared/agent_registry_stack.py):
# lambda/shared/agent_registry.py list_agents(llm_provider=...) queries AgentsByLLM.
AGENTS_BY_LLM = "AgentsByLLM"
AGENTS_BY_ENVIRONMENT = "AgentsByEnvironment"

# The indexes the existing stacks create are the same definitions as ours
# where names meet (TemplatesByExtractionName, TemplatesByStatus,
# AgentsByStatus), so one deployment of RegistryTables serves both systems.
TEMPLATE_TABLE = TableShape(
    prefix=TEMPLATE_TABLE_PREFIX,
    partition_key="template_id",
    sort_key="version",
    indexes=(
        Index(TEMPLATE_VERSIONS_INDEX, "template_id", "version_key", local=True),
        Index(TEMPLATES_BY_EXTRACTION_NAME, "extraction_name", "created_at"),
        Index(TEMPLATES_BY_STATUS, "status", "updated_at"),
    ),
)

AGENT_TABLE = TableShape(
    prefix=AGENT_TABLE_PREFIX,
    partition_key="agent_name",
    sort_key="version",
    indexes=(
        Index(AGENT_VERSIONS_INDEX, "agent_name", "version_key", local=True),
        Index(AGENTS_BY_EXTRACTION_NAME, "extraction_name", "created_at"),
        Index(AGENTS_BY_STATUS, "status", "updated_at"),
        Index(AGENTS_BY_LLM, "llm_provider", "agent_name"),
        Index(AGENTS_BY_ENVIRONMENT, "deployment_env", "agent_name"),
    ),
)

# stacks/shared/shared_infrastructure_stack.py _create_tool_registry.
TOOL_TABLE = TableShape(
    prefix=TOOL_TABLE_PREFIX,
    partition_key="tool_name",
    sort_key=None,
    indexes=(
        Index("ToolsByLanguage", "language", "tool_name"),
        Index("ToolsByStatus", "status", "updated_at"),
        Index("ToolsByAuthor", "author", "created_at"),
    ),
)
