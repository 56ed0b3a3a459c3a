"""Where a registry is, as the command line says it: one typed value, with no backend imported.

`connect.open_registry` turns it into a backend. It lives apart so the batch
commands can carry it (they read a target's registered output schema) without
importing boto3 or the DynamoDB backend until a registry is actually read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_REGISTRY_FILE = Path(".schema-factory") / "registry.sqlite"


@dataclass(frozen=True)
class RegistryOptions:
    env_name: str | None
    backend: str = "auto"
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    template_table: str | None = None
    agent_table: str | None = None
    tool_table: str | None = None
    registry_file: Path = DEFAULT_REGISTRY_FILE
    page_size: int | None = None
