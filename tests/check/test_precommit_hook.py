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
        return subprocess.run(
            list(args), cwd=self.root, env=self.env, capture_output=True, text=True, check=check
        )

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

    # Regenerated, with the minor bump an added output field needs, the same change goes through.
    schema.write_text(schema.read_text().replace('"version": "2.0.1"', '"version": "2.1.0"'))
    done = repo.run(sys.executable, "-m", "factory", "generate", check=False)
    assert done.returncode == 0, done.stderr
    status, output = repo.commit("schema and outputs")
    assert status == 0, output

    # An invalid schema is rejected by both hooks.
    schema.write_text(schema.read_text().replace('"version": "2.1.0"', '"version": "two"'))
    status, output = repo.commit("bad version")
    assert status != 0
    assert "schemas/energy_tariff_quotes.json: invalid: $.version" in output
    assert "schemas/energy_tariff_quotes.json: $.version: version 'two'" in output  # validate's own format


def test_the_hook_enforces_the_version_rules_against_head_and_says_to_stage_generated(repo: Repo):
    """No --base: the staged schema is compared with HEAD's; a regenerated but unstaged generated/ is named."""
    status, output = repo.commit("generated tree")
    assert status == 0, output

    # A required output field removed, outputs regenerated and staged, the version kept: blocked.
    schema = repo.root / "schemas" / "energy_tariff_quotes.json"
    document = json.loads(schema.read_text())
    del document["output_schema"]["properties"]["quote_date"]
    document["output_schema"]["required"].remove("quote_date")
    schema.write_text(json.dumps(document, indent=2) + "\n")
    assert repo.run(sys.executable, "-m", "factory", "generate", check=False).returncode == 0
    status, output = repo.commit("breaking, no bump")
    assert status != 0
    line = next(line for line in output.splitlines() if ": version-bump: " in line)
    assert line.startswith(
        "schemas/energy_tariff_quotes.json: version-bump: since HEAD: needs a major bump; "
    )
    assert "'quote_date' was deleted" in line and "[OUTPUT_FIELD_NO_DELETE]" in line, line
    assert line.endswith('(fix: set "version" to 3.0.0 or higher)'), line

    # The bump made and generated again, but generated/ left unstaged: the hint says to stage it.
    document["version"] = "3.0.0"
    schema.write_text(json.dumps(document, indent=2) + "\n")
    repo.run("git", "add", "schemas")
    assert repo.run(sys.executable, "-m", "factory", "generate", check=False).returncode == 0
    done = repo.run("git", "commit", "-m", "bumped, generated/ not staged", check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "has unstaged changes, and the hook checks only what is staged" in output
    assert "run `git add generated` and commit again" in output

    # Only the changed files staged (`git add -u`): the new template file would be left out of the commit.
    repo.run("git", "add", "-u")
    done = repo.run("git", "commit", "-m", "new template file not staged", check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert (
        "generated/templates/energy_tariff_quotes_v3.0.0.json: stale: generated but not staged: the commit would "
        "leave it out (fix: run `git add generated` and commit again)"
    ) in output, output

    # Staged, it passes.
    status, output = repo.commit("bumped and generated")
    assert status == 0, output


def test_the_same_hooks_work_as_pasted_in_the_step_functions_agent_form(repo: Repo):
    """schema-factory.toml names the form: the hooks need no args, everything lives at the repository's root."""
    shutil.rmtree(repo.root / "generated")
    (repo.root / "schema-factory.toml").write_text('form = "step-functions-agent"\n')
    done = repo.run(sys.executable, "-m", "factory", "generate", check=False)
    assert done.returncode == 0, done.stderr
    assert (repo.root / "MANIFEST.json").is_file() and not (repo.root / "generated").exists()
    status, output = repo.commit("the form in place")
    assert status == 0, output

    stack = repo.root / "stacks" / "agents" / "energy_tariff_quotes_stack.py"
    stack.write_text(stack.read_text() + "# hand edit\n")
    status, output = repo.commit("hand edit")
    assert status != 0
    assert "stacks/agents/energy_tariff_quotes_stack.py: edited: " in output
    assert "`schema-factory generate --force`" in output  # no --out: the configured form's default
