"""Untrusted text made visible: what a results CSV or an agent's error holds reaches the page as text."""

from __future__ import annotations

from factory.terminal import printable


def visible(text: str, limit: int = 500) -> str:
    """`text` with every control character shown as its escape (`terminal.printable`, line by line, so
    an error's own line breaks stay), cut to `limit` characters.

    HTML escaping is the template's (jinja2 autoescape) and ElementTree's (chart labels); this is the
    part neither does: an ESC or a NUL would otherwise reach the page raw, and a lone surrogate could not
    be encoded at all.
    """
    shown = "\n".join(printable(line) for line in text.split("\n"))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
