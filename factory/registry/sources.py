"""What gets registered: the generated records on disk, once the check vouches for them.

The registry must never hold something the repository does not. Whether
`generated/` is exactly what the schemas generate is the consistency check's
question, so `register` asks its fast path (hashes against
`generated/MANIFEST.json`, layers read back) and refuses on any finding,
printing the finding and its fix. Only then are the records read from the
files. Nothing here imports the generator (jinja2, black, pydantic,
jsonschema): a clean tree is vouched for by hashes alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from factory import safe_io
from factory.check.layers import AGENT_RECORD, BROWSER_TEMPLATE, TOOL_SPECS, SchemaView, layer_paths
from factory.check.agent_form import form_findings
from factory.check.run import fast_findings
from factory.names import MANIFEST_PATH
from factory.errors import FactoryError, Problem
from factory.project_config import STEP_FUNCTIONS_AGENT, recorded_form
from factory.project_files import DEFAULT_SCHEMA_DIR, display_path, expand_schema_files, read_manifest
from factory.output_schemas import load_output_schema_file, load_output_schemas, output_schema_files_under
from factory.registry.records import RecordPair

OUTPUT_SCHEMAS_DIR = "output_schemas"  # generated/output_schemas/<agent>.yaml (factory.emit.output_schema_file)

# The batch orchestrator's tools, emitted once per tree (not per schema).
ORCHESTRATOR_TOOL_SPECS = "tool_specs/_batch_orchestrator.json"

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


def read_generated_records(paths: list[Path], generated_dir: Path) -> list[RecordPair]:
    """The records of the schemas under `paths` (default `schemas/`), refused unless the tree is current."""
    manifest_display = display_path(generated_dir / MANIFEST_PATH)
    # As `check` judges it: a tree generated in another form than the project configures is stale.
    findings = list(fast_findings(paths, generated_dir)) + form_findings(read_manifest(generated_dir),
                                                                          manifest_display, out_dir=generated_dir)
    if findings:
        raise FactoryError(list(findings))
    files = expand_schema_files(paths or [DEFAULT_SCHEMA_DIR]) or []
    if not files:
        raise FactoryError(Problem(", ".join(p.as_posix() for p in paths) or DEFAULT_SCHEMA_DIR.as_posix(), "$",
                                   "no-schemas", "no schema files found",
                                   "pass schema files or a directory holding *.json schemas"))
    registrar = agent_registrar(generated_dir)
    found = []
    for path in files:
        document = json.loads(safe_io.read_bytes(path, "schema").decode("utf-8-sig"))
        rels = layer_paths(SchemaView.of(document))
        template, agent, specs = (json.loads(safe_io.read_bytes(generated_dir / rels[layer], "generated file"))
                                  for layer in (BROWSER_TEMPLATE, AGENT_RECORD, TOOL_SPECS))
        tools = tuple(existing_tool_form(tool) for tool in specs.get("anthropic") or [])
        output_schema = generated_output_schema(generated_dir, agent["agent_name"]) if registrar is None else None
        found.append(RecordPair(display_path(path), template, agent, tools, output_schema, registrar))
    return found


OUR_AGENT_FILE = re.compile(r"(?:registry/agents/(?P<record>[a-z][a-z0-9-]*)\.json|"
                            r"output_schemas/(?P<schema>[a-z][a-z0-9-]*)\.yaml)")


def our_agent_names(generated_dir: Path) -> set[str]:
    """The agents `generated_dir`'s manifest lists files of: ours, whether or not the tree is current.

    `register schemas/<agent>.yaml` registers only output schemas; it needs no
    current tree, only to know which agents this factory makes (their output
    schema comes with their own records). No manifest: none are ours.
    """
    manifest = read_manifest(generated_dir)
    if manifest is None:
        return set()
    found = (OUR_AGENT_FILE.fullmatch(rel) for rel in manifest["files"] if isinstance(rel, str))
    return {match.group("record") or match.group("schema") for match in found if match}


def generated_output_schema(generated_dir: Path, agent_name: str) -> dict[str, Any] | None:
    """Our agent's generated output-schema document; None for a tree generated before these files existed."""
    path = generated_dir / OUTPUT_SCHEMAS_DIR / f"{agent_name}.yaml"
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
        specs = json.loads(safe_io.read_bytes(generated_dir / ORCHESTRATOR_TOOL_SPECS, "generated file"))
    except OSError:
        return []
    return [existing_tool_form(tool) for tool in specs.get("anthropic") or []]


__all__ = ["ORCHESTRATOR_TOOL_SPECS", "STACK_REGISTERS_AGENT", "agent_registrar", "foreign_output_schemas", "generated_output_schema", "our_agent_names",
           "read_generated_records",
           "read_orchestrator_tools"]
