"""Finding an agent's record and batch mapping for a batch run.

The generated files are the first place to look: they are what the
repository holds, and they need no AWS account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from factory.errors import FactoryError, Problem


@dataclass(frozen=True)
class AgentSpec:
    """What a batch run needs to know about an agent."""

    record: dict[str, Any]
    mapping: dict[str, Any]

    @property
    def name(self) -> str:
        return self.record["agent_name"]

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.record["structured_output"]["schemas"]["input"]

    @property
    def output_schema(self) -> dict[str, Any]:
        return self.record["structured_output"]["schemas"]["output"]


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def resolve_agent(name: str, generated_dir: Path) -> AgentSpec:
    """The agent named `name` (agent name or extraction name) among the generated records."""
    records_dir = generated_dir / "registry" / "agents"
    known = []
    for path in sorted(records_dir.glob("*.json")):
        record = _read_json(path)
        known.append(record.get("agent_name", path.stem))
        if name in (record.get("agent_name"), record.get("extraction_name")):
            mapping_path = generated_dir / "batch_mappings" / f"{record['extraction_name']}.yaml"
            if not mapping_path.is_file():
                raise FactoryError(Problem(mapping_path.as_posix(), "$", "agent-mapping",
                                           "batch mapping missing", "run `schema-factory generate`"))
            return AgentSpec(record, yaml.safe_load(mapping_path.read_text("utf-8")))
    hint = ("known agents: " + ", ".join(known)) if known else "run `schema-factory generate` first"
    raise FactoryError(Problem(records_dir.as_posix(), "$", "agent-unknown", f"no agent named {name!r}", hint))
