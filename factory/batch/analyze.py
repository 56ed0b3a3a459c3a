"""`batch analyze`: what a CSV holds and how its columns map to an agent's inputs.

Rows are streamed for the count; types are inferred from a bounded sample.
Columns are matched to input fields by, in order: the schema's authored CSV
column, the exact name, the name ignoring case, spaces and punctuation, then
a fuzzy match on the field's name and description. Each column feeds at most
one field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from bisect import bisect_right
from difflib import SequenceMatcher
from itertools import accumulate
from pathlib import Path
from typing import Any

from factory.batch import csv_source
from factory.batch.agents import AgentSpec

SAMPLE_ROWS = 5
TYPE_SAMPLE_ROWS = 1000
FUZZY_THRESHOLD = 0.72
_INTEGER = re.compile(r"^[+-]?[0-9]+\Z")
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_BOOLEAN = {"true", "false", "yes", "no", "y", "n"}


@dataclass(frozen=True)
class ColumnMatch:
    column: str
    field: str
    method: str  # authored | exact | normalized | fuzzy
    score: float


@dataclass
class Analysis:
    columns: list[str]
    row_count: int
    sample_rows: list[dict[str, str]]
    inferred_types: dict[str, str]
    matches: list[ColumnMatch] = field(default_factory=list)
    unmapped_required: list[str] = field(default_factory=list)
    unmapped_optional: list[str] = field(default_factory=list)
    unused_columns: list[str] = field(default_factory=list)

    @property
    def column_mappings(self) -> dict[str, str]:
        """CSV column → input field, in column order."""
        by_column = {m.column: m.field for m in self.matches}
        return {column: by_column[column] for column in self.columns if column in by_column}

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "row_count": self.row_count,
            "sample_rows": self.sample_rows,
            "inferred_types": self.inferred_types,
            "suggested_mapping": [m.__dict__ for m in self.matches],
            "unmapped_required_fields": self.unmapped_required,
            "unmapped_optional_fields": self.unmapped_optional,
            "unused_columns": self.unused_columns,
        }


def infer_type(values: list[str]) -> str:
    """The narrowest JSON type every non-empty sample value fits."""
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return "string"
    if all(map(_INTEGER.match, present)):
        return "integer"
    if all(map(_NUMBER.match, present)):
        return "number"
    if _BOOLEAN.issuperset(map(str.lower, present)):
        return "boolean"
    if all(map(_DATE.match, present)):
        return "date"
    return "string"


_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_NOT_ALNUM_OR_SEPARATOR = re.compile(r"[^a-z0-9\x00]")
_WORD_BREAKS = re.compile(r"[^a-z0-9]+")


def normalize(name: str) -> str:
    return _NOT_ALNUM.sub("", name.lower())


def normalize_all(names: list[str]) -> list[str]:
    """`[normalize(name) for name in names]`, in a few C-speed passes (a CSV may have 100,000 columns)."""
    lowered = "\x00".join(map(str.lower, names))
    if lowered.count("\x00") != max(len(names) - 1, 0):  # a name holding NUL: one at a time
        return [normalize(name) for name in names]
    return _NOT_ALNUM_OR_SEPARATOR.sub("", lowered).split("\x00") if names else []


def _words(text: str) -> set[str]:
    return {w for w in _WORD_BREAKS.split(text.lower()) if len(w) > 1}


class _FieldMatcher:
    """One field's side of the fuzzy match, prepared once so a column costs a few C-speed bounds.

    A CSV may have 100,000 columns: difflib's full ratio runs only for a column whose
    letters could reach the threshold (`quick_ratio` and the shared-letter count are
    upper bounds of `ratio`), and the field's index of letters is built once.
    """

    def __init__(self, field_name: str, description: str) -> None:
        self.normalized = normalize(field_name)
        self.description_words = _words(description) if description else set()
        self.matcher = SequenceMatcher(None, "", self.normalized)  # caches its index of the second sequence
        self.others = str.maketrans("", "", "".join(set(self.normalized)))  # deletes the field's letters
        words = "|".join(sorted(map(re.escape, self.description_words), key=len, reverse=True))
        self.word_finder = re.compile(rf"(?<![a-z0-9])(?:{words})(?![a-z0-9])") if words else None

    def reachable(self, norms: list[str], lowered: str, starts: list[int], threshold: float) -> set[int]:
        """Positions of the columns `score` could put at `threshold` or above; the rest cannot get there.

        One `translate` over all names counts, per column, the letters the field shares
        with it: a ratio needs enough of them, a substring needs all of the shorter. One
        regex over the lowered names finds the columns with a word of the description.
        """
        lb = len(self.normalized)
        longest = (2 - threshold) * lb / threshold  # 2*lb/(ln+lb) >= threshold
        rests = "\n".join(norms).translate(self.others).split("\n")
        found = {
            position
            for position, (norm, rest) in enumerate(zip(norms, rests))
            if (len(norm) <= longest and 2 * (len(norm) - len(rest)) >= threshold * (len(norm) + lb))
            or (not rest and len(norm) >= 4)  # the column's letters are all the field's: maybe a substring
            or (lb >= 4 and len(norm) - len(rest) >= lb)
        }
        if self.word_finder is not None:
            found.update(
                bisect_right(starts, match.start()) - 1 for match in self.word_finder.finditer(lowered)
            )
        return found

    def score(self, normalized: str, column_words: set[str], threshold: float) -> float | None:
        """The column's score, or None when it is certainly below `threshold`."""
        b = self.normalized
        by_name = 0.0
        shorter, longer = (normalized, b) if len(normalized) <= len(b) else (b, normalized)
        if len(shorter) >= 4 and shorter in longer:
            by_name = 0.85  # "fuel" for "fuel_type", "postcode" for "supply_postcode"
        floor, total = max(threshold, by_name), len(normalized) + len(b)
        shared = len(normalized) - len(normalized.translate(self.others))  # letters the field has too
        if total and 2 * min(shared, len(b)) / total >= floor:  # an upper bound of ratio()
            matcher = self.matcher
            matcher.set_seq1(normalized)
            if matcher.quick_ratio() >= floor:
                by_name = max(by_name, matcher.ratio())
        if column_words and self.description_words:
            overlap = len(column_words & self.description_words) / len(column_words)
            by_name = max(by_name, 0.9 * overlap)
        return by_name if by_name >= threshold else None


def _first_by_normalized(normalized: dict[str, str]) -> dict[str, str]:
    """{normalized name: the first column with it}, in one pass."""
    first: dict[str, str] = {}
    for column, norm in normalized.items():
        first.setdefault(norm, column)
    return first


def suggest_mapping(columns: list[str], agent: AgentSpec) -> list[ColumnMatch]:
    """Each input field's column; linear in the number of columns (a row of a few fields against many)."""
    if agent.input_schema is None:  # a target we did not make: each column is an input of its own name
        return [ColumnMatch(column, column, "column", 1.0) for column in columns]
    properties: dict[str, Any] = agent.input_schema.get("properties", {})
    authored = agent.mapping.get("input_mapping", {}).get("column_mappings", {})
    matches: list[ColumnMatch] = []
    taken_columns: set[str] = set()
    free_fields = list(properties)
    present = set(columns)
    normalized = dict(zip(columns, normalize_all(columns)))
    by_normalized = _first_by_normalized(normalized)

    def take(column: str, field_name: str, method: str, score: float) -> None:
        matches.append(ColumnMatch(column, field_name, method, round(score, 3)))
        taken_columns.add(column)
        free_fields.remove(field_name)

    def first_free(norm: str) -> str | None:
        column = by_normalized.get(norm)
        if column is None or column not in taken_columns:
            return column
        return next((c for c in columns if c not in taken_columns and normalized[c] == norm), None)

    for authored_column, field_name in authored.items():
        same = first_free(normalize(authored_column))
        if same is not None and field_name in free_fields and authored_column != field_name:
            take(same, field_name, "authored", 1.0)
    for field_name in list(free_fields):
        if field_name in present and field_name not in taken_columns:
            take(field_name, field_name, "exact", 1.0)
    for field_name in list(free_fields):
        same = first_free(normalize(field_name))
        if same is not None:
            take(same, field_name, "normalized", 0.95)
    _take_fuzzy(columns, normalized, taken_columns, free_fields, properties, take)
    order = {name: index for index, name in enumerate(properties)}
    return sorted(matches, key=lambda m: order[m.field])


def _take_fuzzy(
    columns: list[str],
    normalized: dict[str, str],
    taken_columns: set[str],
    free_fields: list[str],
    properties: dict[str, Any],
    take: Any,
) -> None:
    """Best fuzzy pairs first (score, then column order, then field name), each column and field once."""
    matchers = {name: _FieldMatcher(name, properties[name].get("description", "")) for name in free_fields}
    norms = [normalized[column] for column in columns]
    lowered_names = [column.lower() for column in columns]
    starts = list(accumulate((len(name) + 1 for name in lowered_names[:-1]), initial=0))
    lowered = "\n".join(lowered_names)
    candidates = []
    for field_name, matcher in matchers.items():
        for position in sorted(matcher.reachable(norms, lowered, starts, FUZZY_THRESHOLD)):
            column = columns[position]
            if column in taken_columns:
                continue
            score = matcher.score(norms[position], _words(column), FUZZY_THRESHOLD)
            if score is not None:
                candidates.append((-score, position, field_name, column))
    for negative, _, field_name, column in sorted(candidates):
        if column not in taken_columns and field_name in free_fields:
            take(column, field_name, "fuzzy", -negative)


def analyze_csv(path: Path, agent: AgentSpec) -> Analysis:
    columns = csv_source.header(path)
    samples: list[dict[str, str]] = []
    type_values: dict[str, list[str]] = {column: [] for column in columns}
    count = 0
    for row in csv_source.rows(path):
        count += 1
        if len(samples) < SAMPLE_ROWS:
            samples.append(row.values)
        if count <= TYPE_SAMPLE_ROWS:
            for column in columns:
                type_values[column].append(row.values[column])
    analysis = Analysis(
        columns=columns,
        row_count=count,
        sample_rows=samples,
        inferred_types={column: infer_type(values) for column, values in type_values.items()},
        matches=suggest_mapping(columns, agent),
    )
    mapped = {m.field for m in analysis.matches}
    input_schema = agent.input_schema or {}
    required = input_schema.get("required", [])
    for field_name in input_schema.get("properties", {}):
        if field_name not in mapped:
            (analysis.unmapped_required if field_name in required else analysis.unmapped_optional).append(
                field_name
            )
    used = {m.column for m in analysis.matches}
    analysis.unused_columns = [c for c in columns if c not in used]
    return analysis


def batch_config(
    analysis: Analysis, agent: AgentSpec, registered: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A batch config to edit: the generated mapping with this CSV's columns.

    For a target we did not make: its `target`, every column as an input of its
    own name (with the inferred types), and, when it registered an output schema,
    that schema as the `output_mappings` section (field-keyed), ready to edit.
    """
    if not agent.generated:
        return foreign_batch_config(analysis, agent, registered)
    config = dict(agent.mapping)
    input_mapping = dict(config.get("input_mapping", {}))
    input_mapping["column_mappings"] = analysis.column_mappings
    if analysis.unmapped_required:
        input_mapping["unmapped_required_fields"] = list(analysis.unmapped_required)
    config["input_mapping"] = input_mapping
    return config


_CONFIG_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean"}


def foreign_batch_config(
    analysis: Analysis, agent: AgentSpec, registered: dict[str, Any] | None
) -> dict[str, Any]:
    from factory.runtime.output_mapping.registered import mapping_config

    config: dict[str, Any] = {
        "target": agent.target.as_dict() if agent.target else {"type": "agent", "name": agent.name}
    }
    mappings = analysis.column_mappings
    config["input_mapping"] = {
        "column_mappings": mappings,
        "field_types": {
            field: _CONFIG_TYPES.get(analysis.inferred_types[column], "string")
            for column, field in mappings.items()
        },
    }
    if registered is not None:
        section = mapping_config(registered)
        config["output_mappings"] = section
        config["structured_output_fields"] = list(section)
    return config
