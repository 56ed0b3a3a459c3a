"""Generation speed: N copies of the bundled schemas, in process, black included.

    python bench/generate.py [N ...]        (default: 10 100)

Prints seconds per schema and total wall time for each N. Target: 100 schemas
in under 5 s wall on one core.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from factory.generation import generate_to_disk  # noqa: E402


def make_copies(target: Path, count: int) -> None:
    bundled = sorted((REPO / "schemas").glob("*.json"))
    target.mkdir(parents=True)
    for index in range(count):
        source = bundled[index % len(bundled)]
        document = json.loads(source.read_text("utf-8"))
        name = f"{document['extraction_name'][:40]}_{index:04d}"
        document["extraction_name"] = name
        document.pop("agent", None)
        (target / f"{name}.json").write_text(json.dumps(document), "utf-8")


def main(counts: list[int]) -> None:
    # Warm imports (jinja2, black, pydantic) once, as a long-lived process would.
    with tempfile.TemporaryDirectory() as warm:
        make_copies(Path(warm) / "schemas", 1)
        generate_to_disk([Path(warm) / "schemas"], Path(warm) / "generated")
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            schemas = Path(tmp) / "schemas"
            make_copies(schemas, count)
            start = time.perf_counter()
            result = generate_to_disk([schemas], Path(tmp) / "generated")
            wall = time.perf_counter() - start
            files = len(result.report.written)
            print(f"N={count:4d}  total {wall:6.2f} s  per schema {wall / count * 1000:6.1f} ms  files written {files}")
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10, 100], help="schema counts (default 10 100)")
    main(parser.parse_args().sizes)
