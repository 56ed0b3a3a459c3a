"""Benchmark: register N schemas' records into moto's DynamoDB server and into SQLite.

Prints wall time and, for DynamoDB, the requests sent (counted with a botocore
`before-send` hook), for a first run (everything new) and a second run
(everything unchanged). Target: at most 3 requests per schema when new, 1
when unchanged.

    python bench/register.py [--schemas 200]

The N schemas are the bundled ones under new extraction names, so every
record is a real emitter output, just under a distinct key.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factory.emit.agent_record import agent_record  # noqa: E402
from factory.emit.browser_template import template_record  # noqa: E402
from factory.generation import load_valid  # noqa: E402
from factory.registry.dynamodb import DynamoRegistry, DynamoSettings  # noqa: E402
from factory.registry.protocol import Registry  # noqa: E402
from factory.registry.records import now_iso  # noqa: E402
from factory.registry.service import build_pairs, register  # noqa: E402
from factory.registry.records import RecordPair  # noqa: E402
from factory.registry.sqlite import SqliteRegistry  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def records(count: int) -> list[RecordPair]:
    loaded = load_valid([REPO / "schemas"])
    out = []
    for n in range(count):
        item = loaded[n % len(loaded)]
        schema = item.schema.model_copy(update={
            "extraction_name": f"{item.schema.extraction_name[:40]}_{n:04d}",
            "agent": item.schema.agent.model_copy(update={"name": None}),
        })
        out.append(RecordPair(f"bench/{n}", template_record(schema), agent_record(schema)))
    return out


def run(name: str, registry: Registry, batch: list[RecordPair], counts: Counter[str] | None) -> None:
    for round_name in ("new", "unchanged"):
        if counts is not None:
            counts.clear()
        started = time.perf_counter()
        results = register(registry, build_pairs(batch, now_iso()))
        seconds = time.perf_counter() - started
        assert {r.outcome for r in results} == {round_name}, {r.outcome for r in results}
        requests = sum(counts.values()) if counts is not None else None
        per = f"{requests / len(batch):.2f}" if requests is not None else "-"
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) if counts else ""
        print(f"{name:9} {len(batch):7} {round_name:9} {seconds:8.2f} {requests if requests is not None else '-':>8} "
              f"{per:>8}  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=int, default=200)
    args = parser.parse_args()
    batch = records(args.schemas)
    print(f"{'backend':9} {'schemas':>7} {'round':9} {'seconds':>8} {'requests':>8} {'per':>8}")

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        dynamo = DynamoRegistry(DynamoSettings(env_name="bench", region="us-east-1",
                                               endpoint_url=f"http://{host}:{port}"))
        dynamo.create_tables()
        counts: Counter[str] = Counter()

        def count(event_name: str, **_: object) -> None:
            counts[event_name.rsplit(".", 1)[-1]] += 1

        dynamo.client.meta.events.register_first("before-send.dynamodb", count)
        run("dynamodb", dynamo, batch, counts)
    finally:
        server.stop()

    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", SqliteRegistry("bench", Path(tmp) / "registry.sqlite"), batch, None)


if __name__ == "__main__":
    main()
