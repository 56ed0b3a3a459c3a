"""A tampered MANIFEST.json can never make `generate` or `check --fix` delete a file it does not own.

The manifest comes from the repository, so a merge can put anything in its
`files`. Pruning deletes only regular files strictly inside the output
directory whose bytes still hash to the recorded hash; every other entry is
reported and left alone, and `check` names entries that are not plain paths.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from check_project import Project
from factory.check.findings import UNSAFE_ENTRY
from factory.cli import main

BT = "broadband_availability_bt_wholesale"


def _tamper(project: Project, entries: dict[str, str]) -> None:
    manifest = project.manifest()
    for rel, digest in entries.items():
        manifest["files"][rel] = {"sha256": digest, "sources": [f"schemas/{BT}.json"]}
    (project.generated / "MANIFEST.json").write_text(json.dumps(manifest, indent=2))


def run_check():
    result = CliRunner().invoke(main, ["check", "--json"])
    return result, json.loads(result.output)["findings"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", [["generate"], ["check", "--fix"]])
def test_entries_outside_the_output_directory_are_never_deleted(project: Project, command: list[str]) -> None:
    victim = project.root / "victim.txt"
    victim.write_text("precious")
    outside = project.root.parent / "outside.txt"
    outside.write_text("precious too")
    schema = project.root / "schemas" / f"{BT}.json"
    _tamper(project, {
        "../victim.txt": _digest(victim),                  # right hash, wrong place
        str(outside.resolve()): _digest(outside),           # absolute
        f"../schemas/{BT}.json": _digest(schema),           # a schema source
        "stacks/../../victim.txt": "0" * 64,
    })
    result = CliRunner().invoke(main, command)
    assert victim.read_text() == "precious"
    assert outside.read_text() == "precious too"
    assert schema.is_file()
    assert "\nremoved " not in "\n" + result.output
    # The rewritten manifest no longer lists them: the check is clean afterwards.
    assert not [rel for rel in project.manifest()["files"] if ".." in rel or rel.startswith("/")]
    if command == ["generate"]:
        assert result.exit_code == 0, result.output
        assert "kept '../victim.txt'" in result.output


def test_check_names_every_unsafe_entry(project: Project) -> None:
    victim = project.root / "victim.txt"
    victim.write_text("precious")
    _tamper(project, {"../victim.txt": _digest(victim), "/etc/passwd": "0" * 64, "a//b": "0" * 64})
    result, findings = run_check()
    assert result.exit_code == 1
    unsafe = sorted(f["detail"].split("'")[1] for f in findings if f["kind"] == UNSAFE_ENTRY)
    assert unsafe == ["../victim.txt", "/etc/passwd", "a//b"]
    assert all(f["path"] == "generated/MANIFEST.json" for f in findings if f["kind"] == UNSAFE_ENTRY)
    assert victim.is_file()


def test_a_hand_written_file_listed_with_a_wrong_hash_is_kept(project: Project) -> None:
    mine = project.generated / "stacks" / "agents" / "mine_stack.py"
    mine.write_text("# my own code\n")
    _tamper(project, {"stacks/agents/mine_stack.py": "0" * 64})
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    assert mine.read_text() == "# my own code\n"
    assert "kept 'stacks/agents/mine_stack.py'" in result.output and "hash" in result.output


def test_a_symlink_out_of_the_output_directory_is_not_followed(project: Project) -> None:
    victim = project.root / "victim.txt"
    victim.write_text("precious")
    link = project.generated / "templates" / "old_v1.0.0.json"
    os.symlink(victim, link)
    _tamper(project, {"templates/old_v1.0.0.json": _digest(victim)})
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious"
    assert link.is_symlink()


def test_a_symlinked_directory_cannot_carry_writes_outside(project: Project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    templates = project.generated / "templates"
    for child in templates.iterdir():
        child.unlink()
    templates.rmdir()
    os.symlink(elsewhere, templates)
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 1
    assert "generated/templates/" in result.output and "outside the output directory" in result.output
    assert list(elsewhere.iterdir()) == []


def test_pruning_still_removes_what_it_wrote(project: Project) -> None:
    (project.root / "schemas" / f"{BT}.json").unlink()
    owned = [project.generated / rel for rel in project.files_of(BT)]
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    assert not any(path.exists() for path in owned)


def test_check_with_out_dot_never_suggests_deleting_sources(project: Project) -> None:
    (project.root / "README.md").write_text("# notes\n")
    (project.root / "generated" / ".DS_Store").write_bytes(b"\0\1")
    assert CliRunner().invoke(main, ["generate", "--out", "."]).exit_code == 0
    (project.root / ".DS_Store").write_bytes(b"\0\1")
    (project.root / "schemas" / ".draft.json.swp").write_bytes(b"\0")
    result = CliRunner().invoke(main, ["check", "--out", ".", "--json"])
    findings = json.loads(result.output)["findings"]
    paths = [f["path"] for f in findings]
    assert not [p for p in paths if p.startswith("schemas/") or p in ("README.md", ".DS_Store")], paths
    assert not [p for p in paths if p.startswith("generated/")], paths
    assert result.exit_code == 0, result.output


def test_hidden_files_are_not_orphans(project: Project) -> None:
    (project.generated / ".DS_Store").write_bytes(b"\0\1")
    (project.generated / "stacks" / ".app.py.swp").write_bytes(b"\0")
    result, findings = run_check()
    assert result.exit_code == 0, findings


def test_check_with_out_dot_and_schemas_elsewhere_calls_no_source_an_orphan(project: Project) -> None:
    (project.root / "README.md").write_text("# notes\n")
    site = project.root / "site"
    site.mkdir()
    os.chdir(site)
    (site / "index.html").write_text("<p>mine</p>\n")
    assert CliRunner().invoke(main, ["generate", "--out", ".", "../schemas"]).exit_code == 0
    result = CliRunner().invoke(main, ["check", "--out", ".", "../schemas", "--json"])
    paths = [f["path"] for f in json.loads(result.output)["findings"]]
    assert "index.html" not in paths and result.exit_code == 0, result.output


def _outside_schema(project: Project) -> Path:
    """A valid schema outside the project: what a tampered `schemas` key would have generate read."""
    outside = project.root.parent / "outside"
    outside.mkdir(exist_ok=True)
    document = json.loads(project.schema(BT).read_text())
    document["extraction_name"] = "secret_schema"
    document.pop("agent", None)
    path = outside / "secret_schema.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def _tamper_schemas(project: Project, keys: list[str]) -> None:
    manifest = project.manifest()
    for key in keys:
        manifest["schemas"][key] = {"extraction_name": "secret_schema", "version": "1.0.0",
                                    "sha256": "0" * 64}
    (project.generated / "MANIFEST.json").write_text(json.dumps(manifest))


def test_a_tampered_schema_entry_is_never_read_as_a_schema(project: Project) -> None:
    """`schemas` keys are .json names here, so only the path rules (not the suffix) keep them out."""
    secret = _outside_schema(project)
    (project.root / "schemas" / "linked").mkdir()
    os.symlink(secret, project.root / "schemas" / "linked" / "secret_schema.json")
    _tamper_schemas(project, [
        str(secret),
        "../outside/secret_schema.json",
        "schemas/../../outside/secret_schema.json",
        "schemas/linked/secret_schema.json",  # a plain path, but a symbolic link out of the project
    ])
    named = f"schemas/{BT}.json"  # naming schemas keeps the others the manifest records
    for command in (["generate", named], ["check", named], ["check", "--fix", named]):
        result = CliRunner().invoke(main, command)
        assert "secret_schema_stack" not in result.output, result.output
        assert not list(project.generated.rglob("*secret*")), command
    manifest = project.manifest()
    assert not [key for key in manifest["schemas"] if "secret" in key]


def test_check_names_a_schema_key_that_leaves_the_project(project: Project) -> None:
    secret = _outside_schema(project)
    _tamper_schemas(project, ["../outside/secret_schema.json", str(secret)])
    result, findings = run_check()
    assert result.exit_code == 1
    unsafe = sorted(f["detail"].split("'")[1] for f in findings if f["kind"] == UNSAFE_ENTRY)
    assert unsafe == sorted(["../outside/secret_schema.json", str(secret)])
    assert all("never reads it as a schema" in f["detail"] for f in findings if f["kind"] == UNSAFE_ENTRY)


def test_a_schema_named_outside_the_project_is_not_an_unsafe_key(project: Project) -> None:
    """The manifest records `../outside/x.json` for a schema the user named: its own key, not a finding."""
    secret = _outside_schema(project)
    assert CliRunner().invoke(main, ["generate", "schemas", str(secret)]).exit_code == 0
    assert "../outside/secret_schema.json" in project.manifest()["schemas"]
    result = CliRunner().invoke(main, ["check", "schemas", str(secret)])
    assert result.exit_code == 0, result.output


def test_an_entry_that_is_not_a_generated_path_is_kept_whatever_its_hash(project: Project) -> None:
    """A true hash proves nothing: only paths the generator writes are ever pruned."""
    notes = project.generated / "notes" / "todo.md"
    notes.parent.mkdir()
    notes.write_text("mine\n")
    tool = project.generated / "tool_specs" / "mine.yaml"
    tool.write_text("mine: 1\n")
    _tamper(project, {"notes/todo.md": _digest(notes), "tool_specs/mine.yaml": _digest(tool)})
    _, findings = run_check()
    assert sorted(f["detail"].split("'")[1] for f in findings if f["kind"] == UNSAFE_ENTRY) == [
        "notes/todo.md", "tool_specs/mine.yaml"]
    for command in (["generate"], ["check", "--fix"]):
        result = CliRunner().invoke(main, command)
        assert notes.read_text() == "mine\n" and tool.read_text() == "mine: 1\n"
        assert "\nremoved " not in "\n" + result.output
    _tamper(project, {"notes/todo.md": _digest(notes)})
    result = CliRunner().invoke(main, ["check", "--fix"])
    assert "kept 'notes/todo.md'" in result.output and "not a path schema-factory generates" in result.output
    assert notes.is_file()


def test_a_symlinked_subfolder_gets_no_folder_made_through_it(project: Project, tmp_path: Path) -> None:
    """The inside check runs before mkdir: refusing afterwards would leave `elsewhere/agents/` behind."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stacks = project.generated / "stacks"
    for child in sorted(stacks.rglob("*"), reverse=True):
        child.rmdir() if child.is_dir() else child.unlink()
    stacks.rmdir()
    os.symlink(elsewhere, stacks)
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 1
    assert "outside the output directory" in result.output
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("form", ["standalone", "step-functions-agent"])
def test_the_layout_is_every_path_the_generator_writes(form: str, tmp_path: Path) -> None:
    """`GENERATED_LAYOUT` and the emitters agree: every emitted path is one, and nothing else is."""
    from factory.emit import generate
    from factory.project_files import foreign_manifest_path
    from factory.schema.loader import load_schemas
    from check_project import BUNDLED_SCHEMAS

    named = json.loads(BUNDLED_SCHEMAS[0].read_text())
    named["extraction_name"] = "x9_named"
    named["version"] = "10.0.20"
    named["agent"] = {"name": "z-0-custom"}
    (tmp_path / "x9_named.json").write_text(json.dumps(named))
    loaded, problems = load_schemas([*BUNDLED_SCHEMAS, tmp_path / "x9_named.json"])
    assert not problems
    tree = generate([(item.source.path.name, item.schema) for item in loaded], form)
    assert "registry/agents/z-0-custom.json" in tree.files
    assert {rel: foreign_manifest_path(rel, form) for rel in tree.files} == {rel: None for rel in tree.files}
    for rel in ["README.md", "pyproject.toml", f"schemas/{BT}.json", "stacks/agents/x.txt",
                "templates/a_v1.json", "registry/agents/A.json", "stacks/shared/x_stack.py",
                "tool_specs/sub/a.json", ".git/config"]:
        assert foreign_manifest_path(rel, form) is not None, rel
    assert (foreign_manifest_path("app.py", form) is None) == (form == "standalone")
