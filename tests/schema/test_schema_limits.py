"""Numbers a float cannot hold, schemas nested without end, and symlink loops are schema problems.

Each is reported as `file: $.json.path: message` with exit 1, by `validate`,
`generate` and `check` alike, never as an internal error.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import bundled_document

BT = "broadband_availability_bt_wholesale"
MAX_JSON_DEPTH = 64  # README: "at most 64 levels of JSON nesting"


def base() -> dict[str, Any]:
    return copy.deepcopy(bundled_document(BT))


def nested(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        node = {"type": "object", "properties": {"inner": node}}
    return node


def write(project: Path, document: dict[str, Any], text_edit: tuple[str, str] | None = None) -> Path:
    text = json.dumps(document, indent=2)
    if text_edit:
        assert text_edit[0] in text
        text = text.replace(text_edit[0], text_edit[1], 1)
    path = project / "schemas" / f"{document['extraction_name']}.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "literal, json_path",
    [
        ("1e999", "$.output_schema.properties.download_speed.maximum"),
        ("-1e999", "$.output_schema.properties.download_speed.maximum"),
        ("NaN", "$.output_schema.properties.download_speed.maximum"),
        ("Infinity", "$.output_schema.properties.download_speed.maximum"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "generate", "check"])
def test_non_finite_numbers_are_refused_with_their_path(project: Path, literal: str, json_path: str,
                                                          command: str) -> None:
    document = base()
    document["output_schema"]["properties"]["download_speed"] = {"type": "number", "maximum": 12345.5}
    write(project, document, ('"maximum": 12345.5', f'"maximum": {literal}'))
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 1, result.output
    where = f"schemas/{BT}.json: " + ("invalid: " if command == "check" else "")
    assert f"{where}{json_path}: {literal} is not a finite JSON number" in result.output
    assert "internal error" not in result.output
    assert not (project / "generated" / "tool_specs" / f"{BT}.json").exists()


@pytest.mark.parametrize(
    "literal, shown",
    [
        ("1" + "0" * 400, "10000000000000000000... (401 digits)"),  # node re-serialised it as null
        ("-" + "9" * 5001, "-9999999999999999999... (5001 digits)"),  # Python's int() limit is 4,300 digits
        ("2" + "0" * 308, "20000000000000000000... (309 digits)"),  # just past the largest float, 1.79e308
    ],
    ids=["401-digits", "5001-digits", "2e308"],
)
@pytest.mark.parametrize("command", ["validate", "generate", "check"])
def test_integers_no_float_holds_are_refused_with_their_path(project: Path, literal: str, shown: str,
                                                               command: str) -> None:
    document = base()
    document["output_schema"]["properties"]["download_speed"] = {"type": "integer", "maximum": 12345}
    write(project, document, ('"maximum": 12345', f'"maximum": {literal}'))
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 1, result.output
    where = f"schemas/{BT}.json: " + ("invalid: " if command == "check" else "")
    json_path = "$.output_schema.properties.download_speed.maximum"
    assert f"{where}{json_path}: {shown} is not a finite JSON number (" in result.output
    assert "internal error" not in result.output
    assert not (project / "generated" / "tool_specs" / f"{BT}.json").exists()


def test_the_largest_integer_a_float_holds_still_generates(project: Path) -> None:
    document = base()
    document["output_schema"]["properties"]["download_speed"] = {"type": "integer", "maximum": 12345}
    write(project, document, ('"maximum": 12345', '"maximum": 1' + "0" * 308))
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    spec = (project / "generated" / "tool_specs" / f"{BT}.json").read_text()
    assert "1" + "0" * 308 in spec


def test_a_schema_nested_past_the_limit_is_a_schema_problem(project: Path) -> None:
    document = base()
    document["output_schema"]["properties"]["deep"] = nested(250)
    write(project, document)
    for command in ("validate", "generate", "check"):
        result = CliRunner().invoke(main, [command])
        assert result.exit_code == 1, result.output
        assert "internal error" not in result.output
        where = f"schemas/{BT}.json: " + ("invalid: " if command == "check" else "")
        assert f"{where}$.output_schema.properties.deep" in result.output
        assert f"nested more than {MAX_JSON_DEPTH} levels deep" in result.output


def test_nesting_beyond_the_json_parsers_own_limit_is_reported_too(project: Path) -> None:
    (project / "schemas" / "x.json").write_text("[" * 100_000 + "]" * 100_000)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert f"schemas/x.json: $: nested more than {MAX_JSON_DEPTH} levels deep" in result.output


def test_nesting_within_the_limit_generates(project: Path) -> None:
    document = base()
    document["output_schema"]["properties"]["deep"] = nested((MAX_JSON_DEPTH - 6) // 2)
    write(project, document)
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main, ["check"]).exit_code == 0


@pytest.mark.parametrize("links", [{"loop.json": "loop.json"}, {"a.json": "b.json", "b.json": "a.json"}])
@pytest.mark.parametrize("command", ["validate", "generate", "check"])
def test_a_symlink_loop_under_schemas_is_a_user_error_naming_it(project: Path, links: dict[str, str],
                                                                  command: str) -> None:
    write(project, base())
    for name, target in links.items():
        os.symlink(target, project / "schemas" / name)
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    first = sorted(links)[0]
    assert f"schemas/{first}: $: cannot read: a symbolic link loop" in result.output


@pytest.mark.parametrize("command", ["validate", "generate", "check"])
def test_schemas_itself_a_symlink_loop_is_a_user_error_naming_it(project: Path, command: str) -> None:
    """`ln -s schemas schemas`: the root, not a file under it, is the loop (resolve() raised RuntimeError)."""
    for path in sorted((project / "schemas").iterdir()):
        path.unlink()
    (project / "schemas").rmdir()
    os.symlink("schemas", project / "schemas")
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    assert "schemas: $: cannot read: a symbolic link loop" in result.output


def test_a_named_path_that_is_a_symlink_loop_is_a_user_error_naming_it(project: Path) -> None:
    (project / "sl2").mkdir()
    os.symlink("self", project / "sl2" / "self")
    result = CliRunner().invoke(main, ["validate", "sl2/self"])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[0].startswith("sl2/self: $: cannot read: a symbolic link loop")
    missing = CliRunner().invoke(main, ["validate", "sl2/nothere"])
    assert missing.exit_code == 1
    assert "sl2/nothere: $: no such file or directory" in missing.output
