"""Where a project's files are and how they are named, in stdlib only.

Both `generate` and the pre-commit `check` need these answers; the check's
fast path must not import the generator (jinja2, black, pydantic), so they
live here, light, and both sides import them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from factory import __version__, rules, safe_io
from factory.artifacts import artifact_at
from factory.errors import Problem
from factory.names import MANIFEST_PATH

GENERATOR = "schema-factory"
DEFAULT_SCHEMA_DIR = Path("schemas")
PACKAGE_DIR = Path(__file__).resolve().parent

# Everything whose bytes decide generated output. A change to any of them
# changes the fingerprint in MANIFEST.json, so `check` knows the tree must be
# regenerated even when no schema changed (a test keeps this list complete).
GENERATOR_SOURCES = (
    "emit",
    "schema/__init__.py",
    "schema/model.py",
    "schema/loader.py",
    "schema/checks.py",
    "schema/standard_form.py",
    "schema/meta_schema.json",
    "runtime/bounded_regex.py",  # which schema patterns and documents are accepted
    "runtime/bounded_parse.py",
    "mustache.py",
    "names.py",
    "artifacts.py",
    "exports.py",
    "output.py",
    "generation.py",
    "project_files.py",
    "project_config.py",
    "orchestrator_specs.py",
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def templates_dir() -> Path:
    """`templates_src/`: inside the installed package, else beside it in a checkout."""
    packaged = resources.files("factory").joinpath("templates_src")
    if packaged.is_dir():
        return Path(str(packaged))
    return PACKAGE_DIR.parent / "templates_src"


def _source_files() -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for entry in GENERATOR_SOURCES:
        path = PACKAGE_DIR / entry
        if path.is_dir():
            files += [(f"factory/{p.relative_to(PACKAGE_DIR).as_posix()}", p)
                      for p in path.rglob("*") if p.suffix in (".py", ".json")]
        else:
            files.append((f"factory/{entry}", path))
    files += [(f"templates_src/{p.name}", p) for p in templates_dir().iterdir() if p.suffix == ".jinja"]
    return sorted(files)


@lru_cache(maxsize=1)
def generator_fingerprint() -> str:
    """sha256 over the generator's own sources: same code, same fingerprint, any machine."""
    digest = hashlib.sha256(__version__.encode())
    for name, path in _source_files():
        digest.update(name.encode() + b"\0" + sha256(safe_io.read_bytes(path, "python source")).encode() + b"\n")
    return digest.hexdigest()


def project_root(out_dir: Path) -> Path:
    """What manifest schema keys are relative to: the output directory's parent (`generated/`'s
    project), or the output directory itself when it is the working directory (`--out .`, writing
    into an existing repository's root), so keys never hold the checkout's own directory name."""
    resolved = out_dir.resolve()
    return resolved if resolved == Path.cwd().resolve() else resolved.parent


def source_key(schema_path: Path, out_dir: Path) -> str:
    """A schema's path as the manifest records it: relative to `project_root(out_dir)`."""
    return Path(os.path.relpath(schema_path.resolve(), project_root(out_dir))).as_posix()


def display_path(path: Path) -> str:
    """Path as the user knows it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):  # outside the working directory, or a symbolic link loop
        return path.as_posix()


DEFAULT_OUT = "generated"  # `generate`'s and `check`'s --out default


def out_flag(out_dir: Path | None) -> str:
    """` --out DIR` when `out_dir` is not the project's default (`generated`, or `.` in the configured
    step-functions-agent form), else "".

    A hint is a command people run as written: without the flag, `generate`
    run for `check --out .` would write a standalone tree into ./generated/
    and leave the reported file as it is.
    """
    if out_dir is None:
        return ""
    from factory.project_config import default_out_dir

    shown = display_path(out_dir)
    return "" if shown == display_path(default_out_dir()) else f" --out {shlex.quote(shown)}"


def generate_command(out_dir: Path | None, force: bool = False) -> str:
    """The `schema-factory generate` command line that rewrites `out_dir`, in backticks."""
    return f"`schema-factory generate{out_flag(out_dir)}{' --force' if force else ''}`"


def unsafe_manifest_path(rel: Any) -> str | None:
    """Why a manifest `files` key is not a plain relative path inside the output directory, or None.

    The manifest comes from the repository, so a merge can put anything in it;
    `generate` prunes by it, so only plain `a/b/c` paths may ever be acted on.
    """
    if not isinstance(rel, str) or not rel:
        return "is not a non-empty string"
    if "\\" in rel or "\0" in rel or any(ord(ch) < 32 for ch in rel):
        return "contains a backslash or a control character"
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        return "is an absolute path"
    if any(part in ("", ".", "..") for part in rel.split("/")):
        return "has an empty, '.' or '..' segment"
    return None


def foreign_manifest_path(rel: Any, form: str) -> str | None:
    """Why a manifest `files` key is not a path the generator writes in `form`, or None.

    Stricter than `unsafe_manifest_path`: a plain relative path must also be
    one of the generator's own in `form` (`factory.artifacts`), so with `--out .` a
    tampered manifest cannot name README.md, pyproject.toml or a schema.
    """
    unsafe = unsafe_manifest_path(rel)
    if unsafe is not None:
        return unsafe
    if artifact_at(rel, form) is not None:
        return None
    theirs = artifact_at(rel)  # a path of ours in the other form: in this one, the repository's own file
    if theirs is not None:
        return f"is the repository's own {theirs.kind} in the {form} form"
    return "is not a path schema-factory generates"


def schema_dirs(out_dir: Path, keys: list[str] | None = None, files: list[Path] | None = None) -> list[Path]:
    """The resolved directories that hold schema sources: `schemas/`, and those of the schemas in use.

    `keys` are manifest schema keys (relative to `project_root(out_dir)`),
    `files` schema paths as given; nothing under these directories is ever
    the generator's to delete, whatever the manifest says.
    """
    base = project_root(out_dir)
    found = {DEFAULT_SCHEMA_DIR.resolve()}
    found.update((base / key).resolve().parent for key in keys or [])
    found.update(path.resolve().parent for path in files or [])
    return sorted(found)


def in_schema_dir(path: Path, dirs: list[Path]) -> bool:
    """`path` (resolved) is a schema directory or lies under one."""
    return any(path == directory or directory in path.parents for directory in dirs)


def unsafe_schema_key(key: Any, out_dir: Path) -> str | None:
    """Why a manifest `schemas` key may not be read as a schema, or None.

    The key must be a plain relative `.json` path that stays inside the project
    (`project_root(out_dir)`) once symbolic links are resolved: a merge must not
    make `generate` read `../elsewhere/x.json` and write artifacts from it.
    Schemas outside the project are generated when named on the command line.
    """
    unsafe = unsafe_manifest_path(key)
    if unsafe is not None:
        return unsafe
    if not key.endswith(".json"):
        return "is not a .json file"
    base = project_root(out_dir)
    if not (base / key).resolve().is_relative_to(base):
        return "leads outside the project once symbolic links are resolved"
    return None


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The manifest on disk, or None when there is none or it cannot be read."""
    try:
        data = json.loads(safe_io.read_bytes(out_dir / MANIFEST_PATH, "manifest"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    if not isinstance(data.get("schemas"), dict):
        return None
    return data


def schema_roots(paths: list[Path], out_dir: Path, manifest: dict[str, Any] | None) -> list[Path]:
    """The schemas whose artifacts `out_dir` should hold after generating `paths`.

    Generating a few named schemas keeps the others already recorded in the
    manifest (the CDK app lists every stack); a recorded schema whose file is
    gone drops out, and its artifacts are pruned.
    """
    if not paths:
        return [DEFAULT_SCHEMA_DIR]
    chosen = list(paths)
    base = project_root(out_dir)
    for recorded in sorted((manifest or {}).get("schemas", {}), key=str):
        if unsafe_schema_key(recorded, out_dir) is not None:
            continue  # a tampered manifest cannot make us read an arbitrary file as a schema
        candidate = base / recorded
        if candidate.is_file():
            chosen.append(candidate)
    return chosen


def no_schemas_problem(paths: list[Path]) -> Problem:
    """`validate`, `generate` and `check` agree: no schema to work on is a user error, the same words."""
    where = ", ".join(p.as_posix() for p in paths) or DEFAULT_SCHEMA_DIR.as_posix()
    return Problem(where, "$", rules.NO_SCHEMAS, f"no schema files found in {where}",
                   "pass schema files or a directory holding *.json schemas")


class SchemaPathError(ValueError):
    """A schema path that cannot be followed (a symbolic link loop); the loader makes it a problem."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def expand_schema_files(roots: list[Path]) -> list[Path] | None:
    """Directories to their sorted `*.json`, each file once; None when a root does not exist."""
    files: list[Path] = []
    seen: set[Path] = set()
    for root in roots:
        try:
            root.resolve()
        except (OSError, RuntimeError):  # a root that is itself a loop (`ln -s schemas schemas`)
            raise SchemaPathError(root, "a symbolic link loop (the link leads back to itself)") from None
        if root.is_dir():
            found = sorted(root.glob("*.json"), key=lambda p: p.name)
        elif root.exists():
            found = [root]
        else:
            return None
        for path in found:
            try:
                resolved = path.resolve()
            except (OSError, RuntimeError):  # Python raises RuntimeError for a symlink loop
                raise SchemaPathError(path, "a symbolic link loop (the link leads back to itself)") from None
            if resolved not in seen:
                seen.add(resolved)
                files.append(path)
    return files
