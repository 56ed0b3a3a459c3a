"""Issue #17 §3: a batch over an agent we did not make maps its output through the output schema `register`
put into its AgentRegistry record, with no config and no schemas/<agent>.yaml, on both backends.

Order: the file schemas/<agent>.yaml first, then the newest record's `output_schema`. The stored text is
data: it goes through the file's loader and checks, a broken one is one line naming the agent, the registry
and the fix, and nothing in a record ever says how the agent is called.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from factory.cli import main
from tests.batch.test_stepfunctions_engine import aws  # noqa: F401 - the moto fixture
from factory.registry.records import Key
from tests.batch.test_generic_targets import AGENT_MODULE, ROWS
from tests.registry.helpers import ENV, REPO, run
from tests.registry.test_registry_output_schemas import open_registry
from tests.runtime.transcripts import DESIGN_REGISTRY_YAML

AGENT = "broadband-agent-rust"
# What the design's YAML maps the LLM agent's transcripts to (tests/batch/test_generic_targets.py, by file).
EXPECTED = [("WHITEHALL", "50.0-330.0 Mbps", "SUCCESS"), ("MANCHESTER CENTRAL", "20.5-80.0 Mbps", "SUCCESS"),
            ("EDINBURGH NORTH", "67.0 Mbps", "SUCCESS"), ("", "", "FAILED")]


def batch_flags(backend: str, where: list[str]) -> list[str]:
    """The batch commands' registry flags for the registry the `where` fixture points `register` at."""
    if backend == "dynamodb":  # ["--env", ENV, "--endpoint-url", URL, "--region", REGION]
        return ["--registry-env", where[1], "--registry-endpoint-url", where[3], "--region", where[5]]
    return ["--registry-env", where[1], "--registry-backend", "sqlite", "--registry-file", where[-1]]


def with_agent(project: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """An LLM agent of the existing system's kind, as a Python module, and a CSV of addresses."""
    (project / f"{module}.py").write_text(AGENT_MODULE.format(), "utf-8")
    monkeypatch.syspath_prepend(str(project))
    with open(project / "addresses.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["address", "postcode"])
        writer.writerows(ROWS)


def register_design_schema(where: list[str], project: Path) -> None:
    path = project / "schemas" / f"{AGENT}.yaml"
    path.write_text(DESIGN_REGISTRY_YAML, "utf-8")
    registered = run("register", *where, "--create-tables", "--no-arn")
    assert registered.exit_code == 0, registered.output
    path.unlink()  # from here on, only the registry knows the schema


def batch_run(*args: str) -> Result:
    return CliRunner().invoke(main, ["batch", "run", "addresses.csv", "--agent", AGENT, "--quiet",
                                     "--store", "store.sqlite", "--retries", "0", *args])


def results(project: Path) -> list[tuple[str, ...]]:
    with open(project / "addresses.results.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [tuple(row[column] for column in (*list(row)[2:-4], "_status")) for row in rows]


def calls(module: str) -> list[Any]:
    return sys.modules[module].CALLS if module in sys.modules else []


def test_a_registered_agent_runs_from_its_registry_record(backend: str, where: list[str], project: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with_agent(project, monkeypatch, f"llm_agent_reg_{backend}")
    register_design_schema(where, project)
    result = batch_run("--invoke", f"llm_agent_reg_{backend}:invoke", *batch_flags(backend, where))
    assert result.exit_code == 1, result.output + result.stderr  # the last row finds no exchange: FAILED
    assert results(project) == EXPECTED
    # Nothing was read from a file, and the same registry with another env finds nothing.
    assert not (project / "schemas" / f"{AGENT}.yaml").exists()
    other = [flag.replace(ENV, "elsewhere") for flag in batch_flags(backend, where)]
    refused = batch_run("--invoke", f"llm_agent_reg_{backend}:invoke", *other)
    assert refused.exit_code == 1 and f"no agent named '{AGENT}'" in refused.stderr
    said = {"sqlite": "no output schema of it is registered in TemplateRegistry-elsewhere and AgentRegistry-elsewhere",
            "dynamodb": "the AgentRegistry was not read: "}[backend]  # moto has no table of that env
    assert said in refused.stderr and "AgentRegistry-elsewhere" in refused.stderr


def test_the_issue_reproduction_with_the_default_flags(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`register` with no AWS configured writes the local file; `batch run` with no registry flag reads it."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    with_agent(project, monkeypatch, "llm_agent_reg_default")
    (project / "schemas" / f"{AGENT}.yaml").write_text(DESIGN_REGISTRY_YAML, "utf-8")
    registered = run("register", "--no-arn")
    assert registered.exit_code == 0, registered.output
    assert (project / ".schema-factory" / "registry.sqlite").is_file()
    (project / "schemas" / f"{AGENT}.yaml").unlink()
    result = batch_run("--invoke", "llm_agent_reg_default:invoke")
    assert result.exit_code == 1, result.output + result.stderr
    assert results(project) == EXPECTED
    # `batch config` and `batch analyze` find it the same way.
    config = CliRunner().invoke(main, ["batch", "config", "addresses.csv", "--agent", AGENT])
    assert config.exit_code == 0, config.stderr
    written = yaml.safe_load(config.stdout)
    assert written["target"] == {"type": "agent", "name": AGENT}
    assert list(written["output_mappings"]) == ["exchange", "download_speed"]
    analyzed = CliRunner().invoke(main, ["batch", "analyze", "addresses.csv", "--agent", AGENT, "--json"])
    assert analyzed.exit_code == 0, analyzed.stderr
    # --registry-backend none reads no registry: the agent is unknown again.
    unread = batch_run("--invoke", "llm_agent_reg_default:invoke", "--registry-backend", "none")
    assert unread.exit_code == 1 and f"no agent named '{AGENT}'" in unread.stderr


def test_the_file_comes_before_the_registry(backend: str, where: list[str], project: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    module = f"llm_agent_order_{backend}"
    with_agent(project, monkeypatch, module)
    register_design_schema(where, project)
    local = yaml.safe_load(DESIGN_REGISTRY_YAML)
    local["fields"] = [{**local["fields"][0], "name": "exchange_from_file"}]
    (project / "schemas" / f"{AGENT}.yaml").write_text(yaml.safe_dump(local, sort_keys=False), "utf-8")
    flags = ["--invoke", f"{module}:invoke", *batch_flags(backend, where)]
    assert batch_run(*flags).exit_code == 1
    assert results(project) == [(exchange, status) for exchange, _, status in EXPECTED]
    with open(project / "addresses.results.csv", encoding="utf-8") as handle:
        assert handle.readline().startswith("address,postcode,exchange_from_file,_status")
    (project / "schemas" / f"{AGENT}.yaml").unlink()
    assert batch_run(*flags).exit_code == 1
    assert results(project) == EXPECTED


BROKEN = {
    "not JSON or YAML": ('{"agent": "broadband-agent-rust", "fields": [', "not valid YAML"),
    "no fields": (json.dumps({"agent": AGENT, "version": "1.0", "output_format": "messages"}), "$.fields"),
    "another agent": (json.dumps({**yaml.safe_load(DESIGN_REGISTRY_YAML), "agent": "other-agent"}),
                      "describes agent 'other-agent', not 'broadband-agent-rust'"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_stored_output_schema_is_one_line(backend: str, where: list[str], project: Path,
                                                   monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    module = f"llm_agent_broken_{backend}_{case.replace(' ', '_')}"
    with_agent(project, monkeypatch, module)
    register_design_schema(where, project)
    registry = open_registry(backend, where)
    stored = registry.latest("agent", AGENT)
    assert stored is not None
    text, detail = BROKEN[case]
    assert registry.set_attribute(Key("agent", AGENT, stored["version"]), "output_schema", text,
                                  stored["output_schema"])
    result = batch_run("--invoke", f"{module}:invoke", *batch_flags(backend, where))
    assert result.exit_code == 1
    line, count = result.stderr.strip().splitlines()  # one problem, then the CLI's count of problems
    assert count == "error: 1 problem", result.stderr
    assert f"AgentRegistry-{ENV}" in line and f": agent {AGENT} version 1.0: $.output_schema: " in line
    assert "the registered output schema" in line and detail in line
    assert "schema-factory register" in line and f"schemas/{AGENT}.yaml" in line
    assert "Traceback" not in result.output + result.stderr
    assert calls(module) == []  # refused before the first row


def test_a_registry_record_never_says_how_to_call(backend: str, where: list[str], project: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the output schema is read from the record: its other attributes name nothing that runs."""
    with_agent(project, monkeypatch, "llm_agent_unused")
    registry = open_registry(backend, where)
    registry.create_tables()
    document = yaml.safe_load(DESIGN_REGISTRY_YAML)
    hostile = {"agent_name": AGENT, "version": "1.0", "status": "active", "invoke": "exec:touch PWNED",
               "state_machine_arn": "exec:touch PWNED", "output_schema": json.dumps(document)}
    assert registry.put_new([(Key("agent", AGENT, "1.0"), hostile)])
    result = batch_run(*batch_flags(backend, where))
    assert result.exit_code == 1
    assert "has no arn in the config's target" in result.stderr
    assert not (project / "PWNED").exists()


def test_an_unreadable_registry_is_said_in_the_unknown_agent_error(project: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with_agent(project, monkeypatch, "llm_agent_unreadable")
    (project / "not-a-registry.sqlite").write_bytes(b"this is not a database" * 100)
    result = batch_run("--invoke", "llm_agent_unreadable:invoke", "--registry-backend", "sqlite",
                       "--registry-file", "not-a-registry.sqlite")
    assert result.exit_code == 1
    line, count = result.stderr.strip().splitlines()
    assert count == "error: 1 problem", result.stderr
    assert f"no agent named '{AGENT}'" in line
    assert "the AgentRegistry was not read" in line and "not-a-registry.sqlite" in line


def test_the_batch_layer_imports_no_registry_backend_until_it_reads_one() -> None:
    """Only the options type is imported with the batch commands; boto3's DynamoDB backend, the SQLite
    backend and the registry rules come in only when a target's schema is looked up there."""
    code = ("import sys, factory.cli, factory.commands.batch, factory.batch.plan, factory.batch.targets; "
            "print(sorted(m for m in sys.modules if m.startswith('factory.registry.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "['factory.registry.options']"


def test_the_step_functions_engine_carries_the_registered_schema(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 aws: dict) -> None:
    """The mapper Lambda reads neither schemas/ nor the registry: the request carries the schema read here."""
    from tests.batch.test_stepfunctions_engine import export_shared_stack

    monkeypatch.chdir(project)  # the aws fixture works from the repository
    where = ["--env", ENV, "--backend", "sqlite", "--registry-file", str(project / "registry.sqlite")]
    with_agent(project, monkeypatch, "llm_agent_reg_sfn")
    register_design_schema(where, project)
    export_shared_stack(aws)
    agent_arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{AGENT}"
    base = ["batch", "run", "addresses.csv", "--agent", AGENT, "--engine", "stepfunctions", "--endpoint-url",
            aws["endpoint"], "--json", *batch_flags("sqlite", where)]

    def request(*extra: str) -> dict[str, Any]:
        result = CliRunner().invoke(main, [*base, *extra])
        assert result.exit_code == 0, result.output + result.stderr
        execution_arn = json.loads(result.stdout)["execution_arn"]
        return json.loads(aws["stepfunctions"].describe_execution(executionArn=execution_arn)["input"])

    # No config: the suggested one, whose output_mappings are the registered schema's (as `batch config` writes).
    sent = request("--invoke", agent_arn)
    assert sent["target"] == {"type": "agent", "name": AGENT, "arn": agent_arn}
    assert list(sent["output_mappings"]) == ["exchange", "download_speed"]
    assert sent["output_mappings"]["exchange"]["methods"][0] == {
        "method": "tool_result", "tool_name": "browser_broadband", "pattern": "Exchange: ([A-Z\\s]+)"}
    # A config that names the target and no output_mappings: the schema itself travels with the request.
    config = {"target": {"type": "agent", "name": AGENT, "arn": agent_arn},
              "input_mapping": {"column_mappings": {"address": "address", "postcode": "postcode"}}}
    (project / "batch.yaml").write_text(yaml.safe_dump(config), "utf-8")
    sent = request("--config", "batch.yaml")
    assert sent["target"] == config["target"]
    assert sent["registered_schema"] == yaml.safe_load(DESIGN_REGISTRY_YAML)
    assert sent["mapping"]["structured_output_fields"] == ["exchange", "download_speed"]
    assert "output_mappings" not in sent


def test_the_registry_is_not_read_when_the_config_maps_the_output(project: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A config's output_mappings come first: a registry that could not even be opened is never asked."""
    from tests.batch.test_generic_targets import CONFIG

    with_agent(project, monkeypatch, "llm_agent_config_first")
    (project / "not-a-registry.sqlite").write_bytes(b"this is not a database" * 100)
    (project / "batch.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False), "utf-8")
    result = batch_run("--config", "batch.yaml", "--invoke", "llm_agent_config_first:invoke",
                       "--registry-backend", "sqlite", "--registry-file", "not-a-registry.sqlite")
    assert result.exit_code == 1, result.stderr  # the last row finds no exchange: FAILED, as with no registry
    assert results(project) == [("WHITEHALL", "330", "SUCCESS"), ("MANCHESTER CENTRAL", "80", "SUCCESS"),
                                ("EDINBURGH NORTH", "", "SUCCESS"), ("", "", "FAILED")]
    assert "registry" not in result.stderr


def test_the_resume_command_looks_where_the_batch_looked() -> None:
    """A resumed batch maps its rows again: the resume line keeps the lookup flags that were not the default."""
    import shlex

    from factory.batch.plan import RunRequest, resume_command
    from factory.registry.options import RegistryOptions

    where = RegistryOptions("prod", "sqlite", registry_file=Path("my dir/r'x.sqlite"), agent_table="Agents $(id)")
    request = RunRequest(store_path=Path("s.sqlite"), schemas_dir=Path("other schemas"), registry=where)
    assert shlex.split(resume_command("b1", request)) == [
        "schema-factory", "batch", "run", "--resume", "b1", "--store", "s.sqlite", "--schemas", "other schemas",
        "--registry-env", "prod", "--registry-backend", "sqlite", "--registry-file", "my dir/r'x.sqlite",
        "--agent-table", "Agents $(id)"]
    unread = RunRequest(store_path=Path("s.sqlite"), registry=None)
    assert shlex.split(resume_command("b1", unread))[-2:] == ["--registry-backend", "none"]
    assert shlex.split(resume_command("b1", RunRequest(store_path=Path("s.sqlite"), registry=RegistryOptions(None)))) \
        == ["schema-factory", "batch", "run", "--resume", "b1", "--store", "s.sqlite"]
