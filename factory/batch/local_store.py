"""The local result store: `batch_processor_results` items in an SQLite file.

Each finished row is committed on its own, so a run killed at any moment,
even with SIGKILL, keeps every row it finished and never half of one. The
journal is WAL with synchronous=NORMAL: a commit survives the process dying
(what --resume is for); only an OS crash or power cut could lose the last
few, and those rows simply run again. FULL would fsync every row and cost
6x the throughput. Items are keyed (batch_id, row_id) exactly as in DynamoDB,
and writing a row again replaces it: a resumed run can never duplicate one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from factory.errors import FactoryError, Problem
from factory.runtime.result_store import RowResult, build_item, from_dynamodb

DEFAULT_STORE = Path(".schema-factory") / "results.sqlite"
DONE_STATUSES = ("SUCCESS", "PARTIAL")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    agent_name TEXT NOT NULL,
    csv_path TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    batch_id TEXT NOT NULL,
    row_id TEXT NOT NULL,
    row_number INTEGER NOT NULL,
    status TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (batch_id, row_id)
);
CREATE INDEX IF NOT EXISTS results_by_status ON results (batch_id, status);
"""


@dataclass(frozen=True)
class BatchInfo:
    batch_id: str
    agent_name: str
    csv_path: str
    config: dict[str, Any]
    created_at: str
    state: str


def _json_default(value: Any) -> Any:
    return from_dynamodb(value)


class LocalResultStore:
    """Thread-safe: one connection, one lock; writes are tiny and commit at once."""

    def __init__(self, path: Path = DEFAULT_STORE) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise FactoryError(Problem(path.as_posix(), "$", "result-store", f"cannot open the result store: {err}",
                                       "check --store and its directory's permissions")) from None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._conn.close()

    def create_batch(self, batch_id: str, agent_name: str, csv_path: str, config: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, 'running')",
                (batch_id, agent_name, csv_path, json.dumps(config, ensure_ascii=False),
                 time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
            )

    def set_state(self, batch_id: str, state: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE batches SET state = ? WHERE batch_id = ?", (state, batch_id))

    def batch(self, batch_id: str) -> BatchInfo:
        row = self._conn.execute("SELECT * FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        if row is None:
            raise FactoryError(Problem(self.path.as_posix(), "$", "batch-unknown", f"no batch {batch_id!r} in this store",
                                       "see `schema-factory batch status` for known batches"))
        return BatchInfo(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5])

    def batches(self) -> list[BatchInfo]:
        rows = self._conn.execute("SELECT * FROM batches ORDER BY created_at, batch_id").fetchall()
        return [BatchInfo(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def put(self, result: RowResult) -> None:
        """Store one row's result, replacing an earlier one for the same row."""
        item = build_item(result)
        text = json.dumps(item, default=_json_default, ensure_ascii=False)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
                (item["batch_id"], item["row_id"], result.row_number, result.status, item["timestamp"], text),
            )

    def done_rows(self, batch_id: str) -> set[int]:
        marks = ",".join("?" * len(DONE_STATUSES))
        rows = self._conn.execute(
            f"SELECT row_number FROM results WHERE batch_id = ? AND status IN ({marks})", (batch_id, *DONE_STATUSES)
        )
        return {r[0] for r in rows}

    def counts(self, batch_id: str) -> dict[str, int]:
        rows = self._conn.execute("SELECT status, COUNT(*) FROM results WHERE batch_id = ? GROUP BY status", (batch_id,))
        return dict(rows.fetchall())

    def pages(self, batch_id: str, page_size: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """Stored items in row order, a page at a time (as the DynamoDB query pages them)."""
        last = ""
        while True:
            rows = self._conn.execute(
                "SELECT row_id, item FROM results WHERE batch_id = ? AND row_id > ? ORDER BY row_id LIMIT ?",
                (batch_id, last, page_size),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [json.loads(item) for _, item in rows]
