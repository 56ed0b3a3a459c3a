"""The AWS cost estimate (factory/batch/cost.py) and where users see it.

Its counts are held to executed histories in tests/sfn/test_cost_estimate.py; here, the
arithmetic on them and the three places that show it: `batch analyze`, `batch run --dry-run`
and the orchestrator's `generate_batch_config`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.batch import cost
from factory.batch.orchestrator_tools import call_tool
from factory.cli import main
from tests.batch.test_local_engine import write_addresses
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"


def test_counts_add_up_per_batch_per_child_and_per_row() -> None:
    work = cost.WORK["batch_machine"]
    agent = cost.WORK["agent_machine"]["per_row"]
    for rows in (1, 25, 26, 1000):
        children = -(-rows // cost.ROWS_PER_CHILD)
        result = cost.estimate(rows)
        assert result.children == children
        assert result.batch_transitions == (
            work["per_batch"].transitions
            + children * work["per_child"].transitions
            + rows * work["per_row"].transitions
        )
        assert result.agent_transitions == rows * agent.transitions
        assert result.lambda_invocations == (
            work["per_batch"].invocations
            + children * work["per_child"].invocations
            + rows * (work["per_row"].invocations + agent.invocations)
        )
    assert cost.estimate(0).total_usd == 0


def test_the_price_is_the_counts_at_the_list_prices_in_the_table() -> None:
    result = cost.estimate(1000)
    transitions = result.batch_transitions + result.agent_transitions
    assert result.prices["step_functions"] == pytest.approx(transitions / 1000 * 0.025)
    assert result.prices["lambda_requests"] == pytest.approx(result.lambda_invocations * 0.20 / 1_000_000)
    assert result.prices["dynamodb_writes"] == pytest.approx(1000 * 0.625 / 1_000_000)
    assert result.total_usd == pytest.approx(sum(result.prices.values()), abs=1e-6)
    # a tool target runs no agent machine: one Lambda call per row instead
    tool = cost.estimate(1000, "tool")
    assert (tool.agent_transitions, tool.lambda_invocations) == (0, result.lambda_invocations - 1000)
    assert tool.total_usd < result.total_usd


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        cost.estimate(-1)
    with pytest.raises(ValueError):
        cost.estimate(10, "browser")


def test_batch_analyze_and_dry_run_show_the_estimate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    csv_path = str(write_addresses(tmp_path / "in.csv", 40))
    analyze = CliRunner().invoke(main, ["batch", "analyze", csv_path, "--agent", AGENT, "--json"])
    assert analyze.exit_code == 0, analyze.output
    assert json.loads(analyze.output)["cost_estimate"] == cost.estimate(40).as_dict()
    text = CliRunner().invoke(main, ["batch", "analyze", csv_path, "--agent", AGENT])
    assert cost.summary_line(cost.estimate(40)) in text.output
    store = tmp_path / "store.sqlite"
    dry = CliRunner().invoke(
        main, ["batch", "run", csv_path, "--agent", AGENT, "--dry-run", "--store", str(store)]
    )
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        f"dry run: {csv_path}: 40 rows; nothing run, nothing written",
        cost.summary_line(cost.estimate(40)),
    ]
    assert not store.exists() and not (tmp_path / "in.results.csv").exists()
    answer = CliRunner().invoke(main, ["batch", "run", csv_path, "--agent", AGENT, "--dry-run", "--json"])
    assert json.loads(answer.output)["cost_estimate"]["state_transitions"] == {
        "batch_machine": cost.estimate(40).batch_transitions,
        "agent_machine": cost.estimate(40).agent_transitions,
    }


def test_dry_run_needs_a_csv_not_a_resume() -> None:
    result = CliRunner().invoke(main, ["batch", "run", "--resume", "b-1", "--dry-run"])
    assert result.exit_code == 2 and "--dry-run estimates a CSV" in result.output


def test_generate_batch_config_answers_with_the_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHEMA_FACTORY_GENERATED", str(REPO / "generated"))
    monkeypatch.setenv("SCHEMA_FACTORY_TOOL_ROOT", str(tmp_path))
    monkeypatch.chdir(REPO)
    csv_path = str(write_addresses(tmp_path / "in.csv", 12))
    answer = call_tool("generate_batch_config", {"csv_path": csv_path, "agent_name": AGENT})["result"]
    assert answer["cost_estimate"] == cost.estimate(12).as_dict()
    by_columns = call_tool(
        "generate_batch_config", {"csv_columns": ["Building", "Street", "Postcode"], "agent_name": AGENT}
    )["result"]["cost_estimate"]
    assert by_columns["rows"] == 1000 and by_columns["note"].startswith("per 1,000 rows")


def test_the_cost_page_states_the_module_s_prices_date_and_figures() -> None:
    page = (REPO / "docs" / "batch-cost.md").read_text("utf-8")
    assert cost.summary_line(cost.estimate(1000)) in page
    assert f"taken on **{cost.PRICES_TAKEN}**, region {cost.PRICES_REGION}" in page
    for price in cost.PRICES.values():
        assert f"{price:.10f}".rstrip("0") in page, price
    agent, tool = cost.estimate(1000), cost.estimate(1000, "tool")
    assert f"| one of our agents | {agent.batch_transitions:,} + {agent.agent_transitions:,} |" in page
    assert f"| {agent.lambda_invocations:,} | 1,000 | about ${agent.total_usd:.2f} |" in page
    assert f"| a Lambda tool | {tool.batch_transitions:,} | {tool.lambda_invocations:,} |" in page
    assert f"about ${tool.total_usd:.2f} |" in page
