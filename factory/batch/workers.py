"""Daemon worker threads: work a run may abandon, so no call can hold the process open.

`concurrent.futures.ThreadPoolExecutor` joins its threads when the
interpreter exits, so one agent call that never returns keeps the process
alive after the last row (and a Ctrl-C then lands in that join, with a
traceback). These workers are daemon threads: the engine waits for a job
only as long as its deadline allows, and a job it stops waiting for is left
to end on its own or with the process. A job must therefore hold nothing the
run needs afterwards: it returns its outcome, and the caller records it.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, TypeVar

T = TypeVar("T")

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class DaemonWorkers:
    """A pool of daemon threads, started on demand up to `limit` (None: one more whenever all are busy).

    A worker whose job never ends is never reused and never waited for; with
    no limit, the next job gets a fresh worker instead of queueing behind it.
    """

    def __init__(self, name: str, limit: int | None = None) -> None:
        self.name, self.limit = name, limit
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # workers waiting for a job
        self._waiting = 0  # jobs submitted and not yet taken

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        number = 0
        with self._lock:
            self._waiting += 1
            start = self._waiting > self._idle and (self.limit is None or self._threads < self.limit)
            if start:
                self._threads += 1
                number = self._threads
        self._jobs.put((future, function, args))
        if start:
            threading.Thread(target=self._work, name=f"{self.name}-{number}", daemon=True).start()
        return future

    def _work(self) -> None:
        self._ready()
        while True:
            future, function, args = self._jobs.get()
            with self._lock:
                self._idle -= 1
                self._waiting -= 1
            if not future.set_running_or_notify_cancel():
                self._ready()
                continue
            try:
                result = function(*args)
            except BaseException as err:  # noqa: BLE001 - handed to whoever waits on the future
                self._ready()
                future.set_exception(err)
            else:
                self._ready()  # before the result: a caller woken by it finds this worker idle
                future.set_result(result)

    def _ready(self) -> None:
        with self._lock:
            self._idle += 1
