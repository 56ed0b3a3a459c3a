"""No function in factory/ is over 60 lines (from its `def` line to its last line).

A function that long does several jobs; split it by job. There are no exceptions.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIMIT = 60



def lengths(path: Path) -> dict[str, int]:
    """`file::Qualified.name` of every function in `path`, with its length in lines."""
    rel = path.relative_to(REPO).as_posix()
    found: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                found[f"{rel}::{name}"] = (child.end_lineno or child.lineno) - child.lineno + 1
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(path.read_text("utf-8")), "")
    return found


def test_no_function_in_factory_is_over_60_lines() -> None:
    measured = {
        name: size
        for path in sorted((REPO / "factory").rglob("*.py"))
        for name, size in lengths(path).items()
    }
    too_long = {name: size for name, size in measured.items() if size > LIMIT}
    assert too_long == {}, "split these by job"


def test_the_measure_counts_from_def_to_the_last_line(tmp_path: Path) -> None:
    probe = REPO / "factory" / "_probe_length.py"
    body = "".join(f"    x{index} = {index}\n" for index in range(LIMIT))
    probe.write_text(f"class A:\n    @staticmethod\n    def long():\n{body.replace('    ', '        ')}\n")
    try:
        assert lengths(probe) == {"factory/_probe_length.py::A.long": LIMIT + 1}
    finally:
        probe.unlink()
