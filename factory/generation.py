"""`generate` and `validate` as functions returning data; the CLI only prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from factory.emit import GeneratedTree, generate
from factory.errors import FactoryError, Problem
from factory.output import SchemaEntry, WriteReport, write_tree
from factory.project_files import (
    DEFAULT_SCHEMA_DIR,
    no_schemas_problem,
    read_manifest,
    schema_roots,
    sha256,
    source_key,
)
from factory.schema.loader import LoadedSchema, load_schemas

DEFAULT_OUT_DIR = Path("generated")


def validate_paths(paths: list[Path]) -> tuple[list[LoadedSchema], list[Problem]]:
    """Every problem of the schemas under `paths`; no schema at all is one (as for generate and check)."""
    loaded, problems = load_schemas(paths or [DEFAULT_SCHEMA_DIR])
    if not loaded and not problems:
        problems = [no_schemas_problem(paths)]
    return loaded, problems


def load_valid(paths: list[Path]) -> list[LoadedSchema]:
    """Load schemas, or raise with every problem found in any of them."""
    loaded, problems = load_schemas(paths)
    if problems:
        raise FactoryError(problems)
    return loaded


def schema_set_for(paths: list[Path], out_dir: Path) -> list[Path]:
    """The schemas whose artifacts `out_dir` should hold after this run (see `schema_roots`)."""
    return schema_roots(paths, out_dir, read_manifest(out_dir))


def generate_tree(loaded: list[LoadedSchema], out_dir: Path) -> tuple[GeneratedTree, list[SchemaEntry]]:
    pairs = []
    entries = []
    for item in loaded:
        key = source_key(item.source.path, out_dir)
        pairs.append((key, item.schema))
        entries.append(SchemaEntry(key, item.schema.extraction_name, item.schema.version, sha256(item.source.data)))
    pairs.sort(key=lambda pair: pair[0])
    return generate(pairs), entries


@dataclass(frozen=True)
class GenerateResult:
    schemas: list[LoadedSchema]
    report: WriteReport


def generate_to_disk(paths: list[Path], out_dir: Path) -> GenerateResult:
    loaded = load_valid(schema_set_for(paths, out_dir))
    if not loaded:
        raise FactoryError(no_schemas_problem(paths))
    tree, entries = generate_tree(loaded, out_dir)
    return GenerateResult(loaded, write_tree(out_dir, tree, entries))
