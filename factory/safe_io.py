"""The one path through which schema-factory writes any file, and the one through which it reads a file
a user or a repository supplies (docs/security.md, "Files written and files read").

Writing. Every file the tool writes (generated files, `MANIFEST.json`, app.py edits, results CSVs, batch
configs, files staged for Lambda) goes through `write_stream`: a temporary file is created beside the
destination with `O_CREAT | O_EXCL | O_NOFOLLOW` under a random name (so a link planted at any name is
never followed), written, fsynced, given its mode and renamed over the destination. The destination must
be absent or a regular file: a FIFO, a device, a socket or a directory is refused by name and never
replaced, and `-` is refused too (no command that writes through here takes it for standard output). A
symbolic link at the destination is refused unless the caller's own rules have judged it
(`replace_link=True`: `generate`, whose ownership rule already refused links it did not write unless
`--force`); even then the link itself is replaced and its target never written.

Reading. Every file a user or a repository names goes through `read_bytes` (whole, under a size cap per
kind, `READ_CAPS`) or `open_stream` (CSV, streamed: unbounded by design, the CSV reader caps each cell).
The file is opened with `O_NONBLOCK` (a FIFO never blocks the open) and checked with `fstat` on the open
descriptor: anything but a regular file (FIFO, device, socket, directory) is refused by name, so a link to
`/dev/zero` or a FIFO cannot exhaust memory or hang the pre-commit hook.

Refusals are `RefusedFile`, an `OSError` whose `strerror` is the one-line reason, so every caller's
existing "cannot read/write ...: {err.strerror}" names the file and the reason. Stdlib only: the
pre-commit check's light path imports this module.
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO, Callable, TypeVar

T = TypeVar("T")
MIB = 1 << 20

# The size cap of each kind of file read whole. CSV inputs are streamed (`open_stream`) and not capped.
READ_CAPS: dict[str, int] = {
    "schema": 4 * MIB,  # a canonical schema, `schemas/*.json`
    "manifest": 32 * MIB,  # `MANIFEST.json`: one entry per generated file
    "generated file": 32 * MIB,  # what `generate` wrote, read back by check, register and batch
    "config": 4 * MIB,  # a batch config, `schema-factory.toml`, `pyproject.toml`
    "output schema": 4 * MIB,  # `schemas/<agent>.yaml`
    "python source": 16 * MIB,  # a repository's `app.py`, the generator's and the runtime's own sources
    "process status": 64 * 1024,  # `/proc/<pid>/stat`
    "git patch": 64 * MIB,  # pre-commit's patch of unstaged changes; a larger one is not read (the plain hint stays)
    "database": 16,  # the first bytes of an SQLite file, to tell it is one
}

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


class RefusedFile(OSError):
    """A file refused before any byte moved: `strerror` is the reason, one line."""

    def __init__(self, reason: str, path: Path | str) -> None:
        super().__init__(errno.EINVAL, reason, os.fspath(path))

    def __str__(self) -> str:
        return str(self.strerror)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a FIFO", "a character device", ...)."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _umask() -> int:
    """The process umask (reading it means setting it; set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode an ordinary `open(path, "w")` gives a new file: 0666 less the umask."""
    return 0o666 & ~_umask()


def write_refusal(path: Path, replace_link: bool = False) -> str | None:
    """Why `path` may not be written, or None: it is absent or a regular file (or, with `replace_link`, a link).

    Checked again by the write itself; callers call it early to refuse before any work is done.
    """
    if path.name == "-":
        return "'-' is not a file name here, and this command does not write to standard output; name a file"
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None  # absent, or unreachable: the write names the error
    if stat.S_ISREG(mode) or (stat.S_ISLNK(mode) and replace_link):
        return None
    if stat.S_ISLNK(mode):
        return (
            "is a symbolic link, which schema-factory never writes through; remove it or name a regular file"
        )
    return f"is {file_kind(mode)}, not a regular file, and schema-factory replaces only regular files"


def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name[:200]}.{os.urandom(8).hex()}.tmp")


def write_stream(
    path: Path, fill: Callable[[BinaryIO], T], mode: int | None = None, replace_link: bool = False
) -> T:
    """Write `path` whole through `fill(handle)`; readers see the old file or the new one, never half.

    `mode` defaults to `new_file_mode()`; the temporary file is 0600 until it gets it, just before the rename.
    """
    refusal = write_refusal(path, replace_link)
    if refusal is not None:
        raise RefusedFile(refusal, path)
    tmp = _temporary_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            result = fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), new_file_mode() if mode is None else mode)
        refusal = write_refusal(path, replace_link)  # the destination may have changed while we wrote
        if refusal is not None:
            raise RefusedFile(refusal, path)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return result


def write_bytes(path: Path, data: bytes, mode: int | None = None, replace_link: bool = False) -> None:
    """`write_stream` for bytes already in memory."""
    write_stream(path, lambda handle: handle.write(data), mode, replace_link)


def _open_regular(path: Path, what: str) -> tuple[int, os.stat_result]:
    """A read-only descriptor on `path`, which must be a regular file; a FIFO does not block the open."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise RefusedFile(
                f"is {file_kind(status.st_mode)}, not a regular file ({what} must be one)", path
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, status


def _too_large(path: Path, size: int, kind: str) -> RefusedFile:
    cap = READ_CAPS[kind]
    shown = f"{cap // MIB} MiB" if cap >= MIB else f"{cap} bytes"
    return RefusedFile(f"is {size} bytes, over the {shown} limit for a {kind}", path)


def read_bytes(path: Path, kind: str) -> bytes:
    """The bytes of the regular file `path`, refused when over `READ_CAPS[kind]` (a file may grow as we read)."""
    cap = READ_CAPS[kind]
    fd, status = _open_regular(path, f"a {kind}")
    with os.fdopen(fd, "rb") as handle:
        if status.st_size > cap:
            raise _too_large(path, status.st_size, kind)
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise _too_large(path, len(data), kind)
    return data


def read_text(path: Path, kind: str, encoding: str = "utf-8") -> str:
    """`read_bytes`, decoded (a decoding error is the caller's ValueError)."""
    return read_bytes(path, kind).decode(encoding)


def read_head(path: Path, size: int, kind: str) -> bytes:
    """The first `size` bytes (at most) of the regular file `path`."""
    fd, _ = _open_regular(path, f"a {kind}")
    with os.fdopen(fd, "rb") as handle:
        return handle.read(min(size, READ_CAPS[kind]))


def open_stream(path: Path, what: str = "a CSV file") -> BinaryIO:
    """A binary stream over the regular file `path`, for inputs read in pieces and never whole (CSV)."""
    fd, _ = _open_regular(path, what)
    return os.fdopen(fd, "rb")


def copy_file(source: Path, destination: Path) -> None:
    """Copy a package file (Lambda asset staging) through the one read and the one write, keeping its mode."""
    data = read_bytes(source, "python source")
    write_bytes(destination, data, stat.S_IMODE(os.stat(source).st_mode))
