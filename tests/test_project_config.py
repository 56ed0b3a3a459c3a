"""Which form a project generates: --form, schema-factory.toml, pyproject.toml, the manifest, the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.errors import FactoryError
from factory.project_config import (
    DEFAULT_FORM,
    STANDALONE,
    STEP_FUNCTIONS_AGENT,
    configured_form,
    resolve_form,
)

SFA_MANIFEST = {"form": STEP_FUNCTIONS_AGENT, "schemas": {}, "files": {}}


def write(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text, "utf-8")


def test_default_is_standalone(tmp_path: Path) -> None:
    choice = resolve_form(None, None, tmp_path)
    assert (choice.form, choice.origin) == (STANDALONE, "default") and DEFAULT_FORM == STANDALONE


def test_pyproject_table(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.schema-factory]\nform = "step-functions-agent"\n')
    choice = resolve_form(None, None, tmp_path)
    assert (choice.form, choice.origin) == (STEP_FUNCTIONS_AGENT, "pyproject.toml [tool.schema-factory]")


def test_pyproject_without_our_table_is_no_setting(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n[tool.black]\nline-length = 110\n')
    assert configured_form(tmp_path) is None


def test_own_file_beats_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.schema-factory]\nform = "step-functions-agent"\n')
    write(tmp_path, "schema-factory.toml", 'form = "standalone"\n')
    assert resolve_form(None, None, tmp_path).form == STANDALONE
    assert resolve_form(None, None, tmp_path).origin == "schema-factory.toml"


def test_own_file_without_form_falls_through_to_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "schema-factory.toml", "")
    write(tmp_path, "pyproject.toml", '[tool.schema-factory]\nform = "step-functions-agent"\n')
    assert resolve_form(None, None, tmp_path).form == STEP_FUNCTIONS_AGENT


def test_flag_beats_every_file(tmp_path: Path) -> None:
    write(tmp_path, "schema-factory.toml", 'form = "step-functions-agent"\n')
    assert resolve_form(STANDALONE, SFA_MANIFEST, tmp_path).form == STANDALONE


def test_configuration_beats_the_manifest(tmp_path: Path) -> None:
    write(tmp_path, "schema-factory.toml", 'form = "standalone"\n')
    assert resolve_form(None, SFA_MANIFEST, tmp_path).form == STANDALONE


def test_manifest_remembers_the_form_when_nothing_is_configured(tmp_path: Path) -> None:
    choice = resolve_form(None, SFA_MANIFEST, tmp_path)
    assert (choice.form, choice.origin) == (STEP_FUNCTIONS_AGENT, "MANIFEST.json")
    assert resolve_form(None, {"schemas": {}, "files": {}}, tmp_path).form == STANDALONE


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("schema-factory.toml", 'form = "lambda"\n', "$.form"),
        ("schema-factory.toml", 'form = "standalone"\nout = "x"\n', "$.out"),
        ("schema-factory.toml", "form = [\n", "$"),
        ("pyproject.toml", '[tool]\nschema-factory = "standalone"\n', "$.tool.schema-factory"),
        ("pyproject.toml", '[tool.schema-factory]\nform = 3\n', "$.tool.schema-factory.form"),
    ],
)
def test_bad_settings_are_one_clear_problem(tmp_path: Path, name: str, text: str, where: str) -> None:
    write(tmp_path, name, text)
    with pytest.raises(FactoryError) as caught:
        resolve_form(None, None, tmp_path)
    (problem,) = caught.value.problems
    assert (Path(problem.file).name, problem.json_path) == (name, where)
    assert "\n" not in problem.render()


def test_unknown_flag_value(tmp_path: Path) -> None:
    with pytest.raises(FactoryError):
        resolve_form("cdk", None, tmp_path)
