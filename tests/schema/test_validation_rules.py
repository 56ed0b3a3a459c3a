"""One test per validation rule: the message names the file and the JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from factory import rules
from factory.cli import main
from factory.schema.loader import load_schemas
from tests.conftest import bundled_document

BT = "broadband_availability_bt_wholesale"


def base() -> dict[str, Any]:
    return copy.deepcopy(bundled_document(BT))


def set_path(doc: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def rename_field(doc: dict[str, Any], section: str, old: str, new: str) -> dict[str, Any]:
    props = doc[section]["properties"]
    doc[section]["properties"] = {(new if k == old else k): v for k, v in props.items()}
    return doc


IN = ("input_schema", "properties")
OUT = ("output_schema", "properties")

# (case id, the rule id it must raise, mutation, expected JSON path, fragment of the message)
RULES: list[tuple[str, str, Callable[[dict], dict], str, str]] = [
    ("name-format", rules.NAME_FORMAT, lambda d: set_path(d, ("extraction_name",), "../x"), "$.extraction_name", "must match"),
    ("name-kebab", rules.NAME_FORMAT, lambda d: set_path(d, ("extraction_name",), "a-b"), "$.extraction_name", "must match"),
    ("name-keyword", rules.NAME_KEYWORD, lambda d: set_path(d, ("extraction_name",), "class"), "$.extraction_name", "keyword"),
    ("name-length", rules.NAME_LENGTH, lambda d: set_path(d, ("extraction_name",), "a" * 60), "$.extraction_name", "64-character"),
    ("version-format", rules.VERSION_FORMAT, lambda d: set_path(d, ("version",), "1.0"), "$.version", "MAJOR.MINOR.PATCH"),
    ("pattern-compile", rules.PATTERN_COMPILE, lambda d: set_path(d, IN + ("postcode", "pattern"), "^[A-Z"), "$.input_schema.properties.postcode.pattern", "does not compile"),
    ("enum-type", rules.ENUM_TYPE, lambda d: set_path(d, OUT + ("install_type", "enum"), ["Standard", 3]), "$.output_schema.properties.install_type.enum[1]", "not of type string"),
    ("enum-duplicate", rules.ENUM_DUPLICATE, lambda d: set_path(d, OUT + ("install_type", "enum"), ["A", "A"]), "$.output_schema.properties.install_type.enum", "twice"),
    ("default-invalid", rules.DEFAULT_INVALID, lambda d: set_path(d, IN + ("postcode", "default"), "nope"), "$.input_schema.properties.postcode.default", "does not satisfy"),
    ("default-type", rules.DEFAULT_INVALID, lambda d: set_path(d, IN + ("street", "default"), 5), "$.input_schema.properties.street.default", "does not satisfy"),
    ("field-name", rules.FIELD_NAME, lambda d: rename_field(d, "input_schema", "street", "street name"), "$.input_schema.properties['street name']", "safe identifier"),
    ("field-keyword", rules.FIELD_KEYWORD, lambda d: rename_field(d, "output_schema", "alk", "class"), "$.output_schema.properties.class", "keyword"),
    ("field-reserved", rules.FIELD_RESERVED, lambda d: rename_field(d, "output_schema", "alk", "_status"), "$.output_schema.properties._status", "metadata column"),
    ("field-reserved-input", rules.FIELD_RESERVED, lambda d: rename_field(d, "input_schema", "street", "browser_config"), "$.input_schema.properties.browser_config", "reserved"),
    ("nested-field-name", rules.FIELD_NAME, lambda d: set_path(d, OUT + ("metadata", "properties"), {"a-b": {"type": "string"}}), "$.output_schema.properties.metadata.properties['a-b']", "safe identifier"),
    ("required-undeclared", rules.REQUIRED_UNDECLARED, lambda d: set_path(d, ("output_schema", "required"), ["nope"]), "$.output_schema.required", "not declared"),
    ("timeout", rules.TIMEOUT, lambda d: set_path(d, ("browser_config", "timeout"), 0), "$.browser_config.timeout", "> 0"),
    ("starting-url", rules.STARTING_URL, lambda d: set_path(d, ("browser_config", "starting_url"), "ftp://x"), "$.browser_config.starting_url", "http(s)"),
    ("bounds", rules.BOUNDS, lambda d: set_path(d, IN + ("street",), {"type": "string", "minLength": 5, "maxLength": 2}), "$.input_schema.properties.street", "exceeds"),
    ("format-unknown", rules.FORMAT_UNKNOWN, lambda d: set_path(d, OUT + ("alk", "format"), "colour"), "$.output_schema.properties.alk.format", "unknown format"),
    ("workflow-placeholder", rules.WORKFLOW_PLACEHOLDER, lambda d: set_path(d, ("workflow",), [{"action": "act", "prompt": "Type {{nope}}", "description": "x"}, {"action": "act_with_schema", "prompt": "p", "description": "d"}]), "$.workflow[0].prompt", "names no input field"),
    ("workflow-mustache", rules.WORKFLOW_MUSTACHE, lambda d: set_path(d, ("workflow",), [{"action": "act", "prompt": "{{#street}} open", "description": "x"}, {"action": "act_with_schema", "prompt": "p", "description": "d"}]), "$.workflow[0].prompt", "invalid Mustache"),
    ("workflow-extract", rules.WORKFLOW_EXTRACT, lambda d: set_path(d, ("workflow",), [{"action": "act", "prompt": "go", "description": "x"}]), "$.workflow", "no act_with_schema"),
    ("workflow-unknown-action", rules.META_SCHEMA, lambda d: set_path(d, ("workflow",), [{"action": "navigate", "description": "x"}]), "$.workflow[0].action", "is not one of"),
    ("workflow-type-goal", rules.META_SCHEMA, lambda d: set_path(d, ("workflow",), [{"type": "act", "goal": "x", "description": "x"}]), "$.workflow[0]", "action"),
    ("unknown-key", rules.META_SCHEMA, lambda d: set_path(d, ("colour",), "red"), "$", "Additional properties"),
    ("required-flag-type", rules.META_SCHEMA, lambda d: set_path(d, IN + ("street", "required"), "yes"), "$.input_schema.properties.street.required", "true/false"),
    ("batch-field", rules.BATCH_FIELD, lambda d: set_path(d, ("batch",), {"csv_columns": {"nope": "Nope"}}), "$.batch.csv_columns.nope", "not an input field"),
    ("agent-name", rules.AGENT_NAME_FORMAT, lambda d: set_path(d, ("agent",), {"name": "Bad Name"}), "$.agent.name", "kebab"),
]


@pytest.mark.parametrize("case,rule,mutate,path,fragment", RULES, ids=[r[0] for r in RULES])
def test_rule_reports_file_path_and_message(write_schema, case, rule, mutate, path, fragment) -> None:
    document = mutate(base())
    schema_file = write_schema(document, name=f"{BT}.json")
    _, problems = load_schemas([schema_file])
    assert [p.rule for p in problems if p.json_path == path and fragment in p.render()] == [rule], problems
    result = CliRunner().invoke(main, ["validate", str(schema_file)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"schemas/{BT}.json: ")]
    assert any(line.startswith(f"schemas/{BT}.json: {path}: ") and fragment in line for line in lines), result.stderr
    assert "Traceback" not in result.output


def test_file_name_must_match_extraction_name(write_schema) -> None:
    write_schema(base(), name="other.json")
    result = CliRunner().invoke(main, ["validate", "schemas/other.json"])
    assert result.exit_code == 1
    assert "schemas/other.json: $.extraction_name: file is named 'other.json'" in result.stderr
    assert f"rename the file to {BT}.json" in result.stderr


def test_every_problem_is_reported_not_just_the_first(write_schema) -> None:
    document = base()
    set_path(document, ("version",), "x")
    set_path(document, ("browser_config", "timeout"), -1)
    set_path(document, IN + ("postcode", "pattern"), "(")
    write_schema(document)
    result = CliRunner().invoke(main, ["validate", "schemas"])
    assert result.exit_code == 1
    for path in ("$.version", "$.browser_config.timeout", "$.input_schema.properties.postcode.pattern"):
        assert f": {path}: " in result.stderr
    assert "error: 3 problems" in result.stderr


@pytest.mark.parametrize(
    "text,where",
    [
        ('{"extraction_name": "x",\n  "version": }', "line 2, column 14"),
        ('{"a": 1,}', "line 1, column 9"),
        ("", "line 1, column 1"),
    ],
)
def test_malformed_json_reports_line_and_column(project: Path, text: str, where: str) -> None:
    (project / "schemas" / "x.json").write_text(text)
    result = CliRunner().invoke(main, ["validate", "schemas/x.json"])
    assert result.exit_code == 1
    assert f"schemas/x.json: $: invalid JSON at {where}" in result.stderr
    assert [p.rule for p in load_schemas([project / "schemas" / "x.json"])[1]] == [rules.JSON_SYNTAX]


def test_duplicate_keys_and_nan_are_refused(project: Path) -> None:
    (project / "schemas" / "d.json").write_text('{"version": "1.0.0", "version": "2.0.0"}')
    (project / "schemas" / "n.json").write_text('{"version": NaN}')
    result = CliRunner().invoke(main, ["validate", "schemas"])
    assert result.exit_code == 1
    assert "schemas/d.json: $: key 'version' appears twice" in result.stderr
    assert "schemas/n.json: $.version: NaN is not a finite JSON number" in result.stderr
    _, problems = load_schemas([project / "schemas" / "d.json", project / "schemas" / "n.json"])
    assert [p.rule for p in problems] == [rules.JSON_DUPLICATE_KEY, rules.JSON_NUMBER]


def test_both_required_forms_load_to_the_same_model(write_schema, project: Path) -> None:
    flagged = base()
    listed = base()
    for section in ("input_schema", "output_schema"):
        names = []
        for name, prop in listed[section]["properties"].items():
            if prop.pop("required", False):
                names.append(name)
        listed[section]["required"] = names
    a = write_schema(flagged)
    (project / "other").mkdir()
    b = project / "other" / f"{BT}.json"
    b.write_text(json.dumps(listed))
    (loaded_a,), problems_a = load_schemas([a])
    (loaded_b,), problems_b = load_schemas([b])
    assert problems_a == problems_b == []
    assert loaded_a.schema == loaded_b.schema
    assert loaded_a.schema.input_schema.required == ["building_number", "street", "postcode"]


def test_two_files_with_one_extraction_name_are_refused(write_schema, project: Path) -> None:
    write_schema(base())
    (project / "more").mkdir()
    (project / "more" / f"{BT}.json").write_text(json.dumps(base()))
    result = CliRunner().invoke(main, ["validate", "schemas", "more"])
    assert result.exit_code == 1
    assert "also declared in schemas/" in result.stderr


def test_exit_codes(write_schema) -> None:
    write_schema(base())
    runner = CliRunner()
    assert runner.invoke(main, ["validate", "schemas"]).exit_code == 0
    assert runner.invoke(main, ["validate", "nope.json"]).exit_code == 1
    assert runner.invoke(main, ["validate", "--bogus"]).exit_code == 2
    assert runner.invoke(main, ["frobnicate"]).exit_code == 2


def test_json_output(write_schema) -> None:
    document = set_path(base(), ("version",), "x")
    write_schema(document)
    result = CliRunner().invoke(main, ["validate", "--json", "schemas"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["problems"][0]["json_path"] == "$.version"
    assert report["problems"][0]["rule"] == rules.VERSION_FORMAT
