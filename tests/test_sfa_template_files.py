"""The step-functions-agent form in place: no --out anywhere, and their template files stay theirs.

The existing repository keeps `templates/<name>_v<version>.json` as the bare
browser script, and its `make update-broadband-template` (Makefile at ffef93d,
lines ~643-650) hands that file to `scripts/register_template.py`. That
script's parsing, restated here as data (scripts/register_template.py at
ffef93d, `extract_metadata_from_template` lines 34-56 and the item built in
`register_template` lines ~124-145):

- template id and version: the file name without `.json`, split on `_v`
  (part 0 the id, part 1 the version; the version defaults to 1.0.0);
- profile: `template["session"]["profile_name"]`, default `"default"`;
- starting page: `template["starting_page"]`, default `""`;
- the item's `template`: the whole file, as JSON text.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import SCHEMAS_DIR

BT = "broadband_availability_bt_wholesale"
REGISTRY = ("--env", "local", "--backend", "sqlite", "--registry-file", "reg.sqlite")


def their_register_template_parse(path: Path) -> dict[str, Any]:
    """What scripts/register_template.py puts into TemplateRegistry for the file at `path` (see the docstring)."""
    data = json.loads(path.read_text("utf-8"))
    name_parts = path.name.replace(".json", "").split("_v")
    return {
        "template_id": name_parts[0] if len(name_parts) > 0 else "unknown",
        "version": name_parts[1] if len(name_parts) > 1 else "1.0.0",
        "profile_name": data.get("session", {}).get("profile_name", "default"),
        "starting_page": data.get("starting_page", ""),
        "template": data,
    }


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output  # stdout and stderr, as a terminal shows them


@pytest.fixture
def sfa_repo(project: Path) -> Path:
    """Every bundled schema in a repository that configures the form in schema-factory.toml."""
    for schema in sorted(SCHEMAS_DIR.glob("*.json")):
        shutil.copy(schema, project / "schemas" / schema.name)
    (project / "schema-factory.toml").write_text('form = "step-functions-agent"\n', "utf-8")
    return project


def test_every_command_defaults_to_the_project_root_in_the_configured_form(sfa_repo: Path) -> None:
    code, out = run("generate")
    assert code == 0, out
    assert not (sfa_repo / "generated").exists()
    assert (sfa_repo / "MANIFEST.json").is_file() and (
        sfa_repo / "stacks" / "agents" / f"{BT}_stack.py"
    ).is_file()
    code, out = run("check")
    assert code == 0 and "check: clean" in out, out
    code, out = run("register", *REGISTRY)
    assert code == 0, out
    assert not (sfa_repo / "generated").exists()


def test_their_register_script_reads_the_same_template_we_register(sfa_repo: Path) -> None:
    assert run("generate")[0] == 0
    code, out = run("register", *REGISTRY)
    assert code == 0, out
    files = sorted((sfa_repo / "templates").glob("*.json"))
    assert len(files) == 4
    for path in files:
        theirs = their_register_template_parse(path)
        code, shown = run("show", theirs["template_id"], "--version", theirs["version"], *REGISTRY)
        assert code == 0, shown
        ours = json.loads(shown)
        assert (theirs["template_id"], theirs["version"]) == (ours["template_id"], ours["version"])
        assert theirs["template"] == ours["template"]  # the very script their Makefile registers
        assert theirs["profile_name"] == ours["metadata"]["profile_name"] != "default"
        assert theirs["starting_page"] == ours["metadata"]["starting_url"] != ""
        assert theirs["template"]["steps"], path  # top-level steps: the executor runs them


def test_register_refuses_a_different_template_under_the_same_id_and_version(sfa_repo: Path) -> None:
    assert run("generate")[0] == 0
    assert run("register", *REGISTRY)[0] == 0
    schema_path = sfa_repo / "schemas" / f"{BT}.json"
    document = json.loads(schema_path.read_text("utf-8"))
    document["browser_config"]["starting_url"] = "https://example.com/another"  # the version kept
    schema_path.write_text(json.dumps(document, indent=2), "utf-8")
    assert run("generate")[0] == 0
    code, out = run("register", *REGISTRY)
    assert code == 1
    (line,) = {line for line in out.splitlines() if "already registered" in line}
    assert line.startswith(
        f"schemas/{BT}.json: $.version: version 1.0.0 of template {BT} is already registered"
    )
    assert "bump the schema's version (now 1.0.0)" in line
    (tool_line,) = {line for line in out.splitlines() if "ToolRegistry already holds" in line}
    assert (
        " in ToolRegistry-local in reg.sqlite (" in tool_line and "TemplateRegistry" not in tool_line
    ), tool_line
