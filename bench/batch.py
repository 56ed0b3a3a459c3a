"""Local engine throughput with the example agent.

    python bench/batch.py [ROWS]          (default 10000)

For latency 0 ms and 50 ms and concurrency 1, 10, 50, runs the engine
in-process (result store, mappers, aggregation included) and prints rows/s
and, with latency, the ratio to the ideal concurrency / latency. Slow
configurations run a smaller slice (about 10 s of ideal work) so the whole
benchmark stays short; the row count used is printed.
Targets: >= 2,000 rows/s at 0 ms; >= 90% of ideal at 50 ms, concurrency 50.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.chdir(REPO)

from factory.batch.engine import RunOptions  # noqa: E402
from factory.batch.plan import RunRequest, plan_local, run_plan  # noqa: E402


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Building Number", "Street", "Postcode"])
        for index in range(rows):
            writer.writerow([str(index), f"Bench Street {index}", "CB1 2AB"])


def main(rows: int) -> None:
    for latency_ms in (0, 50):
        os.environ["EXAMPLE_AGENT_LATENCY_MS"] = str(latency_ms)
        for concurrency in (1, 10, 50):
            ideal = concurrency / (latency_ms / 1000) if latency_ms else None
            count = rows if ideal is None else min(rows, max(200, int(ideal * 10)))
            with tempfile.TemporaryDirectory() as tmp:
                csv_path = Path(tmp) / f"in-{latency_ms}-{concurrency}.csv"
                write_csv(csv_path, count)
                request = RunRequest(csv_path, "broadband_availability_bt_wholesale", REPO / "generated",
                                     out_path=Path(tmp) / "out.csv", invoke="examples.example_agent:invoke",
                                     store_path=Path(tmp) / "s.sqlite",
                                     options=RunOptions(concurrency=concurrency, retries=0))
                start = time.perf_counter()
                summary = run_plan(plan_local(request)).summary  # planning included: the manifest check costs
                wall = time.perf_counter() - start
            rate = count / wall
            ratio = f"  {rate / ideal:5.1%} of ideal {ideal:,.0f}/s" if ideal else ""
            print(f"latency {latency_ms:3d} ms  concurrency {concurrency:3d}  rows {count:6d}  "
                  f"{rate:8.0f} rows/s{ratio}  ({summary.counts})")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=10_000, help="rows at 0 ms latency (default 10,000)")
    main(parser.parse_args().rows)
