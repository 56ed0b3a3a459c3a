"""Issue #25, case 11: an SQLite file that holds another application's tables is never made a registry (or a
result store). It is refused in one line before `sqlite3.connect` touches it, and its bytes stay as they were
(no table, no journal, no `-wal`/`-shm` beside it); a new file, an empty file, and a registry holding several
environments' tables are ours.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.batch.test_local_engine import AGENT, write_addresses
from tests.conftest import REPO
from tests.registry.helpers import ENV, run


def _app_db(path: Path) -> bytes:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    conn.execute("INSERT INTO users (email) VALUES ('someone@example.com')")
    conn.commit()
    conn.close()
    return path.read_bytes()


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))


def _where(path: Path, env: str = ENV) -> list[str]:
    return ["--env", env, "--backend", "sqlite", "--registry-file", str(path)]


@pytest.mark.parametrize("command", [["register"], ["list"], ["show", "energy_tariff_quotes"]])
def test_another_applications_database_is_refused_and_untouched(project: Path, command: list[str]) -> None:
    app_db = project / "app.db"
    before = _app_db(app_db)
    result = run(*command, *_where(app_db))
    assert result.exit_code == 1, result.output
    first, *rest = result.stderr.strip().splitlines()
    assert first.startswith(
        f"{app_db.as_posix()}: $: cannot use the local registry file: it holds tables that are "
        "not schema-factory's ('users'): another application's database"
    ), result.stderr
    assert rest == ["error: 1 problem"] and "Traceback" not in result.output
    assert app_db.read_bytes() == before and _siblings(app_db) == ["app.db"]


def test_a_new_or_empty_file_and_a_registry_of_several_environments_are_ours(project: Path) -> None:
    fresh = project / "new.sqlite"
    assert run("register", *_where(fresh)).exit_code == 0
    assert run("register", *_where(fresh, "prod")).exit_code == 0  # another environment's tables beside ours
    assert run("list", *_where(fresh, "prod")).exit_code == 0
    empty = project / "empty.sqlite"
    empty.touch()
    assert run("register", *_where(empty)).exit_code == 0, "an empty file becomes a registry"


def test_a_fifo_registry_file_is_refused_without_blocking(project: Path) -> None:
    import os

    fifo = project / "registry.fifo"
    os.mkfifo(fifo)
    result = run("register", *_where(fifo))
    assert result.exit_code == 1
    assert (
        "cannot use the local registry file: it is a FIFO, not a regular file" in result.stderr
    ), result.stderr


def test_the_result_store_refuses_another_applications_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    app_db = tmp_path / "app.db"
    before = _app_db(app_db)
    csv_path = write_addresses(tmp_path / "in.csv", 2)
    result = CliRunner().invoke(
        main,
        [
            "batch",
            "run",
            str(csv_path),
            "--agent",
            AGENT,
            "--invoke",
            "examples.example_agent:invoke",
            "--store",
            str(app_db),
            "--quiet",
        ],
    )
    assert result.exit_code == 1, result.output
    assert (
        f"{app_db.as_posix()}: $: not a batch result store: it holds tables that are not schema-factory's "
        "('users')"
    ) in result.stderr, result.stderr
    assert app_db.read_bytes() == before and _siblings(app_db) == ["app.db"]


@pytest.mark.parametrize("suffix", ["", "-wal", "-journal"])
def test_a_linked_store_or_side_file_is_refused_and_nothing_is_written_outside(tmp_path: Path, suffix: str) -> None:
    """SQLite follows links when it creates the database or its side files: a dangling link planted at
    the store's name (or beside it) would create a database outside the project. Refused in one line."""
    from factory.batch.local_store import LocalResultStore
    from factory.errors import FactoryError

    outside = tmp_path / "outside"
    outside.mkdir()
    store = tmp_path / "project" / "results.sqlite"
    store.parent.mkdir()
    Path(f"{store}{suffix}").symlink_to(outside / "created-through-a-link")
    with pytest.raises(FactoryError) as caught:
        LocalResultStore(store)
    assert "symbolic link" in str(caught.value)
    assert list(outside.iterdir()) == []


def test_a_store_in_a_linked_folder_is_refused(tmp_path: Path) -> None:
    """A repository can carry `.schema-factory` as a link to a folder outside it."""
    from factory.batch.local_store import LocalResultStore
    from factory.errors import FactoryError

    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / ".schema-factory").symlink_to(outside)
    with pytest.raises(FactoryError) as caught:
        LocalResultStore(tmp_path / "project" / ".schema-factory" / "results.sqlite")
    assert "is a symbolic link" in str(caught.value)
    assert list(outside.iterdir()) == []
