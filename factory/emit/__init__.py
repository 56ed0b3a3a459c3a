"""Emitters: pure functions from models to `{relative path: bytes}`.

`generate` walks the emitter tuples of the chosen form, built from the rows of
`factory.artifacts` (which kinds of file each form has, and their paths): adding
an artifact kind is one row there, one module and one line here. Nothing in
this package touches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from factory import artifacts
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

# The emitter of each artifact kind; a form may write a kind its own way.
SCHEMA_EMITTERS: dict[artifacts.Artifact, SchemaEmitter] = {
    artifacts.AGENT_STACK: emit_agent_stack,
    artifacts.BROWSER_TEMPLATE: emit_browser_template,
    artifacts.TOOL_SPECS: emit_tool_specs,
    artifacts.BATCH_MAPPING: emit_batch_mapping,
    artifacts.AGENT_RECORD: emit_agent_record,
    artifacts.OUTPUT_SCHEMA: emit_output_schema_file,
}
SET_EMITTERS: dict[artifacts.Artifact, SetEmitter] = {
    artifacts.CDK_APP: emit_cdk_app,
    artifacts.CDK_CLI: emit_cdk_cli,
    artifacts.ORCHESTRATOR_TOOL_SPECS: emit_orchestrator_tool_specs,
}
# The step-functions-agent form writes the agent stack in the existing repository's form, and its
# template files in that repository's own format (the bare browser script).
FORM_SCHEMA_EMITTERS: dict[str, dict[artifacts.Artifact, SchemaEmitter]] = {
    STEP_FUNCTIONS_AGENT: {artifacts.AGENT_STACK: emit_sfa_agent_stack,
                           artifacts.BROWSER_TEMPLATE: emit_browser_script},
}


def _form_emitters(form: str) -> tuple[tuple[SchemaEmitter, ...], tuple[SetEmitter, ...]]:
    per_schema, per_set = artifacts.FORMS[form]
    chosen = {**SCHEMA_EMITTERS, **FORM_SCHEMA_EMITTERS.get(form, {})}
    return tuple(chosen[kind] for kind in per_schema), tuple(SET_EMITTERS[kind] for kind in per_set)


FORM_EMITTERS = {form: _form_emitters(form) for form in artifacts.FORMS}


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
