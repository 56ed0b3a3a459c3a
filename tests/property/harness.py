"""A throwaway project per generated case, the real CLI under resource limits, and the four invariants.

Each case gets a fresh directory holding `project/` (the bundled schemas, the generated tree, a local
`module:function` agent) and, beside it, `outside/`: a sentinel directory and a sentinel file that the
generated links point at. The CLI runs as a child process in `project/`, under `prlimit` (address space and
CPU time) and a wall-clock limit, and every run must:

1. exit with 0, 1, 2 or 130;
2. print no traceback (nor an internal error, exit 70);
3. leave everything outside `project/` as it was (the sentinels, byte for byte, and no new file);
4. stay within its time and memory limits (a kill by either is a failure, named).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis.strategies import SearchStrategy

from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"
ALLOWED_EXITS = {0, 1, 2, 130}
MEMORY_BYTES = 1 << 30  # address space: a normal run uses a fraction of it
CPU_SECONDS = 5  # a normal run takes well under one
WALL_SECONDS = 30  # generous: the machine may be shared; a hang (a FIFO, a lost thread) still ends here
SENTINEL_TEXT = "sentinel: no run may change this file\n"

AGENT_MODULE = '''
"""The property suite's agent: each row's answer (or behaviour) comes from answers.json, by row."""

import json
import sys
import time


class Opaque:
    pass


def invoke(payload):
    data = payload.get("input", payload)
    with open("answers.json", encoding="utf-8") as handle:
        answers = json.load(handle)
    entry = answers[int(data.get("building_number") or 1) % len(answers)] if answers else {"kind": "none"}
    kind = entry.get("kind")
    if kind == "raise":
        raise RuntimeError(entry.get("text", "boom"))
    if kind == "exit":
        sys.exit(entry.get("code", 3))
    if kind == "hang":
        time.sleep(30)
    if kind == "opaque":
        return {"structured_output": {"alk": Opaque(), "success": True}}
    if kind == "set":
        return {"structured_output": {"metadata": {"tags": {1, 2}}, "success": True}}
    if kind == "deep":
        value = "x"
        for _ in range(entry.get("depth", 10)):
            value = [value]
        return {"structured_output": {"metadata": value, "success": True}}
    if kind == "bignum":
        return {"structured_output": {"soadsl_dsl_speed": 10 ** entry.get("digits", 10), "success": True}}
    return entry.get("value")
'''


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    status: int | None  # None: killed at the wall-clock limit
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (
            f"`schema-factory {' '.join(self.argv)}` -> {self.status}\nstdout: {self.stdout[-2000:]}\n"
            f"stderr: {self.stderr[-2000:]}"
        )


class Case:
    """One generated case's directories, the sentinels outside the project, and the CLI runs made in it."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hostile-"))
        self.project, self.outside = self.root / "project", self.root / "outside"
        self.project.mkdir()
        (self.outside / "victim").mkdir(parents=True)
        self.sentinel = self.outside / "secret.txt"
        self.sentinel.write_text(SENTINEL_TEXT, "utf-8")
        (self.outside / "victim" / "keep.txt").write_text(SENTINEL_TEXT, "utf-8")
        for name in ("schemas", "generated"):
            shutil.copytree(REPO / name, self.project / name)
        (self.project / "hostile_agent.py").write_text(AGENT_MODULE, "utf-8")
        (self.project / "answers.json").write_text("[]", "utf-8")
        self.before = self.snapshot()
        self.runs: list[Run] = []

    def snapshot(self) -> dict[str, tuple[Any, ...]]:
        """Everything in the case's root but the project: kind, mode, bytes' hash or link target."""
        seen: dict[str, tuple[Any, ...]] = {}
        for path in sorted(self.root.rglob("*")):
            if path == self.project or self.project in path.parents:
                continue
            info = path.lstat()
            if path.is_symlink():
                seen[str(path)] = ("link", os.readlink(path))
            elif path.is_file():
                seen[str(path)] = ("file", info.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                seen[str(path)] = ("other", info.st_mode)
        return seen

    def write(self, name: str, data: str | bytes) -> Path:
        path = self.project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        path.write_bytes(data)
        return path

    def cli(self, *argv: str, wall: float = WALL_SECONDS) -> Run:
        """Run the CLI in the project under the limits; the run is checked against the invariants at once."""
        command = [
            "prlimit",
            f"--as={MEMORY_BYTES}",
            f"--cpu={CPU_SECONDS}",
            "--",
            sys.executable,
            "-m",
            "factory",
            *argv,
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), str(self.project)]),
            "MALLOC_ARENA_MAX": "2",
            "PYTHONHASHSEED": "0",
            "NO_COLOR": "1",
        }
        env.pop("SCHEMA_FACTORY_ENV", None)
        proc = subprocess.Popen(
            command,
            cwd=self.project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=wall)
            status: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, err = proc.communicate()
            status = None
        run = Run(tuple(argv), status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
        self.runs.append(run)
        check_invariants(run, wall)
        self.check_outside()
        return run

    def check_outside(self) -> None:
        after = self.snapshot()
        changed = sorted(
            set(self.before) ^ set(after) | {k for k in self.before if after.get(k) != self.before[k]}
        )
        assert not changed, f"written outside the project: {changed}\n" + "\n".join(
            r.describe() for r in self.runs
        )

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def check_invariants(run: Run, wall: float) -> None:
    what = run.describe()
    assert run.status is not None, f"still running after {wall:g} s (killed)\n{what}"
    assert run.status >= 0, f"killed by signal {-run.status} (CPU {CPU_SECONDS} s or memory limit)\n{what}"
    assert (
        run.status in ALLOWED_EXITS
    ), f"exit status {run.status} is not one of {sorted(ALLOWED_EXITS)}\n{what}"
    for stream in (run.stdout, run.stderr):
        assert "Traceback (most recent call last)" not in stream, f"a traceback\n{what}"
        assert "internal error:" not in stream, f"an internal error\n{what}"


def check_cases(
    strategy: SearchStrategy[Any],
    check: Callable[[Case, Any], None],
    examples: int,
    explicit: tuple[Any, ...] = (),
) -> None:
    """`check` on the `explicit` values, then on `examples` generated ones, each in a fresh `Case`.

    Deterministic (derandomized, no database) and without shrinking: shrinking would rerun the CLI dozens
    of times per failure, so the failing value is printed whole instead.
    """

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def prop(value: Any) -> None:
        case = Case()
        try:
            check(case, value)
        finally:
            case.close()

    for value in reversed(explicit):
        prop = example(value)(prop)
    prop()
