"""Options and arguments several commands share."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import click

from factory.names import ENV_NAME_RE

def _project_out_dir(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """No flag: the project's output directory (`.` in the configured step-functions-agent form)."""
    if value is not None:
        return value
    from factory.project_config import default_out_dir

    return default_out_dir()


def out_dir_option(*decls: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An output-directory option whose default is the project's: `generated`, or `.` in the configured
    step-functions-agent form (schema-factory.toml or pyproject.toml [tool.schema-factory])."""
    return click.option(*decls, type=click.Path(path_type=Path, file_okay=False), default=None,
                        callback=_project_out_dir,
                        help=f"{help} [default: generated; . where the project configures the "
                             "step-functions-agent form]")


SCHEMA_PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(path_type=Path, exists=False, dir_okay=True, file_okay=True)
)


def check_env(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A malformed --env is a usage error (exit 2), like any other bad option value (registry and batch alike)."""
    if value is not None and not ENV_NAME_RE.match(value):
        # the value may come from the environment variable, which the person did not type as this flag
        envvar = param.envvar if isinstance(param.envvar, str) else None
        origin = f" (from ${envvar})" if envvar and os.environ.get(envvar) == value else ""
        raise click.BadParameter(f"{value!r}{origin} may only hold lower-case letters, digits and '-', starting "
                                 "with a letter, at most 16 characters (e.g. dev, prod, pr-42)")
    return value
