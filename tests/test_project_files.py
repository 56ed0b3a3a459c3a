"""The generator fingerprint covers every module that decides generated output."""

from __future__ import annotations

import json
import subprocess
import sys

from factory import project_files
from tests.conftest import REPO

# Imported by the generator but without effect on the bytes it writes.
NO_EFFECT_ON_OUTPUT = {
    "factory/__init__.py",  # its __version__ is part of the fingerprint anyway
    "factory/errors.py",
    "factory/safe_io.py",  # how bytes reach the disk and are read back, never which bytes
    "factory/terminal.py",  # escapes what errors print
    "factory/rules.py",  # rule ids name problems; they never change what is written
    "factory/batch/__init__.py",
    "factory/runtime/__init__.py",
    "factory/runtime/value_checks.py",  # orchestrator tools check inputs with it at run time
}


def test_fingerprint_covers_every_generator_module() -> None:
    code = (
        "import json, sys; import factory.generation, factory.emit;"
        "print(json.dumps(sorted(m.__file__ for n, m in sys.modules.items()"
        " if n.startswith('factory') and getattr(m, '__file__', None))))"
    )
    files = json.loads(subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                                      check=True).stdout)
    imported = {str(__import__("pathlib").Path(f).resolve().relative_to(REPO).as_posix()) for f in files}
    covered = {name for name, _ in project_files._source_files()}
    assert imported - covered - NO_EFFECT_ON_OUTPUT == set()


def test_fingerprint_is_recorded_and_stable() -> None:
    manifest = json.loads((REPO / "generated" / "MANIFEST.json").read_text())
    assert manifest["generator_fingerprint"] == project_files.generator_fingerprint()


def test_manifest_from_another_build_of_the_generator_is_stale(bundled_project) -> None:
    """Emitter code changed but no schema did: check still asks for a regeneration."""
    from click.testing import CliRunner

    from factory.cli import main

    assert CliRunner().invoke(main, ["generate"]).exit_code == 0
    path = bundled_project / "generated" / "MANIFEST.json"
    manifest = json.loads(path.read_text())
    manifest["generator_fingerprint"] = "0" * 64
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert "generated/MANIFEST.json: stale:" in result.output + result.stderr
