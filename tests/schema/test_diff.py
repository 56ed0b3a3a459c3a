"""Every diff rule, table-driven: one mutation of a base schema, the exact changes it must produce."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from factory.cli import main
from factory.schema.diff import RULES, diff_documents, standard_form, version_bump

BASE: dict[str, Any] = {
    "extraction_name": "sample_lookup",
    "version": "1.4.2",
    "description": "Look a thing up",
    "input_schema": {"type": "object", "properties": {
        "ids": {"type": "array"},
        "codes": {"type": "array", "items": {"type": "string"}},
        "postcode": {"type": "string", "pattern": "^[A-Z]+$", "description": "Postcode", "required": True},
        "count": {"type": "integer", "minimum": 1, "maximum": 10, "required": False},
        "name": {"type": "string", "maxLength": 40},
        "fuel": {"type": "string", "enum": ["gas", "electric"], "default": "gas"},
        "address": {"type": "object", "properties": {
            "line1": {"type": "string", "required": True},
            "town": {"type": "string"}}},
    }},
    "output_schema": {"type": "object", "properties": {
        "ok": {"type": "boolean", "required": True},
        "speed": {"type": "number", "description": "Mbps"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "code": {"type": "string", "pattern": "^[0-9]+$"},
        "when": {"type": "string", "format": "date"},
        "office": {"type": "object", "properties": {
            "street": {"type": "string", "required": True},
            "postal_code": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
        "links": {"type": "array"},
        "people": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string", "required": True},
            "role": {"type": "string", "enum": ["director", "secretary"]}}}},
    }},
    "browser_config": {"profile_name": "P", "starting_url": "https://example.com/", "timeout": 60},
    "metadata": {"author": "system", "tags": ["x"]},
}

Mutation = Callable[[dict[str, Any]], None]


def inp(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["input_schema"]["properties"]


def out(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["output_schema"]["properties"]


def reorder_outputs(doc: dict[str, Any]) -> None:
    props = out(doc)
    doc["output_schema"]["properties"] = {"speed": props.pop("speed"), **props}


# (id, mutation, expected [(rule, path)], minimum bump)
CASES: list[tuple[str, Mutation, list[tuple[str, str]], str]] = [
    # breaking
    ("extraction name", lambda d: d.update(extraction_name="other_lookup"),
     [("EXTRACTION_NAME_NO_CHANGE", "extraction_name")], "major"),
    ("input added required", lambda d: inp(d).update(uprn={"type": "string", "required": True}),
     [("INPUT_FIELD_NO_ADD_REQUIRED", "input.uprn")], "major"),
    ("input added required (list form)", lambda d: (inp(d).update(uprn={"type": "string"}),
                                                    d["input_schema"].update(required=["uprn"])),
     [("INPUT_FIELD_NO_ADD_REQUIRED", "input.uprn")], "major"),
    ("input made required", lambda d: inp(d)["count"].update(required=True),
     [("INPUT_FIELD_NO_MAKE_REQUIRED", "input.count")], "major"),
    ("input removed", lambda d: inp(d).pop("name"), [("INPUT_FIELD_NO_DELETE", "input.name")], "major"),
    ("output removed", lambda d: out(d).pop("speed"), [("OUTPUT_FIELD_NO_DELETE", "output.speed")], "major"),
    ("output made optional", lambda d: out(d)["ok"].pop("required"),
     [("OUTPUT_FIELD_NO_MAKE_OPTIONAL", "output.ok")], "major"),
    ("output made required", lambda d: out(d)["speed"].update(required=True),
     [("OUTPUT_FIELD_NO_MAKE_REQUIRED", "output.speed")], "major"),
    ("input type", lambda d: inp(d)["count"].update(type="number"), [("FIELD_SAME_TYPE", "input.count")], "major"),
    ("output type", lambda d: out(d)["speed"].update(type="string"), [("FIELD_SAME_TYPE", "output.speed")], "major"),
    ("output enum value removed", lambda d: out(d)["status"]["enum"].remove("closed"),
     [("OUTPUT_ENUM_VALUE_NO_DELETE", "output.status")], "major"),
    ("input enum narrowed", lambda d: inp(d)["fuel"]["enum"].remove("electric"),
     [("INPUT_ENUM_NO_NARROW", "input.fuel")], "major"),
    ("input enum added", lambda d: inp(d)["name"].update(enum=["x"]), [("INPUT_ENUM_NO_NARROW", "input.name")], "major"),
    ("input pattern added", lambda d: inp(d)["name"].update(pattern="^a"),
     [("INPUT_PATTERN_NO_RESTRICT", "input.name")], "major"),
    ("input pattern changed", lambda d: inp(d)["postcode"].update(pattern="^[A-Z0-9]+$"),
     [("INPUT_PATTERN_NO_RESTRICT", "input.postcode")], "major"),
    ("input minimum raised", lambda d: inp(d)["count"].update(minimum=2),
     [("INPUT_BOUNDS_NO_TIGHTEN", "input.count")], "major"),
    ("input maxLength lowered", lambda d: inp(d)["name"].update(maxLength=20),
     [("INPUT_BOUNDS_NO_TIGHTEN", "input.name")], "major"),
    ("input bound added", lambda d: inp(d)["postcode"].update(minLength=5),
     [("INPUT_BOUNDS_NO_TIGHTEN", "input.postcode")], "major"),
    ("batch column changed", lambda d: d.update(batch={"csv_columns": {"postcode": "Postcode"}}),
     [("BATCH_COLUMN_NO_CHANGE", "batch.csv_columns.postcode")], "major"),
    ("input items schema added", lambda d: inp(d)["ids"].update(items={"type": "string"}),
     [("INPUT_ITEMS_NO_RESTRICT", "input.ids[]")], "major"),
    ("output items schema removed", lambda d: out(d)["tags"].pop("items"),
     [("OUTPUT_FIELD_NO_DELETE", "output.tags[]")], "major"),
    # additive
    ("input added optional", lambda d: inp(d).update(uprn={"type": "string"}),
     [("INPUT_FIELD_ADDED_OPTIONAL", "input.uprn")], "minor"),
    ("input made optional", lambda d: inp(d)["postcode"].pop("required"),
     [("INPUT_FIELD_MADE_OPTIONAL", "input.postcode")], "minor"),
    ("output added", lambda d: out(d).update(extra={"type": "string"}), [("OUTPUT_FIELD_ADDED", "output.extra")], "minor"),
    ("input enum value added", lambda d: inp(d)["fuel"]["enum"].append("dual"),
     [("INPUT_ENUM_WIDENED", "input.fuel")], "minor"),
    ("output enum value added", lambda d: out(d)["status"]["enum"].append("pending"),
     [("OUTPUT_ENUM_VALUE_ADDED", "output.status")], "minor"),
    ("input pattern removed", lambda d: inp(d)["postcode"].pop("pattern"),
     [("INPUT_RESTRICTION_LOOSENED", "input.postcode")], "minor"),
    ("input bound loosened", lambda d: inp(d)["count"].update(maximum=100),
     [("INPUT_RESTRICTION_LOOSENED", "input.count")], "minor"),
    ("input items schema removed", lambda d: inp(d)["codes"].pop("items"),
     [("INPUT_RESTRICTION_LOOSENED", "input.codes[]")], "minor"),
    ("output items schema added", lambda d: out(d)["links"].update(items={"type": "string"}),
     [("OUTPUT_CONSTRAINT_CHANGED", "output.links[]")], "minor"),
    ("output pattern changed", lambda d: out(d)["code"].update(pattern="^[0-9]{4}$"),
     [("OUTPUT_CONSTRAINT_CHANGED", "output.code")], "minor"),
    ("output format changed", lambda d: out(d)["when"].update(format="date-time"),
     [("FIELD_KEYWORD_CHANGED", "output.when")], "minor"),
    ("input default changed", lambda d: inp(d)["fuel"].update(default="electric"),
     [("FIELD_KEYWORD_CHANGED", "input.fuel")], "minor"),
    ("output order", reorder_outputs, [("OUTPUT_FIELD_ORDER_CHANGED", "output")], "minor"),
    ("browser config", lambda d: d["browser_config"].update(timeout=120),
     [("BROWSER_CONFIG_CHANGED", "browser_config")], "minor"),
    ("workflow", lambda d: d.update(workflow=[{"action": "act_with_schema", "description": "x"}]),
     [("WORKFLOW_CHANGED", "workflow")], "minor"),
    ("agent section", lambda d: d.update(agent={"model_id": "m"}), [("AGENT_SECTION_CHANGED", "agent")], "minor"),
    # cosmetic
    ("field description", lambda d: out(d)["speed"].update(description="Megabits per second"),
     [("FIELD_DESCRIPTION_CHANGED", "output.speed")], "patch"),
    ("field title", lambda d: inp(d)["postcode"].update(title="UK postcode"),
     [("FIELD_DESCRIPTION_CHANGED", "input.postcode")], "patch"),
    ("schema description", lambda d: d.update(description="Look things up"),
     [("SCHEMA_DESCRIPTION_CHANGED", "description")], "patch"),
    ("metadata tags", lambda d: d["metadata"]["tags"].append("y"), [("SCHEMA_DESCRIPTION_CHANGED", "metadata")], "patch"),
    # nested properties and array items
    ("nested output removed", lambda d: out(d)["office"]["properties"].pop("postal_code"),
     [("OUTPUT_FIELD_NO_DELETE", "output.office.postal_code")], "major"),
    ("nested input added required", lambda d: inp(d)["address"]["properties"].update(
        postcode={"type": "string", "required": True}),
     [("INPUT_FIELD_NO_ADD_REQUIRED", "input.address.postcode")], "major"),
    ("nested input added optional", lambda d: inp(d)["address"]["properties"].update(flat={"type": "string"}),
     [("INPUT_FIELD_ADDED_OPTIONAL", "input.address.flat")], "minor"),
    ("nested output made optional", lambda d: out(d)["office"]["properties"]["street"].pop("required"),
     [("OUTPUT_FIELD_NO_MAKE_OPTIONAL", "output.office.street")], "major"),
    ("array items type", lambda d: out(d)["tags"]["items"].update(type="integer", enum=[1, 2]),
     [("FIELD_SAME_TYPE", "output.tags[]"), ("OUTPUT_ENUM_VALUE_NO_DELETE", "output.tags[]"),
      ("OUTPUT_ENUM_VALUE_ADDED", "output.tags[]")], "major"),
    ("array item enum value removed", lambda d: out(d)["tags"]["items"]["enum"].remove("b"),
     [("OUTPUT_ENUM_VALUE_NO_DELETE", "output.tags[]")], "major"),
    ("array of objects: item property removed", lambda d: out(d)["people"]["items"]["properties"].pop("role"),
     [("OUTPUT_FIELD_NO_DELETE", "output.people[].role")], "major"),
    ("array of objects: item enum narrowed", lambda d: out(d)["people"]["items"]["properties"]["role"]["enum"].pop(),
     [("OUTPUT_ENUM_VALUE_NO_DELETE", "output.people[].role")], "major"),
    ("array of objects: item property added", lambda d: out(d)["people"]["items"]["properties"].update(
        age={"type": "integer"}), [("OUTPUT_FIELD_ADDED", "output.people[].age")], "minor"),
    ("new nested object reported once", lambda d: out(d).update(owner={"type": "object", "properties": {
        "name": {"type": "string", "required": True}}}), [("OUTPUT_FIELD_ADDED", "output.owner")], "minor"),
    ("removed array reported once", lambda d: out(d).pop("people"), [("OUTPUT_FIELD_NO_DELETE", "output.people")], "major"),
    # no change
    ("required flags rewritten as a list", lambda d: (
        inp(d)["postcode"].pop("required"), d["input_schema"].update(required=["postcode"])), [], "none"),
    ("version only", lambda d: d.update(version="1.4.3"), [], "none"),
]


@pytest.mark.parametrize(("mutate", "expected", "bump"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(mutate: Mutation, expected: list[tuple[str, str]], bump: str) -> None:
    new = copy.deepcopy(BASE)
    mutate(new)
    diff = diff_documents(BASE, new)
    assert [(change.rule, change.path) for change in diff.changes] == expected
    assert diff.required_bump == bump
    for change in diff.changes:
        assert change.message.endswith(".")
        assert " was " in change.message or " were " in change.message  # past tense, as buf words them


def test_every_rule_is_covered_by_a_case() -> None:
    covered = {rule for _, _, expected, _ in CASES for rule, _ in expected}
    assert covered == {rule.id for rule in RULES}


def test_messages_are_in_the_past_tense() -> None:
    new = copy.deepcopy(BASE)
    out(new).pop("speed")
    (change,) = diff_documents(BASE, new).changes
    assert change.message == "Previously present output field 'speed' was deleted."
    assert change.kind == "breaking"


@pytest.mark.parametrize(("old", "new", "bump"), [
    ("1.4.2", "1.4.2", "none"), ("1.4.2", "1.4.3", "patch"), ("1.4.2", "1.5.0", "minor"),
    ("1.4.2", "2.0.0", "major"), ("1.4.2", "1.3.9", "downgrade"), ("1.4.2", "1.4", "unknown"),
])
def test_version_bump(old: str, new: str, bump: str) -> None:
    assert version_bump(old, new) == bump


@pytest.mark.parametrize(("version", "sufficient"), [
    ("1.4.2", False), ("1.4.3", False), ("1.5.0", True), ("2.0.0", True), ("1.3.0", False),
])
def test_bump_sufficiency_for_an_additive_change(version: str, sufficient: bool) -> None:
    new = copy.deepcopy(BASE)
    out(new).update(extra={"type": "string"})
    new["version"] = version
    diff = diff_documents(BASE, new)
    assert diff.required_bump == "minor"
    assert diff.bump_sufficient is sufficient


def test_no_change_with_a_downgrade_is_not_sufficient() -> None:
    assert diff_documents(BASE, dict(BASE, version="1.0.0")).bump_sufficient is False


def test_standard_form_lists_flags_in_property_order() -> None:
    form = standard_form(BASE["output_schema"])
    assert form["required"] == ["ok"]
    assert form["properties"]["office"]["required"] == ["street"]
    assert form["properties"]["people"]["items"]["required"] == ["name"]
    assert "required" not in form["properties"]["ok"]


# --- CLI ------------------------------------------------------------------------------


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def test_cli_diff_old_new(tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", BASE)
    new_doc = copy.deepcopy(BASE)
    out(new_doc).pop("speed")
    new_doc["version"] = "1.5.0"
    new = write(tmp_path / "new.json", new_doc)
    result = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert result.exit_code == 1
    assert "needs a major bump; version 1.4.2 -> 1.5.0 (minor) is not enough" in result.output
    assert "output.speed: breaking: Previously present output field 'speed' was deleted. [OUTPUT_FIELD_NO_DELETE]" \
        in result.output
    new_doc["version"] = "2.0.0"
    write(new, new_doc)
    result = CliRunner().invoke(main, ["diff", "--json", str(old), str(new)])
    assert result.exit_code == 0
    (report,) = json.loads(result.stdout).values()
    assert report["required_bump"] == "major" and report["bump_sufficient"] is True


def test_cli_diff_usage(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["diff", str(write(tmp_path / "a.json", BASE))]).exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = CliRunner().invoke(main, ["diff", str(bad), str(bad)])
    assert result.exit_code == 1 and "bad.json: $: invalid JSON" in result.output


def test_cli_diff_base_ref(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schemas").mkdir()
    schema = write(tmp_path / "schemas" / "sample_lookup.json", BASE)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    assert "no schema changed" in CliRunner().invoke(main, ["diff", "--base", "HEAD"]).output
    changed = copy.deepcopy(BASE)
    inp(changed)["fuel"]["enum"].append("dual")
    write(schema, changed)
    result = CliRunner().invoke(main, ["diff", "--base", "HEAD"])
    assert result.exit_code == 1
    assert "schemas/sample_lookup.json: needs a minor bump; the content changed but the version stayed 1.4.2" \
        in result.output
    assert "input.fuel: additive: Enum value(s) 'dual' were added to input field 'fuel'. [INPUT_ENUM_WIDENED]" \
        in result.output
