"""`schema-factory meta-schema` prints what `validate` checks against, and the editor setting in docs uses it."""

from __future__ import annotations

import fnmatch
import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from factory.cli import main
from factory.schema.loader import meta_schema
from tests.conftest import REPO, SCHEMAS_DIR

DOC = (REPO / "docs" / "schemas.md").read_text("utf-8").split("## Help from your editor\n", 1)[1]
BUNDLED = sorted(SCHEMAS_DIR.glob("*.json"))


def printed() -> dict:
    result = CliRunner().invoke(main, ["meta-schema"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_it_prints_the_meta_schema_validate_uses() -> None:
    schema = printed()
    Draft202012Validator.check_schema(schema)
    assert schema == meta_schema()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.stem)
def test_every_bundled_schema_validates_against_the_printed_meta_schema(path: Path) -> None:
    errors = list(Draft202012Validator(printed()).iter_errors(json.loads(path.read_text("utf-8"))))
    assert errors == []


def test_a_misspelt_key_is_an_inline_error() -> None:
    document = json.loads(BUNDLED[0].read_text("utf-8"))
    document["descripton"] = document.pop("description")
    messages = [error.message for error in Draft202012Validator(printed()).iter_errors(document)]
    assert any("'descripton' was unexpected" in message for message in messages), messages
    assert any("'description' is a required property" in message for message in messages), messages


def test_the_vs_code_setting_in_the_docs_points_at_the_file_the_docs_write() -> None:
    (command,) = [line for line in DOC.split("```bash\n", 1)[1].split("```", 1)[0].splitlines() if line]
    written = shlex.split(command)[-1]
    settings = json.loads(DOC.split("```json\n", 1)[1].split("```", 1)[0])
    (entry,) = settings["json.schemas"]
    assert entry["url"] == f"./{written}"
    for path in BUNDLED:
        assert any(
            fnmatch.fnmatch(f"/workspace/schemas/{path.name}", f"*{glob}") for glob in entry["fileMatch"]
        )
