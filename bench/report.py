"""Time `batch report` on a big local batch: rows/s, wall time and peak RSS of the report alone.

    python bench/report.py [--rows 100000]

Fills a scratch result store with ROWS stored rows (a fifth failed, with a few dozen distinct reasons;
enum, boolean, number and text fields, some missing), then runs the report in a fresh process and
prints its wall time, peak RSS (ru_maxrss of that process) and the page's size. The issue's targets:
100,000 rows in under 3 s, peak RSS under 150 MiB, the page under 500 KB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from factory.batch.local_store import LocalResultStore
from factory.runtime.result_store import RowResult

ROOT = Path(__file__).resolve().parent.parent


def fill(store_path: Path, rows: int) -> str:
    csv_path = store_path.with_name("bench.csv")
    csv_path.write_text("x\n" + "".join(f"{n}\n" for n in range(1, rows + 1)))
    store = LocalResultStore(store_path)
    mapping = {"structured_output_fields": ["kind", "ok", "score", "note"]}
    batch_id = "bench#local-1"
    store.create_batch(batch_id, "bench-agent", str(csv_path), {"mapping": mapping})
    store.close()
    conn = sqlite3.connect(store_path)
    with conn:
        conn.executemany(
            "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)", (_row(batch_id, n) for n in range(1, rows + 1))
        )
    conn.close()
    return batch_id


def _row(batch_id: str, n: int) -> tuple[object, ...]:
    failed = n % 5 == 0
    output = (
        {}
        if failed
        else {
            "kind": ("a", "b", "c")[n % 3],
            "ok": n % 2 == 0,
            "score": n % 97,
            **({"note": f"note {n}"} if n % 4 else {}),
        }
    )
    item = {
        "batch_id": batch_id,
        "row_id": f"{n:08d}",
        "row_number": n,
        "status": "FAILED" if failed else "SUCCESS",
        "error": f"agent call failed after 3 attempt(s): TimeoutError: reason {n % 37}" if failed else None,
        "input_data": {"x": str(n)},
        "output_data": output,
        "execution_time_ms": 200 + (n * 7919) % 3000,
        "timestamp": "2026-12-07T00:00:00.000Z",
        "attempts": 1 + (n % 11 == 0),
    }
    return (batch_id, item["row_id"], n, item["status"], item["timestamp"], json.dumps(item))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="stored rows to report on (default 100000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        store = Path(scratch) / "results.sqlite"
        batch_id = fill(store, args.rows)
        out = Path(scratch) / "report.html"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "factory",
                "batch",
                "report",
                batch_id,
                "--store",
                str(store),
                "-o",
                str(out),
                "--generated",
                scratch,
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
        print(f"rows: {args.rows}")
        print(f"wall: {wall:.2f} s ({args.rows / wall:,.0f} rows/s, interpreter start included)")
        print(f"CPU: {cpu:.2f} s (user + system: what the wall time is on an idle core)")
        print(f"peak RSS: {peak:.1f} MiB")
        print(f"page: {out.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
