"""Benchmark `schema-factory check` as a whole process (cold Python start included).

For each N, builds a throwaway project of N schemas (copies of the bundled
ones under new extraction names), generates it, then times:
  - clean tree (fast path: hashes and layer read-back only),
  - one schema touched (slow path: regenerates in memory and compares),
and the import time of the check path (`python -X importtime`, imports beyond
a bare interpreter start). Prints the figures; asserts nothing.

    python bench/check.py                 # N = 10, 50, 100
    python bench/check.py --sizes 10,500 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

TARGET_CLEAN_100_S = 0.5
TARGET_IMPORT_MS = 150.0


def make_project(root: Path, count: int) -> None:
    """N schemas cycling through the bundled ones, each with its own name (and agent name)."""
    from factory.generation import generate_to_disk

    bundled = sorted((REPO_ROOT / "schemas").glob("*.json"))
    (root / "schemas").mkdir(parents=True)
    for index in range(count):
        document = json.loads(bundled[index % len(bundled)].read_text())
        name = f"{document['extraction_name'][:40]}_{index:03d}"
        document["extraction_name"] = name
        if (document.get("agent") or {}).get("name"):
            document["agent"]["name"] = f"{document['agent']['name']}-{index:03d}"
        (root / "schemas" / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
    previous = Path.cwd()
    os.chdir(root)
    try:
        generate_to_disk([], Path("generated"))
    finally:
        os.chdir(previous)


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(REPO_ROOT)
    return out


def time_check(root: Path, repeat: int, expect: int) -> float:
    """Median wall seconds of `python -m factory check` in `root`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "factory", "check"], cwd=root, env=env(), capture_output=True, text=True
        )
        times.append(time.perf_counter() - start)
        if done.returncode != expect:
            raise SystemExit(f"check exited {done.returncode}, expected {expect}:\n{done.stdout}{done.stderr}")
    return statistics.median(times)


IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def top_level_imports(args: list[str], cwd: Path) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], cwd=cwd, env=env(), capture_output=True, text=True
    )
    found = {}
    for line in done.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match and len(match[3]) == 1:  # one space: imported at top level
            found[match[4]] = int(match[2])
    return found


def import_ms(root: Path) -> float:
    """Cumulative import time of what `check` imports beyond a bare interpreter start."""
    baseline = top_level_imports(["-c", "pass"], root)
    check = top_level_imports(["-m", "factory", "check"], root)
    return sum(us for name, us in check.items() if name not in baseline) / 1000


def touch_one_schema(root: Path) -> None:
    path = sorted((root / "schemas").glob("*.json"))[0]
    document = json.loads(path.read_text())
    document["description"] += " (touched)"
    path.write_text(json.dumps(document, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,50,100", help="comma-separated schema counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median reported)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    print(f"schema-factory check, whole process, median of {args.repeat} (python {sys.version.split()[0]})")
    print(f"{'schemas':>8} {'clean (fast) s':>15} {'touched (slow) s':>17} {'check imports ms':>17} {'generate s':>11}")
    for count in sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-check-{count}-") as tmp:
            root = Path(tmp)
            start = time.perf_counter()
            make_project(root, count)
            generate_s = time.perf_counter() - start
            clean = time_check(root, args.repeat, expect=0)
            imports = import_ms(root)
            touch_one_schema(root)
            touched = time_check(root, max(1, args.repeat // 2), expect=1)
            print(f"{count:>8} {clean:>15.3f} {touched:>17.3f} {imports:>17.1f} {generate_s:>11.2f}")
            if count == 100:
                verdict = "met" if clean < TARGET_CLEAN_100_S else "MISSED"
                print(f"{'':>8} target: clean tree with 100 schemas under {TARGET_CLEAN_100_S} s: {verdict}")
    print(f"target: check-path imports under {TARGET_IMPORT_MS:.0f} ms (column 4)")


if __name__ == "__main__":
    main()
