"""Compiled plans, kept per Lambda container (or process), keyed by the config's content.

A Lambda container serves many rows of the same batch, each event carrying
the same mapping and schema. Compiling them once per container, not once per
row, is most of the mappers' speed. The key is the config's `repr`: it keeps
key order (which decides column and field order), tells 1, 1.0 and True apart
and needs no JSON-serialisable input, so two configs share a plan only when
they would compile to the same one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, TypeVar

Plan = TypeVar("Plan")


class PlanCache(Generic[Plan]):
    """The last `size` plans built by `compile`, least recently used dropped first; thread-safe."""

    def __init__(self, compile: Callable[..., Plan], size: int = 32) -> None:
        self._compile = compile
        self._size = size
        self._plans: OrderedDict[str, Plan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, *config: Any) -> Plan:
        key = repr(config)
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
