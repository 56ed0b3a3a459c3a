"""Shared helpers for the check tests: the bundled schemas and a throwaway project.

Named uniquely (not `conftest`) so test modules can import it whatever other
conftest.py files the suite grows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from click.testing import CliRunner

from factory.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_SCHEMAS = sorted((REPO_ROOT / "schemas").glob("*.json"))


def make_template(root: Path) -> Path:
    """schemas/ + generated/ made by the real generator."""
    from factory.generation import generate_to_disk

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
