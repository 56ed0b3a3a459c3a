"""Issue #14's remaining edges of `batch`: each bad input is one line with exit 1 or 2, never internal error 70;
each agent fault is a failed row; nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.batch.test_local_engine import AGENT, calls, write_addresses
from tests.conftest import REPO

EXAMPLE = "examples.example_agent:invoke"


@pytest.fixture
def at_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("EXAMPLE_AGENT_CALL_LOG", str(tmp_path / "calls.jsonl"))
    return tmp_path


def run(csv_path: Path, store: Path, *extra: str):
    return CliRunner().invoke(main, ["batch", "run", str(csv_path), "--agent", AGENT, "--store", str(store),
                                     "--quiet", "--retries", "0", *extra])


@pytest.mark.parametrize(
    "config",
    [
        "input_mapping: " + "[" * 1000 + "]" * 1000 + "\n",  # RecursionError in PyYAML's composer
        "a: &a [" + ", ".join(["*a"] * 2) + "]\ninput_mapping: {}\n",  # an alias that holds itself
    ],
    ids=["deep", "self-alias"],
)
def test_a_batch_config_nested_without_end_is_one_line_not_a_crash(at_repo: Path, config: str) -> None:
    (at_repo / "deep.yaml").write_text(config, "utf-8")
    csv_path = write_addresses(at_repo / "in.csv", 2)
    result = run(csv_path, at_repo / "s.sqlite", "--invoke", EXAMPLE, "--config", str(at_repo / "deep.yaml"),
                 "--out", str(at_repo / "out.csv"))
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{at_repo / 'deep.yaml'}: "), lines
    assert "the batch config is nested more than 64 levels deep" in lines[0]
    assert calls(at_repo / "calls.jsonl") == []
