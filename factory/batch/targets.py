"""What a batch calls (one of our agents, any other agent, or a Lambda tool), and how a row meets it.

`resolve_target` finds the target of `batch run/analyze/config --agent NAME`:
our generated agent when a generated record names it (verified against the
manifest, as every file read from generated/ is), else the config's `target`,
else an agent with a registered output schema (`schemas/<agent>.yaml`). A
target that is not ours needs nothing from generated/: its input mapping comes
from the config, its output mapping from the order of `runtime.mapping_choice`.

`request_payload` maps a row for the target with the input mapper's plan.
Every agent, ours or not, takes the existing step-functions-agent batch
processor's shape, `{"messages": [{"role": "user", "content": prompt}],
"input": data}`: an LLM agent of the existing system reads the messages, our
generated agents read `input` (they accept `{"data"}` and the bare fields too),
so no agent needs telling apart by who made it. A tool (a Lambda function) takes
the mapped fields themselves. The step-functions engine sends the same
(`factory.runtime.batch_validator.payload_form`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.batch.agents import AgentSpec, find_generated_agent, foreign_target, unknown_agent
from factory.errors import FactoryError, Problem
from factory.output_mapping import batch_output_mapping, config_target
from factory.runtime.input_mapper import InputPlan
from factory.runtime.mapping_choice import MappingChoice, Target

DEFAULT_SCHEMAS = Path("schemas")
FOREIGN_HINT = (
    "; for an agent or tool this factory did not make, give a --config naming its target "
    "({type: agent|tool, name, arn}) or register its output schema as schemas/<agent>.yaml"
)


def resolve_target(
    name: str,
    generated_dir: Path,
    config: dict[str, Any] | None,
    config_file: str,
    schemas_dir: Path | None = DEFAULT_SCHEMAS,
) -> AgentSpec:
    """The batch's target for `--agent NAME`; the config's `target`, when it has one, must be that name."""
    named = config_target(config, config_file) if config else None
    if named is not None and named.type == "tool":
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
    from factory.output_schemas import output_schema_for

    if schemas_dir is not None and output_schema_for(name, schemas_dir) is not None:
        return foreign_target(Target("agent", name))
    raise unknown_agent(name, generated_dir, ours, FOREIGN_HINT)


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

    @property
    def generic(self) -> bool:
        return self.choice.generic


def output_plan(
    agent: AgentSpec, mapping: dict[str, Any], config_file: str, schemas_dir: Path | None = DEFAULT_SCHEMAS
) -> OutputPlan:
    """The issue's order (config output_mappings, registered schema, structured output) for this target."""
    _, choice = batch_output_mapping(mapping, config_file, schemas_dir, agent.target)
    if choice.mappings is not None:
        return OutputPlan(choice, tuple(choice.mappings.names))
    if not agent.generated:
        raise FactoryError(
            Problem(
                config_file,
                "$.output_mappings",
                "output-mappings",
                f"{agent.target_type} {agent.name!r} is not one of our agents, so its output "
                "has no structured output to read",
                "add output_mappings to the config or register schemas/<agent>.yaml "
                "(see docs/generic-mapping.md)",
            )
        )
    return OutputPlan(choice, tuple(mapping.get("structured_output_fields") or ()))


def effective_mapping(mapping: dict[str, Any], plan: OutputPlan) -> dict[str, Any]:
    """The config the run stores: the result columns are the chosen mapping's fields."""
    if not plan.generic:
        return mapping
    return {**mapping, "structured_output_fields": list(plan.fields)}


def request_payload(plan: InputPlan, row: dict[str, Any], row_number: int, agent: AgentSpec) -> Any:
    """The row through the input plan, as this target takes it (see the module docstring).

    InputRowError for a row the plan refuses. A tool's input is the plan's
    `data` alone, so no prompt is written for it.
    """
    if agent.target_type == "tool":
        return plan.data(row, row_number)
    return agent_payload(plan.transform(row, row_number))


def agent_payload(mapped: dict[str, Any]) -> dict[str, Any]:
    """The input mapper's `{"prompt", "data"}` as every agent takes it: a user message and the input."""
    return {"messages": [{"role": "user", "content": mapped["prompt"]}], "input": mapped["data"]}


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
    csv_path: Path, agent: AgentSpec, schemas_dir: Path | None
) -> tuple[dict[str, Any], Any]:
    """`batch config`: the config to edit for this CSV and target, and the analysis it came from."""
    from factory.batch.analyze import analyze_csv, batch_config

    analysis = analyze_csv(csv_path, agent)
    registered = None
    if not agent.generated and schemas_dir is not None:
        from factory.output_schemas import output_schema_for

        registered = output_schema_for(agent.name, schemas_dir)
    return batch_config(analysis, agent, registered), analysis
