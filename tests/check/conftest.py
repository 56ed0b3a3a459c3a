"""A throwaway project per test: the bundled schemas, generated once per session, copied."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_SCHEMAS = sorted((REPO_ROOT / "schemas").glob("*.json"))


@pytest.fixture(scope="session")
def generated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """schemas/ + generated/ made by the real generator, once per session."""
    import os

    from factory.generation import generate_to_disk

    root = tmp_path_factory.mktemp("template")
    (root / "schemas").mkdir()
    for schema in BUNDLED_SCHEMAS:
        shutil.copy(schema, root / "schemas" / schema.name)
    previous = Path.cwd()
    os.chdir(root)
    try:
        generate_to_disk([], Path("generated"))
    finally:
        os.chdir(previous)
    return root


class Project:
    """A copy of the template project, the current directory for the test."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def generated(self) -> Path:
        return self.root / "generated"

    def manifest(self) -> dict:
        return json.loads((self.generated / "MANIFEST.json").read_text())

    def files_of(self, extraction_name: str) -> dict[str, str]:
        """The generated files (relative to generated/) that one schema alone produces."""
        key = f"schemas/{extraction_name}.json"
        return {rel: rel for rel, entry in self.manifest()["files"].items() if entry["sources"] == [key]}

    def layer_file(self, extraction_name: str, prefix: str) -> Path:
        (rel,) = [rel for rel in self.files_of(extraction_name) if rel.startswith(prefix)]
        return self.generated / rel

    def schema(self, extraction_name: str) -> Path:
        return self.root / "schemas" / f"{extraction_name}.json"

    def edit_schema(self, extraction_name: str, change) -> None:
        path = self.schema(extraction_name)
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document, indent=2) + "\n")

    def record_hash(self, path: Path) -> None:
        """Make the manifest vouch for a hand-edited file, so only the layer check can catch it."""
        manifest = self.manifest()
        rel = path.relative_to(self.generated).as_posix()
        manifest["files"][rel]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        (self.generated / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")

    def run(self, *args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project(generated_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "project"
    shutil.copytree(generated_template, root)
    monkeypatch.chdir(root)
    return Project(root)
