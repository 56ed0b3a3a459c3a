"""The consistency check behind `schema-factory check` (and the pre-commit hook).

It answers one question, fast: does `generated/` hold exactly what the schemas
generate, unedited, with every layer agreeing? `run.run_check` first compares
hashes only (`scan`), reads the layers back from disk (`layers`), and only when
a hash disagrees imports the generator and compares against the in-memory tree
(`tree`). Nothing here imports jinja2, black, pydantic or jsonschema at module
level; the slow path imports them when it needs them.
"""

from __future__ import annotations

from factory.check.findings import CheckReport
from factory.check.run import run_check, fix_and_check

__all__ = ["CheckReport", "fix_and_check", "run_check"]
