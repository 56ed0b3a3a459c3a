"""Progress for a batch run: a live bar on a terminal, periodic lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, *, stream: TextIO = sys.stderr, quiet: bool = False,
                 interval: float | None = None) -> None:
        self.total = total
        self.stream = stream
        self.quiet = quiet
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.interval = interval if interval is not None else (0.2 if self.live else 5.0)
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()

    def row_finished(self, failed: bool) -> None:
        with self._lock:
            self.done += 1
            self.failed += int(failed)
            now = time.monotonic()
            if not self.quiet and now - self._last >= self.interval:
                self._last = now
                self._show(now)

    def line(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = f"{left / rate:.0f}s" if rate > 0 else "?"
        return f"{self.done}/{self.total} rows  {rate:.1f} rows/s  ETA {eta}  failed {self.failed}"

    def _show(self, now: float) -> None:
        text = self.line(now)
        if self.live:
            width = 30
            filled = int(width * self.done / self.total) if self.total else width
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {text}\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if not self.quiet:
            self._show(time.monotonic())
            if self.live:
                self.stream.write("\n")
            self.stream.flush()
