"""The embedded backend: the same items and rules in one SQLite file.

Used with `--env local` and when no AWS is configured, so `register`, `list`
and the local batch runner work on a fresh machine. Each operation opens its
own connection and runs in a `BEGIN IMMEDIATE` transaction (the write lock is
taken before the existence check), so processes and threads racing on the
same version see one winner, exactly as DynamoDB's conditional writes give.
Tables are named like the DynamoDB ones, one pair per environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterator

from factory import sqlite_files
from factory.errors import FactoryError, Problem
from factory.registry.options import DEFAULT_REGISTRY_FILE
from factory.registry.protocol import Kind
from factory.registry.records import Key, Stored, StoredTool, author_of, to_plain
from factory.registry.tables import AGENT_TABLE, TEMPLATE_TABLE, TOOL_TABLE, TableShape

BUSY_TIMEOUT_SECONDS = 30.0
# Tables a registry file may hold: every environment's pair, and the tool registry.
OUR_TABLE_PREFIXES = tuple(f"{shape.prefix}-" for shape in (TEMPLATE_TABLE, AGENT_TABLE, TOOL_TABLE))
# Columns kept beside the JSON item: the keys the DynamoDB indexes use.
INDEXED = ("version_key", "extraction_name", "status", "created_at", "updated_at", "content_sha256")


class SqliteRegistry:
    """TemplateRegistry-{env} and AgentRegistry-{env} as tables in one local file."""

    def __init__(self, env_name: str, path: Path = DEFAULT_REGISTRY_FILE, page_size: int = 100,
                 template_table: str | None = None, agent_table: str | None = None,
                 tool_table: str | None = None) -> None:
        self.env_name = env_name
        self.path = path
        self.page_size = page_size
        self.tables = {
            "template": template_table or TEMPLATE_TABLE.table_name(env_name),
            "agent": agent_table or AGENT_TABLE.table_name(env_name),
            "tool": tool_table or TOOL_TABLE.table_name(env_name),
        }
        self.shapes: dict[str, TableShape] = {"template": TEMPLATE_TABLE, "agent": AGENT_TABLE}

    def describe(self, *kinds: str) -> str:
        names = " and ".join(self.tables[kind] for kind in kinds or ("template", "agent"))
        return f"{names} in {self.path.as_posix()}"

    # -- plumbing -----------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, write: bool) -> Iterator[sqlite3.Connection]:
        """One connection per operation; writes hold the lock from check to commit."""
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # Reading a registry nobody wrote yet finds nothing, and creates no file.
            if write or os.path.lexists(self.path):
                conn = sqlite_files.connect(self.path, self._ours, timeout=BUSY_TIMEOUT_SECONDS,
                                            isolation_level=None)
            else:
                conn = sqlite_files.connect_memory(timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite_files.ForeignDatabase as err:
            raise FactoryError(Problem(self.path.as_posix(), "$", "registry-file",
                                       f"cannot use the local registry file: it {err}",
                                       "point --registry-file at a registry file, or at a new one")) from None
        except (OSError, sqlite3.Error) as err:
            raise FactoryError(Problem(self.path.as_posix(), "$", "registry-file",
                                       f"cannot open the local registry: {err}",
                                       "check the path given to --registry-file")) from None
        try:
            if write:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("BEGIN IMMEDIATE")
                self._ensure_tables(conn)
                conn.execute(f"CREATE TABLE IF NOT EXISTS {_quote(self.tables['tool'])} (tool_name TEXT PRIMARY KEY, "
                             "version_key TEXT, content_sha256 TEXT, item TEXT NOT NULL)")
            yield conn
            if write:
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as err:  # not a database, corrupt, locked past the timeout
            _rollback(conn)
            raise FactoryError(Problem(self.path.as_posix(), "$", "registry-file",
                                       f"cannot use the local registry file: {err}",
                                       "point --registry-file at a registry file, or move this one aside "
                                       "(a new one is created)")) from None
        except BaseException:
            _rollback(conn)
            raise
        finally:
            conn.close()

    def _ours(self, table: str) -> bool:
        """A registry table of any environment (one file may hold several), or one this instance names."""
        return table in self.tables.values() or table.startswith(OUR_TABLE_PREFIXES)

    def _item(self, text: Any) -> dict[str, Any]:
        """A stored item's JSON text as the item; a file someone else wrote may hold anything there."""
        try:
            item = json.loads(text)  # the one place an item is read
        except (TypeError, ValueError):
            item = None
        if not isinstance(item, dict):
            raise FactoryError(Problem(self.path.as_posix(), "$", "registry-file",
                                       "cannot use the local registry file: a stored item is not a JSON object",
                                       "point --registry-file at a registry file, or move this one aside "
                                       "(a new one is created)"))
        return item

    def _ensure_tables(self, conn: sqlite3.Connection) -> None:
        for kind, shape in self.shapes.items():
            table = _quote(self.tables[kind])
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                f"{shape.partition_key} TEXT NOT NULL, version TEXT NOT NULL, "
                + ", ".join(f"{column} TEXT" for column in INDEXED)
                + f", item TEXT NOT NULL, PRIMARY KEY ({shape.partition_key}, version))"
            )
            for index in shape.indexes:
                if {index.partition_key, index.sort_key} - {shape.partition_key, *INDEXED}:
                    continue  # the existing system's indexes (AgentsByLLM, ...) have no query here
                name = _quote(f"{self.tables[kind]}.{index.name}")
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({index.partition_key}, {index.sort_key})")

    def _exists(self, conn: sqlite3.Connection, kind: str) -> bool:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (self.tables[kind],)).fetchone()
        return row is not None

    def _where_key(self, key: Key) -> tuple[str, tuple[str, str]]:
        return f"{self.shapes[key.kind].partition_key} = ? AND version = ?", (key.name, key.version)

    # -- the protocol -------------------------------------------------------

    def create_tables(self) -> None:
        with self._connect(write=True):
            pass

    def fetch(self, keys: list[Key]) -> dict[Key, Stored]:
        found: dict[Key, Stored] = {}
        with self._connect(write=False) as conn:
            for key in dict.fromkeys(keys):
                if not self._exists(conn, key.kind):
                    continue
                where, params = self._where_key(key)
                row = conn.execute(f"SELECT content_sha256, status FROM {_quote(self.tables[key.kind])} WHERE {where}",
                                   params).fetchone()
                if row:
                    found[key] = Stored(row[0], row[1])
        return found

    def put_new(self, items: list[tuple[Key, dict[str, Any]]]) -> bool:
        with self._connect(write=True) as conn:
            for key, _ in items:
                where, params = self._where_key(key)
                if conn.execute(f"SELECT 1 FROM {_quote(self.tables[key.kind])} WHERE {where}", params).fetchone():
                    return False
            for key, item in items:
                shape = self.shapes[key.kind]
                columns = (shape.partition_key, "version", *INDEXED, "item")
                values = (key.name, key.version, *(item.get(column) for column in INDEXED),
                          json.dumps(to_plain(item), ensure_ascii=False))
                conn.execute(f"INSERT INTO {_quote(self.tables[key.kind])} ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' for _ in columns)})", values)
        return True

    def set_attribute(self, key: Key, name: str, value: str, expected: str | None) -> bool:
        with self._connect(write=True) as conn:
            where, params = self._where_key(key)
            row = conn.execute(f"SELECT item FROM {_quote(self.tables[key.kind])} WHERE {where}", params).fetchone()
            if row is None:
                return False
            item = self._item(row[0])
            if item.get(name) != expected:
                return False
            item[name] = value
            conn.execute(f"UPDATE {_quote(self.tables[key.kind])} SET item = ? WHERE {where}",
                         (json.dumps(item, ensure_ascii=False), *params))
        return True

    def get(self, key: Key) -> dict[str, Any] | None:
        with self._connect(write=False) as conn:
            if not self._exists(conn, key.kind):
                return None
            where, params = self._where_key(key)
            row = conn.execute(f"SELECT item FROM {_quote(self.tables[key.kind])} WHERE {where}", params).fetchone()
        return self._item(row[0]) if row else None

    def latest(self, kind: Kind, name: str) -> dict[str, Any] | None:
        with self._connect(write=False) as conn:
            if not self._exists(conn, kind):
                return None
            row = conn.execute(
                f"SELECT item FROM {_quote(self.tables[kind])} WHERE {self.shapes[kind].partition_key} = ? "
                "ORDER BY version_key DESC LIMIT 1", (name,)).fetchone()
        return self._item(row[0]) if row else None

    def templates_with_status(self, status: str) -> Iterator[dict[str, Any]]:
        """Keyset pages in (updated_at, key) order, like a query on TemplatesByStatus."""
        table = _quote(self.tables["template"])
        after: tuple[str, str, str] | None = None
        while True:
            with self._connect(write=False) as conn:
                if not self._exists(conn, "template"):
                    return
                if after is None:
                    rows = conn.execute(
                        f"SELECT updated_at, template_id, version, item FROM {table} WHERE status = ? "
                        "ORDER BY updated_at, template_id, version LIMIT ?", (status, self.page_size)).fetchall()
                else:
                    rows = conn.execute(
                        f"SELECT updated_at, template_id, version, item FROM {table} WHERE status = ? "
                        "AND (updated_at, template_id, version) > (?, ?, ?) "
                        "ORDER BY updated_at, template_id, version LIMIT ?",
                        (status, *after, self.page_size)).fetchall()
            for row in rows:
                yield self._item(row[3])
            if len(rows) < self.page_size:
                return
            after = (rows[-1][0], rows[-1][1], rows[-1][2])

    def agents_for(self, extraction_name: str, version: str, agent_name: str | None = None) -> list[dict[str, Any]]:
        with self._connect(write=False) as conn:
            if not self._exists(conn, "agent"):
                return []
            rows = conn.execute(
                f"SELECT item FROM {_quote(self.tables['agent'])} WHERE extraction_name = ? AND version = ? "
                "ORDER BY created_at", (extraction_name, version)).fetchall()
        return [self._item(row[0]) for row in rows]

    def fetch_tools(self, names: list[str]) -> dict[str, StoredTool]:
        found: dict[str, StoredTool] = {}
        with self._connect(write=False) as conn:
            if not self._exists(conn, "tool"):
                return found
            for name in dict.fromkeys(names):
                row = conn.execute(f"SELECT content_sha256, version_key, item FROM {_quote(self.tables['tool'])} "
                                   "WHERE tool_name = ?", (name,)).fetchone()
                if row:
                    found[name] = StoredTool(row[0], row[1], author_of(_json_or_none(row[2])))
        return found

    def put_tools(self, writes: list[tuple[dict[str, Any], str | None]]) -> bool:
        table = _quote(self.tables["tool"])
        with self._connect(write=True) as conn:
            for item, expected in writes:
                row = conn.execute(f"SELECT content_sha256 FROM {table} WHERE tool_name = ?",
                                   (item["tool_name"],)).fetchone()
                if (row[0] if row else None) != expected or (row is None) != (expected is None):
                    return False
            for item, _ in writes:
                conn.execute(f"INSERT OR REPLACE INTO {table} (tool_name, version_key, content_sha256, item) "
                             "VALUES (?, ?, ?, ?)", (item["tool_name"], item["version_key"], item["content_sha256"],
                                                    json.dumps(to_plain(item), ensure_ascii=False)))
        return True

    def move_status(self, moves: list[tuple[Key, str]], target: str, updated_at: str) -> bool:
        with self._connect(write=True) as conn:
            updates = []
            for key, current in moves:
                where, params = self._where_key(key)
                row = conn.execute(f"SELECT item, status FROM {_quote(self.tables[key.kind])} WHERE {where}",
                                   params).fetchone()
                if row is None or row[1] != current:
                    return False
                item = self._item(row[0])
                item["status"], item["updated_at"] = target, updated_at
                updates.append((key, item))
            for key, item in updates:
                where, params = self._where_key(key)
                conn.execute(f"UPDATE {_quote(self.tables[key.kind])} SET status = ?, updated_at = ?, item = ? "
                             f"WHERE {where}", (target, updated_at, json.dumps(item, ensure_ascii=False), *params))
        return True


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _json_or_none(text: Any) -> Any:
    """A stored item's JSON, or None when the row holds something else (a hand-made row)."""
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _quote(identifier: str) -> str:
    """Table names hold '-' (TemplateRegistry-dev): quote them as SQL identifiers."""
    return '"' + identifier.replace('"', '""') + '"'
