"""Adding generated stacks to an existing step-functions-agent `app.py`, idempotently.

The existing app imports each agent stack at the top (`from stacks.agents.<module>
import <Class>`) and instantiates it inside `main()` before `app.synth()`, with
the names `app`, `environment` and `env` bound there. An edit adds, per stack,
the import after the last `stacks.agents` import and the instantiation before
`app.synth()`; a stack whose import or instantiation is already there gets
nothing added, so a second run changes nothing. Only `<out>/app.py` is touched.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from factory import rules, safe_io
from factory.emit.sfa_agent_stack import AppLines
from factory.errors import FactoryError, Problem

APP_FILE = "app.py"
_AGENT_IMPORT = re.compile(r"^from stacks\.agents\.\S+ import ")
_ANY_IMPORT = re.compile(r"^(from \S+ import |import )")
_SYNTH = re.compile(r"^(\s+)app\.synth\(\)\s*\Z")


@dataclass
class AppEdit:
    path: Path
    added_imports: list[str] = field(default_factory=list)
    added_stacks: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added_imports or self.added_stacks)


def _bound(lines: list[str], name: str) -> bool:
    return any(re.match(rf"^\s+{name}\s*=", line) for line in lines)


def _dependency_missing(lines: list[str], line: str) -> bool:
    """An `x.add_dependency(name)` line whose `name` this app does not bind."""
    found = re.search(r"\.add_dependency\((\w+)\)", line)
    return found is not None and not _bound(lines, found.group(1))


def edit_lines(
    lines: list[str], wanted: list[AppLines], display: str
) -> tuple[list[str], list[str], list[str]]:
    """The app's lines with what is missing added; also the imports and classes that were added."""
    text = "\n".join(lines)
    out = list(lines)
    added_imports: list[str] = []
    added_stacks: list[str] = []
    for item in wanted:
        if item.import_line not in (line.strip() for line in out):
            anchors = [i for i, line in enumerate(out) if _AGENT_IMPORT.match(line)]
            anchors = anchors or [i for i, line in enumerate(out) if _ANY_IMPORT.match(line)]
            at = anchors[-1] + 1 if anchors else 0
            out.insert(at, item.import_line)
            added_imports.append(item.import_line)
        if not re.search(rf"\b{item.class_name}\(", text):
            synth = [i for i, line in enumerate(out) if _SYNTH.match(line)]
            missing = [name for name in ("app", "environment", "env") if not _bound(out, name)]
            if len(synth) != 1 or missing:
                why = (
                    "no single `app.synth()` line in a function"
                    if len(synth) != 1
                    else (f"{', '.join(missing)} not bound in it")
                )
                raise FactoryError(
                    Problem(
                        display,
                        "$",
                        rules.APP_EDIT,
                        f"cannot place the {item.class_name} stack: {why}",
                        "add the lines `generate` prints by hand",
                    )
                )
            block = [line for line in item.block if not _dependency_missing(out, line)]
            at = synth[0]
            while at > 0 and out[at - 1].strip().startswith("#"):
                at -= 1  # above the comment that introduces app.synth()
            out[at:at] = [*block, ""]
            added_stacks.append(item.class_name)
            text = "\n".join(out)
    return out, added_imports, added_stacks


def edit_app(out_dir: Path, wanted: list[AppLines]) -> AppEdit:
    """Add the missing lines to `<out_dir>/app.py`, written atomically; nothing when nothing is missing."""
    path = out_dir / APP_FILE
    display = path.as_posix()
    try:
        original = safe_io.read_text(path, "python source")
    except FileNotFoundError:
        raise FactoryError(
            Problem(
                display,
                "$",
                rules.APP_EDIT,
                "no app.py in the output directory",
                "pass the step-functions-agent repository's root as --out",
            )
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise FactoryError(
            Problem(display, "$", rules.APP_EDIT, f"cannot read: {err}", "check the file")
        ) from None
    newline = "\r\n" if "\r\n" in original else "\n"
    lines = original.splitlines()
    edited, imports, stacks = edit_lines(lines, wanted, display)
    result = AppEdit(path, imports, stacks)
    if result.changed:
        data = newline.join(edited) + (newline if original.endswith(("\n", "\r")) else "")
        # the edited app.py keeps the mode it had (0755 stays 0755)
        try:
            safe_io.write_bytes(path, data.encode("utf-8"), stat.S_IMODE(path.stat().st_mode))
        except OSError as err:
            raise FactoryError(
                Problem(
                    display, "$", rules.APP_EDIT, f"cannot write: {err.strerror or err}", "check the file"
                )
            ) from None
    return result
