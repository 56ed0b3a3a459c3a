"""bench/runtime.py reports the generic mapper's rows/s on transcripts through bench/generic_mapper.py's function."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _runtime_bench():
    spec = importlib.util.spec_from_file_location("bench_runtime_under_test", REPO / "bench" / "runtime.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_line_combines_the_transcript_shapes_measured_by_generic_mapper(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = _runtime_bench()
    import bench.generic_mapper as generic

    rates = {"llm-tool-result": 1000.0, "llm-print-output": 500.0, "llm-final-text": 250.0}
    calls: list[tuple[str, int, int]] = []

    def fake(shape: str, rows: int, repeat: int) -> tuple[float, str]:
        calls.append((shape, rows, repeat))
        return rates[shape], "SUCCESS"

    monkeypatch.setattr(generic, "measure_shape", fake)
    line = runtime.generic_mapper_line(100, 2)
    assert calls == [(shape, 100, 2) for shape in rates]
    # 300 rows in 0.1 + 0.2 + 0.4 s
    assert line.endswith(": 429 rows/s"), line


def test_the_real_measurement_gives_a_figure() -> None:
    runtime = _runtime_bench()
    line = runtime.generic_mapper_line(20, 1)
    match = re.search(r"best of 1: ([0-9,]+) rows/s$", line)
    assert match and int(match.group(1).replace(",", "")) > 0, line
    assert "bench.generic_mapper" in sys.modules
