"""Finding an agent's record and batch mapping for a batch run.

The generated files are the first place to look: they are what the
repository holds, and they need no AWS account.
"""

from __future__ import annotations

import json
import re
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
    source: str = ""  # the record's file, for messages

    @property
    def name(self) -> str:
        return self.record["agent_name"]

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.record["structured_output"]["schemas"]["input"]

    @property
    def output_schema(self) -> dict[str, Any]:
        return self.record["structured_output"]["schemas"]["output"]


# The meta-schema's rule for extraction names: a record's name becomes a file
# name below, so it is checked before it is used as one.
_EXTRACTION_NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
RECORDS_DIR = "registry/agents"
MAPPINGS_DIR = "batch_mappings"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None  # not a record we can match by name; the check reports the file


def _find_record(name: str, generated_dir: Path) -> tuple[Path, dict[str, Any]]:
    records_dir = generated_dir / RECORDS_DIR
    known = []
    for path in sorted(records_dir.glob("*.json")):
        record = _read_json(path)
        if not isinstance(record, dict):
            continue
        known.append(str(record.get("agent_name", path.stem)))
        if name in (record.get("agent_name"), record.get("extraction_name")):
            return path, record
    hint = ("known agents: " + ", ".join(known)) if known else "run `schema-factory generate` first"
    raise FactoryError(Problem(records_dir.as_posix(), "$", "agent-unknown", f"no agent named {name!r}", hint))


def resolve_agent(name: str, generated_dir: Path) -> AgentSpec:
    """The agent named `name` (agent name or extraction name) among the generated records.

    The record and its batch mapping must be exactly what `generate` wrote:
    their bytes are checked against MANIFEST.json (the check's hash test)
    before anything in them is used, and only the verified bytes are parsed.
    """
    from factory.check.verify import verify_generated_files

    path, found = _find_record(name, generated_dir)
    extraction = found.get("extraction_name")
    if not isinstance(extraction, str) or not _EXTRACTION_NAME.match(extraction):
        raise FactoryError(Problem(path.as_posix(), "$.extraction_name", "agent-record",
                                   f"not an extraction name: {extraction!r}", "run `schema-factory generate`"))
    record_rel, mapping_rel = f"{RECORDS_DIR}/{path.name}", f"{MAPPINGS_DIR}/{extraction}.yaml"
    verified = verify_generated_files(generated_dir, [record_rel, mapping_rel])
    if not verified.clean:
        raise FactoryError(verified.findings)
    record = json.loads(verified.data[record_rel])
    mapping = yaml.safe_load(verified.data[mapping_rel])
    if record != found or not isinstance(mapping, dict):  # changed between the two reads, or not a mapping
        raise FactoryError(Problem(path.as_posix(), "$", "agent-record", "the record changed while it was read",
                                   "run the command again"))
    return AgentSpec(record, mapping, path.as_posix())
