"""A batch's output mapping, decided once before its first row, with errors for people.

The engines call `batch_output_mapping(config, config_file, schemas_dir)`: it
reads the config's `target`, finds the target's registered output schema in
the schemas directory, and applies the order of `runtime.mapping_choice`
(config `output_mappings`, registered schema, structured output). Every
mistake becomes a FactoryError whose Problem names the file and the JSONPath.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factory.errors import FactoryError, Problem
from factory.output_schemas import output_schema_for
from factory.runtime.mapping_choice import (
    MappingChoice,
    Target,
    TargetError,
    choose_output_mapping,
    parse_target,
)
from factory.runtime.output_mapping.expressions import OutputMappingConfigError

DOCS_HINT = "see docs/generic-mapping.md"


def config_target(config: dict[str, Any], config_file: str) -> Target | None:
    """The config's `target`, validated; None when it names none (one of our agents, given on the command line)."""
    if config.get("target") is None:
        return None
    try:
        return parse_target(config["target"])
    except TargetError as err:
        raise FactoryError(Problem(config_file, err.path, "target", err.detail, err.hint)) from None


def batch_output_mapping(
    config: dict[str, Any],
    config_file: str,
    schemas_dir: Path | None,
    target: Target | None = None,
    registered: dict[str, Any] | None = None,
) -> tuple[Target | None, MappingChoice]:
    """(target, how its rows are mapped); `target` given overrides the config's, and `registered` (a registered
    output schema the caller found, e.g. in the AgentRegistry) the file in `schemas_dir`."""
    target = target or config_target(config, config_file)
    if registered is None:
        registered = output_schema_for(target.name, schemas_dir) if target and schemas_dir else None
    try:
        return target, choose_output_mapping(config, target, registered)
    except OutputMappingConfigError as err:
        path = "$." + err.where if not err.where.startswith("$") else err.where
        raise FactoryError(Problem(config_file, path, "output-mappings", err.detail, DOCS_HINT)) from None
