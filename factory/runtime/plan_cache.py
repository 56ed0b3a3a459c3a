"""Compiled plans, kept per Lambda container (or process), keyed by the config's content (docs/runtime.md)."""

from __future__ import annotations

import marshal
import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, TypeVar

Plan = TypeVar("Plan")
MARSHAL_VERSION = 2


def content_key(config: tuple[Any, ...]) -> bytes | None:
    """Bytes equal for equal plain-data configs; None when the config is not plain data."""
    try:
        return marshal.dumps(config, MARSHAL_VERSION)
    except ValueError:
        return None


class PlanCache(Generic[Plan]):
    """The last `size` plans built by `compile`, least recently used dropped first; thread-safe."""

    def __init__(self, compile: Callable[..., Plan], size: int = 32) -> None:
        self._compile = compile
        self._size = size
        self._plans: OrderedDict[bytes, Plan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, *config: Any) -> Plan:
        key = content_key(config)
        if key is None:
            return self._compile(*config)
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
        plan = self._compile(*config)
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)
        return plan

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)
