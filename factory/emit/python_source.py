"""Python source from Jinja2 templates: literal values in, black-formatted bytes out.

Schema text reaches generated Python only through the `py` filter (a Python
literal via `repr`) or `py_comment` (one comment-safe line), so quotes,
backslashes, `\"\"\"`, `{{` and newlines in a description come out inert.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import black
import jinja2

from factory.project_files import templates_dir

BLACK_MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=100)


def python_literal(value: Any) -> str:
    """A Python expression equal to `value` (JSON data only: dict, list, str, numbers, bools, None)."""
    return repr(value)


def comment_text(value: Any) -> str:
    """Text safe inside a `#` comment or docstring line: no newlines, no quotes that end a docstring."""
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = python_literal
    env.filters["py_comment"] = comment_text
    return env


# Templates separate top-level definitions with this line. Each piece is
# formatted on its own, so a piece that is the same text for every schema
# (the stack's logic) is formatted once per process: black is ~90% of the
# cost of generation otherwise. Pieces join with the two blank lines black
# puts between top-level definitions; tests check the joined file is a fixed
# point of black.
CHUNK_MARKER = "#<schema-factory:chunk>"


@lru_cache(maxsize=64)
def format_chunk(source: str) -> str:
    return black.format_str(source, mode=BLACK_MODE)


def render_python(template_name: str, context: dict[str, Any]) -> bytes:
    source = environment().get_template(template_name).render(chunk_marker=CHUNK_MARKER, **context)
    chunks = [format_chunk(chunk).strip("\n") for chunk in source.split(CHUNK_MARKER + "\n")]
    return ("\n\n\n".join(chunks) + "\n").encode("utf-8")
