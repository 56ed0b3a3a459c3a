"""The real `pre-commit` in a throwaway git repository blocks inconsistent commits.

The hooks are `language: system` calling `python -m factory` (the published
`language: python` hooks would need the package index to build their venv).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from check_project import REPO_ROOT

CONFIG = f"""\
repos:
  - repo: local
    hooks:
      - id: schema-factory-check
        name: schema-factory check
        entry: {sys.executable} -m factory check
        language: system
        files: ^(schemas/.+\\.json|generated/.+)$
        pass_filenames: false
        always_run: true
      - id: schema-factory-validate
        name: schema-factory validate
        entry: {sys.executable} -m factory validate
        language: system
        files: ^schemas/.+\\.json$
        pass_filenames: true
"""


class Repo:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=self.root, env=self.env, capture_output=True, text=True, check=check)

    def commit(self, message: str) -> tuple[int, str]:
        """Exit status and everything the commit printed (the hook output goes to either stream)."""
        self.run("git", "add", "-A")
        done = self.run("git", "commit", "-m", message, check=False)
        return done.returncode, done.stdout + done.stderr


@pytest.fixture
def repo(generated_template: Path, tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    shutil.copytree(generated_template, root)
    (root / ".pre-commit-config.yaml").write_text(CONFIG)
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        }
    )
    repo = Repo(root, env)
    repo.run("git", "init", "-q", "-b", "main")
    repo.run(sys.executable, "-m", "pre_commit", "install")
    return repo


def test_commits_are_checked_by_the_real_pre_commit(repo: Repo):
    status, output = repo.commit("generated tree")
    assert status == 0, output
    assert "schema-factory check...." in output and "Passed" in output

    # A hand-edited generated file is rejected, with the finding printed.
    tool_specs = repo.root / "generated" / "tool_specs" / "energy_tariff_quotes.json"
    tool_specs.write_text(tool_specs.read_text().replace("Return the result", "Give back the result"))
    status, output = repo.commit("hand edit")
    assert status != 0
    assert "Failed" in output
    assert "generated/tool_specs/energy_tariff_quotes.json: edited: " in output
    repo.run("git", "checkout", "HEAD", "--", "generated")  # the index holds the edit (`git add -A`)

    # A changed schema whose outputs were not regenerated is rejected.
    schema = repo.root / "schemas" / "energy_tariff_quotes.json"
    document = json.loads(schema.read_text())
    document["output_schema"]["properties"]["standing_charge"] = {"type": "number"}
    schema.write_text(json.dumps(document, indent=2) + "\n")
    status, output = repo.commit("schema only")
    assert status != 0
    assert "generated/stacks/agents/energy_tariff_quotes_stack.py: stale: " in output
    assert "schema-factory validate...." in output and "Passed" in output

    # Regenerated, the same change goes through.
    done = repo.run(sys.executable, "-m", "factory", "generate", check=False)
    assert done.returncode == 0, done.stderr
    status, output = repo.commit("schema and outputs")
    assert status == 0, output

    # An invalid schema is rejected by both hooks.
    schema.write_text(schema.read_text().replace('"version": "2.0.1"', '"version": "two"'))
    status, output = repo.commit("bad version")
    assert status != 0
    assert "schemas/energy_tariff_quotes.json: invalid: $.version" in output
    assert "schemas/energy_tariff_quotes.json: $.version: version 'two'" in output  # validate's own format
