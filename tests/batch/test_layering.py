"""Issue #19 §2: one batch layer under the CLI and the orchestrator tools; the CLI only parses, calls, prints."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from factory.batch.aws_run import AwsOptions
from factory.errors import EXIT_INTERRUPTED

FACTORY = Path(__file__).resolve().parents[2] / "factory"


def _tree(rel: str) -> ast.Module:
    return ast.parse((FACTORY / rel).read_text("utf-8"))


def _imports(tree: ast.Module) -> set[str]:
    return {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def _called(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else ast.unparse(func))
    return names


def test_no_function_of_the_batch_cli_is_over_25_lines() -> None:
    long = {node.name: node.end_lineno - node.lineno + 1 for node in ast.walk(_tree("commands/batch.py"))
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 25}
    assert long == {}


def test_cli_and_tools_share_the_planning_layer() -> None:
    for rel in ("commands/batch.py", "batch/orchestrator_tools.py"):
        tree = _tree(rel)
        assert "factory.batch.plan" in _imports(tree), rel
        assert not {"make_invoker", "run_local", "resolve_invoke", "write_results"} & _called(tree), rel


def test_library_code_neither_exits_nor_prints_nor_imports_by_name() -> None:
    for path in sorted((FACTORY / "batch").glob("*.py")):
        called = _called(ast.parse(path.read_text("utf-8")))
        assert not {"__import__", "os._exit", "sys.exit", "sys.stderr.write", "print"} & called, path.name


def test_aws_options_are_typed() -> None:
    assert dataclasses.is_dataclass(AwsOptions)
    assert [f.name for f in dataclasses.fields(AwsOptions)] == [
        "env_name", "region", "profile", "endpoint_url", "state_machine_arn", "bucket"]
    assert EXIT_INTERRUPTED == 130
    literals = {node.value for node in ast.walk(_tree("commands/batch.py")) if isinstance(node, ast.Constant)}
    assert 130 not in literals, "exit statuses come from factory.errors"
