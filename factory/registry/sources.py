"""What gets registered, read from the generated files: records, tools and output schemas.

The registry must never hold something the repository does not: `register`
(`factory.registration`) asks the consistency check whether `generated/` is
current before it reads anything here. These readers only know where the
files are (`factory.artifacts`) and what form they are in. Nothing here
imports the generator (jinja2, black, pydantic, jsonschema) or the check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from factory import artifacts, safe_io
from factory.errors import FactoryError
from factory.names import ORCHESTRATOR_TOOL_SPECS_PATH, agent_output_schema_path
from factory.project_config import STEP_FUNCTIONS_AGENT, recorded_form
from factory.project_files import DEFAULT_SCHEMA_DIR, display_path, read_manifest
from factory.output_schemas import load_output_schema_file, load_output_schemas, output_schema_files_under

# Who registers an agent record of the step-functions-agent form instead of `register`.
STACK_REGISTERS_AGENT = "its step-functions-agent stack (BaseAgentConstruct, when the stack deploys)"


def agent_registrar(generated_dir: Path) -> str | None:
    """Who writes our agents' AgentRegistry records, when not `register` itself.

    In the step-functions-agent form the generated stack passes its agent spec
    to the existing repository's BaseAgentConstruct, which puts the agent's
    AgentRegistry item (version `v1.0`, the one the state machine loads) when
    the stack deploys. Our record beside it, under the schema's version, would
    describe another agent under the same name, and the existing UI, which
    scans the table, would list the agent twice: the construct owns that
    record. The form is the one the manifest records: the tree the fast path
    vouched for is the tree that was generated in it.
    """
    if recorded_form(read_manifest(generated_dir)) == STEP_FUNCTIONS_AGENT:
        return STACK_REGISTERS_AGENT
    return None


def existing_tool_form(tool: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic-form spec (`name`) as the existing tool construct reads it (`tool_name`)."""
    return {"tool_name": tool["name"], "description": tool["description"], "input_schema": tool["input_schema"]}


def our_agent_names(generated_dir: Path) -> set[str]:
    """The agents `generated_dir`'s manifest lists files of: ours, whether or not the tree is current.

    `register schemas/<agent>.yaml` registers only output schemas; it needs no
    current tree, only to know which agents this factory makes (their output
    schema comes with their own records). No manifest: none are ours.
    """
    manifest = read_manifest(generated_dir)
    if manifest is None:
        return set()
    layouts = (artifacts.AGENT_RECORD.layout, artifacts.OUTPUT_SCHEMA.layout)
    found = (layout.fullmatch(rel) for layout in layouts for rel in manifest["files"] if isinstance(rel, str))
    return {match.group("agent") for match in found if match}


def generated_output_schema(generated_dir: Path, agent_name: str) -> dict[str, Any] | None:
    """Our agent's generated output-schema document; None for a tree generated before these files existed."""
    path = generated_dir / agent_output_schema_path(agent_name)
    if not path.is_file():
        return None
    loaded = load_output_schema_file(path, display_path(path))
    if loaded.problems or loaded.document is None:
        raise FactoryError(loaded.problems)
    return loaded.document


def foreign_output_schemas(paths: list[Path], ours: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """(display path, document) of each valid `<agent>.yaml` under `paths` describing an agent not ours.

    These files are repository data written by others: parsed only by the
    strict safe YAML loader of `factory.output_schemas`; any problem refuses
    the run before a registry call.
    """
    files = output_schema_files_under(paths, DEFAULT_SCHEMA_DIR)
    documents, problems = load_output_schemas(files)
    if problems:
        raise FactoryError(problems)
    # A valid file is named after its agent (load_output_schemas checks it), one file per agent.
    return [(display_path(path), documents[path.stem]) for path in files
            if path.stem in documents and path.stem not in ours]


def read_orchestrator_tools(generated_dir: Path) -> list[dict[str, Any]]:
    """The six batch orchestrator tools, in the ToolRegistry form; none when not generated.

    The fast path vouched for this file together with the rest of the tree.
    """
    try:
        specs = json.loads(safe_io.read_bytes(generated_dir / ORCHESTRATOR_TOOL_SPECS_PATH, "generated file"))
    except OSError:
        return []
    return [existing_tool_form(tool) for tool in specs.get("anthropic") or []]


__all__ = ["STACK_REGISTERS_AGENT", "agent_registrar", "existing_tool_form", "foreign_output_schemas",
           "generated_output_schema", "our_agent_names", "read_orchestrator_tools"]
