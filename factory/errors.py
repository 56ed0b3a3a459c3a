"""Errors are values: every user-facing failure is a `Problem` the CLI can print.

Validators return lists of problems instead of raising on the first one, so a
user fixing a schema sees everything wrong with it in one run. Code paths that
must stop (a file that cannot be read, an output directory that cannot be
written) raise `FactoryError`, which carries the same problems.
"""

from __future__ import annotations

from dataclasses import dataclass

# Exit statuses, in one place: click itself uses 2 for usage errors.
EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_USAGE = 2
# A run stopped by SIGINT/SIGTERM (128 + SIGINT, as shells report it); its finished rows are kept.
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located precisely enough to fix."""

    file: str
    json_path: str
    rule: str
    message: str
    hint: str = ""

    def render(self) -> str:
        """`file: $.path: message (hint)`, on one line whatever the message holds."""
        text = f"{self.file}: {self.json_path}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.splitlines())


class FactoryError(Exception):
    """A user error: printed as its problems, exit status 1, no traceback."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


def json_path(parts: tuple[str | int, ...] | list[str | int]) -> str:
    """Render a location as a JSONPath: `$.a.b[0]`, quoting keys that need it."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            out += f"['{escaped}']"
    return out
