"""The same schemas give byte-identical output on any run, any hash seed, any JSON layout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from factory.generation import generate_to_disk
from tests.conftest import REPO, SCHEMAS_DIR
from tests.emit.test_goldens import artifact_files, tree


def copy_bundled(root: Path) -> Path:
    shutil.copytree(SCHEMAS_DIR, root / "schemas")
    return root


def test_generating_twice_gives_identical_bytes_and_writes_nothing_the_second_time(project: Path) -> None:
    shutil.rmtree(project / "schemas")
    copy_bundled(project)
    first = generate_to_disk([Path("schemas")], Path("generated"))
    before = tree(project / "generated")
    second = generate_to_disk([Path("schemas")], Path("generated"))
    assert tree(project / "generated") == before
    assert first.report.written and second.report.written == []


def test_reformatted_json_gives_identical_artifacts(tmp_path: Path, monkeypatch) -> None:
    """Whitespace and key order of the JSON text do not matter; authored field order does."""
    a = copy_bundled(tmp_path / "a")
    b = tmp_path / "b"
    (b / "schemas").mkdir(parents=True)
    for path in SCHEMAS_DIR.glob("*.json"):
        document = json.loads(path.read_text("utf-8"))
        reordered = dict(reversed(list(document.items())))  # top-level sections in another order
        (b / "schemas" / path.name).write_text(
            json.dumps(reordered, indent=7, separators=(" ,", " :  ")), "utf-8"
        )
    for root in (a, b):
        monkeypatch.chdir(root)
        generate_to_disk([Path("schemas")], Path("generated"))
    tree_a, tree_b = tree(a / "generated"), tree(b / "generated")
    manifest_a = json.loads(tree_a.pop("MANIFEST.json"))
    manifest_b = json.loads(tree_b.pop("MANIFEST.json"))
    assert tree_a == tree_b
    assert manifest_a["files"] == manifest_b["files"]
    # Only the recorded source hashes differ: the source bytes did.
    for entry in (*manifest_a["schemas"].values(), *manifest_b["schemas"].values()):
        entry.pop("sha256")
    assert manifest_a["schemas"] == manifest_b["schemas"]


def test_output_is_independent_of_hash_seed_and_working_directory(tmp_path: Path) -> None:
    outputs = []
    for seed, cwd in (("1", tmp_path), ("4242", REPO / "factory")):
        out = tmp_path / f"out-{seed}"
        copy_bundled(out)
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "factory",
                "generate",
                str(out / "schemas"),
                "--out",
                str(out / "generated"),
            ],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
        )
        outputs.append(tree(out / "generated"))
    assert outputs[0] == outputs[1]


def test_files_are_lf_with_one_trailing_newline() -> None:
    for path in artifact_files(REPO / "generated"):
        data = path.read_bytes()
        assert b"\r" not in data, path
        assert data.endswith(b"\n") and not data.endswith(b"\n\n"), path
