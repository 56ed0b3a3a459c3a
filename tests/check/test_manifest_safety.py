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
    mine = project.generated / "stacks" / "agents" / "mine.py"
    mine.write_text("# my own code\n")
    _tamper(project, {"stacks/agents/mine.py": "0" * 64})
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    assert mine.read_text() == "# my own code\n"
    assert "kept 'stacks/agents/mine.py'" in result.output and "hash" in result.output


def test_a_symlink_out_of_the_output_directory_is_not_followed(project: Project) -> None:
    victim = project.root / "victim.txt"
    victim.write_text("precious")
    link = project.generated / "templates" / "old.json"
    os.symlink(victim, link)
    _tamper(project, {"templates/old.json": _digest(victim)})
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


def test_a_tampered_schema_entry_is_never_read_as_a_schema(project: Project) -> None:
    secret = project.root.parent / "secret.txt"
    secret.write_text('{"extraction_name": "leak"}')
    manifest = project.manifest()
    manifest["schemas"][str(secret)] = {"extraction_name": "x", "version": "1.0.0", "sha256": "0" * 64}
    manifest["schemas"]["../secret.txt"] = {"extraction_name": "x", "version": "1.0.0", "sha256": "0" * 64}
    (project.generated / "MANIFEST.json").write_text(json.dumps(manifest))
    named = f"schemas/{BT}.json"  # naming schemas keeps the others the manifest records
    for command in (["generate", named], ["check", named]):
        result = CliRunner().invoke(main, command)
        assert "secret" not in result.output and "leak" not in result.output, result.output
