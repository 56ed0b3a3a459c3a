"""A local registry file edited by hand or by another program: one line naming it, never internal error 70."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.registry.helpers import run


@pytest.mark.parametrize("item", ["not json {", "[1, 2]", "null"], ids=["text", "a-list", "null"])
def test_a_stored_item_that_is_not_a_json_object_is_a_one_line_user_error(project: Path, item: str) -> None:
    path = project / "registry.sqlite"
    where = ["--env", "test", "--backend", "sqlite", "--registry-file", str(path)]
    assert run("register", *where, "--create-tables").exit_code == 0
    conn = sqlite3.connect(path)
    conn.execute('UPDATE "TemplateRegistry-test" SET item = ?', (item,))
    conn.commit()
    conn.close()
    for command in (["list"], ["show", "energy_tariff_quotes"]):
        result = run(*command, *where)
        assert result.exit_code == 1, (command, result.output)
        assert result.stderr.splitlines()[0] == (
            f"{path.as_posix()}: $: cannot use the local registry file: a stored item is not a JSON object "
            "(point --registry-file at a registry file, or move this one aside (a new one is created))"
        )
        assert "internal error" not in result.output
