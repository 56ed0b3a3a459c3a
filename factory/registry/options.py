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
class RegistryFlags:
    """The flags of the calling command that set each option, so a fix names a flag the user can pass.

    The registry commands say `--env`, `--backend`, `--endpoint-url`; the batch
    commands say `--registry-env`, ... (their `--env` is the Step Functions
    environment), and only `batch run` has a `--region`.
    """

    env: str = "--env"
    backend: str = "--backend"
    endpoint_url: str = "--endpoint-url"
    region: str | None = "--region"  # None: the command has no region flag (the AWS configuration's is used)

    def region_fix(self) -> str:
        """How to give DynamoDB a region from this command."""
        if self.region is None:
            return "set AWS_DEFAULT_REGION (or a region in your AWS profile)"
        return f"pass {self.region} or set AWS_DEFAULT_REGION"


REGISTRY_COMMAND_FLAGS = RegistryFlags()


def batch_registry_flags(has_region: bool) -> RegistryFlags:
    """The batch commands' registry flags; `batch run` has --region (shared with its AWS calls), the others not."""
    return RegistryFlags(
        "--registry-env", "--registry-backend", "--registry-endpoint-url", "--region" if has_region else None
    )


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
    flags: RegistryFlags = REGISTRY_COMMAND_FLAGS  # how the calling command spells the options above
