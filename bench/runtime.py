"""Runtime speed: mappers and renderer, aggregator, result writer.

    python bench/runtime.py [--responses N] [--mapper-repeat N] [--original DIR]
                            [--rows N] [--repeat N] [--skip-aggregator] [--skip-dynamodb]

(a) Rows/s of CPU time, in one child process pinned to one core, interleaved,
    best of --mapper-repeat, for each piece of per-row work and each path:
    - output mapper: mixed-shape responses (structured_output, `Output` as
      JSON text, messages with a print_*_output tool_use, browser
      step_results, a Lambda `Payload` wrapper, no output at all) with the
      BT Wholesale mapping and its real output schema; target >= 60,000;
    - input mapper, agent mode: the BT Wholesale mapping and input schema
      (prompt + data); target >= 250,000;
    - input mapper, tool mode: 3 columns + a static value + a concat + a
      template transformation; target >= 300,000. Its compiled path is the
      plan's `data`, the tool's input alone, which is what the local engine
      asks for a tool target and what the original's tool mode builds; the
      cached call writes the prompt as well;
    - renderer: the BT Wholesale browser template; target >= 20,000.
    Paths: "compiled" (the plan built once, reused per row) and "cached call"
    (the public function, which finds the plan by the config's content, as one
    Lambda event does). --original DIR adds the original batch processor's
    Lambdas (input_mapper.py and output_mapper.py of
    guyernest/step-functions-agent, lambda/tools/batch_processor, kept outside
    this repository) on the same rows, with its logging switched off; there the
    compiled mappers' target is >= 1.2x the original's rows/s.
(b) Aggregator: bench/aggregator.py's figures (--rows, --repeat).
(c) DynamoDB requests per 1,000 rows written by `ResultWriter` against moto's
    server, counted with a `before-send.dynamodb` handler. Target <= 40.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MAPPER_RESPONSES = 20_000
TOOL = "print_broadband_availability_bt_wholesale_output"
TEMPLATE_FILE = "broadband_availability_bt_wholesale_v1.0.0.json"


# --- (a) output mapper ---------------------------------------------------------


def mapper_responses(count: int) -> list:
    """`count` responses cycling through the shapes the mapper must find (and one it cannot)."""
    responses = []
    for n in range(count):
        good = {
            "success": True,
            "alk": f"A{n:011d}",
            "exchange_code": "CAMBRIDGE",
            "fttp_avail": n % 2 == 0,
            "install_type": "Standard",
            "sogea_avail": True,
            "soadsl_dsl_speed": 12.5 + n % 7,
            "ont_reference": f"ONT{n}",
            "ont_serial_no": f"SN{n:08d}",
            "port_service_id": f"PS{n}",
            "screenshot_url": f"https://recordings.example/{n}.webm",
            "metadata": {"source": "bench", "n": n},
        }
        shape = n % 6
        if shape == 0:
            response = {"structured_output": good}
        elif shape == 1:
            response = {"Output": json.dumps({"structured_output": good}), "status": "SUCCEEDED"}
        elif shape == 2:
            response = {
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "check the line"}]},
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "text", "text": "done"},
                            {"type": "tool_use", "id": f"t{n}", "name": TOOL, "input": good},
                        ],
                    },
                ]
            }
        elif shape == 3:
            response = {
                "success": True,
                "step_results": [
                    {"step": 0, "action": "act", "success": True},
                    {
                        "step": 1,
                        "action": "act_with_schema",
                        "success": True,
                        "parsed_response": good,
                        "matches_schema": True,
                    },
                    {"step": 2, "action": "screenshot", "success": True},
                ],
            }
        elif shape == 4:
            response = {"StatusCode": 200, "Payload": {"structured_output": good}}
        else:
            response = {"status": "FAILED", "error": "agent timed out"}
        responses.append(response)
    return responses


ROW_STREETS = ("High Street", "Park Road", "Mill Lane")
TOOL_MAPPING = {
    "input_mapping": {
        "column_mappings": {"building_number": "building_number", "street": "street", "postcode": "postcode"},
        "field_types": {
            "building_number": "string",
            "street": "string",
            "postcode": "string",
            "source": "string",
            "address": "string",
            "label": "string",
        },
        "static_values": {"source": "batch"},
        "transformations": [
            {
                "field": "address",
                "type": "concat",
                "columns": ["building_number", "street"],
                "separator": " ",
            },
            {"field": "label", "type": "template", "template": "{building_number}, {street}, {postcode}"},
        ],
    }
}
# The same tool-mode work in the original input mapper's configuration format.
ORIGINAL_TOOL_MAPPING = {
    "column_mappings": {"building_number": "building_number", "street": "street", "postcode": "postcode"},
    "static_values": {"source": "batch"},
    "transformations": {
        "address": {"type": "concat", "config": {"columns": ["building_number", "street"], "separator": " "}},
        "label": {
            "type": "template",
            "config": {
                "template": "{building_number}, {street}, {postcode}",
                "variables": {name: name for name in ("building_number", "street", "postcode")},
            },
        },
    },
}


def csv_rows(count: int) -> list[dict]:
    return [
        {
            "building_number": str(n % 300 + 1),
            "street": ROW_STREETS[n % 3],
            "postcode": "CB1 2AB",
            "full_address": "" if n % 4 else f"{n % 300 + 1} {ROW_STREETS[n % 3]}, Cambridge",
        }
        for n in range(count)
    ]


def load_original(directory: str) -> tuple:
    """The original batch processor's input and output mappers, loaded from files outside the repo."""
    import importlib.util
    import logging

    logging.disable(logging.CRITICAL)  # only the work is timed, not its log lines
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # it makes boto3 clients at import
    modules = []
    for name in ("input_mapper", "output_mapper"):
        path = Path(directory) / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"original_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return tuple(modules)


def mapper_workloads(count: int, original: str | None) -> dict:
    """{(work, path): zero-argument function doing `count` rows}; paths: compiled, cached call, original."""
    from tests.runtime.conftest import load_agent_record, load_mapping

    from factory.runtime.input_mapper import input_plan, transform_input
    from factory.runtime.output_mapping.structured import extract_structured_output, output_plan
    from factory.runtime.template_renderer import prepare_variables, render_script, template_plan

    mapping = load_mapping("broadband_availability_bt_wholesale")
    schemas = load_agent_record("broadband-availability-bt-wholesale-agent")["structured_output"]["schemas"]
    item = json.loads((REPO / "generated" / "templates" / f"{TEMPLATE_FILE}").read_text())
    responses, rows = mapper_responses(count), csv_rows(count)
    render_rows = rows[: max(1, count // 4)]
    out_schema, in_schema = schemas["output"], schemas["input"]

    out_plan = output_plan(mapping, out_schema)
    agent_plan, tool_plan = input_plan(mapping, in_schema), input_plan(TOOL_MAPPING)
    render, specs = template_plan(item["template"]), item["variables"]
    work = {
        ("output mapper", "compiled"): lambda: [out_plan.map(r) for r in responses],
        ("output mapper", "cached call"): lambda: [
            extract_structured_output(r, mapping, out_schema) for r in responses
        ],
        ("input mapper, agent mode", "compiled"): lambda: [
            agent_plan.transform(r, n) for n, r in enumerate(rows)
        ],
        ("input mapper, agent mode", "cached call"): lambda: [
            transform_input(r, mapping, in_schema, n) for n, r in enumerate(rows)
        ],
        ("input mapper, tool mode", "compiled"): lambda: [  # a tool's input alone, as the engine asks
            tool_plan.data(r, n) for n, r in enumerate(rows)
        ],
        ("input mapper, tool mode", "cached call"): lambda: [
            transform_input(r, TOOL_MAPPING, None, n) for n, r in enumerate(rows)
        ],
        ("renderer (BT Wholesale)", "compiled"): lambda: [
            render(prepare_variables(specs, r)) for r in render_rows
        ],
        ("renderer (BT Wholesale)", "cached call"): lambda: [render_script(item, r) for r in render_rows],
    }
    if original:
        original_in, original_out = load_original(original)
        fields = mapping["structured_output_fields"]
        events = [
            {"agent_output": r, "output_mapping": {"structured_output_fields": fields}, "original_row": {}}
            for r in responses
        ]
        section, context = mapping["input_mapping"], type("Context", (), {"request_id": "bench"})()
        tool_events = [
            {"row": r, "mapping_config": ORIGINAL_TOOL_MAPPING, "target": {"type": "tool", "name": "bench"}}
            for r in rows
        ]
        work[("output mapper", "original")] = lambda: [
            original_out.extract_structured_output(e, None) for e in events
        ]
        work[("input mapper, agent mode", "original")] = lambda: [
            original_in.create_natural_language_input(r, section) for r in rows
        ]
        work[("input mapper, tool mode", "original")] = lambda: [
            original_in.lambda_handler(e, context) for e in tool_events
        ]
    sizes = {name: len(render_rows) if name[0].startswith("renderer") else count for name in work}
    return {name: (function, sizes[name]) for name, function in work.items()}


def child_mappers(count: int, repeat: int, original: str | None) -> dict:
    """Rows/s per (work, path): CPU time, interleaved, best of `repeat`, pinned to one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    work = mapper_workloads(count, original)
    best: dict[str, float] = {}
    for _ in range(repeat):
        for (name, path), (function, size) in work.items():
            cpu = time.process_time()
            function()
            seconds = time.process_time() - cpu
            key = f"{name}|{path}"
            best[key] = min(best.get(key, seconds), seconds)
    statuses: dict[str, int] = {}
    for row in work[("output mapper", "compiled")][0]():
        statuses[row["_status"]] = statuses.get(row["_status"], 0) + 1
    rates = {key: work[tuple(key.split("|"))][1] / max(seconds, 1e-9) for key, seconds in best.items()}
    return {"rates": rates, "statuses": statuses, "rows": count}


MAPPER_TARGETS = {
    "output mapper": 60_000,
    "input mapper, agent mode": 250_000,
    "input mapper, tool mode": 300_000,
    "renderer (BT Wholesale)": 20_000,
}


ORIGINAL_FACTOR = 1.2  # compiled rows/s over the original's, where the original does the same work


def print_mappers(result: dict, repeat: int) -> None:
    rates = result["rates"]
    paths = ["compiled", "cached call"]
    if any(key.endswith("|original") for key in rates):
        paths.append("original")
    print(
        f"(a) mappers, {result['rows']:,} rows each (renderer a quarter of that), rows/s of CPU time on one core, "
        f"interleaved, best of {repeat}:"
    )
    print(f"    {'work':<26}" + "".join(f"{path:>13}" for path in paths) + "   target")
    for name, target in MAPPER_TARGETS.items():
        cells = "".join(
            f"{rates[f'{name}|{path}']:>13,.0f}" if f"{name}|{path}" in rates else f"{'-':>13}"
            for path in paths
        )
        compiled, original = rates[f"{name}|compiled"], rates.get(f"{name}|original")
        verdicts = f">= {target:,}: {verdict(compiled >= target)}"
        if original:
            factor = compiled / original
            verdicts += (
                f"; {factor:.2f}x the original, >= {ORIGINAL_FACTOR}x: {verdict(factor >= ORIGINAL_FACTOR)}"
            )
        print(f"    {name:<26}{cells}   {verdicts}")
    print(f"    output mapper statuses over the mixed responses: {result['statuses']}")
    print(
        "    compiled: the plan built once and reused; cached call: the public function, which looks the plan "
        "up by the config's content (one Lambda event); tool mode's compiled path is the plan's data alone "
        "(the tool's input, what the engine asks for a tool)"
    )


# --- (c) DynamoDB requests per 1,000 rows ------------------------------------------


def dynamodb_requests(rows: int = 1000) -> dict:
    import logging

    import boto3
    from botocore.config import Config
    from moto.server import ThreadedMotoServer

    from factory.runtime.output_mapping.structured import extract_structured_output
    from factory.runtime.result_store import result_from_mapped_row
    from factory.runtime.result_writer import ResultWriter
    from tests.runtime.conftest import create_results_table

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    with contextlib.redirect_stdout(io.StringIO()):  # the server announces itself on stdout
        server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"

        def client():
            return boto3.session.Session().client(
                "dynamodb",
                endpoint_url=endpoint,
                region_name="us-east-1",
                config=Config(retries={"max_attempts": 1}),
            )

        admin = client()
        create_results_table(admin)
        dynamodb = client()
        counted = {"requests": 0}

        def count(request, **kwargs):
            counted["requests"] += 1

        dynamodb.meta.events.register_first("before-send.dynamodb", count)
        fields = ["success", "exchange_code", "speed"]
        results = [
            result_from_mapped_row(
                "bench#exec",
                n,
                {"building_number": str(n), "street": "High Street", "postcode": "CB1 2AB"},
                extract_structured_output(
                    {"structured_output": {"success": True, "exchange_code": "CAMBRIDGE", "speed": 12.5}},
                    {"structured_output_fields": fields},
                ),
                1200,
            )
            for n in range(1, rows + 1)
        ]
        start = time.perf_counter()
        report = ResultWriter(dynamodb, "batch_processor_results").write(results)
        seconds = time.perf_counter() - start
        stored = admin.describe_table(TableName="batch_processor_results")["Table"].get("ItemCount")
        scanned = sum(
            page["Count"]
            for page in admin.get_paginator("scan").paginate(
                TableName="batch_processor_results", Select="COUNT"
            )
        )
    finally:
        server.stop()
    return {
        "rows": rows,
        "requests": counted["requests"],
        "writer_requests": report.requests,
        "stored": scanned,
        "item_count": stored,
        "seconds": seconds,
    }


# --- (a') generic output mapper on transcripts ---------------------------------------

TRANSCRIPT_SHAPES = ("llm-tool-result", "llm-print-output", "llm-final-text")


def generic_mapper_line(rows: int, repeat: int) -> str:
    """The generic mapper's rows/s over LLM transcripts, measured by bench/generic_mapper.py's own function."""
    from bench.generic_mapper import measure_shape

    seconds = sum(rows / measure_shape(shape, rows, repeat)[0] for shape in TRANSCRIPT_SHAPES)
    return (
        f"(a') generic output mapper, {rows:,} LLM transcripts x {len(TRANSCRIPT_SHAPES)} shapes "
        f"({', '.join(TRANSCRIPT_SHAPES)}), best of {repeat}: {rows * len(TRANSCRIPT_SHAPES) / seconds:,.0f} rows/s"
    )


# --- driver -------------------------------------------------------------------------


def run_child(*args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=REPO, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="aggregator rows (default 1,000,000)")
    parser.add_argument(
        "--responses", type=int, default=MAPPER_RESPONSES, help="rows per mapper measurement (default 20,000)"
    )
    parser.add_argument(
        "--mapper-repeat", type=int, default=5, help="interleaved runs per mapper measurement; best kept"
    )
    parser.add_argument(
        "--original",
        metavar="DIR",
        help="also time the original batch processor's input_mapper.py and output_mapper.py found in DIR",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per aggregator measurement; best time kept"
    )
    parser.add_argument("--skip-aggregator", action="store_true")
    parser.add_argument("--skip-dynamodb", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, count = args.child[0], int(args.child[1])
        result = child_mappers(count, int(args.child[2]), args.child[3] if len(args.child) > 3 else None)
        print(json.dumps(result))
        return

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpu(s)")
    if args.original and not all(
        (Path(args.original) / f"{n}.py").is_file() for n in ("input_mapper", "output_mapper")
    ):
        raise SystemExit(
            f"--original {args.original}: needs input_mapper.py and output_mapper.py in that directory"
        )

    repeat = max(1, args.mapper_repeat)
    original = [str(Path(args.original).resolve())] if args.original else []
    print_mappers(run_child("mappers", str(args.responses), str(repeat), *original), repeat)
    print(generic_mapper_line(min(args.responses, 5000), repeat))
    if args.rows and not args.skip_aggregator:
        from bench.aggregator import print_aggregator

        print_aggregator(args.rows, max(1, args.repeat))
    if not args.skip_dynamodb:
        writes = dynamodb_requests(1000)
        per_thousand = writes["requests"] * 1000 / writes["rows"]
        print(
            f"(c) result writer: {writes['rows']:,} rows -> {writes['requests']} DynamoDB requests "
            f"({per_thousand:.0f} per 1,000 rows; BatchWriteItem calls {writes['writer_requests']}), "
            f"{writes['stored']:,} items stored, {writes['seconds']:.2f} s against moto  "
            f"target <= 40: {verdict(per_thousand <= 40 and writes['stored'] == writes['rows'])}"
        )


if __name__ == "__main__":
    main()
