"""A finding's fix is a command people run as written: running it must clear the finding.

Each test reads the command out of the fix the check printed (the first
backticked `schema-factory ...`), runs exactly that, and checks again. A fix
that leaves out `--out DIR` would write a standalone tree into ./generated/
and leave the reported file as it is; a fix without `--force` for a file
`generate` refuses would loop.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from check_project import Project
from factory.check.findings import EDITED, LAYERS_DISAGREE, STALE
from factory.cli import main

COMMAND = re.compile(r"`schema-factory ([^`]*)`")


def findings(*args: str) -> list[dict]:
    result = CliRunner().invoke(main, ["check", *args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


def follow(fix: str) -> None:
    """Run the first command the fix names, exactly as written."""
    found = COMMAND.search(fix)
    assert found, fix
    result = CliRunner().invoke(main, shlex.split(found.group(1)))
    assert result.exit_code == 0, f"{found.group(0)}: {result.output}"


def _moved_to(project: Project, out: str) -> Path:
    target = project.root / out
    shutil.move(project.generated, target)
    assert findings("--out", out) == []
    return target


def _stack(out_dir: Path) -> Path:
    (stack,) = (out_dir / "stacks" / "agents").glob("energy_tariff_quotes_stack.py")
    return stack


def test_the_default_directory_keeps_the_plain_command(project: Project) -> None:
    stack = _stack(project.generated)
    stack.write_text(stack.read_text() + "# hand edit\n")
    (found,) = [item for item in findings() if item["kind"] == EDITED]
    assert "`schema-factory generate --force`" in found["fix"]
    follow(found["fix"])
    assert findings() == []


@pytest.mark.parametrize("out", ["build", "with space"])
def test_a_stale_file_fix_names_the_checked_directory(project: Project, out: str) -> None:
    _moved_to(project, out)
    project.edit_schema("energy_tariff_quotes", lambda doc: doc.update(description="Changed description"))
    stale = [item for item in findings("--out", out) if item["kind"] == STALE]
    assert stale
    quoted = shlex.quote(out)
    assert all(f"`schema-factory generate --out {quoted}`" in item["fix"] for item in stale), stale
    follow(stale[0]["fix"])
    assert findings("--out", out) == []
    assert not (project.root / "generated").exists()  # nothing written into the default directory


def test_an_edited_file_fix_names_the_directory_and_force(project: Project) -> None:
    out_dir = _moved_to(project, "build")
    stack = _stack(out_dir)
    stack.write_text(stack.read_text() + "# hand edit\n")
    (found,) = findings("--out", "build")
    assert found["kind"] == EDITED
    assert "`schema-factory generate --out build --force`" in found["fix"]
    follow(found["fix"])
    assert findings("--out", "build") == []
    assert "# hand edit" not in stack.read_text()


def test_a_file_the_manifest_does_not_list_says_so_and_its_fix_forces(project: Project) -> None:
    """`generate` refuses a file the manifest does not list: plain `generate` would loop on the refusal."""
    out_dir = _moved_to(project, "build")
    stack = _stack(out_dir)
    rel = stack.relative_to(out_dir).as_posix()
    stack.write_text(stack.read_text() + "# someone else's file\n")
    manifest = json.loads((out_dir / "MANIFEST.json").read_text())
    del manifest["files"][rel]
    (out_dir / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")

    (found,) = [item for item in findings("--out", "build") if item["path"] == f"build/{rel}"]
    assert found["kind"] == STALE
    assert "MANIFEST.json does not list it as written by schema-factory" in found["detail"]
    assert "`schema-factory generate --out build --force`" in found["fix"]
    refused = CliRunner().invoke(main, ["generate", "--out", "build"])
    assert (
        refused.exit_code == 1 and "does not list it" in refused.stderr
    )  # why plain generate is not the fix
    follow(found["fix"])
    assert findings("--out", "build") == []


def test_a_layer_finding_on_an_edited_file_fix_forces(project: Project) -> None:
    out_dir = _moved_to(project, "build")
    (mapping,) = (out_dir / "batch_mappings").glob("energy_tariff_quotes.yaml")
    mapping.write_text(
        mapping.read_text().replace("required_output_fields:", "required_output_fields: []\nx:", 1)
    )
    found = findings("--out", "build")
    kinds = {item["kind"] for item in found}
    assert {EDITED, LAYERS_DISAGREE} <= kinds, found
    layer = next(item for item in found if item["kind"] == LAYERS_DISAGREE)
    assert "`schema-factory generate --out build --force`" in layer["fix"]
    follow(layer["fix"])
    assert findings("--out", "build") == []


def test_a_repository_root_checked_with_out_dot(project: Project) -> None:
    """The step-functions-agent set-up: `generate --out .` into the repository, then `check --out .`."""
    root = project.root
    shutil.rmtree(project.generated)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "ours"\n\n[tool.schema-factory]\n' 'form = "step-functions-agent"\n'
    )
    assert CliRunner().invoke(main, ["generate", "--out", "."]).exit_code == 0
    stack = _stack(root)
    stack.write_text(stack.read_text() + "# hand edit\n")
    (found,) = findings("--out", ".")
    assert found["kind"] == EDITED
    assert "`schema-factory generate --force`" in found["fix"]  # the configured form's default is `.`
    assert findings() == [found]  # and check needs no --out either
    follow(found["fix"])
    assert findings("--out", ".") == findings() == []
    assert not (root / "generated").exists()
