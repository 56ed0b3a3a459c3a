"""Issue #25: every file write and every read of a user's or a repository's file goes through `factory.safe_io`,
and every SQLite file is opened through `factory.sqlite_files`; no other module in `factory/` touches a file.

The guard is an AST walk over the package: a second write path (an `open(..., "w")`, a `write_bytes`, an
`os.replace`, boto3's `download_file`) or a second read path (`read_text`, `open`) anywhere else fails here,
naming the file and line. The samples below prove the walk catches each form.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FACTORY = Path(__file__).resolve().parents[1] / "factory"

# Calls that open, write, move or copy a file, by their last attribute (any receiver but the one module).
FILE_METHODS = frozenset(
    {
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "open",
        "touch",
        "rename",
        "symlink_to",
        "hardlink_to",
        "download_file",
        "upload_file",
        "mkstemp",
        "NamedTemporaryFile",
        "TemporaryFile",
        "SpooledTemporaryFile",
        "fdopen",
    }
)
FILE_FUNCTIONS = frozenset(
    {
        "open",
        "os.open",
        "os.replace",
        "os.rename",
        "os.renames",
        "os.link",
        "os.symlink",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.copyfileobj",
        "shutil.move",
        "io.open",
        "codecs.open",
        "sqlite3.connect",
        "tempfile.mkstemp",
    }
)
# Reads that are not of a user's file: the package's own resources, through importlib.resources.
ALLOWED = {
    (
        "cli.py",
        "os.open",
    ): "stdout is pointed at /dev/null after a reader went away (no file is read or written)",
}


def _name(node: ast.Call) -> str:
    return ast.unparse(node.func)


def _package_resource(node: ast.Call) -> bool:
    return "resources.files(" in _name(node)


def _offends(node: ast.Call) -> bool:
    name = _name(node)
    if name in FILE_FUNCTIONS:
        return True
    if not isinstance(node.func, ast.Attribute) or name.startswith(("safe_io.", "sqlite_files.")):
        return False
    method = node.func.attr
    if method in FILE_METHODS:
        return not _package_resource(node)
    # Path.replace(target): one positional argument (str.replace takes two, dataclasses.replace keywords)
    return method == "replace" and len(node.args) == 1 and not node.keywords and name != "dataclasses.replace"


def offenders(source: str, rel: str) -> list[str]:
    """`rel:line: call` for each file operation in `source` outside the one module."""
    if rel == "safe_io.py":
        return [
            f"{rel}:{node.lineno}: {_name(node)}"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and _name(node) == "sqlite3.connect"
        ]
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not _offends(node) or (rel, _name(node)) in ALLOWED:
            continue
        if not (rel == "sqlite_files.py" and _name(node) == "sqlite3.connect"):
            found.append(f"{rel}:{node.lineno}: {_name(node)}")
    return found


def test_no_module_but_safe_io_touches_a_file() -> None:
    found = []
    for path in sorted(FACTORY.rglob("*.py")):
        rel = path.relative_to(FACTORY).as_posix()
        found += offenders(path.read_text("utf-8"), rel)
    assert found == [], "go through factory.safe_io (files) or factory.sqlite_files (SQLite):\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    "line",
    [
        "open(p, 'w')",
        "open(p)",
        "path.open('wb')",
        "p.write_text('x')",
        "p.write_bytes(b'')",
        "p.read_text()",
        "p.read_bytes()",
        "os.replace(a, b)",
        "os.rename(a, b)",
        "p.rename(q)",
        "p.replace(q)",
        "shutil.copy2(a, b)",
        "shutil.copytree(a, b)",
        "tempfile.mkstemp()",
        "s3.download_file(b, k, f)",
        "s3.upload_file(f, b, k)",
        "sqlite3.connect(p)",
        "os.open(p, os.O_RDONLY)",
    ],
)
def test_the_walk_catches_each_form(line: str) -> None:
    assert offenders(f"def f():\n    {line}\n", "batch/x.py") != [], line


@pytest.mark.parametrize(
    "line",
    [
        "text.replace('a', 'b')",
        "dataclasses.replace(p, file='x')",
        "safe_io.write_bytes(p, b'')",
        "safe_io.read_text(p, 'schema')",
        "resources.files('factory').joinpath('x.json').read_text('utf-8')",
        "s3.download_fileobj(b, k, handle)",
        "moment.replace(tzinfo=None)",
    ],
)
def test_the_walk_lets_other_calls_be(line: str) -> None:
    assert offenders(f"def f():\n    {line}\n", "batch/x.py") == [], line


def test_only_sqlite_files_connects() -> None:
    assert offenders("sqlite3.connect(p)\n", "safe_io.py") != []
    assert offenders("sqlite3.connect(p)\n", "sqlite_files.py") == []
