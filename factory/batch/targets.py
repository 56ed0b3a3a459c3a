"""What a batch calls (one of our agents, any other agent, or a Lambda tool), and how a row meets it.

`resolve_target` finds the target of `batch run/analyze/config --agent NAME`:
our generated agent when a generated record names it (verified against the
manifest, as every file read from generated/ is), else the config's `target`,
else an agent with a registered output schema. A target that is not ours needs
nothing from generated/: its input mapping comes from the config, its output
mapping from the order of `runtime.mapping_choice`.

`OutputSchemas` finds a target's registered output schema: the file
`schemas/<agent>.yaml` first, then, for a target that is not ours, the
`output_schema` that `register` put into the newest AgentRegistry record of
that agent (read once per batch, only when nothing before it in the order
maps the output).

`request_payload` maps a row for the target with the input mapper's plan.
Every agent, ours or not, takes the existing step-functions-agent batch
processor's shape, `{"messages": [{"role": "user", "content": prompt}],
"input": data}`: an LLM agent of the existing system reads the messages, our
generated agents read `input` (they accept `{"data"}` and the bare fields too),
so no agent needs telling apart by who made it. A tool (a Lambda function) takes
the mapped fields themselves. The step-functions engine sends the same
(`factory.runtime.target_kinds`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory.batch.agents import AgentSpec, find_generated_agent, foreign_target, unknown_agent
from factory.errors import FactoryError, Problem
from factory.output_mapping import batch_output_mapping, config_target
from factory.runtime.input_mapper import InputPlan
from factory.registry.options import RegistryOptions
from factory.runtime.mapping_choice import SOURCE_REGISTRY, SOURCE_STRUCTURED, MappingChoice, Target
from factory.runtime.target_kinds import kind_of

DEFAULT_SCHEMAS = Path("schemas")
FOREIGN_HINT = (
    "; for an agent or tool this factory did not make, give a --config naming its target "
    "({type: agent|tool, name, arn}) or register its output schema as schemas/<agent>.yaml "
    "(schema-factory register puts it into the AgentRegistry record, where batch finds it too)"
)


def default_registry() -> RegistryOptions:
    """The registry the registry commands use by default: $SCHEMA_FACTORY_ENV, else local or dev (auto)."""
    return RegistryOptions(os.environ.get("SCHEMA_FACTORY_ENV") or None)


@dataclass
class OutputSchemas:
    """Where targets' registered output schemas are: `schemas_dir` first, then `registry` (None: not read)."""

    schemas_dir: Path | None = DEFAULT_SCHEMAS
    registry: RegistryOptions | None = field(default_factory=default_registry)
    _read: dict[str, dict[str, Any] | None] = field(default_factory=dict, repr=False)
    _notes: dict[str, str] = field(default_factory=dict, repr=False)  # where each name was looked for, or why not

    def file(self, name: str) -> dict[str, Any] | None:
        """`schemas/<name>.yaml`; FactoryError when it is there but wrong."""
        if self.schemas_dir is None:
            return None
        from factory.output_schemas import output_schema_for

        return output_schema_for(name, self.schemas_dir)

    def registered(self, name: str) -> dict[str, Any] | None:
        """The output schema registered in `name`'s newest AgentRegistry record, read once.

        A registry that cannot be read (no table, no network) is not an error
        here: nothing else could map this target either, so the caller's
        error says so (`note`). A stored schema that is wrong is one.
        """
        if self.registry is None:
            return None
        if name not in self._read:
            from factory.registry.agent_output_schemas import read_output_schema
            from factory.registry.connect import open_registry

            try:
                registry = open_registry(self.registry, notice=lambda text: None)
                self._read[name] = read_output_schema(registry, name)
                self._notes[name] = f"; no output schema of it is registered in {registry.describe()}"
            except FactoryError as err:
                if any(problem.rule == "registered-output-schema" for problem in err.problems):
                    raise
                reasons = "; ".join(problem.render() for problem in err.problems)
                self._notes[name] = f"; the AgentRegistry was not read: {reasons}"
                self._read[name] = None
        return self._read[name]

    def find(self, name: str) -> dict[str, Any] | None:
        """A target we did not make: its file, else its registry record."""
        found = self.file(name)
        return found if found is not None else self.registered(name)

    def note(self, name: str) -> str:
        """Where the registry was asked about `name` and found nothing, or why it could not be: a hint's tail."""
        return self._notes.get(name, "")


def output_schemas(schemas: OutputSchemas | Path | None) -> OutputSchemas:
    """A directory alone (the older call form) reads no registry."""
    return schemas if isinstance(schemas, OutputSchemas) else OutputSchemas(schemas, None)


def resolve_target(
    name: str,
    generated_dir: Path,
    config: dict[str, Any] | None,
    config_file: str,
    schemas: OutputSchemas | Path | None = DEFAULT_SCHEMAS,
) -> AgentSpec:
    """The batch's target for `--agent NAME`; the config's `target`, when it has one, must be that name."""
    schemas = output_schemas(schemas)
    named = config_target(config, config_file) if config else None
    if named is not None and not kind_of(named.type).registry_lookup:  # a tool: no record of ours
        _same_name(name, named, config_file)
        return foreign_target(named)
    ours = find_generated_agent(name, generated_dir)
    if isinstance(ours, AgentSpec):
        if named is not None and named.name not in (ours.name, ours.record.get("extraction_name")):
            _same_name(name, named, config_file)
        return AgentSpec(ours.record, ours.mapping, ours.source, named or Target("agent", ours.name))
    if named is not None:
        _same_name(name, named, config_file)
        return foreign_target(named)
    if schemas.find(name) is not None:
        return foreign_target(Target("agent", name))
    raise unknown_agent(name, generated_dir, ours, FOREIGN_HINT + schemas.note(name))


def _same_name(name: str, named: Target, config_file: str) -> None:
    if name != named.name:
        raise FactoryError(
            Problem(
                config_file,
                "$.target.name",
                "target",
                f"the config's target is {named.name!r}, but --agent says {name!r}",
                "make them the same",
            )
        )


@dataclass(frozen=True)
class OutputPlan:
    """How every row's output is mapped, decided once before the first row."""

    choice: MappingChoice
    fields: tuple[str, ...]  # the result columns, in order
    registered: dict[str, Any] | None = None  # the registered output schema chosen (file or registry)

    @property
    def generic(self) -> bool:
        return self.choice.generic


def output_plan(
    agent: AgentSpec,
    mapping: dict[str, Any],
    config_file: str,
    schemas: OutputSchemas | Path | None = DEFAULT_SCHEMAS,
) -> OutputPlan:
    """The issue's order (config output_mappings, registered schema, structured output) for this target.

    The registry is read only for a target we did not make, and only when
    neither the config nor a schemas/ file maps it (our agents' records carry
    an output schema derived from the same canonical schema as their
    structured output, so reading it would change nothing but the cost).
    """
    schemas = output_schemas(schemas)
    registered = schemas.file(agent.target.name if agent.target else agent.name)
    _, choice = batch_output_mapping(mapping, config_file, None, agent.target, registered)
    if choice.source == SOURCE_STRUCTURED and not agent.generated:
        registered = schemas.registered(agent.name)
        if registered is not None:
            _, choice = batch_output_mapping(mapping, config_file, None, agent.target, registered)
    if choice.mappings is not None:
        chosen = registered if choice.source == SOURCE_REGISTRY else None
        return OutputPlan(choice, tuple(choice.mappings.names), chosen)
    if not agent.generated:
        raise FactoryError(
            Problem(
                config_file,
                "$.output_mappings",
                "output-mappings",
                f"{agent.target_type} {agent.name!r} is not one of our agents, so its output "
                "has no structured output to read",
                "add output_mappings to the config, or register schemas/<agent>.yaml "
                "(schema-factory register; see docs/generic-mapping.md)" + schemas.note(agent.name),
            )
        )
    return OutputPlan(choice, tuple(mapping.get("structured_output_fields") or ()))


def effective_mapping(mapping: dict[str, Any], plan: OutputPlan) -> dict[str, Any]:
    """The config the run stores: the result columns are the chosen mapping's fields."""
    if not plan.generic:
        return mapping
    return {**mapping, "structured_output_fields": list(plan.fields)}


def request_payload(plan: InputPlan, row: dict[str, Any], row_number: int, agent: AgentSpec) -> Any:
    """The row through the input plan, in the payload form of the target's kind (InputRowError if refused)."""
    from factory.runtime.target_kinds import row_payload

    return row_payload(kind_of(agent.target_type), plan, row, row_number)


def config_for_csv(config: dict[str, Any], csv_path: Path) -> dict[str, Any]:
    """The person's batch config with its input mapping in our form for this CSV (the existing system's
    flat `{column: field}` and `{}` forms; `runtime.input_mapper.normalised_mapping`), read once here."""
    from factory.batch import csv_source
    from factory.runtime.input_mapper import MappingConfigError, normalised_mapping

    try:
        empty = config.get("input_mapping") == {}  # only then are the CSV's columns needed
        return normalised_mapping(config, csv_source.header(csv_path) if empty else None)
    except MappingConfigError:
        return config  # a malformed input mapping is reported, with its place, by the readiness checks


def check_foreign_ready(mapping: dict[str, Any], source: str) -> None:
    """A target we did not make has no record to check: the config's transformations and required fields."""
    from factory.runtime.agent_record_checks import mapped_fields, mapping_problems
    from factory.runtime.input_mapper import input_section

    problems = mapping_problems(mapping)
    if not problems and not mapped_fields(input_section(mapping)):
        problems.append("the config maps no column to any input field")
    if problems:
        raise FactoryError(
            [Problem(source, "$.input_mapping", "config", p, "fix the batch config") for p in problems]
        )


def suggested_config(
    csv_path: Path, agent: AgentSpec, schemas: OutputSchemas | Path | None
) -> tuple[dict[str, Any], Any]:
    """`batch config`: the config to edit for this CSV and target, and the analysis it came from."""
    from factory.batch.analyze import analyze_csv, batch_config

    analysis = analyze_csv(csv_path, agent)
    registered = None if agent.generated else output_schemas(schemas).find(agent.name)
    return batch_config(analysis, agent, registered), analysis
