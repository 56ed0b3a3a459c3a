"""Every kind of file the generator writes and where it goes, in each form: one table, stdlib only.

`generate` pairs each row with its emitter (`factory/emit/__init__.py`), and
everything else that must know the generated paths derives them from the
same rows: the check (which paths a schema set generates, which file holds
which layer), pruning (the only paths a manifest entry may name) and
`register` (where the records are). A row's path comes from its function in
`factory.names`; the pattern every such path matches is derived from that
function too, so adding an artifact kind is one row here and one emitter.
Light: the pre-commit hook imports this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable, Iterable

from factory import names
from factory.project_config import STANDALONE, STEP_FUNCTIONS_AGENT

# Stand-ins put through a path function to read its shape, and what each may be in a real path:
# extraction names are lower snake case, agent names lower kebab case, versions MAJOR.MINOR.PATCH.
_EXTRACTION, _VERSION, _AGENT = "@EXTRACTION@", "@VERSION@", "@AGENT@"
_SHAPES = {
    _EXTRACTION: r"[a-z][a-z0-9_]*",
    _VERSION: r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)",
    _AGENT: r"(?P<agent>[a-z][a-z0-9-]*)",
}
_STAND_IN = names.SchemaView(_EXTRACTION, _VERSION, names.AgentView(_AGENT))


def _layout(spelled: Iterable[str]) -> re.Pattern[str]:
    """The pattern every path spelled like one of `spelled` (stand-ins in place of names) matches."""
    patterns = []
    for path in spelled:
        pattern = re.escape(path)
        for stand_in, shape in _SHAPES.items():
            pattern = pattern.replace(re.escape(stand_in), shape)
        patterns.append(pattern)
    return re.compile("|".join(patterns))


@dataclass(frozen=True)
class Artifact:
    """One kind of generated file: per schema (`path`) or once per schema set (`fixed`)."""

    kind: str  # also the layer the check names when this file disagrees with its schema
    path: Callable[[names.Named], str] | None = None
    fixed: tuple[str, ...] = ()
    layout: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layout", _layout([self.path(_STAND_IN)] if self.path else self.fixed))

    def at(self, schema: names.Named) -> str:
        """The path of this per-schema kind for `schema`."""
        if self.path is None:
            raise ValueError(f"{self.kind} is written once per schema set, at {', '.join(self.fixed)}")
        return self.path(schema)

    def paths(self, schemas: Iterable[names.Named]) -> set[str]:
        """The paths this kind takes for `schemas` (a per-set kind: its own, when there is any schema)."""
        listed = list(schemas)
        if self.path is None:
            return set(self.fixed) if listed else set()
        return {self.path(schema) for schema in listed}

    @property
    def directory(self) -> str:
        """The directory (relative to the output directory) that holds the files of this kind."""
        return PurePosixPath(self.path(_STAND_IN) if self.path else self.fixed[0]).parent.as_posix()


AGENT_STACK = Artifact("agent stack", names.stack_path)
BROWSER_TEMPLATE = Artifact("browser template", names.template_path)
TOOL_SPECS = Artifact("tool specs", names.tool_specs_path)
BATCH_MAPPING = Artifact("batch mapping", names.batch_mapping_path)
AGENT_RECORD = Artifact("agent record", names.agent_record_path)
OUTPUT_SCHEMA = Artifact("output schema", names.output_schema_path)
CDK_APP = Artifact("CDK app", fixed=(names.APP_PATH, names.CDK_JSON_PATH))
CDK_CLI = Artifact("CDK CLI pin", fixed=(names.PACKAGE_JSON_PATH, names.PACKAGE_LOCK_PATH))
ORCHESTRATOR_TOOL_SPECS = Artifact("orchestrator tool specs", fixed=(names.ORCHESTRATOR_TOOL_SPECS_PATH,))

PER_SCHEMA = (AGENT_STACK, BROWSER_TEMPLATE, TOOL_SPECS, BATCH_MAPPING, AGENT_RECORD, OUTPUT_SCHEMA)
PER_SET = (CDK_APP, CDK_CLI, ORCHESTRATOR_TOOL_SPECS)

# Each form's artifacts, per schema then per set. In the step-functions-agent form the output
# directory is an existing repository: its CDK app and its package.json are its own, and the agent
# stack and templates are written in that repository's form (different emitters, the same paths).
FORMS: dict[str, tuple[tuple[Artifact, ...], tuple[Artifact, ...]]] = {
    STANDALONE: (PER_SCHEMA, PER_SET),
    STEP_FUNCTIONS_AGENT: (PER_SCHEMA, tuple(artifact for artifact in PER_SET if artifact not in (CDK_APP, CDK_CLI))),
}


def artifacts_of(form: str) -> tuple[Artifact, ...]:
    per_schema, per_set = FORMS[form]
    return per_schema + per_set


def paths_generated(schemas: Iterable[names.Named], form: str = STANDALONE) -> set[str]:
    """Every path `generate` writes for `schemas` in `form`, from their names alone (nothing rendered)."""
    listed = list(schemas)
    return set().union(*(artifact.paths(listed) for artifact in artifacts_of(form)))


def artifact_at(rel: str, form: str = STANDALONE) -> Artifact | None:
    """The kind of generated file `rel` (relative to the output directory) is in `form`; None: not ours."""
    return next((artifact for artifact in artifacts_of(form) if artifact.layout.fullmatch(rel)), None)
