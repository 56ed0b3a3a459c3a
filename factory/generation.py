"""`generate` and `validate` as functions returning data; the CLI only prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from factory.emit import GeneratedTree, generate
from factory.errors import FactoryError, Problem
from factory.output import SchemaEntry, WriteReport, write_tree
from factory.project_config import DEFAULT_FORM, STEP_FUNCTIONS_AGENT, FormChoice, resolve_form
from factory.project_files import (
    DEFAULT_SCHEMA_DIR,
    no_schemas_problem,
    read_manifest,
    schema_roots,
    sha256,
    source_key,
)
from factory.schema.loader import LoadedSchema, load_schemas

if TYPE_CHECKING:
    from factory.output_schemas import OutputSchemaFile


def validate_all(paths: list[Path]) -> tuple[list[LoadedSchema], list[Problem], list[OutputSchemaFile]]:
    """Canonical schemas and agent output-schema files under `paths`, with every problem of either.

    The output-schema loader is imported here, not with the module: `generate` does not need it.
    """
    from factory.output_schemas import check_output_schema_files, split_paths

    json_paths, yaml_files = split_paths(paths)
    loaded, problems = (
        load_schemas(json_paths or [DEFAULT_SCHEMA_DIR]) if json_paths or not yaml_files else ([], [])
    )
    output_schemas, output_problems = check_output_schema_files(json_paths + yaml_files, DEFAULT_SCHEMA_DIR)
    problems = problems + output_problems
    if not loaded and not problems and not output_schemas:
        problems = [no_schemas_problem(paths)]
    return loaded, problems, output_schemas


def load_valid(paths: list[Path]) -> list[LoadedSchema]:
    """Load schemas, or raise with every problem found in any of them."""
    loaded, problems = load_schemas(paths)
    if problems:
        raise FactoryError(problems)
    return loaded


def schema_set_for(paths: list[Path], out_dir: Path) -> list[Path]:
    """The schemas whose artifacts `out_dir` should hold after this run (see `schema_roots`)."""
    return schema_roots(paths, out_dir, read_manifest(out_dir))


def form_for(out_dir: Path, flag: str | None = None) -> FormChoice:
    """The agent form for `out_dir`: flag, project configuration, then what its manifest recorded."""
    return resolve_form(flag, read_manifest(out_dir))


def check_form(loaded: list[LoadedSchema], form: str) -> None:
    """Refuse what the chosen form cannot carry safely, with every problem at once."""
    if form == STEP_FUNCTIONS_AGENT:
        from factory.emit.sfa_agent_stack import form_problems

        problems = [p for item in loaded for p in form_problems(item.schema, item.source.display)]
        if problems:
            raise FactoryError(problems)


def generate_tree(
    loaded: list[LoadedSchema], out_dir: Path, form: str | None = None
) -> tuple[GeneratedTree, list[SchemaEntry]]:
    """The tree `generate` writes; without `form`, the one `form_for(out_dir)` names (as `check` asks)."""
    form = form_for(out_dir).form if form is None else form
    check_form(loaded, form)
    pairs = []
    entries = []
    for item in loaded:
        key = source_key(item.source.path, out_dir)
        pairs.append((key, item.schema))
        entries.append(
            SchemaEntry(key, item.schema.extraction_name, item.schema.version, sha256(item.source.data))
        )
    pairs.sort(key=lambda pair: pair[0])
    return generate(pairs, form), entries


@dataclass(frozen=True)
class GenerateResult:
    schemas: list[LoadedSchema]
    report: WriteReport
    form: FormChoice = FormChoice(DEFAULT_FORM, "default")


def generate_to_disk(
    paths: list[Path], out_dir: Path, form: str | None = None, force: bool = False
) -> GenerateResult:
    """Generate and write; `form` is the `--form` flag (None: the project's configured form).

    `force` is the `--force` flag: overwrite existing files the manifest does not vouch for.
    """
    choice = form_for(out_dir, form)
    loaded = load_valid(schema_set_for(paths, out_dir))
    if not loaded:
        raise FactoryError(no_schemas_problem(paths))
    tree, entries = generate_tree(loaded, out_dir, choice.form)
    return GenerateResult(loaded, write_tree(out_dir, tree, entries, force), choice)
