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

import contextlib
import json
import shlex
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from factory import safe_io, sqlite_files
from factory.batch.csv_source import CsvFingerprint, fingerprint
from factory.errors import FactoryError, Problem
from factory.runtime.result_store import RowResult, build_item, from_dynamodb

DEFAULT_STORE = Path(".schema-factory") / "results.sqlite"
DONE_STATUSES = ("SUCCESS", "PARTIAL")
STORE_TABLES = frozenset({"batches", "results"})  # what `_SCHEMA` creates: a file holding others is not a store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    agent_name TEXT NOT NULL,
    csv_path TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    csv_size INTEGER,
    csv_sha256 TEXT,
    owner_pid INTEGER,
    owner_host TEXT,
    owner_started TEXT
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


# Columns added after the first release; an older store gets them on open.
_ADDED_COLUMNS = (
    ("csv_size", "INTEGER"), ("csv_sha256", "TEXT"), ("owner_pid", "INTEGER"), ("owner_host", "TEXT"),
    ("owner_started", "TEXT"),
)
_BATCH_COLUMNS = (
    "batch_id, agent_name, csv_path, config, created_at, state, csv_size, csv_sha256, owner_pid, owner_host, "
    "owner_started"
)
_RESULT_COLUMNS = ("batch_id", "row_id", "row_number", "status", "timestamp", "item")


@dataclass(frozen=True)
class BatchInfo:
    batch_id: str
    agent_name: str
    csv_path: str
    config: dict[str, Any]
    created_at: str
    state: str
    csv_size: int | None = None
    csv_sha256: str | None = None
    owner_pid: int | None = None
    owner_host: str | None = None
    owner_started: str | None = None  # the owner process's start time, where the system tells it

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> BatchInfo:
        return cls(row[0], row[1], row[2], json.loads(row[3]), *row[4:])


def process_started(pid: int) -> str | None:
    """When process `pid` started, as the system counts it (Linux: clock ticks since boot, field 22 of
    /proc/PID/stat); "zombie" for a process that has exited but is not reaped; None where unknown."""
    try:
        stat = safe_io.read_bytes(Path(f"/proc/{pid}/stat"), "process status").decode("ascii", "replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the name (field 2) may hold spaces and parentheses
    if len(fields) < 20:
        return None
    return "zombie" if fields[0] in ("Z", "X") else fields[19]


def _pid_alive(pid: int, started: str | None = None) -> bool:
    """Whether `pid` is the live process that started at `started` (a pid reused since is another process)."""
    now = process_started(pid)
    if now == "zombie" or (started is not None and now is not None and now != started):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def owner_alive(info: BatchInfo) -> bool | None:
    """Whether the process running `info` is alive: None when it runs on another host (cannot tell)."""
    if info.owner_pid is None or info.owner_host is None:
        return None
    if info.owner_host != socket.gethostname():
        return None
    return _pid_alive(info.owner_pid, info.owner_started)


def owner_known_alive(info: BatchInfo) -> bool:
    """The very process that owns `info` is alive here: same host, same pid, same start time.

    Stricter than `owner_alive`, as a refusal must be: a batch recorded before
    start times were kept, or on a system that does not tell them, has only its
    pid, which after a reboot may be any process; such a batch can be resumed.
    """
    return info.owner_started is not None and owner_alive(info) is True


def still_running(batch_id: str, info: BatchInfo) -> Problem:
    """Two processes on one batch would call the agent twice for the same rows: the second is refused."""
    return Problem(
        batch_id, "$", "batch-running",
        f"batch {batch_id} is being run by process {info.owner_pid} on {info.owner_host}",
        "wait for it to finish, or stop it (Ctrl-C), then resume",
    )


def new_run_command(csv_path: Path, info: BatchInfo) -> str:
    """A quoted shell line starting a fresh run of the same CSV, agent and invoke spec as `info`."""
    argv = ["schema-factory", "batch", "run", csv_path.as_posix(), "--agent", info.agent_name]
    if info.config.get("invoke"):
        argv += ["--invoke", str(info.config["invoke"])]
    return shlex.join(argv)


def effective_state(info: BatchInfo) -> str:
    """The stored state, except that a "running" batch whose process died is "interrupted"."""
    if info.state == "running" and owner_alive(info) is False:
        return "interrupted"
    return info.state


def describe_state(info: BatchInfo) -> str:
    """The state as `batch status` prints it: an interrupted run (Ctrl-C or a dead process) is resumable."""
    state = effective_state(info)
    if state == "interrupted":
        return "interrupted (resumable)"
    if state == "running" and owner_alive(info) is None and info.owner_host:
        return f"running (on host {info.owner_host})"
    return state


def _json_default(value: Any) -> Any:
    return from_dynamodb(value)


class LocalResultStore:
    """Thread-safe: one connection, one lock; writes are tiny and commit at once."""

    def __init__(self, path: Path = DEFAULT_STORE) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite_files.connect(path, STORE_TABLES.__contains__, check_same_thread=False, timeout=30,
                                              isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            present = {row[1] for row in self._conn.execute("PRAGMA table_info(batches)")}
            for name, kind in _ADDED_COLUMNS:
                if name not in present:
                    self._conn.execute(f"ALTER TABLE batches ADD COLUMN {name} {kind}")
            missing = self._missing_columns()
        except sqlite_files.ForeignDatabase as err:
            raise FactoryError(Problem(path.as_posix(), "$", "result-store", f"not a batch result store: it {err}",
                                       "point --store at a result store, or at a new file")) from None
        except (OSError, sqlite3.Error) as err:
            raise FactoryError(Problem(path.as_posix(), "$", "result-store", f"cannot open the result store: {err}",
                                       "check --store and its directory's permissions")) from None
        if missing:  # an SQLite file that is something else, with tables of the same names
            raise FactoryError(Problem(path.as_posix(), "$", "result-store",
                                       f"not a batch result store: no column(s) {', '.join(missing)}",
                                       "point --store at a result store, or at a new file"))
        self._lock = threading.Lock()

    def _missing_columns(self) -> list[str]:
        wanted = {"batches": _BATCH_COLUMNS.split(", "), "results": _RESULT_COLUMNS}
        missing = []
        for table, columns in wanted.items():
            present = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            missing += [f"{table}.{column}" for column in columns if column not in present]
        return missing

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """A store damaged or edited by hand (a locked file, text where JSON belongs) is one line naming it."""
        try:
            yield
        except (sqlite3.Error, ValueError) as err:
            raise FactoryError(Problem(self.path.as_posix(), "$", "result-store",
                                       f"cannot read the result store: {type(err).__name__}: {err}",
                                       "point --store at a result store; a damaged one can be moved aside")) from None

    def close(self) -> None:
        self._conn.close()

    def create_batch(self, batch_id: str, agent_name: str, csv_path: str, config: dict[str, Any],
                     csv: CsvFingerprint | None = None) -> None:
        """Record a new run, its CSV's size and hash (a resume must read the same rows) and its owner."""
        csv = csv or fingerprint(Path(csv_path))
        with self._lock:
            self._conn.execute(
                f"INSERT INTO batches ({_BATCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
                (batch_id, agent_name, csv_path, json.dumps(config, ensure_ascii=False),
                 time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), csv.size, csv.sha256, os.getpid(),
                 socket.gethostname(), process_started(os.getpid())),
            )

    def resume_batch(self, batch_id: str, csv_path: Path) -> set[int]:
        """Take over a batch to run its remaining rows; the rows already done.

        Row numbers are positions in the CSV, so a CSV changed since the batch
        started would pair stored results with other rows' inputs: refused.
        The resuming process becomes the batch's owner.
        """
        info = self.batch(batch_id)
        if info.csv_sha256 is not None:
            now = fingerprint(csv_path)
            if (now.size, now.sha256) != (info.csv_size, info.csv_sha256):
                raise FactoryError(Problem(
                    csv_path.as_posix(), "$", "csv-changed",
                    f"the CSV changed since batch {batch_id} started ({info.csv_size} bytes then, "
                    f"{now.size} now, different content); resuming would pair stored results with other rows",
                    "start a new run instead: " + new_run_command(csv_path, info),
                ))
        if info.state == "running" and owner_known_alive(info) and info.owner_pid != os.getpid():
            raise FactoryError(still_running(batch_id, info))
        with self._lock:
            # compare-and-swap on the owner read above: of two resumes racing, one takes the batch
            taken = self._conn.execute(
                "UPDATE batches SET state = 'running', owner_pid = ?, owner_host = ?, owner_started = ? "
                "WHERE batch_id = ? AND state IS ? AND owner_pid IS ? AND owner_host IS ?",
                (os.getpid(), socket.gethostname(), process_started(os.getpid()), batch_id, info.state,
                 info.owner_pid, info.owner_host),
            ).rowcount
        if not taken:
            raise FactoryError(still_running(batch_id, self.batch(batch_id)))
        return self.done_rows(batch_id)

    def set_state(self, batch_id: str, state: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE batches SET state = ? WHERE batch_id = ?", (state, batch_id))

    def batch(self, batch_id: str) -> BatchInfo:
        query = f"SELECT {_BATCH_COLUMNS} FROM batches WHERE batch_id = ?"
        with self._reading():
            row = self._conn.execute(query, (batch_id,)).fetchone()
            if row is None:
                raise FactoryError(Problem(self.path.as_posix(), "$", "batch-unknown",
                                           f"no batch {batch_id!r} in this store",
                                           "see `schema-factory batch status` for known batches"))
            return BatchInfo.from_row(row)

    def batches(self) -> list[BatchInfo]:
        query = f"SELECT {_BATCH_COLUMNS} FROM batches ORDER BY created_at, batch_id"
        with self._reading():
            rows = self._conn.execute(query).fetchall()
            return [BatchInfo.from_row(r) for r in rows]

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
        with self._reading():
            rows = self._conn.execute("SELECT status, COUNT(*) FROM results WHERE batch_id = ? GROUP BY status",
                                      (batch_id,))
            return dict(rows.fetchall())

    def outcomes(self, batch_id: str) -> Iterator[tuple[Any, ...]]:
        """(row_number, status, error, execution_time_ms, attempts, output_data) per stored row, in row order:
        what `batch report` reads, without decoding each row's input data."""
        # `->` keeps the error as JSON text: json_extract would cut a string at a NUL character.
        query = ("SELECT row_number, status, item -> '$.error', json_extract(item, '$.execution_time_ms'),"
                 " json_extract(item, '$.attempts'), json_extract(item, '$.output_data') FROM results"
                 " WHERE batch_id = ? ORDER BY row_id")
        loads = json.loads
        with self._reading():
            for number, status, error, elapsed, attempts, output in self._conn.execute(query, (batch_id,)):
                yield (number, status, loads(error) if error else None, elapsed, attempts,
                       loads(output) if output else None)

    def pages(self, batch_id: str, page_size: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """Stored items in row order, a page at a time (as the DynamoDB query pages them)."""
        last = ""
        while True:
            with self._reading():
                rows = self._conn.execute(
                    "SELECT row_id, item FROM results WHERE batch_id = ? AND row_id > ? ORDER BY row_id LIMIT ?",
                    (batch_id, last, page_size),
                ).fetchall()
                page = [json.loads(item) for _, item in rows]
            if not rows:
                return
            last = rows[-1][0]
            yield page
