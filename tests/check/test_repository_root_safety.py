"""`--out .` in an existing repository: a tampered MANIFEST.json can never delete the repository's own files.

The README sets up a step-functions-agent repository with `generate --out .`,
so the output directory holds the schemas, README.md, pyproject.toml and the
repository's app.py. An entry naming one of them, even with its true hash
(anyone can compute it), is not a path the generator writes: `check` names it
as `unsafe-entry`, and `generate` and `check --fix` keep it and say so.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from check_project import Project
from factory.check.findings import UNSAFE_ENTRY
from factory.cli import main

VICTIMS = ("schemas/energy_tariff_quotes.json", "README.md", "pyproject.toml", "app.py")

# The shape of an existing app.py the --edit-app path needs: imports, then main() binding
# `environment`, `app` and `env` and ending in `app.synth()` (our own minimal text).
APP = '''#!/usr/bin/env python3
import os
import aws_cdk as cdk


def main():
    environment = os.environ.get("ENVIRONMENT", "prod")
    app = cdk.App()
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"))
    shared_llm_stack = object()
    agent_registry_stack = object()

    app.synth()


if __name__ == "__main__":
    main()
'''


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _repository(project: Project, form: str) -> Path:
    """The project root as a repository (README, pyproject choosing `form`, app.py), generated into."""
    root = project.root
    (root / "README.md").write_text("# our repository\n")
    config = f'[project]\nname = "ours"\n\n[tool.schema-factory]\nform = "{form}"\n'
    (root / "pyproject.toml").write_text(config)
    code, out = run("generate", "--out", ".")
    assert code == 0, out
    if form == "step-functions-agent":
        (root / "app.py").write_text(APP)
    return root


def _tamper_with_true_hashes(root: Path, victims: tuple[str, ...]) -> dict[str, bytes]:
    manifest = json.loads((root / "MANIFEST.json").read_text())
    before = {}
    for rel in victims:
        before[rel] = (root / rel).read_bytes()
        manifest["files"][rel] = {"sha256": hashlib.sha256(before[rel]).hexdigest(), "sources": []}
    (root / "MANIFEST.json").write_text(json.dumps(manifest, indent=2))
    return before


@pytest.mark.parametrize("command", [["generate"], ["check", "--fix"]])
def test_a_tampered_manifest_cannot_delete_repository_files(project: Project, command: list[str]) -> None:
    root = _repository(project, "step-functions-agent")
    before = _tamper_with_true_hashes(root, VICTIMS)
    code, out = run(*command, "--out", ".")
    assert code == 0, out
    assert {rel: (root / rel).read_bytes() for rel in VICTIMS} == before
    assert "\nremoved " not in "\n" + out
    for rel in VICTIMS:  # never silent, `check --fix` as `generate`
        assert f"kept {rel!r}" in out, out
    assert not set(VICTIMS) & set(json.loads((root / "MANIFEST.json").read_text())["files"])


def test_check_names_each_repository_file_the_manifest_lists(project: Project) -> None:
    root = _repository(project, "step-functions-agent")
    _tamper_with_true_hashes(root, VICTIMS)
    code, out = run("check", "--out", ".", "--json")
    assert code == 1, out
    findings = json.loads(out)["findings"]
    named = sorted(f["detail"].split("'")[1] for f in findings if f["kind"] == UNSAFE_ENTRY)
    assert named == sorted(VICTIMS)
    assert {f["path"] for f in findings if f["kind"] == UNSAFE_ENTRY} == {"MANIFEST.json"}


def test_standalone_out_dot_keeps_sources_too(project: Project) -> None:
    """In the standalone form app.py is ours (regenerated, never pruned); the sources are not."""
    root = _repository(project, "standalone")
    victims = ("schemas/energy_tariff_quotes.json", "README.md", "pyproject.toml")
    before = _tamper_with_true_hashes(root, victims)
    code, out = run("check", "--out", ".", "--json")
    assert code == 1
    named = [f["detail"].split("'")[1] for f in json.loads(out)["findings"] if f["kind"] == UNSAFE_ENTRY]
    assert sorted(named) == sorted(victims)
    code, out = run("generate", "--out", ".")
    assert code == 0, out
    assert {rel: (root / rel).read_bytes() for rel in victims} == before


def test_edit_app_keeps_the_mode_of_app_py(project: Project) -> None:
    root = _repository(project, "step-functions-agent")
    app = root / "app.py"
    os.chmod(app, 0o755)
    code, out = run("generate", "--out", ".", "--edit-app")
    assert code == 0, out
    assert "EnergyTariffQuotesStack(" in app.read_text()
    assert stat.S_IMODE(app.stat().st_mode) == 0o755
    os.chmod(app, 0o640)
    app.write_text(APP)
    code, out = run("generate", "--out", ".", "--edit-app")
    assert code == 0, out
    assert stat.S_IMODE(app.stat().st_mode) == 0o640
