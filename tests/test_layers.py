"""docs/DESIGN.md's layer table is true: every import in factory/ is one the table allows.

`LAYERS` restates the table as data (a test holds the two equal); every
module of factory/ belongs to exactly one layer, and each import it makes,
at module level or inside a function, must be of its own layer, of a layer
its row names, of a module its row names (`factory.x.y`, a documented
crossing) or of a third-party package its row names. A layer named after
`lazily:` may be imported only inside a function (the check loads the
generator only on its slow path). Imports under `if TYPE_CHECKING:` are
annotations, not dependencies, and are not judged.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FACTORY = REPO / "factory"
DESIGN = REPO / "docs" / "DESIGN.md"


@dataclass(frozen=True)
class Layer:
    paths: tuple[str, ...]  # files, or directories ending in "/", relative to the repository
    layers: tuple[str, ...] = ()  # layers it may import
    lazily: tuple[str, ...] = ()  # layers it may import only inside a function
    modules: tuple[str, ...] = ()  # single modules of other layers it may import (documented crossings)
    packages: tuple[str, ...] = ()  # third-party packages (import names)


LAYERS = {
    "runtime": Layer(("factory/runtime/",), packages=("boto3", "jmespath", "chevron")),
    "core": Layer(
        (
            "factory/__init__.py",
            "factory/errors.py",
            "factory/rules.py",
            "factory/terminal.py",
            "factory/safe_io.py",
            "factory/sqlite_files.py",
        )
    ),
    "names": Layer(("factory/names.py", "factory/exports.py", "factory/orchestrator_specs.py"), ("core",)),
    "files": Layer(
        ("factory/project_config.py", "factory/artifacts.py", "factory/project_files.py"), ("core", "names")
    ),
    "parsers": Layer(
        ("factory/strict_yaml.py", "factory/mustache.py"),
        modules=("factory.runtime.bounded_parse",),
        packages=("yaml", "chevron"),
    ),
    "output-schemas": Layer(
        ("factory/output_schemas.py", "factory/output_mapping.py"),
        ("core", "parsers", "runtime"),
        packages=("yaml",),
    ),
    "schema": Layer(
        ("factory/schema/",),
        ("core", "names", "files", "parsers"),
        modules=("factory.runtime.bounded_regex", "factory.runtime.bounded_parse"),
        packages=("pydantic", "jsonschema"),
    ),
    "emit": Layer(
        ("factory/emit/",),
        ("core", "names", "files", "parsers", "schema"),
        packages=("jinja2", "black", "yaml"),
    ),
    "generation": Layer(
        ("factory/output.py", "factory/generation.py", "factory/app_edit.py"),
        ("core", "names", "files", "output-schemas", "schema", "emit"),
    ),
    "check": Layer(
        ("factory/check/",),
        ("core", "names", "files", "parsers", "output-schemas", "schema"),
        lazily=("emit", "generation"),
        packages=("yaml",),
    ),
    "registry": Layer(
        ("factory/registry/",), ("core", "names", "files", "output-schemas"), packages=("boto3", "botocore")
    ),
    "registration": Layer(
        ("factory/registration.py",),
        ("core", "names", "files", "output-schemas", "check", "registry"),
        lazily=("schema", "emit"),
    ),
    "batch": Layer(
        ("factory/batch/",),
        ("core", "names", "files", "parsers", "output-schemas", "runtime", "registry"),
        modules=("factory.check.verify",),
        packages=("boto3", "botocore", "yaml"),
    ),
    "report": Layer(
        ("factory/report/",),
        ("core", "names", "files", "runtime", "batch"),
        packages=("jinja2", "pygal"),
    ),
    "infra": Layer(
        ("factory/infra/",),
        ("core", "names", "runtime"),
        modules=("factory.registry.tables", "factory.registry.records"),
        packages=("aws_cdk", "constructs"),
    ),
    "cli": Layer(
        ("factory/__main__.py", "factory/cli.py", "factory/commands/"),
        (
            "core",
            "names",
            "files",
            "parsers",
            "output-schemas",
            "schema",
            "emit",
            "generation",
            "check",
            "registry",
            "registration",
            "batch",
            "report",
        ),
        packages=("click",),
    ),
}


# --- the table in docs/DESIGN.md -------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _may_import(cell: str) -> dict[str, tuple[str, ...]]:
    """`stdlib; core, names; lazily: emit; `factory.x.y`; `yaml`` as the fields of a Layer."""
    found: dict[str, list[str]] = {"layers": [], "lazily": [], "modules": [], "packages": []}
    for segment in (part.strip() for part in cell.split(";")):
        lazy = segment.startswith("lazily:")
        for item in (word.strip() for word in segment.removeprefix("lazily:").split(",")):
            if item in ("", "stdlib"):
                continue
            if item.startswith("`"):
                name = item.strip("`")
                found["modules" if name.startswith("factory.") else "packages"].append(name)
            else:
                found["lazily" if lazy else "layers"].append(item)
    return {key: tuple(value) for key, value in found.items()}


def documented_layers() -> dict[str, Layer]:
    """The rows of the table whose header is `| layer | modules | job | may import |`."""
    lines = DESIGN.read_text("utf-8").splitlines()
    start = next(
        index for index, line in enumerate(lines) if _cells(line) == ["layer", "modules", "job", "may import"]
    )
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        name, modules, _, may = _cells(line)
        rows[name] = Layer(tuple(re.findall(r"`([^`]+)`", modules)), **_may_import(may))
    return rows


def test_the_design_document_states_this_table() -> None:
    assert documented_layers() == LAYERS


def test_every_single_module_crossing_has_its_reason_in_the_design_document() -> None:
    text = DESIGN.read_text("utf-8")
    start = text.index("Crossings, each with its reason")
    crossings = text[start : text.index("Why these rules", start)]
    for layer in LAYERS.values():
        for module in layer.modules:
            assert f"`{module}`" in crossings, module


# --- the imports of factory/ -----------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer_of_path(rel: str) -> list[str]:
    return [
        name
        for name, layer in LAYERS.items()
        if any(rel == path or (path.endswith("/") and rel.startswith(path)) for path in layer.paths)
    ]


def layer_of(module: str) -> str:
    """The layer of a module `factory.a.b` (its file, or its package's `__init__.py`)."""
    rel = module.replace(".", "/")
    for candidate in (f"{rel}.py", f"{rel}/__init__.py"):
        if (REPO / candidate).is_file():
            (name,) = _layer_of_path(candidate)
            return name
    raise AssertionError(f"{module} is not a module of factory/")


@dataclass(frozen=True)
class Import:
    line: int
    target: str  # a module of factory/, or a top-level package name
    in_function: bool


def _type_checking(node: ast.If) -> bool:
    return ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def imports_of(path: Path) -> list[Import]:
    """Every import `path` makes, resolved to a module of factory/ or a top-level package."""
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for rest in child.orelse:
                    visit(rest, in_function)
                continue
            if isinstance(child, ast.Import):
                found.extend(Import(child.lineno, alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                assert child.level == 0, f"{path}:{child.lineno}: a relative import"
                module = child.module or ""
                if module == "factory":  # `from factory import names`: the module, or the package itself
                    found.extend(
                        Import(
                            child.lineno,
                            (
                                f"factory.{alias.name}"
                                if (FACTORY / f"{alias.name}.py").is_file() or (FACTORY / alias.name).is_dir()
                                else "factory"
                            ),
                            in_function,
                        )
                        for alias in child.names
                    )
                else:
                    found.append(Import(child.lineno, module, in_function))
            visit(
                child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            )

    visit(ast.parse(path.read_text("utf-8")), False)
    return found


def refusal(importer: str, item: Import) -> str | None:
    """Why the table does not allow `importer` (a layer name) to make `item`; None when it does."""
    layer, target = LAYERS[importer], item.target
    if target == "__future__" or target.split(".")[0] in sys.stdlib_module_names:
        return None
    if target.split(".")[0] != "factory":
        return None if target.split(".")[0] in layer.packages else f"third-party {target}"
    if any(target == module or target.startswith(module + ".") for module in layer.modules):
        return None
    theirs = layer_of(target)
    if theirs == importer or theirs in layer.layers:
        return None
    if theirs in layer.lazily:
        return None if item.in_function else f"{target} ({theirs}) at module level: only inside a function"
    return f"{target} ({theirs})"


def python_files() -> list[Path]:
    return sorted(FACTORY.rglob("*.py"))


def test_every_module_of_factory_is_in_exactly_one_layer() -> None:
    placed = {
        path.relative_to(REPO).as_posix(): _layer_of_path(path.relative_to(REPO).as_posix())
        for path in python_files()
    }
    assert {rel: layers for rel, layers in placed.items() if len(layers) != 1} == {}


def test_every_import_is_one_the_table_allows() -> None:
    refused = []
    for path in python_files():
        (importer,) = _layer_of_path(path.relative_to(REPO).as_posix())
        for item in imports_of(path):
            reason = refusal(importer, item)
            if reason:
                refused.append(f"{path.relative_to(REPO)}:{item.line}: {importer} imports {reason}")
    assert refused == [], "allowed by no row of docs/DESIGN.md's layer table:\n" + "\n".join(refused)


@pytest.mark.parametrize(
    "source, refused",
    [
        ("from factory.check.run import fast_findings\n", "factory.check.run (check)"),
        ("from factory import names\n", None),
        (
            "def f():\n    from factory.check.verify import verify_generated_files\n",
            "factory.check.verify (check)",
        ),
        ("import jinja2\n", "third-party jinja2"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from factory.check.run import x\n", None),
    ],
)
def test_the_rule_refuses_what_the_table_leaves_out(tmp_path: Path, source: str, refused: str | None) -> None:
    """The judge itself: a registry module importing the check (even in a function) or jinja2 is refused."""
    path = tmp_path / "probe.py"
    path.write_text(source)
    reasons = [refusal("registry", item) for item in imports_of(path)]
    reasons = [reason for reason in reasons if reason]
    assert reasons == ([refused] if refused else [])


def test_a_lazy_layer_at_module_level_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text(
        "from factory.generation import generate_to_disk\n\ndef f():\n    from factory.emit import generate\n"
    )
    reasons = [refusal("check", item) for item in imports_of(path)]
    assert reasons == ["factory.generation (generation) at module level: only inside a function", None]
