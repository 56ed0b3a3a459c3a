"""The one way schema-factory opens an SQLite file (the local registry, the local result store).

A path a user names may be another application's database (`--registry-file app.db`): creating our
tables in it would alter a file that is not ours. So before `sqlite3.connect` touches an existing file,
its kind and its tables are checked: it must be a regular file (not a symbolic link, nor its side
files) that is empty or an SQLite database
whose every table (and index, view, trigger) belongs to us, as the caller's `ours` decides. The check
reads the file through `factory.safe_io` (a FIFO or a device is refused by name) and lists
`sqlite_master` through an immutable read-only connection, which writes nothing beside the file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any, Callable

from factory import safe_io

SQLITE_HEADER = b"SQLite format 3\x00"
# How many of the foreign tables a refusal names before it counts the rest.
NAMED = 5


def _table_names(path: Path) -> list[str]:
    """The tables `sqlite_master` rows belong to; `mode=ro` when a WAL is pending (it holds the latest)."""
    wal = Path(f"{os.fspath(path)}-wal")
    flag = "mode=ro" if wal.exists() else "immutable=1"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?{flag}", uri=True)
    try:
        return [str(row[0]) for row in conn.execute("SELECT tbl_name FROM sqlite_master")]
    finally:
        conn.close()


SIDE_FILES = ("-wal", "-shm", "-journal")  # what SQLite creates beside the database, following links


def _link_reason(path: Path) -> str | None:
    """SQLite opens (and creates) the database and its side files through symbolic links: a link planted at
    any of those names would carry our writes outside the project, so none may be a link."""
    for candidate in (path, *(Path(f"{os.fspath(path)}{suffix}") for suffix in SIDE_FILES)):
        if candidate.is_symlink():
            shown = "it" if candidate == path else f"its side file {candidate.name}"
            return f"{shown} is a symbolic link, which schema-factory never opens as a database; name the file itself"
    if path.parent.is_symlink():  # a repository's `.schema-factory -> ~` would put the store outside it
        return (f"its folder {path.parent.as_posix()!r} is a symbolic link, which schema-factory never opens a "
                "database through; name a file in a real folder")
    return None


def foreign_reason(path: Path, ours: Callable[[str], bool]) -> str | None:
    """Why the file at `path` is not ours to open and write, or None (absent, empty, or holding only our tables)."""
    linked = _link_reason(path)
    if linked is not None:
        return linked
    try:
        head = safe_io.read_head(path, len(SQLITE_HEADER), "database")
    except FileNotFoundError:
        return None
    except safe_io.RefusedFile as err:
        return str(err)
    if head == b"":
        return None
    if head != SQLITE_HEADER:
        return "is not an SQLite database"
    try:
        names = _table_names(path)
    except sqlite3.Error as err:
        return f"is not a usable SQLite database ({err})"
    foreign = sorted({name for name in names if not name.startswith("sqlite_") and not ours(name)})
    if not foreign:
        return None
    shown = ", ".join(map(repr, foreign[:NAMED])) + (
        f" and {len(foreign) - NAMED} more" if len(foreign) > NAMED else ""
    )
    return f"holds tables that are not schema-factory's ({shown}): another application's database, left untouched"


def connect(path: Path, ours: Callable[[str], bool], **options: Any) -> sqlite3.Connection:
    """`sqlite3.connect(path)` once `foreign_reason` found nothing; else `ForeignDatabase`, nothing written."""
    reason = foreign_reason(path, ours)
    if reason is not None:
        raise ForeignDatabase(reason)
    return sqlite3.connect(os.fspath(path), **options)


def connect_memory(**options: Any) -> sqlite3.Connection:
    """An empty in-memory database (reading a registry nobody wrote yet)."""
    return sqlite3.connect(":memory:", **options)


class ForeignDatabase(ValueError):
    """The file is not ours to open: `str()` is the one-line reason."""
