"""`schema-factory generate` end to end: writes, prunes, keeps others, fails cleanly."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from factory.errors import EXIT_INTERNAL, EXIT_USAGE, EXIT_USER_ERROR
from tests.conftest import REPO, SCHEMAS_DIR

BT = "broadband_availability_bt_wholesale"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_generate_defaults_to_schemas_into_generated(bundled_project: Path) -> None:
    result = run("generate")
    assert result.exit_code == 0, result.output
    assert (bundled_project / "generated" / "stacks" / "agents" / f"{BT}_stack.py").is_file()
    assert "4 schema(s): 30 written" in result.output
    manifest = json.loads((bundled_project / "generated" / "MANIFEST.json").read_text())
    assert manifest["schemas"][f"schemas/{BT}.json"]["version"] == "1.0.0"
    assert manifest["files"]["app.py"]["sources"] == sorted(f"schemas/{p.name}" for p in SCHEMAS_DIR.glob("*.json"))


def test_removed_schema_outputs_are_pruned_and_strays_kept(bundled_project: Path) -> None:
    assert run("generate").exit_code == 0
    stray = bundled_project / "generated" / "notes.txt"
    stray.write_text("mine")
    (bundled_project / "schemas" / f"{BT}.json").unlink()
    result = run("generate")
    assert result.exit_code == 0, result.output
    assert f"removed generated/templates/{BT}_v1.0.0.json" in result.output
    assert not (bundled_project / "generated" / "stacks" / "agents" / f"{BT}_stack.py").exists()
    assert stray.read_text() == "mine"
    assert BT not in (bundled_project / "generated" / "app.py").read_text()


def test_version_bump_replaces_the_old_template_file(bundled_project: Path) -> None:
    assert run("generate").exit_code == 0
    path = bundled_project / "schemas" / f"{BT}.json"
    document = json.loads(path.read_text())
    document["version"] = "1.1.0"
    path.write_text(json.dumps(document))
    result = run("generate")
    assert result.exit_code == 0
    templates = sorted(p.name for p in (bundled_project / "generated" / "templates").glob(f"{BT}_*"))
    assert templates == [f"{BT}_v1.1.0.json"]


def test_generating_one_schema_keeps_the_others(bundled_project: Path) -> None:
    assert run("generate").exit_code == 0
    before = (bundled_project / "generated" / "app.py").read_bytes()
    result = run("generate", f"schemas/{BT}.json")
    assert result.exit_code == 0, result.output
    assert (bundled_project / "generated" / "app.py").read_bytes() == before
    assert (bundled_project / "generated" / "stacks" / "agents" / "energy_tariff_quotes_stack.py").exists()


def test_invalid_schema_writes_nothing(bundled_project: Path) -> None:
    path = bundled_project / "schemas" / f"{BT}.json"
    path.write_text(path.read_text().replace('"timeout": 300', '"timeout": 0'))
    result = run("generate")
    assert result.exit_code == 1
    assert f"schemas/{BT}.json: $.browser_config.timeout: timeout must be > 0" in result.stderr
    assert not (bundled_project / "generated").exists()


def test_empty_schema_directory_is_a_clear_error(project: Path) -> None:
    result = run("generate")
    assert result.exit_code == 1
    assert "no schema files found" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_output_is_a_clear_error(bundled_project: Path) -> None:
    out = bundled_project / "locked"
    out.mkdir()
    out.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = run("generate", "--out", "locked")
    finally:
        out.chmod(stat.S_IRWXU)
    assert result.exit_code == 1
    assert "cannot write" in result.stderr and "Traceback" not in result.output


def test_output_path_that_is_a_file_is_a_clear_error(bundled_project: Path) -> None:
    (bundled_project / "out").mkdir()
    (bundled_project / "out" / "stacks").write_text("a file where a directory belongs")
    result = run("generate", "--out", "out")
    assert result.exit_code == 1
    assert "cannot write" in result.stderr and "Traceback" not in result.output


def test_python_dash_m_and_help(bundled_project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "factory", "--help"], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and "generate" in result.stdout and "validate" in result.stdout
    result = subprocess.run([sys.executable, "-m", "factory", "generate", "--help"], capture_output=True, text=True, env=env)
    assert "--out" in result.stdout and "deterministic" in result.stdout


def test_unexpected_errors_are_one_line_unless_debug(bundled_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import factory.generation

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(factory.generation, "generate_to_disk", explode)
    result = run("generate")
    assert result.exit_code == EXIT_INTERNAL == 70 and EXIT_INTERNAL not in (EXIT_USER_ERROR, EXIT_USAGE)
    assert result.stderr.strip().splitlines() == [
        "internal error: RuntimeError: disk on fire (rerun with --debug for the traceback)"
    ]
    result = run("--debug", "generate")
    assert isinstance(result.exception, RuntimeError)
