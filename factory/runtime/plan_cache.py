"""Compiled plans, kept per Lambda container (or process), keyed by the config's content (docs/runtime.md)."""

from __future__ import annotations

import marshal
import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, TypeVar

Plan = TypeVar("Plan")
MARSHAL_VERSION = 2


class PlanCache(Generic[Plan]):
    """The last `size` plans built by `compile`, least recently used dropped first; thread-safe."""

    def __init__(self, compile: Callable[..., Plan], size: int = 32) -> None:
        self._compile = compile
        self._size = size
        self._plans: OrderedDict[bytes, Plan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, *config: Any) -> Plan:
        try:  # bytes equal for equal plain-data configs
            key = marshal.dumps(config, MARSHAL_VERSION)
        except ValueError:  # not plain data: compiled on every call
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
