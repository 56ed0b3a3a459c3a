"""A user's own project, outside this repository, from the built wheel to `cdk synth`.

The journey a team makes on its first day: build the wheel, install it into a
fresh virtual environment, then in a new git repository: schemas, generate,
check, the pre-commit hook pasted from docs/check-and-hooks.md, a commit the
hook blocks (a breaking change without a major bump), a commit it lets through,
and synth with the CDK CLI that generate pinned in generated/ (`npm ci` there
reaches the npm registry).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SCHEMAS_DIR
from tests.test_deploy import fresh_venv

pytestmark = pytest.mark.slow
SCHEMA = "energy_tariff_quotes"


def hook_config() -> str:
    """The `.pre-commit-config.yaml` block of docs/check-and-hooks.md, as a user pastes it."""
    text = (REPO / "docs" / "check-and-hooks.md").read_text("utf-8")
    return text.split("```yaml\n", 1)[1].split("```", 1)[0]


def quick_start() -> list[str]:
    """The command lines of the README's "Quick start in your own project" block, comments removed."""
    text = (REPO / "README.md").read_text("utf-8").split("## Quick start in your own project\n", 1)[1]
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


class Shell:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env

    def __call__(
        self, *args: str, ok: bool = True, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            list(args), cwd=cwd or self.cwd, env=self.env, capture_output=True, text=True, timeout=900
        )
        if ok:
            assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done


def install_wheel(tmp_path: Path) -> Path:
    """The wheel `pip wheel` builds from a copy of the checkout, installed with the cdk extra, no index."""
    source = tmp_path / "source"
    for name in ("factory", "templates_src"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path / "wheel"),
            str(source),
        ],
        env=clean,
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "wheel").glob("schema_factory-*.whl")
    venv = fresh_venv(tmp_path)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index", f"{wheel}[cdk]"],
        env=clean,
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    return venv


def user_env(venv: Path, home: Path) -> dict[str, str]:
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PRE_COMMIT_HOME")
    env = {
        k: v for k, v in os.environ.items() if k not in dropped and not k.startswith(("AWS_", "CDK_", "GIT_"))
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        HOME=str(home),
        npm_config_cache=str(Path(os.environ.get("HOME", "~")).expanduser() / ".npm"),
        GIT_AUTHOR_NAME="u",
        GIT_AUTHOR_EMAIL="u@example.com",
        GIT_COMMITTER_NAME="u",
        GIT_COMMITTER_EMAIL="u@example.com",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def test_a_new_project_from_the_wheel_to_synth(tmp_path: Path) -> None:
    venv = install_wheel(tmp_path)
    project = tmp_path / "my-project"  # outside this repository: nothing of the checkout on any path
    (project / "schemas").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    sh = Shell(project, user_env(venv, tmp_path / "home"))
    assert sh("which", "schema-factory").stdout.strip() == str(venv / "bin" / "schema-factory")

    sh("git", "init", "-q", "-b", "main")
    shutil.copy(SCHEMAS_DIR / f"{SCHEMA}.json", project / "schemas" / f"{SCHEMA}.json")
    for line in quick_start():  # the README's quick start, as written
        done = sh(*shlex.split(line))
    assert "check: clean" in done.stdout
    (project / ".pre-commit-config.yaml").write_text(hook_config(), "utf-8")
    (project / ".gitignore").write_text("node_modules/\ncdk.out/\n", "utf-8")
    sh(str(venv / "bin" / "python"), "-m", "pre_commit", "install")
    sh("git", "add", "-A")
    sh("git", "commit", "-qm", "schemas and generated/")

    # A required output field removed, regenerated and staged, version kept: the hook blocks the commit.
    schema_path = project / "schemas" / f"{SCHEMA}.json"
    document = json.loads(schema_path.read_text("utf-8"))
    del document["output_schema"]["properties"]["quote_date"]
    document["output_schema"]["required"].remove("quote_date")
    schema_path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    sh("schema-factory", "generate")
    sh("git", "add", "-A")
    blocked = sh("git", "commit", "-qm", "breaking", ok=False)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert re.search(
        r"version-bump: since HEAD: needs a major bump; .*\[OUTPUT_FIELD_NO_DELETE\] "
        r"\(fix: set \"version\" to 3\.0\.0 or higher\)",
        output,
    ), output

    # The bump the finding asks for: the commit goes through.
    document["version"] = "3.0.0"
    schema_path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    sh("schema-factory", "generate")
    sh("git", "add", "-A")
    passed = sh("git", "commit", "-qm", "breaking, 3.0.0")
    assert "schema-factory check" in passed.stdout + passed.stderr

    # Synth with the CLI generate pinned: npm ci in generated/, then npx cdk runs that CLI, no prompt.
    generated = project / "generated"
    sh("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=generated)
    version = sh("npx", "--no-install", "cdk", "--version", cwd=generated).stdout
    pinned = json.loads((REPO / "package.json").read_text("utf-8"))["devDependencies"]["aws-cdk"]
    assert version.startswith(pinned), version
    synth = sh(
        "npx", "--no-install", "cdk", "synth", "--quiet", cwd=generated
    )  # no -c env: says which it used
    said = "app.py: environment dev (from the default; choose one with -c env=NAME or SCHEMA_FACTORY_ENV)"
    assert said in synth.stdout + synth.stderr
    templates = sorted(path.name for path in (generated / "cdk.out").glob("*.template.json"))
    assert any("energy" in name.lower() or "Energy" in name for name in templates), templates
    assert "check: clean" in sh("schema-factory", "check").stdout  # node_modules and cdk.out are not orphans
