"""Options and arguments several commands share."""

from __future__ import annotations

from pathlib import Path

import click

SCHEMA_PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(path_type=Path, exists=False, dir_okay=True, file_okay=True)
)
