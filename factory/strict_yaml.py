"""YAML from the repository or the user, read with a depth limit, so no file can exhaust the stack.

PyYAML composes nodes recursively: a file nested 1,000 levels deep (`[[[[...]]]]`,
a few kilobytes) raises RecursionError inside the parser, and every walk over
the loaded data recurses as well. The loaders here stop at the same 64 levels of
nesting a canonical schema may have (README, "Depth") and say where, as the
`json-depth` rule. `StrictLoader` also refuses aliases and duplicate keys (an
output-schema file has no use for them); `DepthLimitedLoader` keeps aliases,
which a hand-edited batch config may use, and `too_deep` checks the loaded data
too, since an alias can put one deep value inside another.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent

# The canonical schema's limit (factory/schema/loader.py MAX_JSON_DEPTH); a test keeps them equal.
MAX_DEPTH = 64


class YamlTooDeep(yaml.MarkedYAMLError):
    """Nesting past MAX_DEPTH, with the mark of the collection that went one level too far."""


def too_deep_message() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


class DepthLimitedLoader(yaml.SafeLoader):
    """The safe loader, counting open collections while it composes."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlTooDeep(None, None, too_deep_message(), self.peek_event().start_mark)

    def compose_sequence_node(self, anchor: Any) -> Any:
        self._enter()
        try:
            return super().compose_sequence_node(anchor)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> Any:
        self._enter()
        try:
            return super().compose_mapping_node(anchor)
        finally:
            self._depth -= 1


class StrictLoader(DepthLimitedLoader):
    """Depth-limited safe YAML without aliases (no expansion tricks) and without duplicate keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(None, None, "aliases (*name) are not allowed here", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def too_deep(data: Any) -> bool:
    """Whether loaded data nests past MAX_DEPTH (aliases included; a self-referencing alias is endless).

    Iterative, and it stops at the limit, so neither depth nor a cycle can make it run long; a value
    shared through aliases is walked again only when reached deeper than before (at most MAX_DEPTH
    times), so a "billion laughs" document costs no more than its node count.
    """
    deepest: dict[int, int] = {}
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                return True
            if deepest.get(id(value), 0) >= depth:
                continue
            deepest[id(value)] = depth
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def load_strict(text: str) -> Any:
    """Depth-limited safe YAML without aliases or duplicate keys; raises yaml.YAMLError (YamlTooDeep)."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass


def load_depth_limited(text: str) -> Any:
    """Depth-limited safe YAML (aliases allowed: check the result with `too_deep`); raises yaml.YAMLError."""
    return yaml.load(text, Loader=DepthLimitedLoader)  # noqa: S506 - a SafeLoader subclass
