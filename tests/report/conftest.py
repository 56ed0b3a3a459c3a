"""A real local batch to report on: the broadband agent's schema, an agent that succeeds, leaves optional
fields out, and fails with hostile error text, run through `batch run`."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"
HOSTILE = '<script>alert("x")</script> it\'s \x1b[31mred\x1b[0m & \x00nul'

AGENT_SOURCE = textwrap.dedent('''
    """A test agent: the row's number decides what it answers."""
    ERROR = %r

    def invoke(payload):
        data = payload.get("input") or payload.get("data") or payload
        number = int(data["building_number"])
        if number %% 7 == 0:
            raise RuntimeError(f"browser session lost after {number} s")
        if number %% 11 == 0:
            raise ValueError(ERROR)
        output = {"success": True, "fttp_avail": number %% 2 == 0,
                  "install_type": ("Standard", "Premium", "N/A")[number %% 3]}
        if number %% 4:
            output["exchange_code"] = f"EX{number}"
        if number %% 5 == 0:
            output["soadsl_dsl_speed"] = number / 10
        return {"structured_output": output}
''') % HOSTILE


@pytest.fixture
def report_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with the generated tree, a 60-row CSV, and the test agent importable."""
    (tmp_path / "report_agent.py").write_text(AGENT_SOURCE, "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(REPO)
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Building Number", "Street", "Postcode", "Full Address"])
        for number in range(1, 61):
            writer.writerow([str(number), f"Street {number}", "CB1 2AB", ""])
    return tmp_path


def run_batch(project: Path) -> str:
    result = CliRunner().invoke(
        main,
        [
            "batch",
            "run",
            str(project / "in.csv"),
            "--agent",
            AGENT,
            "--invoke",
            "report_agent:invoke",
            "--store",
            str(project / "store.sqlite"),
            "--out",
            str(project / "in.results.csv"),
            "--retries",
            "0",
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output  # some rows failed
    return json.loads(result.stdout)["batch_id"]


def results_csv(project: Path) -> list[dict[str, str]]:
    with open(project / "in.results.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def finished_batch(report_project: Path) -> Iterator[tuple[Path, str]]:
    yield report_project, run_batch(report_project)
