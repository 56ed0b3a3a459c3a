"""Local engine throughput for a target we did not generate: an LLM-style agent mapped by configuration.

    python bench/generic_target.py [ROWS]     (default 5000)

The agent is in-process (`bench.generic_target:llm_agent`) and answers each row
with a realistic transcript (a browser tool's tool_use/tool_result pair, a
distractor tool, a final text); the batch config's `output_mappings` (the
design's target-keyed form) maps it. Prints rows/s at concurrency 1 and 10,
result store, mapping and aggregation included; compare with bench/batch.py
(our agents, structured output).
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from factory.batch.engine import RunOptions  # noqa: E402
from factory.batch.plan import RunRequest, plan_local, run_plan  # noqa: E402

CONFIG = {
    "target": {"type": "agent", "name": "broadband-agent-rust"},
    "input_mapping": {"column_mappings": {"address": "address", "postcode": "postcode"},
                      "prompt_template": "Check broadband for {address}, postcode {postcode}"},
    "output_mappings": {"broadband-agent-rust": {"type": "agent", "extraction_methods": [
        {"method": "tool_result", "tool_name": "browser_broadband",
         "field_mappings": {"exchange": "$.content | parse('Exchange: (.+)')",
                            "download_mbps": "$.content | parse('Download Speed: [0-9.]+-([0-9.]+) Mbps') "
                                             "| to_number()"}},
        {"method": "structured_output", "tool_name": "print_output", "field_mappings": {"exchange": "$.exchange"}},
    ]}},
}


def llm_agent(event: dict[str, Any]) -> dict[str, Any]:
    question = event["messages"][0]["content"]
    return {"messages": [
        {"role": "user", "content": question},
        {"role": "assistant", "content": [{"type": "text", "text": "Looking it up."},
                                          {"type": "tool_use", "id": "toolu_1", "name": "browser_broadband",
                                           "input": {"q": question}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [
            {"type": "text", "text": "Exchange: WHITEHALL\nCabinet: 4\nDownload Speed: 50.0-330.0 Mbps"}]}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_2", "name": "get_weather",
                                           "input": {"city": "London"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2",
                                      "content": "Exchange: WRONG"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "WHITEHALL, up to 330 Mbps."}]},
    ]}


def main(rows: int) -> None:
    for concurrency in (1, 10):
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / "in.csv"
            with open(csv_path, "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["address", "postcode"])
                writer.writerows([f"{index} Bench Street", "SW1A 2AA"] for index in range(rows))
            request = RunRequest(csv_path, "broadband-agent-rust", Path(tmp) / "generated", config=CONFIG,
                                 out_path=Path(tmp) / "out.csv", invoke="bench.generic_target:llm_agent",
                                 store_path=Path(tmp) / "s.sqlite", schemas_dir=None,
                                 options=RunOptions(concurrency=concurrency, retries=0))
            start = time.perf_counter()
            summary = run_plan(plan_local(request)).summary
            wall = time.perf_counter() - start
        print(f"generic target, concurrency {concurrency:3d}  rows {rows:6d}  {rows / wall:8.0f} rows/s  "
              f"({summary.counts})")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=5_000, help="rows per run (default 5,000)")
    main(parser.parse_args().rows)
