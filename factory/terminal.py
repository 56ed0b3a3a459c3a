"""Text for a terminal: the one function untrusted text passes through on its way to stdout or stderr.

CSV headers and cells, agent errors, registry items and file contents reach
error lines and command output. Printed raw, an escape sequence in a CSV header
recolours or clears the screen, moves the cursor, sets the window title, and a
carriage return or a bidirectional override makes one line read as another.
`printable` writes every such character as its Python escape (`\\x1b`, `\\r`,
`\\u202e`), so the line shows exactly what the data holds and does nothing else.
Tabs stay; a newline in one value becomes `\\n`. `Problem.render` (every error
line), the CLI's internal-error line and the commands' human output use it.
"""

from __future__ import annotations

import re

# C0 controls but tab, DEL and C1 controls, bidirectional marks and overrides, lone surrogates
# (a byte that was not UTF-8, as surrogateescape decodes it).
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape", "backslashreplace").decode("ascii")


def printable(text: str) -> str:
    """`text` with every character that could steer a terminal written as its escape."""
    return _UNSAFE.sub(_escape, text)
