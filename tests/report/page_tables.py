"""Read a report page back: its tables (cell texts and data-value numbers) and its charts' bars."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Table:
    key: str
    rows: list[list[str]] = field(default_factory=list)
    values: list[list[str]] = field(default_factory=list)  # the data-value of each cell that has one


class PageReader(HTMLParser):
    """Tables by id (or `class:data-field` for per-field tables), chart bar counts, every tag seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, Table] = {}
        self.tags: list[str] = []
        self.bars: dict[str, int] = {}  # figure key -> pygal bar rects inside it
        self.declared_bars: dict[str, int] = {}
        self._table: Table | None = None
        self._row: list[str] | None = None
        self._values: list[str] | None = None
        self._cell: list[str] | None = None
        self._figure: str | None = None
        self.text: list[str] = []

    @staticmethod
    def _key(attrs: dict[str, str | None]) -> str:
        if attrs.get("id"):
            return str(attrs["id"])
        return f"{attrs.get('class')}:{attrs.get('data-field')}"

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attrs_list)
        self.tags.append(tag)
        if tag == "table":
            self._table = self.tables.setdefault(self._key(attrs), Table(self._key(attrs)))
        elif tag == "tr" and self._table is not None:
            self._row, self._values = [], []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            if "data-value" in attrs and self._values is not None:
                self._values.append(str(attrs["data-value"]))
        elif tag == "figure":
            self._figure = self._key(attrs)
            self.declared_bars[self._figure] = int(attrs.get("data-bars") or 0)
            self.bars[self._figure] = 0
        elif tag == "rect" and self._figure is not None and "rect" in (attrs.get("class") or "").split():
            self.bars[self._figure] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if self._row:
                self._table.rows.append(self._row)
                self._table.values.append(self._values or [])
            self._row = self._values = None
        elif tag == "table":
            self._table = None
        elif tag == "figure":
            self._figure = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    reader.close()
    return reader


def body_rows(table: Table) -> list[list[str]]:
    """Rows but the header row (a header row has no data-value cells and comes first)."""
    return table.rows[1:] if table.rows and not table.values[0] else table.rows
