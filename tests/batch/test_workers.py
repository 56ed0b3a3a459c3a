"""Daemon workers: a job that never ends holds neither the pool (without a limit) nor the process."""

from __future__ import annotations

import threading

import pytest

from factory.batch.workers import DaemonWorkers


def test_idle_workers_are_reused_and_every_worker_is_a_daemon() -> None:
    pool = DaemonWorkers("t")
    threads = {pool.submit(threading.current_thread).result(timeout=5) for _ in range(20)}
    assert len(threads) == 1 and all(thread.daemon for thread in threads)


def test_a_job_that_never_ends_does_not_hold_the_next_one() -> None:
    pool, never = DaemonWorkers("t"), threading.Event()
    try:
        hung = pool.submit(never.wait)
        assert pool.submit(lambda: "answered").result(timeout=5) == "answered"
        assert not hung.done()
    finally:
        never.set()


def test_a_limit_queues_jobs_behind_busy_workers_and_a_cancelled_job_never_runs() -> None:
    pool, release, ran = DaemonWorkers("t", limit=1), threading.Event(), []
    try:
        busy = pool.submit(release.wait, 10)
        queued = pool.submit(ran.append, "queued")
        assert queued.cancel()
        after = pool.submit(lambda: "after")
        release.set()
        assert busy.result(timeout=5) and after.result(timeout=5) == "after"
        assert ran == []
    finally:
        release.set()


def test_an_exception_reaches_whoever_waits() -> None:
    def fail() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        DaemonWorkers("t").submit(fail).result(timeout=5)
