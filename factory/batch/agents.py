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

from factory import safe_io
from factory.artifacts import AGENT_RECORD
from factory.errors import FactoryError, Problem
from factory.names import AgentView, SchemaView, batch_mapping_path
from factory.project_files import generate_command
from factory.runtime.mapping_choice import Target
from factory.strict_yaml import load_strict


@dataclass(frozen=True)
class AgentSpec:
    """What a batch run needs to know about its target: one of our agents, or any agent or tool.

    Our agents have a verified generated record (and `generated` is True). Any
    other target has only its name and type (`target`): its input comes from
    the batch config, its output mapping from the config or its registered
    output schema, and how to call it from --invoke or the target's ARN.
    """

    record: dict[str, Any]
    mapping: dict[str, Any]
    source: str = ""  # the record's file, for messages
    target: Target | None = None  # what the batch calls; None: our agent, named on the command line

    @property
    def name(self) -> str:
        return self.record["agent_name"]

    @property
    def generated(self) -> bool:
        return isinstance(self.record.get("structured_output"), dict)

    @property
    def target_type(self) -> str:
        return self.target.type if self.target else "agent"

    @property
    def input_schema(self) -> dict[str, Any] | None:
        return self.record["structured_output"]["schemas"]["input"] if self.generated else None

    @property
    def output_schema(self) -> dict[str, Any] | None:
        return self.record["structured_output"]["schemas"]["output"] if self.generated else None


def foreign_target(target: Target) -> AgentSpec:
    """A target we did not generate: nothing but its name and type (and its ARN, when the config gives one)."""
    return AgentSpec({"agent_name": target.name, "tools": [target.name]}, {}, "", target)


# The meta-schema's rule for extraction names: a record's name becomes a file
# name below, so it is checked before it is used as one.
_EXTRACTION_NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}\Z")
RECORDS_DIR = AGENT_RECORD.directory


def _read_json(path: Path) -> Any:
    try:
        return json.loads(safe_io.read_bytes(path, "generated file"))
    except (OSError, ValueError):
        return None  # not a record we can match by name; the check reports the file


def _lookup_record(name: str, generated_dir: Path) -> tuple[Path, dict[str, Any]] | list[str]:
    """The record file naming `name` (unverified: only to find it), else the names that are known."""
    known = []
    for path in sorted((generated_dir / RECORDS_DIR).glob("*.json")):
        record = _read_json(path)
        if not isinstance(record, dict):
            continue
        known.append(str(record.get("agent_name", path.stem)))
        if name in (record.get("agent_name"), record.get("extraction_name")):
            return path, record
    return known


def unknown_agent(name: str, generated_dir: Path, known: list[str], extra_hint: str = "") -> FactoryError:
    hint = ("known agents: " + ", ".join(known)) if known else f"run {generate_command(generated_dir)} first"
    return FactoryError(Problem((generated_dir / RECORDS_DIR).as_posix(), "$", "agent-unknown",
                                f"no agent named {name!r}", hint + extra_hint))


def _find_record(name: str, generated_dir: Path) -> tuple[Path, dict[str, Any]]:
    found = _lookup_record(name, generated_dir)
    if isinstance(found, list):
        raise unknown_agent(name, generated_dir, found)
    return found


def find_generated_agent(name: str, generated_dir: Path) -> AgentSpec | list[str]:
    """Our agent named `name`, verified as `resolve_agent` does; else the names of the agents we have.

    A directory without records (or without generated/ at all) is no error here: the
    target may be an agent or tool this factory did not make.
    """
    found = _lookup_record(name, generated_dir)
    return found if isinstance(found, list) else resolve_agent(name, generated_dir)


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
                                   f"not an extraction name: {extraction!r}", f"run {generate_command(generated_dir)}"))
    mapping_rel = batch_mapping_path(SchemaView(extraction, "", AgentView(None)))  # the name is all it needs
    record_rel = f"{RECORDS_DIR}/{path.name}"
    verified = verify_generated_files(generated_dir, [record_rel, mapping_rel])
    if not verified.clean:
        raise FactoryError(verified.findings)
    record = json.loads(verified.data[record_rel])
    mapping = load_strict(verified.data[mapping_rel])
    if record != found or not isinstance(mapping, dict):  # changed between the two reads, or not a mapping
        raise FactoryError(Problem(path.as_posix(), "$", "agent-record", "the record changed while it was read",
                                   "run the command again"))
    return AgentSpec(record, mapping, path.as_posix())
