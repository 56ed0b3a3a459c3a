"""The fast path's hash test for the few generated files a command is about to read.

`batch` (and anything else that acts on generated records) must act only on
bytes `generate` wrote: a hand edit in a pull request must not change what
runs. This is the check's own test (the manifest's recorded sha256 against
the bytes on disk) with the check's own findings, for a chosen list of files,
stdlib only: nothing of the generator is imported. The bytes that were
hashed are returned, so the caller parses exactly what was verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from factory import safe_io
from factory.check.findings import MISSING, ORPHAN, edited, finding, regenerate
from factory.errors import Problem
from factory.names import MANIFEST_PATH
from factory.project_files import display_path, read_manifest, sha256, unsafe_manifest_path


@dataclass(frozen=True)
class Verified:
    """The verified files' bytes by relative path, and a finding for each file that failed."""

    data: dict[str, bytes]
    findings: tuple[Problem, ...]

    @property
    def clean(self) -> bool:
        return not self.findings


def verify_generated_files(out_dir: Path, rels: list[str]) -> Verified:
    """Each of `rels` (relative to `out_dir`) must be listed in MANIFEST.json with the hash of its bytes."""
    base = display_path(out_dir)
    show = (lambda rel: rel) if base == "." else (lambda rel: f"{base}/{rel}")
    manifest = read_manifest(out_dir)
    fix = regenerate(out_dir)
    if manifest is None:
        return Verified({}, (finding(show(MANIFEST_PATH), MISSING, "no readable manifest, so no generated file "
                                     "can be vouched for", fix),))
    data: dict[str, bytes] = {}
    findings: list[Problem] = []
    for rel in rels:
        entry = manifest["files"].get(rel)
        if unsafe_manifest_path(rel) is not None or not isinstance(entry, dict):
            findings.append(finding(show(rel), ORPHAN, "not a file MANIFEST.json lists as generated",
                                    f"{fix}; nothing but `generate` writes under the output directory"))
            continue
        path = out_dir / rel
        if not path.resolve().is_relative_to(out_dir.resolve()):
            findings.append(finding(show(rel), ORPHAN, "resolves outside the output directory (a symlink)",
                                    f"delete it, then {fix}"))
            continue
        try:
            content = safe_io.read_bytes(path, "generated file")
        except OSError:
            findings.append(finding(show(rel), MISSING, "generated file is absent or unreadable", fix))
            continue
        if entry.get("sha256") != sha256(content):
            recorded = entry.get("sources")
            sources = [str(source) for source in recorded] if isinstance(recorded, list) else ["its schema"]
            findings.append(edited(show(rel), sources, out_dir=out_dir))
            continue
        data[rel] = content
    return Verified(data, tuple(findings))
