"""`register` is one function returning data (`factory.registration`); the command parses, calls it, prints."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from click.testing import CliRunner

from factory.cli import main
from factory.registration import RegisterRequest, register_from_disk
from factory.registry.options import RegistryOptions
from factory.registry.sqlite import SqliteRegistry

REPO = Path(__file__).resolve().parents[2]


def _options(project: Path) -> RegistryOptions:
    return RegistryOptions(env_name="test", backend="sqlite", registry_file=project / "registry.sqlite")


def test_registration_returns_what_happened_and_writes_only_outside_a_dry_run(project: Path) -> None:
    schemas = sorted(Path("schemas").glob("*.json"))
    dry = register_from_disk(_options(project), RegisterRequest(dry_run=True))
    assert (dry.env, dry.dry_run, dry.run.written, dry.run.problems) == ("test", True, False, [])
    assert [result.outcome for result in dry.run.schemas] == ["new"] * len(schemas)
    assert list(SqliteRegistry("test", project / "registry.sqlite").templates_with_status("active")) == []

    notices: list[str] = []
    done = register_from_disk(_options(project), RegisterRequest(), notice=notices.append)
    assert done.run.written and all(result.written for result in done.run.schemas)
    assert {tool.tool_name for tool in done.run.tools} >= {"execute_batch_processor"}
    stored = SqliteRegistry("test", project / "registry.sqlite").templates_with_status("active")
    assert len(list(stored)) == len(schemas)
    again = register_from_disk(_options(project), RegisterRequest())
    assert [result.outcome for result in again.run.schemas] == ["unchanged"] * len(schemas)
    assert not again.run.written


def test_the_command_prints_the_data_the_function_returns(project: Path) -> None:
    flags = ["--env", "test", "--backend", "sqlite", "--registry-file", str(project / "registry.sqlite")]
    result = CliRunner().invoke(main, ["register", "--dry-run", "--json", *flags])
    assert result.exit_code == 0, result.output
    expected = register_from_disk(_options(project), RegisterRequest(dry_run=True)).as_dict()
    assert json.loads(result.output) == expected


def test_the_register_command_runs_no_step_of_registration_itself() -> None:
    tree = ast.parse((REPO / "factory" / "commands" / "registry.py").read_text("utf-8"))
    (register,) = [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "register"
    ]
    called = {ast.unparse(node.func) for node in ast.walk(register) if isinstance(node, ast.Call)}
    assert "register_from_disk" in called
    steps = {
        "read_generated_records",
        "foreign_output_schemas",
        "build_pairs",
        "tool_items",
        "register_run",
        "agent_arns",
        "create_tables",
        "open_registry",
        "_open_registry",
    }
    assert not steps & called
