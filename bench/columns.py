"""Column handling on very wide CSVs: `batch analyze` and the orchestrator's generate_batch_config.

    python bench/columns.py [COLUMNS]     (default 100000)

Writes a CSV of COLUMNS columns (the agent's inputs among them) and two rows,
then times, in-process, `analyze_csv` and the generate_batch_config tool given
the same names as `csv_columns` with `input_mapping: {}` (every column mapped).
Prints wall and CPU seconds. Target (issue #25): under 2 s each at 100,000 columns.
Measured on the 2-core development machine: analyze 0.7 s CPU, the tool 1.0 s CPU
(the quadratic code took 48 s for 60,000 columns and 471 s for 200,000).
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

from factory.batch.agents import resolve_agent  # noqa: E402
from factory.batch.analyze import analyze_csv  # noqa: E402

AGENT = "broadband_availability_bt_wholesale"


def timed(label: str, work) -> None:  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    print(f"{label:40s} wall {time.perf_counter() - wall:6.2f} s  cpu {time.process_time() - cpu:6.2f} s")


def main(width: int) -> None:
    columns = [f"col_{index}" for index in range(width)]
    columns[7], columns[width // 2], columns[-3] = "Postcode", "Street Name", "building no"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wide.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows([[str(row)] * width for row in range(2)])
        os.environ.update(
            SCHEMA_FACTORY_GENERATED=str(REPO / "generated"),
            SCHEMA_FACTORY_TOOL_ROOT=tmp,
            SCHEMA_FACTORY_RESULTS=str(Path(tmp) / "s.sqlite"),
        )
        from factory.batch.orchestrator_tools import call_tool

        agent = resolve_agent(AGENT, REPO / "generated")
        timed(f"analyze_csv, {width} columns", lambda: analyze_csv(path, agent))
        timed(
            f"generate_batch_config, {width} csv_columns",
            lambda: call_tool(
                "generate_batch_config", {"csv_columns": columns, "agent_name": AGENT, "input_mapping": {}}
            ),
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
