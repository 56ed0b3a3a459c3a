"""Options and arguments several commands share."""

from __future__ import annotations

from pathlib import Path

import click

from factory.names import ENV_NAME_RE

SCHEMA_PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(path_type=Path, exists=False, dir_okay=True, file_okay=True)
)


def check_env(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A malformed --env is a usage error (exit 2), like any other bad option value (registry and batch alike)."""
    if value is not None and not ENV_NAME_RE.match(value):
        raise click.BadParameter(f"{value!r} may only hold lower-case letters, digits and '-', starting with a "
                                 "letter, at most 16 characters (e.g. dev, prod, pr-42)")
    return value
