"""`generate` and `check --fix` overwrite only files they own; anything else refuses the run, nothing written.

The case that made this a rule: `generate --form step-functions-agent --out .` in a
step-functions-agent checkout at ffef93d, which already holds
`stacks/agents/broadband_availability_bt_wholesale_stack.py` and
`templates/broadband_availability_bt_wholesale_v1.0.0.json` of its own (both files
exist in that repository at ffef93d). Owning a file means what it means for
pruning: the previous MANIFEST.json lists it with the hash of its current bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from factory.errors import EXIT_USAGE, EXIT_USER_ERROR
from factory.output import UNOWNED_SHOWN
from tests.conftest import SCHEMAS_DIR

BT = "broadband_availability_bt_wholesale"
THEIR_STACK = f"stacks/agents/{BT}_stack.py"
THEIR_TEMPLATE = f"templates/{BT}_v1.0.0.json"
THEIRS = {THEIR_STACK: "# their LLM agent stack\n", THEIR_TEMPLATE: '{"template_id": "theirs"}\n'}
SFA = ("--form", "step-functions-agent", "--out", ".")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def checkout(project: Path) -> Path:
    """A step-functions-agent checkout (cwd) holding its own stack and template for the BT schema."""
    shutil.copy(SCHEMAS_DIR / f"{BT}.json", project / "schemas" / f"{BT}.json")
    for rel, text in THEIRS.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text, "utf-8")
    return project


def test_generate_into_a_checkout_refuses_to_replace_its_files_and_writes_nothing(checkout: Path) -> None:
    before = snapshot(checkout)
    dirs_before = sorted(p for p in checkout.rglob("*") if p.is_dir())
    result = run("generate", *SFA)
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    for rel in sorted(THEIRS):
        assert (
            f"{rel}: exists and MANIFEST.json does not list it as written by schema-factory; generate would "
            "overwrite it (pass --force to overwrite it, or move it out of the way and generate again)"
        ) in lines, result.stderr
    assert lines[-1] == "error: 2 problems"
    assert snapshot(checkout) == before  # not one byte, not even MANIFEST.json
    assert sorted(p for p in checkout.rglob("*") if p.is_dir()) == dirs_before  # no directory made either


def test_force_overwrites_and_then_the_files_are_owned(checkout: Path) -> None:
    result = run("generate", *SFA, "--force")
    assert result.exit_code == 0, result.output
    assert f"wrote {THEIR_STACK}" in result.output
    assert (checkout / THEIR_STACK).read_text("utf-8") != THEIRS[THEIR_STACK]
    manifest = json.loads((checkout / "MANIFEST.json").read_text("utf-8"))
    assert THEIR_STACK in manifest["files"] and THEIR_TEMPLATE in manifest["files"]
    again = run("generate", *SFA)  # now ours: no --force needed, nothing changes
    assert again.exit_code == 0, again.output
    assert "0 written" in again.output


def test_forced_output_is_byte_identical_to_a_clean_run(
    checkout: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert run("generate", *SFA, "--force").exit_code == 0
    forced = snapshot(checkout)
    clean = tmp_path_factory.mktemp("clean")
    (clean / "schemas").mkdir()
    shutil.copy(SCHEMAS_DIR / f"{BT}.json", clean / "schemas" / f"{BT}.json")
    os.chdir(clean)
    assert run("generate", *SFA).exit_code == 0
    assert snapshot(clean) == forced


def test_a_hand_edit_of_a_generated_file_is_refused_then_forced(bundled_project: Path) -> None:
    assert run("generate").exit_code == 0
    spec = bundled_project / "generated" / "tool_specs" / f"{BT}.json"
    spec.write_text(spec.read_text("utf-8").replace("Return", "Give back"), "utf-8")
    edited = spec.read_bytes()
    result = run("generate")
    assert result.exit_code == EXIT_USER_ERROR
    assert result.stderr.startswith(
        f"generated/tool_specs/{BT}.json: was edited since schema-factory wrote it (its bytes differ from the "
        "hash MANIFEST.json records); generate would overwrite it (pass --force"
    ), result.stderr
    assert spec.read_bytes() == edited
    # The check names the edit and says how to discard it.
    check = run("check")
    assert "edited" in check.output and "generate --force" in check.output
    assert run("generate", "--force").exit_code == 0
    assert spec.read_bytes() != edited
    assert run("check").exit_code == 0


def test_check_fix_refuses_the_same_way_and_says_why(bundled_project: Path) -> None:
    assert run("generate").exit_code == 0
    spec = bundled_project / "generated" / "tool_specs" / f"{BT}.json"
    spec.write_text("{}\n", "utf-8")
    result = run("check", "--fix")
    assert result.exit_code == EXIT_USER_ERROR
    assert f"generated/tool_specs/{BT}.json: was edited since schema-factory wrote it" in result.stderr
    assert "check --fix: nothing was regenerated" in result.stderr
    assert f"generated/tool_specs/{BT}.json: edited: " in result.stdout  # the findings still follow
    assert spec.read_text("utf-8") == "{}\n"
    fixed = run("check", "--fix", "--force")
    assert fixed.exit_code == 0, fixed.output
    assert f"wrote generated/tool_specs/{BT}.json" in fixed.output
    assert spec.read_text("utf-8") != "{}\n"


def test_check_force_needs_fix() -> None:
    result = run("check", "--force")
    assert result.exit_code == EXIT_USAGE
    assert "--force only applies with --fix" in result.output


def test_force_is_documented_in_help() -> None:
    assert "--force" in run("generate", "--help").output
    assert "--force" in run("check", "--help").output


def test_identical_bytes_need_no_ownership(bundled_project: Path) -> None:
    """A lost manifest: the files on disk are exactly what generate writes, so nothing is overwritten."""
    assert run("generate").exit_code == 0
    (bundled_project / "generated" / "MANIFEST.json").unlink()
    result = run("generate")
    assert result.exit_code == 0, result.output
    assert "1 written" in result.output  # the manifest alone


def test_a_foreign_manifest_is_refused_a_damaged_one_of_ours_is_rewritten(bundled_project: Path) -> None:
    assert run("generate").exit_code == 0
    manifest = bundled_project / "generated" / "MANIFEST.json"
    ours = manifest.read_bytes()
    manifest.write_text('{"name": "another tool\'s manifest"}\n', "utf-8")
    result = run("generate")
    assert result.exit_code == EXIT_USER_ERROR
    assert result.stderr.startswith("generated/MANIFEST.json: exists and is not a manifest schema-factory wrote")
    manifest.write_text("<<<<<<< HEAD\n{\n=======\n", "utf-8")  # what a merge conflict leaves
    assert run("generate").exit_code == 0
    assert manifest.read_bytes() == ours


def test_a_symlink_in_the_way_is_refused_and_not_followed(checkout: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", "utf-8")
    (checkout / THEIR_TEMPLATE).unlink()
    os.symlink(victim, checkout / THEIR_TEMPLATE)
    result = run("generate", *SFA)
    assert result.exit_code == EXIT_USER_ERROR
    assert f"{THEIR_TEMPLATE}: is a symbolic link schema-factory did not write" in result.stderr
    assert victim.read_text("utf-8") == "precious"


def test_a_tampered_manifest_must_know_the_current_bytes_to_claim_a_file(checkout: Path) -> None:
    """Listing a file is not owning it: the recorded hash must be that of the bytes on disk."""
    manifest = {
        "generator": "schema-factory",
        "schemas": {},
        "files": {THEIR_STACK: {"sha256": "0" * 64, "sources": []}},
    }
    (checkout / "MANIFEST.json").write_text(json.dumps(manifest), "utf-8")
    result = run("generate", *SFA)
    assert result.exit_code == EXIT_USER_ERROR
    assert f"{THEIR_STACK}: was edited since schema-factory wrote it" in result.stderr
    assert (checkout / THEIR_STACK).read_text("utf-8") == THEIRS[THEIR_STACK]
    digest = hashlib.sha256((checkout / THEIR_STACK).read_bytes()).hexdigest()
    manifest["files"][THEIR_STACK]["sha256"] = digest
    (checkout / "MANIFEST.json").write_text(json.dumps(manifest), "utf-8")
    result = run("generate", *SFA)  # the template is still not listed: still refused, still nothing written
    assert result.exit_code == EXIT_USER_ERROR
    assert THEIR_STACK not in result.stderr and THEIR_TEMPLATE in result.stderr
    assert (checkout / THEIR_STACK).read_text("utf-8") == THEIRS[THEIR_STACK]


def test_many_refusals_end_in_one_summary_line(bundled_project: Path) -> None:
    assert run("generate").exit_code == 0
    generated = bundled_project / "generated"
    manifest = generated / "MANIFEST.json"
    files = sorted(json.loads(manifest.read_text("utf-8"))["files"])
    manifest.unlink()
    for rel in files:
        (generated / rel).write_text("# someone else's\n", "utf-8")
    result = run("generate")
    assert result.exit_code == EXIT_USER_ERROR
    lines = result.stderr.splitlines()
    assert len(files) > UNOWNED_SHOWN
    assert [line.split(": ")[0] for line in lines[:UNOWNED_SHOWN]] == [f"generated/{rel}" for rel in files[:UNOWNED_SHOWN]]
    assert lines[UNOWNED_SHOWN] == (
        f"generated: and {len(files) - UNOWNED_SHOWN} more existing files generate would overwrite "
        f"({len(files)} in all); nothing was written (pass --force to overwrite them, or move them out of the way)"
    )
    assert not manifest.exists()
