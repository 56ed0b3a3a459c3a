"""Every artifact of every bundled schema, compared with its golden tree.

Refresh after an intended change with:

    pytest tests/emit/test_goldens.py --update-goldens

and review the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from factory.generation import generate_to_disk
from tests.conftest import BUNDLED, GOLDEN_DIR, SCHEMAS_DIR

REFRESH = "pytest tests/emit/test_goldens.py --update-goldens"


def artifact_files(root: Path) -> list[Path]:
    """The files under `root`, without Python's bytecode cache: importing the generated stacks (synth,
    the tests' own) writes `__pycache__/` beside them wherever bytecode writing is on; it is no artifact."""
    return [
        p for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.relative_to(root).parts
    ]


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in artifact_files(root)}


def generate_alone(name: str, project: Path) -> Path:
    """Generate one bundled schema alone, as a user with only that schema would."""
    shutil.copy(SCHEMAS_DIR / f"{name}.json", project / "schemas" / f"{name}.json")
    generate_to_disk([Path("schemas")], Path("generated"))
    return project / "generated"


@pytest.mark.parametrize("name", BUNDLED)
def test_generated_tree_matches_golden(name: str, project: Path, update_goldens: bool) -> None:
    actual = tree(generate_alone(name, project))
    golden_root = GOLDEN_DIR / name
    if update_goldens:
        shutil.rmtree(golden_root, ignore_errors=True)
        for rel, data in actual.items():
            (golden_root / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden_root / rel).write_bytes(data)
        return
    expected = tree(golden_root)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(rel for rel in set(actual) & set(expected) if actual[rel] != expected[rel])
    report = []
    for rel in changed:
        report += difflib.unified_diff(
            expected[rel].decode().splitlines(),
            actual[rel].decode().splitlines(),
            f"golden/{rel}",
            f"generated/{rel}",
            lineterm="",
            n=2,
        )
    assert not (missing or extra or changed), (
        f"missing: {missing}\nextra: {extra}\n" + "\n".join(report[:200]) + f"\nIf intended, run: {REFRESH}"
    )


def test_every_bundled_schema_has_a_golden() -> None:
    assert sorted(p.name for p in GOLDEN_DIR.iterdir() if p.is_dir()) == BUNDLED


def test_generated_directory_is_current(project: Path) -> None:
    """The committed generated/ is exactly what the bundled schemas produce."""
    repo = SCHEMAS_DIR.parent
    shutil.rmtree(project / "schemas")
    shutil.copytree(SCHEMAS_DIR, project / "schemas")
    generate_to_disk([Path("schemas")], Path("generated"))
    assert tree(project / "generated") == tree(repo / "generated"), "run: schema-factory generate"


def test_generated_python_is_black_clean() -> None:
    """Pieces formatted separately still make a file black would not change."""
    import black

    from factory.emit.python_source import BLACK_MODE

    sources = list((SCHEMAS_DIR.parent / "generated").rglob("*.py"))
    assert sources
    for path in sources:
        text = path.read_text("utf-8")
        assert black.format_str(text, mode=BLACK_MODE) == text, path
