"""Errors are values: every user-facing failure is a `Problem` the CLI can print.

Validators return lists of problems instead of raising on the first one, so a
user fixing a schema sees everything wrong with it in one run. Code paths that
must stop (a file that cannot be read, an output directory that cannot be
written) raise `FactoryError`, which carries the same problems. The
consistency check reports the same type: its findings are problems with a
`kind` (stale, edited, ...) and, for a changed file, a `diff`. One type, one
renderer, so `validate`, `check` and `batch` say things the same way.

The exit statuses live here too, once: commands return one of them and the
click group in `cli.py` turns it into the process's exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from factory.terminal import printable

# Exit statuses, in one place (the README's "Exit status" line lists them).
EXIT_OK = 0
# A user error: a bad schema, an unwritable output, a failed row, a check finding.
EXIT_USER_ERROR = 1
# A usage error (click itself uses 2: an unknown option, a missing argument).
EXIT_USAGE = 2
# A bug in schema-factory, not in the user's input: an unexpected exception. Kept apart from 1 so a
# script (or CI) can tell "fix your schema" from "report this"; `--debug` shows the traceback.
EXIT_INTERNAL = 70  # EX_SOFTWARE in BSD's sysexits.h
# A run stopped by SIGINT/SIGTERM (128 + SIGINT, as shells report it); its finished rows are kept.
EXIT_INTERRUPTED = 130
# The reader of the output went away (`schema-factory ... | head`): 128 + SIGPIPE, as a shell reports it.
EXIT_BROKEN_PIPE = 141

DIFF_LINES_SHOWN = 20

# What to do when boto3 finds no region, said the same way by the registry and the batch commands.
# AWS_DEFAULT_REGION, not AWS_REGION: the botocore this package installs reads only the former.
AWS_REGION_HINT = "pass --region or set AWS_DEFAULT_REGION"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located precisely enough to fix.

    `json_path` is empty when the problem is about a whole file (most check
    findings). `kind` is set on the consistency check's findings (`stale`,
    `edited`, ... in `factory.check.findings`); their hint is the fix, and
    `diff` shows the generated file against the one on disk. `layer` names
    the layer a `layers-disagree` finding is about.
    """

    file: str
    json_path: str
    rule: str
    message: str
    hint: str = ""
    kind: str = ""
    diff: str = ""
    layer: str | None = None

    def render(self) -> str:
        """`file: [kind: ][$.path: ]message (hint)` on one line, then at most a short diff, indented.

        A finding's hint is a fix, so it reads `(fix: ...)`.
        """
        parts = [self.file] + [part for part in (self.kind, self.json_path) if part] + [self.message]
        text = ": ".join(parts)
        if self.hint:
            text += f" (fix: {self.hint})" if self.kind else f" ({self.hint})"
        line = printable(" ".join(text.splitlines()))  # file names, messages and hints quote data
        if not self.diff:
            return line
        lines = self.diff.splitlines()
        shown = lines[:DIFF_LINES_SHOWN]
        if len(lines) > DIFF_LINES_SHOWN:
            shown.append(f"... {len(lines) - DIFF_LINES_SHOWN} more diff lines")
        return line + "\n" + "\n".join("    " + printable(text) for text in shown)

    def to_json(self) -> dict[str, Any]:
        """The fields a reader needs; the check-only ones only when set."""
        out: dict[str, Any] = {
            "file": self.file,
            "json_path": self.json_path,
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
        }
        if self.kind:
            out["kind"] = self.kind
        if self.diff:
            out["diff"] = self.diff
        if self.layer is not None:
            out["layer"] = self.layer
        return out


class FactoryError(Exception):
    """A user error: printed as its problems, exit status 1, no traceback."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...] | Problem) -> None:
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
