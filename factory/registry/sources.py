"""What gets registered: the generated records on disk, refused when stale.

The registry must never hold something the repository does not, so the
records are read from `generated/` and compared byte for byte with what
`generate` would write for the same schemas now (the comparison `check`
makes). A missing or different file stops the whole run before any write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory import names
from factory.errors import FactoryError, Problem
from factory.generation import DEFAULT_SCHEMA_DIR, generate_tree, load_valid


@dataclass(frozen=True)
class GeneratedRecords:
    """One schema's template and agent records exactly as committed."""

    source: str
    template: dict[str, Any]
    agent: dict[str, Any]


def read_generated_records(paths: list[Path], generated_dir: Path) -> list[GeneratedRecords]:
    loaded = load_valid(paths or [DEFAULT_SCHEMA_DIR])
    if not loaded:
        raise FactoryError(Problem(", ".join(p.as_posix() for p in paths) or DEFAULT_SCHEMA_DIR.as_posix(), "$",
                                   "no-schemas", "no schema files found",
                                   "pass schema files or a directory holding *.json schemas"))
    tree, _ = generate_tree(loaded, generated_dir)
    problems: list[Problem] = []
    found: list[GeneratedRecords] = []
    for item in loaded:
        records = []
        for rel in (names.template_path(item.schema), names.agent_record_path(item.schema)):
            path = generated_dir / rel
            try:
                data = path.read_bytes()
            except OSError:
                problems.append(Problem(path.as_posix(), "$", "generated-missing",
                                        f"generated file for {item.source.display} is missing",
                                        "run schema-factory generate and commit the result"))
                continue
            if data != tree.files[rel]:
                problems.append(Problem(path.as_posix(), "$", "generated-stale",
                                        f"generated file differs from what {item.source.display} generates now",
                                        "run schema-factory generate, review and commit, then register"))
                continue
            records.append(json.loads(data))
        if len(records) == 2:
            found.append(GeneratedRecords(item.source.display, records[0], records[1]))
    if problems:
        raise FactoryError(problems)
    return found
