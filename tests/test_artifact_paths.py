"""Generated paths have one source: the rows of `factory.artifacts`, each paired with its emitter.

Pruning (`foreign_manifest_path`), the check (`paths_generated`, the layer
files), `register` and `batch` all derive paths from those rows. These tests
hold the rows, the emitters and the derived sets equal, on the bundled
schemas and on one with an authored agent name and a multi-digit version, and
keep any other module from spelling a generated path itself.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from factory import artifacts
from factory.emit import FORM_EMITTERS, FORM_SCHEMA_EMITTERS, SCHEMA_EMITTERS, SET_EMITTERS, generate
from factory.names import SchemaView
from factory.project_config import STANDALONE, STEP_FUNCTIONS_AGENT
from factory.project_files import foreign_manifest_path
from factory.schema.loader import load_schemas
from factory.schema.model import CanonicalSchema

REPO = Path(__file__).resolve().parents[1]
FORMS = [STANDALONE, STEP_FUNCTIONS_AGENT]


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, CanonicalSchema]]:
    bundled = sorted((REPO / "schemas").glob("*.json"))
    named = json.loads(bundled[0].read_text())
    named.update(extraction_name="x9_named", version="10.0.20", agent={"name": "z-0-custom"})
    extra = tmp_path_factory.mktemp("schemas") / "x9_named.json"
    extra.write_text(json.dumps(named))
    loaded, problems = load_schemas([*bundled, extra])
    assert not problems
    return [(item.source.path, item.schema) for item in loaded]


def _tree(schemas: list[tuple[Path, CanonicalSchema]], form: str) -> dict[str, bytes]:
    return generate([(path.name, schema) for path, schema in schemas], form).files


@pytest.mark.parametrize("form", FORMS)
def test_the_paths_derived_from_the_table_are_exactly_what_generate_writes(schemas, form: str) -> None:
    models = [schema for _, schema in schemas]
    views = [SchemaView.of(json.loads(path.read_text())) for path, _ in schemas]
    written = set(_tree(schemas, form))
    assert "registry/agents/z-0-custom.json" in written and "templates/x9_named_v10.0.20.json" in written
    assert artifacts.paths_generated(models, form) == written
    assert artifacts.paths_generated(views, form) == written  # the light view a raw document gives
    assert artifacts.paths_generated([], form) == set() == set(_tree([], form))


@pytest.mark.parametrize("form", FORMS)
def test_each_emitter_writes_the_paths_of_its_row_and_no_other(schemas, form: str) -> None:
    models = [schema for _, schema in schemas]
    per_schema, per_set = artifacts.FORMS[form]
    emit_schema, emit_set = FORM_EMITTERS[form]
    assert len(per_schema) == len(emit_schema) and len(per_set) == len(emit_set)
    for artifact, emit in zip(per_schema, emit_schema):
        for schema in models:
            assert list(emit(schema)) == [artifact.at(schema)], artifact.kind
    for artifact, emit_all in zip(per_set, emit_set):
        assert set(emit_all(models)) == artifact.paths(models), artifact.kind
    for rel in _tree(schemas, form):
        found = artifacts.artifact_at(rel, form)
        assert found is not None and rel in found.paths(models), rel


def test_every_emitter_has_its_row_in_a_form() -> None:
    in_forms = {
        artifact for per_schema, per_set in artifacts.FORMS.values() for artifact in per_schema + per_set
    }
    assert in_forms == set(SCHEMA_EMITTERS) | set(SET_EMITTERS)
    assert all(set(overrides) <= set(SCHEMA_EMITTERS) for overrides in FORM_SCHEMA_EMITTERS.values())
    assert len({artifact.kind for artifact in in_forms}) == len(in_forms)


@pytest.mark.parametrize("form", FORMS)
def test_pruning_acts_only_on_the_paths_of_the_form(schemas, form: str) -> None:
    for rel in _tree(schemas, form):
        assert foreign_manifest_path(rel, form) is None, rel
    other = STANDALONE if form == STEP_FUNCTIONS_AGENT else STEP_FUNCTIONS_AGENT
    for rel in set(_tree(schemas, other)) - set(_tree(schemas, form)):
        kind = artifacts.artifact_at(rel, other).kind  # type: ignore[union-attr]
        assert kind in ("CDK app", "CDK CLI pin"), rel
        assert foreign_manifest_path(rel, form) == f"is the repository's own {kind} in the {form} form", rel
    for rel in [
        "README.md",
        "schemas/x.json",
        "stacks/agents/x.txt",
        "templates/a_v1.json",
        "registry/agents/A.json",
        "tool_specs/sub/a.json",
        "tool_specs/_other.json",
        "output_schemas/a_b.yaml",
    ]:
        assert foreign_manifest_path(rel, form) == "is not a path schema-factory generates", rel


GENERATED_DIRECTORY = re.compile(
    r"(?:^|\W)(?:stacks/agents|templates|tool_specs|batch_mappings|registry/agents|" r"output_schemas)/"
)


def _spelled_paths(path: Path) -> list[str]:
    """String constants (docstrings aside) of `path` that spell a generated file's directory."""
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and GENERATED_DIRECTORY.search(node.value)
    ]


def test_only_names_spells_a_generated_path() -> None:
    spelled = [
        hit
        for path in sorted((REPO / "factory").rglob("*.py"))
        if path.name != "names.py"
        for hit in _spelled_paths(path)
    ]
    assert spelled == [], "derive it from factory.artifacts (or a path function of factory.names)"
    assert _spelled_paths(REPO / "factory" / "names.py")  # the scan does see them where they are
