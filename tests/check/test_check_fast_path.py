"""The fast path imports nothing heavy, and its stdlib mirrors agree with the generator's own code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from check_project import BUNDLED_SCHEMAS, REPO_ROOT

HEAVY = ("jinja2", "black", "pydantic", "jsonschema", "boto3")

PROBE = f"""
import json, sys
sys.argv = ["schema-factory", "check"]
from factory.cli import main
try:
    main()
except SystemExit as exit:
    code = exit.code
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({HEAVY!r}))
print(json.dumps({{"exit": code, "heavy": heavy}}))
"""


def probe(root: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_clean_check_imports_no_heavy_module(project):
    assert probe(project.root) == {"exit": 0, "heavy": []}


def test_a_changed_hash_takes_the_slow_path_which_does_import_them(project):
    project.edit_schema("energy_tariff_quotes", lambda d: d.update(description="changed"))
    outcome = probe(project.root)
    assert outcome["exit"] == 1
    assert {"jinja2", "black", "pydantic", "jsonschema"} <= set(outcome["heavy"])


def test_fast_path_mirrors_match_the_generator(project):
    from factory.check import scan
    from factory.generation import schema_set_for
    from factory.project_files import source_key
    from factory.schema.loader import display_path, schema_files

    out = Path("generated")
    manifest = scan.read_manifest(out)
    one = [Path("schemas/energy_tariff_quotes.json")]
    for paths in ([], one):
        # load_schemas reads each file once, in first-seen order
        expected: list[Path] = []
        for path in schema_files(schema_set_for(paths, out)):
            if path.resolve() not in [p.resolve() for p in expected]:
                expected.append(path)
        snapshot = scan.take_snapshot(paths, out)
        assert [s.path.resolve() for s in snapshot.schemas] == [p.resolve() for p in expected]
        assert [s.key for s in snapshot.schemas] == [source_key(p, out) for p in expected]
        assert [s.display for s in snapshot.schemas] == [display_path(p) for p in expected]
        assert set(s.key for s in snapshot.schemas) == set(manifest["schemas"])
        assert snapshot.fast_path_clean


@pytest.mark.parametrize("schema_file", BUNDLED_SCHEMAS, ids=lambda p: p.stem)
def test_light_readers_agree_with_the_model(schema_file):
    """standard_form and the name view give what the pydantic model and names.* give."""
    from factory import names
    from factory.check.layers import SchemaView, layer_paths
    from factory.schema.diff import standard_form
    from factory.schema.loader import load_schemas

    (loaded,), problems = load_schemas([schema_file])
    assert not problems
    model, document = loaded.schema, json.loads(schema_file.read_text())
    assert standard_form(document["output_schema"]) == model.output_schema.to_json_schema()
    assert standard_form(document["input_schema"]) == model.input_schema.to_json_schema()
    assert list(standard_form(document["output_schema"])["properties"]) == model.output_schema.field_names()
    assert sorted(layer_paths(SchemaView.of(document)).values()) == sorted(
        [
            names.stack_path(model),
            names.template_path(model),
            names.tool_specs_path(model),
            names.batch_mapping_path(model),
            names.agent_record_path(model),
        ]
    )


def test_build_output_beside_generated_files_is_ignored(project):
    (project.generated / "cdk.out").mkdir()
    (project.generated / "cdk.out" / "manifest.json").write_text("{}")
    (project.generated / "__pycache__").mkdir()
    (project.generated / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    assert project.run("check").exit_code == 0
