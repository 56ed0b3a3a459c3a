"""Emitters: pure functions from models to `{relative path: bytes}`.

`generate` walks the emitter tuples of the chosen form; adding an artifact kind
is one module and one line here. Nothing in this package touches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from factory.emit.agent_record import emit_agent_record
from factory.emit.agent_stack import emit_agent_stack
from factory.emit.batch_mapping import emit_batch_mapping
from factory.emit.browser_template import emit_browser_script, emit_browser_template
from factory.emit.cdk_app import emit_cdk_app
from factory.emit.cdk_cli import emit_cdk_cli
from factory.emit.orchestrator_tool_specs import emit_orchestrator_tool_specs
from factory.emit.output_schema_file import emit_output_schema_file
from factory.emit.sfa_agent_stack import emit_sfa_agent_stack
from factory.emit.tool_specs import emit_tool_specs
from factory.project_config import STANDALONE, STEP_FUNCTIONS_AGENT
from factory.schema.model import CanonicalSchema

SchemaEmitter = Callable[[CanonicalSchema], dict[str, bytes]]
SetEmitter = Callable[[list[CanonicalSchema]], dict[str, bytes]]

PER_SCHEMA_EMITTERS: tuple[SchemaEmitter, ...] = (
    emit_agent_stack,
    emit_browser_template,
    emit_tool_specs,
    emit_batch_mapping,
    emit_agent_record,
    emit_output_schema_file,
)
SET_EMITTERS: tuple[SetEmitter, ...] = (emit_cdk_app, emit_cdk_cli, emit_orchestrator_tool_specs)

# The step-functions-agent form: its own agent stack in place of ours, its
# template files in its own format (the bare browser script), and no CDK app
# (the existing repository has its app and its shared stacks).
SFA_REPLACEMENTS: dict[SchemaEmitter, SchemaEmitter] = {
    emit_agent_stack: emit_sfa_agent_stack,
    emit_browser_template: emit_browser_script,
}
FORM_EMITTERS: dict[str, tuple[tuple[SchemaEmitter, ...], tuple[SetEmitter, ...]]] = {
    STANDALONE: (PER_SCHEMA_EMITTERS, SET_EMITTERS),
    STEP_FUNCTIONS_AGENT: (
        tuple(SFA_REPLACEMENTS.get(emit, emit) for emit in PER_SCHEMA_EMITTERS),
        tuple(emit for emit in SET_EMITTERS if emit not in (emit_cdk_app, emit_cdk_cli)),
    ),
}


@dataclass
class GeneratedTree:
    """Generated files keyed by path under the output directory, and who made each."""

    files: dict[str, bytes] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    form: str = STANDALONE

    def add(self, produced: dict[str, bytes], sources: list[str]) -> None:
        for path, data in produced.items():
            if path in self.files:
                raise ValueError(f"two emitters produced {path}")
            self.files[path] = data
            self.sources[path] = sources


def generate(schemas: list[tuple[str, CanonicalSchema]], form: str = STANDALONE) -> GeneratedTree:
    """Every artifact for a set of schemas, given as (source path, model) pairs, in one form."""
    per_schema, per_set = FORM_EMITTERS[form]
    tree = GeneratedTree(form=form)
    for source, schema in schemas:
        for emit in per_schema:
            tree.add(emit(schema), [source])
    if schemas:
        models = [schema for _, schema in schemas]
        all_sources = sorted(source for source, _ in schemas)
        for emit_set in per_set:
            tree.add(emit_set(models), all_sources)
    return tree
