"""Generic output mapper speed: rows/s over realistic transcripts, by response shape.

    python bench/generic_mapper.py [--rows N] [--repeat N]

Maps `--rows` responses per shape with the design's target-keyed configuration
(and, for the last shape, a registered output schema), through `map_output`
exactly as the mapper Lambda and the local engine do, the mapping compiled
once. Shapes:

    llm-tool-result    an LLM agent's messages: 8 messages, the browser tool's result
                       found through its tool_use id among other tools' results
    llm-print-output   the tool's result unusable; the values from the print_output call
    llm-final-text     no tool ran; the last message's `Exchange:` line (jmespath + parse_text)
    envelope           llm-tool-result as DescribeExecution's JSON text `output`
    web-results        a web-search tool's `results` (results_array)
    tool-direct        a classification tool's output through a lambda:invoke envelope
    registry-schema    llm-tool-result mapped by a registered output schema, types checked

Also prints the cost of compiling the configuration and of a cached lookup.
Times are process CPU time; the best of --repeat runs is reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from factory.runtime.output_mapping.generic import load_output_mappings, map_output  # noqa: E402
from factory.runtime.output_mapping.config import load_output_mapping_set  # noqa: E402
from factory.runtime.output_mapping.registered import compile_output_schema  # noqa: E402

CONFIG = yaml.safe_load("""
output_mappings:
  broadband-agent-rust:
    type: agent
    extraction_methods:
      - method: tool_result
        tool_name: browser_broadband
        field_mappings:
          exchange: "$.content | parse('Exchange: (.+)')"
          cabinet: "$.content | parse('Cabinet: (.+)')"
      - method: structured_output
        tool_name: print_output
        field_mappings: {exchange: "$.exchange", cabinet: "$.cabinet"}
      - method: jmespath
        paths: {exchange: "messages[-1].content[0].text", transform: parse_text}
  web-search-agent:
    type: agent
    extraction_methods:
      - method: results_array
        field_mappings: {title: "results[0].title", url: "results[0].url", snippet: "results[0].snippet"}
  classification-tool:
    type: tool
    extraction_methods:
      - method: direct
        field_mappings: {category: "$.category", confidence: "$.confidence_score"}
""")
REGISTERED = {
    "agent": "broadband-agent-rust",
    "version": "1.0",
    "output_format": "messages",
    "fields": [
        {
            "name": "exchange",
            "type": "string",
            "extraction": [
                {"type": "tool_result", "tool": "browser_broadband", "pattern": "Exchange: ([A-Z\\s]+)"},
                {"type": "structured", "path": "$.exchange"},
            ],
        },
        {
            "name": "download_speed",
            "type": "string",
            "extraction": [
                {
                    "type": "tool_result",
                    "tool": "browser_broadband",
                    "pattern": "Download Speed: ([\\d.-]+\\s*Mbps)",
                },
                {"type": "structured", "path": "$.speeds.download"},
            ],
        },
    ],
}


def _use(use_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": use_id, "name": name, "input": args},
        ],
    }


def _result(use_id: str, content: Any) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use_id, "content": content}]}


def transcript(i: int, broadband_text: str, final: str, print_call: bool = False) -> dict[str, Any]:
    messages = [
        {"role": "user", "content": f"Check broadband for {i} High Street, SW1A 2AA"},
        _use(f"toolu_{i}_a", "address_lookup", {"postcode": "SW1A 2AA"}),
        _result(f"toolu_{i}_a", json.dumps({"uprn": 100023336956 + i, "address": f"{i} High Street"})),
        _use(f"toolu_{i}_b", "browser_broadband", {"uprn": 100023336956 + i}),
        _result(f"toolu_{i}_b", [{"type": "text", "text": broadband_text}]),
    ]
    if print_call:
        messages.append(_use(f"toolu_{i}_c", "print_output", {"exchange": "SOHO", "cabinet": str(i % 40)}))
        messages.append(_result(f"toolu_{i}_c", "ok"))
    messages.append({"role": "assistant", "content": [{"type": "text", "text": final}]})
    return {"messages": messages, "output": {"message": final}}


def broadband_text(i: int) -> str:
    return (
        f"Address: {i} High Street\nExchange: WHITEHALL\nCabinet: {i % 40}\n"
        f"Download Speed: 50.0-{i % 300 + 30}.0 Mbps\nUpload Speed: 3.0-50.0 Mbps\n"
    )


SHAPES: dict[str, tuple[str | None, Callable[[int], Any]]] = {
    "llm-tool-result": ("broadband-agent-rust", lambda i: transcript(i, broadband_text(i), "Done.")),
    "llm-print-output": (
        "broadband-agent-rust",
        lambda i: transcript(i, "The page did not load.", "Done.", True),
    ),
    "llm-final-text": (
        "broadband-agent-rust",
        lambda i: transcript(i, "The page did not load.", f"Result:\n**Exchange:** SOHO {i}\n"),
    ),
    "envelope": (
        "broadband-agent-rust",
        lambda i: {
            "executionArn": f"arn:aws:states:eu-west-2:123456789012:execution:a:{i}",
            "status": "SUCCEEDED",
            "output": json.dumps(transcript(i, broadband_text(i), "Done.")),
        },
    ),
    "web-results": (
        "web-search-agent",
        lambda i: {
            "query": f"q{i}",
            "results": [
                {"title": f"Result {i}", "url": f"https://example.com/{i}", "snippet": "text " * 20}
                for _ in range(5)
            ],
        },
    ),
    "tool-direct": (
        "classification-tool",
        lambda i: {
            "StatusCode": 200,
            "ExecutedVersion": "$LATEST",
            "Payload": {"category": "billing", "confidence_score": 0.9},
        },
    ),
    "registry-schema": (None, lambda i: transcript(i, broadband_text(i), "Done.")),
}


def best_rate(responses: list[Any], mapping: Any, repeat: int) -> tuple[float, dict[str, Any]]:
    best, last = float("inf"), {}
    for _ in range(repeat):
        start = time.process_time()
        for response in responses:
            last = map_output(response, mapping)
        best = min(best, time.process_time() - start)
    return len(responses) / best if best > 0 else float("inf"), last


def measure_shape(shape: str, rows: int, repeat: int) -> tuple[float, str]:
    """Rows/s of the generic mapper over `rows` responses of one shape, and the last row's status.

    bench/runtime.py calls this too, so both scripts measure the same thing.
    """
    target, build = SHAPES[shape]
    mapping = load_output_mappings(CONFIG, target) if target else compile_output_schema(REGISTERED)
    responses = [build(i) for i in range(rows)]
    rate, last = best_rate(responses, mapping, repeat)
    assert last["_status"] in ("SUCCESS", "PARTIAL"), (shape, last)
    return rate, str(last["_status"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="responses per shape (default 5000)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per shape; the best is reported (default 3)"
    )
    args = parser.parse_args()

    start = time.process_time()
    for _ in range(100):
        load_output_mapping_set(CONFIG["output_mappings"])
    compile_ms = (time.process_time() - start) * 10
    start = time.process_time()
    for _ in range(10_000):
        load_output_mappings(CONFIG, "broadband-agent-rust")
    cached_us = (time.process_time() - start) * 100

    print(f"generic output mapper, {args.rows} rows per shape, best of {args.repeat}")
    print(f"  compile the design's configuration: {compile_ms:.2f} ms; cached lookup: {cached_us:.1f} us")
    total_rows, total_time = 0, 0.0
    for shape in SHAPES:
        rate, status = measure_shape(shape, args.rows, args.repeat)
        total_rows += args.rows
        total_time += args.rows / rate
        print(f"  {shape:<17} {rate:>10,.0f} rows/s   ({status})")
    print(f"  {'all shapes':<17} {total_rows / total_time:>10,.0f} rows/s")


if __name__ == "__main__":
    main()
