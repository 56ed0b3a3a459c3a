"""The registry commands end to end through click, on both backends.

Exit status: 0 success, 1 a user error (conflict, stale files, bad env,
unreachable endpoint, missing table), 2 a usage error.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import boto3
import pytest

from factory.generation import generate_to_disk
from tests.registry.helpers import REGION, read_json, reset_moto, run

SCHEMA_COUNT = 4




def change_schema(name: str, description: str, regenerate: bool) -> None:
    path = Path("schemas") / f"{name}.json"
    schema = read_json(path)
    schema["description"] = description
    path.write_text(json.dumps(schema, indent=2) + "\n", "utf-8")
    if regenerate:
        generate_to_disk([], Path("generated"))


def test_register_then_unchanged(where: list[str]) -> None:
    first = run("register", *where, "--create-tables")
    assert first.exit_code == 0, first.output
    assert f"{SCHEMA_COUNT} new, 0 unchanged, 0 conflict" in first.stdout
    again = run("register", *where, "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert {r["outcome"] for r in report["results"]} == {"unchanged"} and not report["dry_run"]
    assert "TemplateRegistry-test" in report["registry"]


def test_dry_run_reports_and_writes_nothing(where: list[str]) -> None:
    assert run("register", *where, "--create-tables", "schemas/energy_tariff_quotes.json").exit_code == 0
    dry = run("register", *where, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    outcomes = {r["template_id"]: r["outcome"] for r in json.loads(dry.stdout)["results"]}
    assert outcomes.pop("energy_tariff_quotes") == "unchanged"
    assert set(outcomes.values()) == {"new"}
    listed = run("list", *where, "--json")
    assert [s["template_id"] for s in json.loads(listed.stdout)] == ["energy_tariff_quotes"]


def test_conflict_exits_1_naming_the_version(where: list[str]) -> None:
    assert run("register", *where, "--create-tables").exit_code == 0
    change_schema("energy_tariff_quotes", "Quotes, now different", regenerate=True)
    dry = run("register", *where, "--dry-run")
    assert dry.exit_code == 1
    assert "[dry run] conflict: energy_tariff_quotes 2.0.1" in dry.stdout
    result = run("register", *where)
    assert result.exit_code == 1
    assert "version 2.0.1 of template energy_tariff_quotes and agent energy-tariff-quotes-agent" in result.stderr
    assert "bump the schema's version" in result.stderr and "Traceback" not in result.output


def test_stale_generated_files_exit_1(where: list[str]) -> None:
    change_schema("energy_tariff_quotes", "edited, not regenerated", regenerate=False)
    result = run("register", *where, "--create-tables")
    assert result.exit_code == 1
    assert "schemas/energy_tariff_quotes.json changed" in result.stderr
    assert "schema-factory generate" in result.stderr
    listed = run("list", *where, "--json")  # nothing written: not even the tables
    assert (listed.exit_code, listed.stdout) == (0, "[]\n") or "does not exist" in listed.stderr


def test_list_show_deprecate_archive(where: list[str]) -> None:
    assert run("register", *where, "--create-tables").exit_code == 0
    listed = run("list", *where)
    assert listed.exit_code == 0 and f"{SCHEMA_COUNT} template(s)" in listed.stdout
    shown = run("show", "energy_tariff_quotes", *where)
    assert shown.exit_code == 0 and json.loads(shown.stdout)["version"] == "2.0.1"
    moved = run("deprecate", "energy_tariff_quotes", "--version", "2.0.1", *where)
    assert moved.exit_code == 0
    assert "active -> deprecated (and agent energy-tariff-quotes-agent)" in moved.stdout
    assert "already deprecated" in run("deprecate", "energy_tariff_quotes", "--version", "2.0.1", *where).stdout
    assert run("archive", "energy_tariff_quotes", "--version", "2.0.1", *where).exit_code == 0
    back = run("deprecate", "energy_tariff_quotes", "--version", "2.0.1", *where)
    assert back.exit_code == 1 and "only moves active -> deprecated -> archived" in back.stderr
    archived = json.loads(run("list", *where, "--status", "archived", "--json").stdout)
    assert [s["template_id"] for s in archived] == ["energy_tariff_quotes"]
    missing = run("show", "energy_tariff_quotes", "--version", "9.9.9", *where)
    assert missing.exit_code == 1 and "version 9.9.9 is not in" in missing.stderr


@pytest.mark.parametrize("args", [
    ["deprecate", "energy_tariff_quotes"],
    ["list", "--status", "gone"],
    ["register", "--backend", "cloud"],
    ["register", "--no-such-flag"],
])
def test_usage_errors_exit_2(project: Path, args: list[str]) -> None:
    assert run(*args).exit_code == 2


def test_env_local_is_never_dynamodb(project: Path) -> None:
    result = run("list", "--env", "local", "--endpoint-url", "http://127.0.0.1:1")
    assert result.exit_code == 1 and "--env local is the embedded registry file" in result.stderr


@pytest.mark.parametrize("env_name", ["Prod", "dev_1", "a/b"])
def test_bad_env_name_is_a_usage_error(project: Path, env_name: str) -> None:
    """A malformed option value exits 2 (usage), like click's own, for every registry command."""
    for command in (["register"], ["list"], ["show", "x"], ["deprecate", "x", "--version", "1.0.0"]):
        result = run(*command, "--env", env_name, "--backend", "sqlite")
        assert result.exit_code == 2 and "may only hold lower-case letters" in result.stderr, command


def test_unreachable_endpoint_exits_1_quickly(project: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    result = run("list", "--endpoint-url", f"http://127.0.0.1:{port}", "--region", REGION)
    assert time.monotonic() - started < 10
    assert result.exit_code == 1 and "cannot reach DynamoDB" in result.stderr
    assert "Traceback" not in result.output


def test_missing_table_exits_1(project: Path, moto_endpoint: str) -> None:
    reset_moto(moto_endpoint)
    result = run("register", "--endpoint-url", moto_endpoint, "--region", REGION)
    assert result.exit_code == 1
    assert "TemplateRegistry-dev" in result.stderr and "--create-tables" in result.stderr


def agent_item(endpoint: str, env_name: str, agent: str, version: str) -> dict:  # type: ignore[type-arg]
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    return client.get_item(TableName=f"AgentRegistry-{env_name}",
                           Key={"agent_name": {"S": agent}, "version": {"S": version}})["Item"]


@pytest.mark.parametrize("extra, arn", [
    ([], f"arn:aws:states:{REGION}:123456789012:stateMachine:energy-tariff-quotes-agent-dev"),
    (["--account", "111122223333"], f"arn:aws:states:{REGION}:111122223333:stateMachine:energy-tariff-quotes-agent-dev"),
    (["--no-arn"], None),
])
def test_state_machine_arn(project: Path, moto_endpoint: str, extra: list[str], arn: str | None) -> None:
    reset_moto(moto_endpoint)
    result = run("register", "--endpoint-url", moto_endpoint, "--region", REGION, "--create-tables", *extra)
    assert result.exit_code == 0, result.output
    item = agent_item(moto_endpoint, "dev", "energy-tariff-quotes-agent", "2.0.1")
    assert item.get("state_machine_arn", {}).get("S") == arn


def test_bad_account_exits_1(project: Path, moto_endpoint: str) -> None:
    result = run("register", "--endpoint-url", moto_endpoint, "--region", REGION, "--account", "12345")
    assert result.exit_code == 1 and "not 12 digits" in result.stderr


def test_no_aws_falls_back_to_the_local_file_with_a_notice(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = run("register")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("notice: no AWS credentials")
    assert (project / ".schema-factory" / "registry.sqlite").is_file()
    assert f"{SCHEMA_COUNT} new" in result.stdout and "TemplateRegistry-local" in result.stdout
    local = run("list", "--env", "local")
    assert local.exit_code == 0 and local.stderr == "" and f"{SCHEMA_COUNT} template(s)" in local.stdout
    named = run("list", "--env", "dev")  # an env named without AWS: the local file too, noticed
    assert named.stderr.startswith("notice:") and "0 template(s)" in named.stdout


def test_two_processes_at_once_store_one_content(where: list[str], project: Path) -> None:
    """Separate interpreters, same versions: every schema is new in one and unchanged in the other."""
    import os
    import subprocess
    import sys

    from tests.registry.helpers import REPO

    command = [sys.executable, "-m", "factory", "register", *where, "--create-tables", "--json"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    reports = [json.loads(stdout)["results"] for stdout, _ in outputs]
    for first, second in zip(*reports):
        assert first["template_id"] == second["template_id"]
        assert sorted([first["outcome"], second["outcome"]]) == ["new", "unchanged"]
    tools = [{tool["tool_name"]: tool["outcome"] for tool in json.loads(stdout)["tools"]} for stdout, _ in outputs]
    for name in tools[0]:
        assert sorted([tools[0][name], tools[1][name]]) == ["new", "unchanged"], name


def test_list_by_tag_as_json(where: list[str]) -> None:
    assert run("register", *where, "--create-tables").exit_code == 0
    tag = read_json(Path("schemas/energy_tariff_quotes.json"))["metadata"]["tags"][0]
    result = run("list", *where, "--tag", tag, "--json")
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert "energy_tariff_quotes" in [s["template_id"] for s in listed]
    assert set(listed[0]) == {"template_id", "version", "status", "versions", "created_at", "updated_at",
                              "extraction_name", "tags"}
    assert run("list", *where, "--tag", "no-such-tag", "--json").stdout == "[]\n"


def test_oversized_record_exits_1_before_writing(where: list[str]) -> None:
    assert run("register", *where, "--create-tables", "schemas/company_profile_companies_house.json").exit_code == 0
    change_schema("energy_tariff_quotes", "long " * 90_000, regenerate=True)
    result = run("register", *where)
    assert result.exit_code == 1
    assert "energy_tariff_quotes version 2.0.1 is" in result.stderr and "limited to 400 KB" in result.stderr
    listed = json.loads(run("list", *where, "--json").stdout)
    assert [s["template_id"] for s in listed] == ["company_profile_companies_house"]


def test_a_conflict_says_what_was_and_was_not_written(where: list[str]) -> None:
    """One schema conflicts: the others are new but NOT written, and the totals say nothing was written."""
    assert run("register", "schemas/energy_tariff_quotes.json", *where, "--create-tables").exit_code == 0
    change_schema("energy_tariff_quotes", "Quotes, now different", regenerate=True)
    result = run("register", *where)
    assert result.exit_code == 1
    new_lines = [line for line in result.stdout.splitlines() if line.startswith("new")]
    assert len([line for line in new_lines if ": tool " not in line]) == SCHEMA_COUNT - 1
    assert len([line for line in new_lines if ": tool " in line]) == (SCHEMA_COUNT - 1) * 2
    assert all("(NOT written: the run has a conflict)" in line for line in new_lines)
    assert "conflict: energy_tariff_quotes 2.0.1" in result.stdout
    assert "0 schema(s) and 0 tool(s) written (nothing is written when any schema or tool conflicts)" in result.stdout
    listed = json.loads(run("list", *where, "--json").stdout)
    assert [summary["template_id"] for summary in listed] == ["energy_tariff_quotes"]
    as_json = json.loads(run("register", *where, "--json").stdout)
    assert as_json["written"] is False and not any(r["written"] for r in as_json["results"])


def test_a_successful_run_says_each_item_was_written(where: list[str]) -> None:
    result = run("register", *where, "--create-tables")
    assert result.exit_code == 0
    assert result.stdout.count("new (written): ") == SCHEMA_COUNT + SCHEMA_COUNT * 2 + 6
    assert f"{SCHEMA_COUNT} schema(s) and {SCHEMA_COUNT * 2 + 6} tool(s) written" in result.stdout


@pytest.mark.parametrize("content", [b"this is not a database\n" * 10, b"SQLite format 3\x00" + b"\xff" * 200])
def test_a_corrupt_registry_file_is_a_one_line_user_error(project: Path, content: bytes) -> None:
    path = project / "registry.sqlite"
    path.write_bytes(content)
    for command in (["list"], ["register"], ["show", "energy_tariff_quotes"]):
        result = run(*command, "--env", "test", "--backend", "sqlite", "--registry-file", str(path))
        assert result.exit_code == 1, (command, result.output)
        first = result.stderr.splitlines()[0]
        assert first.startswith(f"{path.as_posix()}: $: cannot use the local registry file:"), result.stderr
        assert "internal error" not in result.stderr and "Traceback" not in result.output
