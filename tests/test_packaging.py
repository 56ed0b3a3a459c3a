"""`pip install .` carries everything generate needs: templates_src and the meta-schema."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, SCHEMAS_DIR
from tests.emit.test_goldens import tree

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src") / "repo"
    # Build from a copy so no build/ or egg-info lands in the checkout.
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "node_modules", ".pytest_cache", "build", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(out)],
        check=True, capture_output=True,
    )
    (path,) = out.glob("schema_factory-*.whl")
    return path


def test_wheel_contains_templates_and_meta_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (REPO / "templates_src").iterdir():
        assert f"factory/templates_src/{template.name}" in names
    assert "factory/schema/meta_schema.json" in names
    for module in (REPO / "factory").rglob("*.py"):
        assert module.relative_to(REPO).as_posix() in names, f"{module} is not packaged"
    assert any(name.endswith("entry_points.txt") for name in names)


def test_installed_wheel_generates_the_same_tree(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    project = tmp_path / "project"
    shutil.copytree(SCHEMAS_DIR, project / "schemas")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, "-c", "import factory.cli; print(factory.cli.__file__); factory.cli.main()", "generate"],
        cwd=project, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(str(site)), "ran the checkout, not the wheel"
    assert tree(project / "generated") == tree(REPO / "generated")
