"""The slow path's shortcut (`check/tree.py` `_compare_suspects`) runs, and agrees with the full comparison.

When a hash disagrees but the manifest is this generator's and the schema set
is the same, only the schemas a hash points at are rendered. These tests
prove both halves: that it renders only those schemas (so replacing it by
`return []` fails here), and that what it reports is exactly what the full
comparison of the whole tree reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from check_project import Project
from factory.check import run_check, tree
from factory.check.findings import STALE

ENERGY = "energy_tariff_quotes"
BT = "broadband_availability_bt_wholesale"


def _bump(document: dict[str, Any]) -> None:
    document["version"] = "9.0.0"
    document["description"] = "bumped"


MUTATIONS: dict[str, Callable[[Project], None]] = {
    "description changed": lambda p: p.edit_schema(ENERGY, lambda d: d.update(description="changed")),
    "two schemas changed": lambda p: (
        p.edit_schema(ENERGY, lambda d: d.update(description="changed")),
        p.edit_schema(BT, lambda d: d.update(description="also changed")),
    ),
    "version bumped (new template, old one orphaned)": lambda p: p.edit_schema(ENERGY, _bump),
    "agent renamed": lambda p: p.edit_schema(ENERGY, lambda d: d.setdefault("agent", {}).update(name="renamed-agent")),
    "a generated file edited by hand": lambda p: p.layer_file(ENERGY, "batch_mappings/").write_text("x: 1\n"),
    "a generated file deleted": lambda p: p.layer_file(ENERGY, "tool_specs/").unlink(),
    "changed schema and a stray file": lambda p: (
        p.edit_schema(ENERGY, lambda d: d.update(description="changed")),
        (p.generated / "templates" / "stray.json").write_text("{}"),
    ),
}


def _rendered(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the extraction names of every generate_tree call the check makes."""
    import factory.generation as generation

    calls: list[list[str]] = []
    real = generation.generate_tree

    def spy(loaded, out_dir):
        calls.append(sorted(item.schema.extraction_name for item in loaded))
        return real(loaded, out_dir)

    monkeypatch.setattr(generation, "generate_tree", spy)
    return calls


def _findings(report) -> list[dict[str, Any]]:
    return [finding.to_json() for finding in report.findings]


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_shortcut_reports_exactly_what_the_full_comparison_reports(project: Project, mutation: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    MUTATIONS[mutation](project)
    calls = _rendered(monkeypatch)
    quick = run_check([], Path("generated"))
    assert quick.mode == "slow" and quick.findings
    assert all(len(names) < 4 for names in calls), f"only suspect schemas are rendered: {calls}"

    monkeypatch.setattr(tree, "_compare_suspects", lambda *args: [])
    calls.clear()
    full = run_check([], Path("generated"))
    assert calls and len(calls[-1]) == 4, "the full comparison renders every schema"
    assert _findings(quick) == _findings(full)


def test_one_changed_schema_renders_that_schema_alone(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.edit_schema(ENERGY, lambda d: d.update(description="changed"))
    calls = _rendered(monkeypatch)
    report = run_check([], Path("generated"))
    assert calls == [[ENERGY]]
    stale = sorted(f.file for f in report.findings if f.kind == STALE)
    assert stale and all(ENERGY in path.replace("-", "_") for path in stale), stale


def test_a_clean_tree_behind_a_wrong_hash_still_gets_the_full_comparison(project: Project,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A reformatted schema (same content, new bytes): the shortcut finds nothing, so the whole tree is compared."""
    path = project.schema(ENERGY)
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4) + "\n")
    calls = _rendered(monkeypatch)
    report = run_check([], Path("generated"))
    assert calls[0] == [ENERGY] and len(calls[-1]) == 4
    assert [f.kind for f in report.findings] == ["stale"]  # only the manifest's recorded schema hash
    assert report.findings[0].file == "generated/MANIFEST.json"
