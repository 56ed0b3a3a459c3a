"""One test per finding kind, through the CLI: exit status, and a message naming file and kind."""

from __future__ import annotations

import json
import subprocess

import pytest

BROADBAND = "broadband_availability_bt_wholesale"
ENERGY = "energy_tariff_quotes"


def finding_lines(output: str, kind: str) -> list[str]:
    return [line for line in output.splitlines() if f": {kind}: " in line and not line.startswith(" ")]


def test_clean_tree_passes_on_the_fast_path(project):
    result = project.run("check")
    assert result.exit_code == 0, result.output
    assert "check: clean (4 schema(s), fast path)" in result.output


def test_schema_changed_without_regenerating_is_stale(project):
    project.edit_schema(
        BROADBAND, lambda d: d["output_schema"]["properties"].update(speed={"type": "number"})
    )
    result = project.run("check")
    assert result.exit_code == 1
    stale = finding_lines(result.output, "stale")
    stack = f"generated/stacks/agents/{BROADBAND}_stack.py: stale: "
    assert any(line.startswith(stack) for line in stale), result.output
    assert all(f"schemas/{BROADBAND}.json" in line for line in stale)
    assert '+        "speed": {"type": "number"},' in result.output  # the short unified diff
    assert not finding_lines(result.output, "layers-disagree")  # a stale file is not also blamed on a layer


def test_hand_edited_file_is_edited(project):
    path = project.layer_file(ENERGY, "tool_specs/")
    path.write_text(path.read_text().replace("Return the result", "Give back the result"))
    result = project.run("check")
    assert result.exit_code == 1
    (line,) = finding_lines(result.output, "edited")
    assert line.startswith(f"generated/tool_specs/{ENERGY}.json: edited: ")
    assert "MANIFEST.json" in line and "(fix: " in line


def test_deleted_generated_file_is_missing(project):
    project.layer_file(ENERGY, "batch_mappings/").unlink()
    result = project.run("check")
    assert result.exit_code == 1
    (line,) = finding_lines(result.output, "missing")
    assert line.startswith(f"generated/batch_mappings/{ENERGY}.yaml: missing: ")


def test_stray_file_is_orphan(project):
    (project.generated / "templates" / "notes.txt").write_text("scratch\n")
    result = project.run("check")
    assert result.exit_code == 1
    (line,) = finding_lines(result.output, "orphan")
    assert line.startswith("generated/templates/notes.txt: orphan: ")


def test_outputs_of_a_deleted_schema_are_orphans(project):
    owned = project.files_of(ENERGY)
    project.schema(ENERGY).unlink()
    result = project.run("check")
    assert result.exit_code == 1
    orphans = finding_lines(result.output, "orphan")
    assert {line.split(": ")[0] for line in orphans} == {f"generated/{rel}" for rel in owned}
    assert all(f"schemas/{ENERGY}.json, which no longer exists" in line for line in orphans)
    # The CDK app still lists the deleted schema's stack.
    assert any(line.startswith("generated/app.py: stale: ") for line in finding_lines(result.output, "stale"))


def test_invalid_schema_is_reported_and_its_outputs_left_alone(project):
    project.edit_schema(ENERGY, lambda d: d.update(version="2.0"))
    result = project.run("check")
    assert result.exit_code == 1
    (line,) = finding_lines(result.output, "invalid")
    assert line.startswith(f"schemas/{ENERGY}.json: invalid: $.version")
    assert not finding_lines(result.output, "orphan")
    assert not finding_lines(result.output, "stale")


def test_unreadable_json_schema_is_invalid(project):
    project.schema(ENERGY).write_text("{not json")
    result = project.run("check")
    assert result.exit_code == 1
    assert finding_lines(result.output, "invalid")[0].startswith(f"schemas/{ENERGY}.json: invalid: ")


def test_fix_regenerates_then_rechecks(project):
    project.edit_schema(
        BROADBAND, lambda d: d["output_schema"]["properties"].update(speed={"type": "number"})
    )
    (project.generated / "stray.txt").write_text("x")
    result = project.run("check", "--fix")
    assert result.exit_code == 1  # the stray file is not the generator's to delete
    assert f"wrote generated/stacks/agents/{BROADBAND}_stack.py" in result.output
    assert [line.split(": ")[:2] for line in finding_lines(result.output, "orphan")] == [
        ["generated/stray.txt", "orphan"]
    ]
    (project.generated / "stray.txt").unlink()
    assert project.run("check").exit_code == 0


def test_json_output(project):
    project.layer_file(ENERGY, "batch_mappings/").unlink()
    result = project.run("check", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["clean"] is False and report["mode"] == "slow"
    assert [(f["path"], f["kind"]) for f in report["findings"]] == [
        (f"generated/batch_mappings/{ENERGY}.yaml", "missing")
    ]
    assert set(report["findings"][0]) == {"path", "kind", "detail", "fix"}


def test_other_generator_version_takes_the_slow_path_and_flags_the_manifest(project):
    manifest = project.manifest()
    manifest["generator_version"] = "0.0.1"
    (project.generated / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    result = project.run("check", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["mode"] == "slow"
    assert [(f["path"], f["kind"]) for f in report["findings"]] == [("generated/MANIFEST.json", "stale")]


def test_usage_error_exits_2(project):
    assert project.run("check", "--no-such-option").exit_code == 2


# --- version-bump (--base) ---------------------------------------------------------


def git(project, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project.root, check=True, capture_output=True)


@pytest.fixture
def committed(project):
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    return project


def add_output_field(document):
    document["output_schema"]["properties"]["speed"] = {"type": "number"}


def test_changed_schema_without_bump_fails_version_rule(committed):
    committed.edit_schema(BROADBAND, add_output_field)
    fixed = committed.run("check", "--fix")  # outputs regenerated: only the version rule is left
    assert fixed.exit_code == 1 and finding_lines(fixed.output, "stale") == []
    result = committed.run("check")  # HEAD is the default base: the hook needs no flag
    assert result.exit_code == 1
    assert committed.run("check", "--base", "HEAD").output == result.output
    (line,) = finding_lines(result.output, "version-bump")
    assert line.startswith(
        f"schemas/{BROADBAND}.json: version-bump: since HEAD: needs a minor bump; "
        "the content changed but the version stayed 1.0.0"
    )
    assert 'set "version" to 1.1.0' in line


def test_insufficient_bump_fails_and_sufficient_bump_passes(committed):
    def remove_field(document):
        del document["output_schema"]["properties"]["alk"]
        document["version"] = "1.1.0"

    committed.edit_schema(BROADBAND, remove_field)
    committed.run("check", "--fix")
    result = committed.run("check", "--base", "HEAD")
    assert result.exit_code == 1
    (line,) = finding_lines(result.output, "version-bump")
    assert "needs a major bump; version 1.0.0 -> 1.1.0 (minor) is not enough" in line
    assert "Previously present output field 'alk' was deleted." in line
    committed.edit_schema(BROADBAND, lambda d: d.update(version="2.0.0"))
    committed.run("check", "--fix")
    assert committed.run("check", "--base", "HEAD").exit_code == 0


def test_reformatting_a_schema_needs_no_bump(committed):
    path = committed.schema(ENERGY)
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4) + "\n")
    committed.run("check", "--fix")
    assert committed.run("check", "--base", "HEAD").exit_code == 0


def test_unknown_base_ref_is_a_user_error(committed):
    result = committed.run("check", "--base", "no-such-ref")
    assert result.exit_code == 1
    assert "unknown git ref 'no-such-ref'" in result.output


# --- the shortcut for failing reports agrees with the full comparison -----------------


def bump_version(document):
    document["version"] = "1.0.1"  # renames the template file


SCENARIOS = {
    "schema changed": lambda p: p.edit_schema(BROADBAND, add_output_field),
    "version bumped": lambda p: p.edit_schema(BROADBAND, bump_version),
    "file edited": lambda p: p.layer_file(ENERGY, "tool_specs/").write_text("{}\n"),
    "file missing": lambda p: p.layer_file(ENERGY, "registry/").unlink(),
    "changed and stray": lambda p: (
        p.edit_schema(ENERGY, add_output_field),
        (p.generated / "stray.txt").write_text("x"),
    ),
    "app edited": lambda p: (p.generated / "app.py").write_text("# edited\n"),
    "stray file only": lambda p: (p.generated / "stacks" / "old_stack.py").write_text("x = 1\n"),
    "cdk.json missing": lambda p: (p.generated / "cdk.json").unlink(),
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=list(SCENARIOS))
def test_rendering_only_suspect_schemas_finds_what_the_full_tree_finds(project, monkeypatch, scenario):
    from factory.check import tree

    SCENARIOS[scenario](project)
    quick = json.loads(project.run("check", "--json").stdout)["findings"]
    monkeypatch.setattr(tree, "_compare_suspects", lambda *args: [])
    full = json.loads(project.run("check", "--json").stdout)["findings"]
    assert quick, "the scenario must fail"
    assert [(f["path"], f["kind"]) for f in quick] == [(f["path"], f["kind"]) for f in full]


def test_named_schemas_and_output_directory_are_honoured(project):
    """As with `generate`, naming one schema keeps the others the manifest records."""
    assert project.run("check", "schemas/energy_tariff_quotes.json").exit_code == 0
    (project.root / "generated").rename(project.root / "out")
    assert project.run("check", "--out", "out").exit_code == 0
    result = project.run("check")
    assert result.exit_code == 1
    assert "generated/MANIFEST.json: missing: " in result.output


def test_new_schema_never_generated_has_missing_outputs(project):
    def rename(document):
        document["extraction_name"] = "energy_tariff_quotes_copy"

    copy = project.root / "schemas" / "energy_tariff_quotes_copy.json"
    copy.write_text(project.schema(ENERGY).read_text())
    project.edit_schema("energy_tariff_quotes_copy", rename)
    result = project.run("check")
    assert result.exit_code == 1
    missing = {line.split(": ")[0] for line in finding_lines(result.output, "missing")}
    assert len(missing) == 6 and all(
        "energy_tariff_quotes_copy" in path or "energy-tariff-quotes-copy" in path for path in missing
    )
    assert any(line.startswith("generated/app.py: stale: ") for line in finding_lines(result.output, "stale"))


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_absent_or_unreadable_manifest(project, damage):
    manifest = project.generated / "MANIFEST.json"
    manifest.unlink() if damage == "delete" else manifest.write_text("{")
    result = project.run("check")
    assert result.exit_code == 1
    kind = "missing" if damage == "delete" else "stale"
    assert [line.split(": ")[:2] for line in finding_lines(result.output, kind)] == [
        ["generated/MANIFEST.json", kind]
    ]
