"""What is on disk, read once and compared by hash alone (stdlib only).

This is the fast path: when the manifest's schema hashes match the schema
files and every generated file matches its manifest hash, nothing needs
rendering. `Snapshot.reasons` says why the fast path cannot vouch for the
tree; empty reasons mean it can.

The schema set, manifest keys and display paths come from
`factory.project_files`, which `generate` uses too and which imports nothing
heavy.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from factory import __version__, safe_io
from factory.errors import FactoryError
from factory.names import MANIFEST_PATH
from factory.project_config import recorded_form, resolve_form
from factory.project_files import (  # noqa: F401 - re-exported for the check modules
    DEFAULT_SCHEMA_DIR,
    GENERATOR,
    SchemaPathError,
    display_path,
    expand_schema_files,
    foreign_manifest_path,
    generator_fingerprint,
    in_schema_dir,
    read_manifest,
    schema_dirs,
    schema_roots,
    sha256,
    source_key,
    unsafe_manifest_path,
    unsafe_schema_key,
)

# Build output that lives beside generated files and is never generated itself
# (`cd generated && cdk synth` writes cdk.out/; importing app.py writes caches).
IGNORED_DIR_NAMES = frozenset({"__pycache__", "cdk.out", "node_modules"})  # node_modules: `npm ci` there
IGNORED_SUFFIXES = (".pyc",)


def _ignored(name: str) -> bool:
    """Hidden files and folders (.DS_Store, .foo.swp, .git) are never the generator's, nor orphans."""
    return name.startswith(".") or name.endswith(IGNORED_SUFFIXES)


def list_generated(
    out_dir: Path, exclude: frozenset[Path] = frozenset(), only: frozenset[str] | None = None
) -> list[str]:
    """Every file under `out_dir` (posix, relative), except the manifest, build output and hidden files.

    `exclude` holds resolved paths never listed (the schema sources); `only`,
    when given, limits the walk to those top-level names of `out_dir` (an
    output directory that also holds sources, such as `--out .`, is walked only
    where the generator writes).
    """
    found: list[str] = []
    if not out_dir.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(out_dir):
        top = dirpath == str(out_dir)
        dirnames[:] = sorted(
            name
            for name in dirnames
            if name not in IGNORED_DIR_NAMES
            and not _ignored(name)
            and (not top or only is None or name in only)
        )
        rel_dir = Path(dirpath).relative_to(out_dir)
        for name in sorted(filenames):
            if _ignored(name) or (top and only is not None and name not in only):
                continue
            rel = (rel_dir / name).as_posix()
            if rel != MANIFEST_PATH and (not exclude or (Path(dirpath) / name).resolve() not in exclude):
                found.append(rel)
    return found


def judged_form(manifest: dict[str, Any] | None) -> str:
    """The form `generate` would write with no flag (configuration, then manifest): the check judges by it."""
    try:
        return resolve_form(None, manifest).form
    except FactoryError:
        # A bad configuration is reported by `form_findings`; judge by the manifest meanwhile.
        return recorded_form(manifest or {})



def _split(
    entries: dict[str, Any], reason_of: Callable[[str], str | None]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The entries `reason_of` finds nothing against, and (key, reason) for the others."""
    kept: dict[str, Any] = {}
    refused: list[tuple[str, str]] = []
    for key, entry in entries.items():
        reason = reason_of(key)
        if reason is None:
            kept[key] = entry
        else:
            refused.append((key, reason))
    return kept, refused

def split_manifest(
    manifest: dict[str, Any] | None, out_dir: Path
) -> tuple[dict[str, Any] | None, list[tuple[str, str]], list[tuple[str, str]]]:
    """The manifest with only entries generate may act on; the `files` and `schemas` keys taken out, with why.

    A `files` key must be a path the generator writes (`foreign_manifest_path`);
    a `schemas` key must stay inside the project (`unsafe_schema_key`).
    """
    if manifest is None:
        return None, [], []
    form = judged_form(manifest)
    safe, unsafe = _split(manifest["files"], lambda rel: foreign_manifest_path(rel, form))
    schemas, unsafe_keys = _split(manifest["schemas"], lambda key: unsafe_schema_key(key, out_dir))
    if not unsafe and not unsafe_keys:
        return manifest, [], []
    return {**manifest, "files": safe, "schemas": schemas}, unsafe, unsafe_keys


def split_schema_dirs(
    manifest: dict[str, Any] | None, out_dir: Path, sources: list[Path]
) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Take out the `files` entries that land in a schema directory: generate never deletes there."""
    if manifest is None:
        return None, []
    dirs = schema_dirs(out_dir, list(manifest["schemas"]), sources)
    inside = [rel for rel in manifest["files"] if in_schema_dir((out_dir / rel).resolve(), dirs)]
    if not inside:
        return manifest, []
    files = {rel: entry for rel, entry in manifest["files"].items() if rel not in inside}
    return {**manifest, "files": files}, [(rel, "lies in a schema directory") for rel in inside]


def walk_scope(
    out_dir: Path, schema_files: list[Path], manifest: dict[str, Any] | None
) -> frozenset[str] | None:
    """None (walk everything) for a dedicated output directory; else the top-level names the generator owns.

    An output directory that holds a schema source or the working directory
    (`--out .`) holds the project too: only what the manifest records, and the
    folders it writes into, can be the generator's.
    """
    root = out_dir.resolve()
    cwd = Path.cwd().resolve()
    holds_project = (
        root == cwd or root in cwd.parents or any(root in p.resolve().parents for p in schema_files)
    )
    if not holds_project:
        return None
    return frozenset(rel.split("/", 1)[0] for rel in (manifest or {}).get("files", {}))


@dataclass(frozen=True)
class SchemaFile:
    """A schema file as read for the check: where, its manifest key, its bytes."""

    path: Path
    key: str
    display: str
    data: bytes

    @property
    def sha256(self) -> str:
        return sha256(self.data)

    def document(self) -> Any:
        """Parsed JSON, or None when it is not valid JSON (the slow path reports why)."""
        try:
            return json.loads(self.data.decode("utf-8-sig"))
        except ValueError:
            return None


@dataclass
class Snapshot:
    """The schemas, the manifest and the generated files, as found on disk."""

    out_dir: Path
    manifest: dict[str, Any] | None
    schemas: list[SchemaFile] | None
    generated: list[str]
    reasons: list[str] = field(default_factory=list)
    unsafe_entries: list[tuple[str, str]] = field(default_factory=list)
    unsafe_schema_keys: list[tuple[str, str]] = field(default_factory=list)
    _cache: dict[str, bytes | None] = field(default_factory=dict)
    _cache_display: dict[str, str] = field(default_factory=dict)

    def read(self, rel: str) -> bytes | None:
        """A generated file's bytes (cached), or None when it is absent."""
        if rel not in self._cache:
            try:
                self._cache[rel] = safe_io.read_bytes(self.out_dir / rel, "generated file")
            except OSError:
                self._cache[rel] = None
        return self._cache[rel]

    def display(self, rel: str) -> str:
        """A generated file's path as the user knows it (the output directory resolved once)."""
        if "display_base" not in self._cache_display:
            self._cache_display["display_base"] = display_path(self.out_dir)
        base = self._cache_display["display_base"]
        return rel if base == "." else f"{base}/{rel}"

    @property
    def manifest_current(self) -> bool:
        """A manifest this very generator version wrote: its hashes stand for our output."""
        manifest = self.manifest
        return (
            manifest is not None
            and manifest.get("generator") == GENERATOR
            and manifest.get("generator_version") == __version__
            and manifest.get("generator_fingerprint") == generator_fingerprint()
        )

    @property
    def fast_path_clean(self) -> bool:
        return not self.reasons


def take_snapshot(paths: list[Path], out_dir: Path) -> Snapshot:
    """Read everything once and note every reason the hashes cannot vouch for the tree."""
    manifest, unsafe, unsafe_keys = split_manifest(read_manifest(out_dir), out_dir)
    roots = schema_roots(paths, out_dir, manifest)
    try:
        files = expand_schema_files(roots)
    except SchemaPathError:  # the slow path's loader reports it, naming the path
        files = None
    schemas = None
    if files is not None:
        try:
            schemas = [
                SchemaFile(path, source_key(path, out_dir), display_path(path), safe_io.read_bytes(path, "schema"))
                for path in files
            ]
        except OSError:  # unreadable: the slow path's loader reports it as a problem
            schemas = None
    from factory.check.agent_form import judged_files  # a shared repository: only our files are judged

    sources = files or []
    manifest, in_sources = split_schema_dirs(manifest, out_dir, sources)
    unsafe += in_sources
    exclude = frozenset(path.resolve() for path in sources)
    generated = judged_files(
        out_dir, manifest, lambda: list_generated(out_dir, exclude, walk_scope(out_dir, sources, manifest))
    )
    # A key of a schema in use (named on the command line, perhaps outside the project) is its own.
    current = {schema.key for schema in schemas or []}
    unsafe_keys = [(key, reason) for key, reason in unsafe_keys if key not in current]
    snapshot = Snapshot(
        out_dir, manifest, schemas, generated, unsafe_entries=unsafe, unsafe_schema_keys=unsafe_keys
    )
    snapshot.reasons.extend(_reasons(snapshot))
    return snapshot


def _reasons(snapshot: Snapshot) -> list[str]:
    manifest = snapshot.manifest
    if manifest is None:
        return ["no readable manifest"]
    if manifest.get("generator") != GENERATOR or manifest.get("generator_version") != __version__:
        return [f"manifest written by {manifest.get('generator')} {manifest.get('generator_version')}"]
    if manifest.get("generator_fingerprint") != generator_fingerprint():
        return ["manifest written by a different build of the generator (its code changed)"]
    if snapshot.schemas is None:
        return ["a schema path does not exist or cannot be read"]
    reasons = []
    if snapshot.unsafe_entries or snapshot.unsafe_schema_keys:
        reasons.append("the manifest lists entries generate may not act on (not its own paths)")
    recorded = manifest["schemas"]
    current = {schema.key: schema for schema in snapshot.schemas}
    if set(recorded) != set(current):
        reasons.append("the set of schemas changed")
    for key, schema in current.items():
        entry = recorded.get(key)
        if not isinstance(entry, dict) or entry.get("sha256") != schema.sha256:
            reasons.append(f"{schema.display} changed")
    for rel, entry in manifest["files"].items():
        data = snapshot.read(rel)
        if data is None or not isinstance(entry, dict) or entry.get("sha256") != sha256(data):
            reasons.append(f"{snapshot.display(rel)} differs from the manifest")
    if set(snapshot.generated) != set(manifest["files"]):
        reasons.append("files under the output directory differ from the manifest's list")
    return reasons
