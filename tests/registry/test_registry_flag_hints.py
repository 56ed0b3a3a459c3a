"""A registry error names the flags of the command that hit it: `register`'s `--env`, the batch commands'
`--registry-env` (their `--env` is the Step Functions environment), and `--region` only where it exists.

Each case runs a registry command and a batch command into the same fault and reads the one line each prints.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from factory.cli import main
from tests.batch.test_generic_targets import AGENT_MODULE, ROWS
from tests.registry.helpers import REGION, reset_moto

AGENT = "not-ours-agent"  # no schemas/<agent>.yaml: its output schema is looked up in the registry


@pytest.fixture
def batch_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (project / "flag_hint_agent.py").write_text(AGENT_MODULE.format(), "utf-8")
    monkeypatch.syspath_prepend(str(project))
    with open(project / "addresses.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["address", "postcode"])
        writer.writerows(ROWS)
    return project


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def analyze(*flags: str) -> Result:
    return invoke("batch", "analyze", "addresses.csv", "--agent", AGENT, *flags)


def run_batch(*flags: str) -> Result:
    return invoke("batch", "run", "addresses.csv", "--agent", AGENT, "--invoke", "flag_hint_agent:invoke",
                  "--quiet", "--store", "store.sqlite", *flags)


def flags_named(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text))


def test_env_local_with_dynamodb(batch_project: Path) -> None:
    registry = invoke("list", "--env", "local", "--backend", "dynamodb")
    assert registry.exit_code == 1
    assert "--env local is the embedded registry file" in registry.stderr and "e.g. --env dev" in registry.stderr

    for batch in (run_batch("--registry-env", "local", "--registry-backend", "dynamodb"),
                  analyze("--registry-env", "local", "--registry-backend", "dynamodb")):
        assert batch.exit_code == 1
        assert "--registry-env local is the embedded registry file" in batch.stderr
        assert "e.g. --registry-env dev" in batch.stderr
        assert "--env" not in flags_named(batch.stderr), batch.stderr


def test_no_region(batch_project: Path) -> None:
    registry = invoke("list", "--env", "dev", "--backend", "dynamodb")
    assert registry.exit_code == 1
    assert "pass --region or set AWS_DEFAULT_REGION, or use --env local" in registry.stderr

    batch = analyze("--registry-env", "dev", "--registry-backend", "dynamodb")  # analyze has no --region
    assert batch.exit_code == 1 and "no AWS region configured" in batch.stderr
    assert "set AWS_DEFAULT_REGION" in batch.stderr and "or use --registry-env local" in batch.stderr
    assert flags_named(batch.stderr) <= {"--registry-env", "--config"}, batch.stderr

    ran = run_batch("--registry-env", "dev", "--registry-backend", "dynamodb")  # run has --region
    assert ran.exit_code == 1 and "pass --region or set AWS_DEFAULT_REGION, or use --registry-env local" in ran.stderr


def test_a_bad_endpoint(batch_project: Path) -> None:
    registry = invoke("list", "--env", "dev", "--endpoint-url", "notaurl")
    assert registry.exit_code == 1
    assert "--endpoint-url: $: Invalid endpoint: notaurl" in registry.stderr
    assert "check --endpoint-url and --region" in registry.stderr

    batch = analyze("--registry-env", "dev", "--registry-endpoint-url", "notaurl")
    assert batch.exit_code == 1
    assert "--registry-endpoint-url: $: Invalid endpoint: notaurl" in batch.stderr
    assert "check --registry-endpoint-url)" in batch.stderr
    assert "--endpoint-url" not in flags_named(batch.stderr), batch.stderr

    ran = run_batch("--registry-env", "dev", "--registry-endpoint-url", "notaurl")
    assert "check --registry-endpoint-url and --region" in ran.stderr


def test_a_missing_table_names_the_command_that_creates_it(batch_project: Path, moto_endpoint: str) -> None:
    reset_moto(moto_endpoint)
    registry = invoke("list", "--env", "dev", "--endpoint-url", moto_endpoint, "--region", REGION)
    batch = analyze("--registry-env", "dev", "--registry-endpoint-url", moto_endpoint)
    for result in (registry, batch):
        assert result.exit_code == 1
        assert "does not exist" in result.stderr
        assert "`schema-factory register --create-tables`" in result.stderr
        assert "run the command again" not in result.stderr
