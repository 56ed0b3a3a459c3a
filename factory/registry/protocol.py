"""The one interface both registry backends implement.

Backends only store and fetch; every decision (is this new, unchanged or a
conflict; may this status move) is made once in `factory.registry.service`
on top of these primitives. Each primitive is atomic where it has to be:
`put_new` writes all its items or none, `move_status` moves all or none.
"""

from __future__ import annotations

from typing import Any, Iterator, Literal, Protocol, runtime_checkable

from factory.registry.records import Key, Stored, StoredTool

Kind = Literal["template", "agent"]
# What `templates_with_status` must return at least (`list` needs no more).
SUMMARY_ATTRIBUTES = ("template_id", "version", "status", "extraction_name", "created_at", "updated_at",
                      "metadata")  # JSON text: the tags are inside


@runtime_checkable
class Registry(Protocol):
    """TemplateRegistry-{env} and AgentRegistry-{env}, wherever they live."""

    env_name: str

    def describe(self, *kinds: str) -> str:
        """Where the items go, for messages: the tables of `kinds` (default template and agent), and
        endpoint or file."""

    def create_tables(self) -> None:
        """Create both tables and their indexes if they do not exist."""

    def fetch(self, keys: list[Key]) -> dict[Key, Stored]:
        """Identity and status of each key that exists (batched: one call per 50 schemas)."""

    def put_new(self, items: list[tuple[Key, dict[str, Any]]]) -> bool:
        """Write every item if none of their keys exists; False (nothing written) otherwise."""

    def get(self, key: Key) -> dict[str, Any] | None:
        """The whole item, or None."""

    def latest(self, kind: Kind, name: str) -> dict[str, Any] | None:
        """The item with the highest semantic version for a template id or agent name."""

    def templates_with_status(self, status: str) -> Iterator[dict[str, Any]]:
        """Every template item in one status, page by page (TemplatesByStatus); SUMMARY_ATTRIBUTES at least."""

    def agents_for(self, extraction_name: str, version: str, agent_name: str | None = None) -> list[dict[str, Any]]:
        """Agent items of one schema version (AgentsByExtractionName).

        `agent_name` (from the template's metadata, when registered by us) lets
        a table without that index answer with a Query on the key.
        """

    def fetch_tools(self, names: list[str]) -> dict[str, StoredTool]:
        """Identity and version of each ToolRegistry item that exists (batched)."""

    def put_tools(self, writes: list[tuple[dict[str, Any], str | None]]) -> bool:
        """Write each tool item if absent (None) or still holding the expected content_sha256."""

    def move_status(self, moves: list[tuple[Key, str]], target: str, updated_at: str) -> bool:
        """Set `target` on every key still in its expected status; False (nothing moved) otherwise."""

    def set_attribute(self, key: Key, name: str, value: str, expected: str | None) -> bool:
        """Set one string attribute of an existing item, if it still holds `expected` (None: absent).

        Every other attribute is left as it is: the item may belong to another writer.
        """
