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


@dataclass(frozen=True)
class Index:
    """A secondary index: `local` ones share the table's partition key."""

    name: str
    partition_key: str
    sort_key: str
    local: bool = False


@dataclass(frozen=True)
class TableShape:
    """Key schema and indexes of one registry table; every key attribute is a string."""

    prefix: str
    partition_key: str
    sort_key: str
    indexes: tuple[Index, ...]

    def table_name(self, env_name: str) -> str:
        return f"{self.prefix}-{env_name}"

    @property
    def key_attributes(self) -> tuple[str, ...]:
        seen: dict[str, None] = {self.partition_key: None, self.sort_key: None}
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
    ),
)
