"""The slow path: compare the disk with the tree the generator makes in memory.

Runs only when a hash disagrees. It calls the same functions `generate` does
(`schema_set_for`, the loader, `generate_tree`, `build_manifest`), so `check`
and `generate` cannot disagree about what belongs in the output directory.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from factory import names
from factory.artifacts import paths_generated
from factory.check.findings import (
    INVALID,
    LAYERS_DISAGREE,
    MISSING,
    ORPHAN,
    STALE,
    UNSAFE_ENTRY,
    edited,
    finding,
    generate_command,
    overwrite_refused,
    regenerate,
    unowned,
    with_force,
)
from factory.errors import Problem
from factory.check.layers import check_layers
from factory.check.scan import Snapshot, sha256, source_key
from factory.project_files import project_root

DIFF_CONTEXT = 1


def unified_diff(on_disk: bytes, generated: bytes, display: str) -> str:
    before = on_disk.decode("utf-8", errors="replace").splitlines(keepends=True)
    after = generated.decode("utf-8", errors="replace").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, f"{display} (on disk)", f"{display} (generated)", n=DIFF_CONTEXT)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip("\n")


def compare_tree(snapshot: Snapshot, paths: list[Path]) -> tuple[list[Problem], int]:
    """Every finding about the output directory, and how many schemas were read."""
    from factory.generation import generate_tree, schema_set_for
    from factory.schema.loader import load_schemas

    out_dir = snapshot.out_dir
    loaded, problems = load_schemas(schema_set_for(paths, out_dir))
    findings = unsafe_findings(snapshot) + [
        replace(problem, kind=INVALID, hint=problem.hint or "fix the schema; `schema-factory validate` lists every problem")
        for problem in problems
    ]
    bad_displays = {problem.file for problem in problems}
    valid = [item for item in loaded if item.source.display not in bad_displays]
    invalid_keys = {schema.key for schema in snapshot.schemas or [] if schema.display in bad_displays}
    manifest: dict[str, Any] = snapshot.manifest or {"schemas": {}, "files": {}}
    current = {source_key(item.source.path, out_dir): sha256(item.source.data) for item in valid}

    if not invalid_keys and snapshot.manifest_current and len(current) >= 2:
        quick = _compare_suspects(snapshot, valid, manifest, current)
        if quick:
            return _force_layers(findings + quick + _layers(snapshot, valid, manifest, current), out_dir), len(
                loaded
            )

    tree, entries = generate_tree(valid, out_dir)
    recorded_files: dict[str, Any] = manifest["files"]
    skip = {
        rel
        for rel, entry in recorded_files.items()
        if isinstance(entry, dict) and invalid_keys & set(entry.get("sources") or [])
    }
    if invalid_keys:  # the CDK app lists every schema; it cannot be judged without them all
        skip |= {names.APP_PATH, names.CDK_JSON_PATH}

    for rel, data in tree.files.items():
        if rel in skip:
            continue
        findings.extend(_compare_file(snapshot, rel, data, tree.sources[rel], recorded_files.get(rel)))

    for rel in snapshot.generated:
        if rel not in tree.files and rel not in skip:
            findings.append(_orphan(snapshot, rel, recorded_files.get(rel)))

    findings.extend(_layers(snapshot, valid, manifest, current))
    if not invalid_keys:
        findings.extend(_manifest_findings(snapshot, tree, entries, clean=not findings))
    return _force_layers(findings, out_dir), len(loaded)


def _manifest_findings(snapshot: Snapshot, tree: Any, entries: Any, clean: bool) -> list[Problem]:
    """The manifest against the one `generate` would write: absent, or (when nothing else is wrong) stale."""
    from factory.emit.serialize import json_bytes
    from factory.output import build_manifest

    expected = json_bytes(build_manifest(tree, entries))
    display = snapshot.display(names.MANIFEST_PATH)
    on_disk = snapshot.read(names.MANIFEST_PATH)
    if on_disk is None and tree.files:
        return [finding(display, MISSING, "the manifest is absent", regenerate(snapshot.out_dir))]
    if on_disk is not None and on_disk != expected and clean:
        return [
            finding(
                display,
                STALE,
                "the manifest does not match the generated files or schemas",
                regenerate(snapshot.out_dir),
                diff=unified_diff(on_disk, expected, display),
            )
        ]
    return []


def _force_layers(findings: list[Problem], out_dir: Path) -> list[Problem]:
    """A layer finding on a file `generate` refuses (edited, or not ours): its fix needs `--force` too."""
    refused = {item.file for item in findings if overwrite_refused(item)}
    return [
        with_force(item, out_dir) if item.kind == LAYERS_DISAGREE and item.file in refused else item
        for item in findings
    ]


def _compare_suspects(
    snapshot: Snapshot, valid: list[Any], manifest: dict[str, Any], current: dict[str, str]
) -> list[Problem]:
    """Findings from regenerating only the schemas a hash points at; empty means "ask the full tree".

    Same generator version and same schema set: an unchanged schema generates
    the bytes the manifest recorded, so only changed schemas, and schemas with
    an edited or missing file, are rendered (rendering is most of the cost).
    Every finding returned is true; a tree with no such finding still goes
    through the full comparison, so a pass never rests on this shortcut.
    """
    recorded_files = manifest["files"]
    if set(current) != set(manifest["schemas"]):
        return []
    suspects = _suspects(snapshot, manifest, current)
    expected, sources_of = _expected_files(snapshot, valid, recorded_files, suspects)
    findings = _judge_expected(snapshot, expected, sources_of, recorded_files)
    unlisted = {rel for rel in snapshot.generated if rel not in recorded_files}
    if unlisted & paths_generated(item.schema for item in valid):
        # A file the manifest does not list at a path a schema generates is in the way (generate refuses
        # it), not a stray: the full tree says which schema generates it and what.
        return []
    for rel in snapshot.generated:
        if rel not in expected:
            findings.append(_orphan(snapshot, rel, recorded_files.get(rel)))
    return findings


def _recorded_sources(recorded_files: dict[str, Any], rel: str) -> list[str]:
    entry = recorded_files.get(rel)
    sources = entry.get("sources") if isinstance(entry, dict) else None
    return list(sources) if isinstance(sources, list) else []


def _intact(snapshot: Snapshot, recorded_files: dict[str, Any], rel: str) -> bool:
    """The file is on disk with the hash the manifest recorded."""
    data = snapshot.read(rel)
    entry = recorded_files.get(rel)
    return data is not None and isinstance(entry, dict) and entry.get("sha256") == sha256(data)


def _suspects(snapshot: Snapshot, manifest: dict[str, Any], current: dict[str, str]) -> set[str]:
    """The schema keys whose source changed, or one of whose own files is edited or missing."""
    recorded_schemas, recorded_files = manifest["schemas"], manifest["files"]
    owned: dict[str, list[str]] = {key: [] for key in current}
    for rel in recorded_files:
        sources = _recorded_sources(recorded_files, rel)
        if len(sources) == 1 and sources[0] in owned:
            owned[sources[0]].append(rel)

    def recorded_digest(key: str) -> Any:
        entry = recorded_schemas.get(key)
        return entry.get("sha256") if isinstance(entry, dict) else None

    return {
        key
        for key, digest in current.items()
        if recorded_digest(key) != digest
        or not all(_intact(snapshot, recorded_files, rel) for rel in owned[key])
    }


def _expected_files(
    snapshot: Snapshot, valid: list[Any], recorded_files: dict[str, Any], suspects: set[str]
) -> tuple[dict[str, bytes | None], dict[str, list[str]]]:
    """Each file's expected bytes (None: vouched for by its recorded hash) and its sources."""
    from factory.generation import generate_tree

    chosen = [item for item in valid if source_key(item.source.path, snapshot.out_dir) in suspects]
    tree = generate_tree(chosen, snapshot.out_dir)[0] if chosen else None
    expected: dict[str, bytes | None] = {}
    sources_of: dict[str, list[str]] = {}
    for rel in recorded_files:
        sources = _recorded_sources(recorded_files, rel)
        if not (len(sources) == 1 and sources[0] in suspects):
            expected[rel], sources_of[rel] = None, sources
    # A set-level file (the CDK app) needs every schema: with two or more
    # schemas the manifest records it with all of them as sources.
    rendered, rendered_sources = (tree.files, tree.sources) if tree is not None else ({}, {})
    for rel, data in rendered.items():
        if len(rendered_sources[rel]) == 1 and len(_recorded_sources(recorded_files, rel)) <= 1:
            expected[rel], sources_of[rel] = data, rendered_sources[rel]
    return expected, sources_of


def _judge_expected(
    snapshot: Snapshot,
    expected: dict[str, bytes | None],
    sources_of: dict[str, list[str]],
    recorded_files: dict[str, Any],
) -> list[Problem]:
    findings: list[Problem] = []
    for rel, wanted in expected.items():
        if wanted is not None:
            findings.extend(_compare_file(snapshot, rel, wanted, sources_of[rel], recorded_files.get(rel)))
        elif snapshot.read(rel) is None:
            findings.append(
                finding(
                    snapshot.display(rel),
                    MISSING,
                    f"{', '.join(sources_of[rel])} generates this file but it is absent",
                    regenerate(snapshot.out_dir),
                )
            )
        elif not _intact(snapshot, recorded_files, rel):
            findings.append(edited(snapshot.display(rel), sources_of[rel], out_dir=snapshot.out_dir))
    return findings


def unsafe_findings(snapshot: Snapshot) -> list[Problem]:
    """Manifest entries generate may not act on (not its own paths, or schemas outside the project): named."""
    display = snapshot.display(names.MANIFEST_PATH)
    fix = (
        "remove the entry (a hand or merge edit of MANIFEST.json); "
        f"{generate_command(snapshot.out_dir)} rewrites the manifest without it"
    )
    files = [
        finding(
            display,
            UNSAFE_ENTRY,
            f"lists {rel!r}, which {reason}: generate and `check --fix` never delete it",
            fix,
        )
        for rel, reason in snapshot.unsafe_entries
    ]
    schemas = [
        finding(
            display,
            UNSAFE_ENTRY,
            f"lists the schema {key!r}, which {reason}: generate never reads it as a schema",
            fix + " (name a schema outside the project on the command line instead)",
        )
        for key, reason in snapshot.unsafe_schema_keys
    ]
    return files + schemas


def _compare_file(snapshot: Snapshot, rel: str, data: bytes, sources: list[str], entry: Any) -> list[Problem]:
    """A generated file against the bytes the schemas generate now, judged as `generate` judges ownership.

    `generate` overwrites a file only when the manifest lists it with the hash
    of its current bytes (`factory.output.overwrite_refusal`), so a file the
    manifest does not list is not plainly stale: its fix needs `--force`.
    """
    display = snapshot.display(rel)
    out_dir = snapshot.out_dir
    on_disk = snapshot.read(rel)
    if on_disk is None:
        return [
            finding(display, MISSING, f"{', '.join(sources)} generates this file but it is absent", regenerate(out_dir))
        ]
    if on_disk == data:
        return []
    diff = unified_diff(on_disk, data, display)
    if not isinstance(entry, dict):
        return [unowned(display, sources, diff, out_dir)]
    if entry.get("sha256") != sha256(on_disk):
        return [edited(display, sources, diff, out_dir)]
    return [
        finding(
            display,
            STALE,
            f"out of date: {', '.join(sources)} now generates different content",
            regenerate(out_dir),
            diff=diff,
        )
    ]


def _orphan(snapshot: Snapshot, rel: str, entry: Any) -> Problem:
    display = snapshot.display(rel)
    sources = entry.get("sources") if isinstance(entry, dict) else None
    data = snapshot.read(rel)
    if sources and (data is None or entry.get("sha256") != sha256(data)):
        return finding(
            display,
            ORPHAN,
            f"once generated from {', '.join(map(str, sources))}, but edited since (its hash differs "
            f"from the manifest's), so {generate_command(snapshot.out_dir)} leaves it",
            "delete it if you no longer need it",
        )
    if sources:
        base = project_root(snapshot.out_dir)
        gone = [source for source in sources if not (base / source).is_file()]
        detail = (
            f"generated from {', '.join(gone)}, which no longer exists"
            if gone
            else f"{', '.join(sources)} no longer generates this file"
        )
        return finding(display, ORPHAN, detail, f"{regenerate(snapshot.out_dir)}, which removes it")
    return finding(
        display,
        ORPHAN,
        "no schema generates this file (a stray file under the output directory)",
        "delete it; nothing but `schema-factory generate` writes under the output directory",
    )


def _layers(snapshot: Snapshot, valid: list[Any], manifest: dict[str, Any], current: dict[str, str]) -> list[Problem]:
    """Layer agreement for schemas unchanged since the manifest; a changed schema's files are just stale.

    Absent files are skipped by `check_layers` (they are reported missing).
    """
    findings = []
    recorded = manifest.get("schemas", {})
    for item in valid:
        key = source_key(item.source.path, snapshot.out_dir)
        entry = recorded.get(key)
        if not isinstance(entry, dict) or entry.get("sha256") != current.get(key):
            continue
        document = json.loads(item.source.data.decode("utf-8-sig"))
        findings.extend(
            check_layers(item.source.display, document, snapshot.read, snapshot.display, snapshot.out_dir)
        )
    return findings
