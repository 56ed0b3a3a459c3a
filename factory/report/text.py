"""Untrusted text made visible: what a results CSV or an agent's error holds reaches the page as text."""

from __future__ import annotations

import re

# C0 and C1 controls but tab and newline, DEL, and the Unicode line/paragraph separators and bidi
# overrides that can disguise text.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def visible(text: str, limit: int = 500) -> str:
    """`text` with every control character shown as an escape (`\\x1b`) and cut to `limit` characters.

    HTML escaping is the template's (jinja2 autoescape) and ElementTree's (chart labels); this is the
    part neither does: an ESC or a NUL would otherwise reach the page raw, and a lone surrogate could not
    be encoded at all.
    """
    shown = _INVISIBLE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )
    shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
