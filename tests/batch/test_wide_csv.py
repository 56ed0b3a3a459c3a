"""Issue #25 case 7: column handling is linear, so a CSV 100,000 columns wide is analysed in about a second.

On the quadratic code `batch analyze` took 48 s for 60,000 columns and the
orchestrator's generate_batch_config 471 s for 200,000 `csv_columns`. Each test
runs the real command in a child process with a generous 20-second bound, so a
busy machine does not make it flaky while a quadratic pass cannot fit in it
(bench/columns.py gives the measured figure).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from factory.batch.agents import resolve_agent
from factory.batch.analyze import suggest_mapping
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"
WIDTH = 100_000
BOUND_SECONDS = 20


def wide_columns(width: int = WIDTH) -> list[str]:
    """Many unrelated columns with the agent's inputs spread among them: every matching stage has work."""
    columns = [f"col_{index}" for index in range(width)]
    columns[7], columns[width // 2], columns[-3] = "Postcode", "Street Name", "building no"
    return columns


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SCHEMA_FACTORY_GENERATED": str(REPO / "generated"),
        "SCHEMA_FACTORY_TOOL_ROOT": str(tmp_path),
        "SCHEMA_FACTORY_RESULTS": str(tmp_path / "s.sqlite"),
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=BOUND_SECONDS
    )


def test_batch_analyze_of_100k_columns_is_linear(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(wide_columns())
        writer.writerows([[str(row)] * WIDTH for row in range(2)])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "factory", "batch", "analyze", str(path), "--agent", AGENT, "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=BOUND_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    analysis = json.loads(result.stdout)
    assert len(analysis["columns"]) == WIDTH and analysis["row_count"] == 2
    mapped = {m["column"]: m["field"] for m in analysis["suggested_mapping"]}
    assert mapped == {"Postcode": "postcode", "Street Name": "street", "building no": "building_number"}


@pytest.mark.parametrize("input_mapping", [None, {}], ids=["suggested", "same-name"])
def test_the_orchestrator_config_tool_with_100k_csv_columns_is_linear(
    tmp_path: Path, input_mapping: object
) -> None:
    """`{}` maps every column to a field of its name: 100,000 mappings checked against 100,000 columns."""
    arguments = {"csv_columns": wide_columns(), "agent_name": AGENT}
    if input_mapping is not None:
        arguments["input_mapping"] = input_mapping
    (tmp_path / "arguments.json").write_text(json.dumps(arguments), "utf-8")
    code = (
        "import json, sys\n"
        "from factory.batch.orchestrator_tools import call_tool\n"
        f"arguments = json.loads(open({str(tmp_path / 'arguments.json')!r}).read())\n"
        "answer = call_tool('generate_batch_config', arguments)\n"
        "print(json.dumps({'ok': answer['ok'], 'mapped': answer['ok'] and answer['result']['summary']['mapped_columns']}))\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["ok"] is True
    assert answer["mapped"] == (3 if input_mapping is None else WIDTH)


def test_the_fast_matcher_keeps_every_stage_and_its_order() -> None:
    """Authored, exact, normalised and fuzzy (name and description words) matches, ties broken by column order."""
    agent = resolve_agent(AGENT, REPO / "generated")
    columns = ["x", "Post code", "postcode ", "street_name", "Building Nmbr", "full address line"]
    matches = [(m.column, m.field, m.method) for m in suggest_mapping(columns, agent)]
    assert matches == [
        ("Building Nmbr", "building_number", "fuzzy"),
        ("street_name", "street", "fuzzy"),
        ("Post code", "postcode", "normalized"),
        ("full address line", "full_address", "fuzzy"),
    ]
