"""The one YAML loader: every YAML file or text the tool reads goes through `load_strict`.

Batch configs, generated batch mappings, YAML output schemas and stored output
schemas are data from a repository, a user or a table. PyYAML's safe loader
still has two ways to exhaust a process: nesting (it composes recursively, so
`[[[[...` a few kilobytes long raises RecursionError) and aliases (nine levels
of `*a` "billion laughs" expand to gigabytes once anything walks or copies the
data). So this loader stops at the same MAX_DEPTH levels of nesting as every
other untrusted document (factory/runtime/bounded_parse.py), reported as the
`json-depth` rule with the mark where it went one level too far; refuses every
alias (`*name`: no configuration needs one, and an anchor without alias is
harmless); and refuses duplicate keys, which YAML readers resolve differently.
A test fails if any other module of factory/ calls PyYAML's loaders.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent

from factory.runtime.bounded_parse import MAX_DEPTH  # one limit for all untrusted nesting


class YamlTooDeep(yaml.MarkedYAMLError):
    """Nesting past MAX_DEPTH, with the mark of the collection that went one level too far."""


def too_deep_message() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


class _DepthLimitedLoader(yaml.SafeLoader):
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


class StrictLoader(_DepthLimitedLoader):
    """Depth-limited safe YAML without aliases (no expansion tricks) and without duplicate keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "aliases (*name) are not allowed: write the value out", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_strict(text: str | bytes) -> Any:
    """Depth-limited safe YAML without aliases or duplicate keys; raises yaml.YAMLError (YamlTooDeep)."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
