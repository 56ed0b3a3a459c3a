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
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from factory.batch import csv_source
from factory.batch.agents import AgentSpec

SAMPLE_ROWS = 5
TYPE_SAMPLE_ROWS = 1000
FUZZY_THRESHOLD = 0.72
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
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
    if all(_INTEGER.match(v) for v in present):
        return "integer"
    if all(_NUMBER.match(v) for v in present):
        return "number"
    if all(v.lower() in _BOOLEAN for v in present):
        return "boolean"
    if all(_DATE.match(v) for v in present):
        return "date"
    return "string"


def normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) > 1}


def fuzzy_score(column: str, field_name: str, description: str) -> float:
    """Similarity of a column to a field: its name, or words of its description."""
    a, b = normalize(column), normalize(field_name)
    by_name = SequenceMatcher(None, a, b).ratio()
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 4 and shorter in longer:
        by_name = max(by_name, 0.85)  # "fuel" for "fuel_type", "postcode" for "supply_postcode"
    column_words = _words(column)
    if column_words and description:
        overlap = len(column_words & _words(description)) / len(column_words)
        return max(by_name, 0.9 * overlap)
    return by_name


def suggest_mapping(columns: list[str], agent: AgentSpec) -> list[ColumnMatch]:
    if agent.input_schema is None:  # a target we did not make: each column is an input of its own name
        return [ColumnMatch(column, column, "column", 1.0) for column in columns]
    properties: dict[str, Any] = agent.input_schema.get("properties", {})
    authored = agent.mapping.get("input_mapping", {}).get("column_mappings", {})
    matches: list[ColumnMatch] = []
    free_columns = list(columns)
    free_fields = list(properties)

    def take(column: str, field_name: str, method: str, score: float) -> None:
        matches.append(ColumnMatch(column, field_name, method, round(score, 3)))
        free_columns.remove(column)
        free_fields.remove(field_name)

    for authored_column, field_name in authored.items():
        same = [c for c in free_columns if normalize(c) == normalize(authored_column)]
        if same and field_name in free_fields and authored_column != field_name:
            take(same[0], field_name, "authored", 1.0)
    for field_name in list(free_fields):
        if field_name in free_columns:
            take(field_name, field_name, "exact", 1.0)
    for field_name in list(free_fields):
        same = [c for c in free_columns if normalize(c) == normalize(field_name)]
        if same:
            take(same[0], field_name, "normalized", 0.95)
    candidates = sorted(
        (
            (fuzzy_score(column, field_name, properties[field_name].get("description", "")), column, field_name)
            for column in free_columns
            for field_name in free_fields
        ),
        key=lambda item: (-item[0], columns.index(item[1]), item[2]),
    )
    for score, column, field_name in candidates:
        if score < FUZZY_THRESHOLD:
            break
        if column in free_columns and field_name in free_fields:
            take(column, field_name, "fuzzy", score)
    order = list(properties)
    return sorted(matches, key=lambda m: order.index(m.field))


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
            (analysis.unmapped_required if field_name in required else analysis.unmapped_optional).append(field_name)
    used = {m.column for m in analysis.matches}
    analysis.unused_columns = [c for c in columns if c not in used]
    return analysis


def batch_config(analysis: Analysis, agent: AgentSpec, registered: dict[str, Any] | None = None) -> dict[str, Any]:
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


def foreign_batch_config(analysis: Analysis, agent: AgentSpec, registered: dict[str, Any] | None) -> dict[str, Any]:
    from factory.runtime.output_mapping.registered import mapping_config

    config: dict[str, Any] = {"target": agent.target.as_dict() if agent.target else {"type": "agent",
                                                                                      "name": agent.name}}
    mappings = analysis.column_mappings
    config["input_mapping"] = {
        "column_mappings": mappings,
        "field_types": {field: _CONFIG_TYPES.get(analysis.inferred_types[column], "string")
                        for column, field in mappings.items()},
    }
    if registered is not None:
        section = mapping_config(registered)
        config["output_mappings"] = section
        config["structured_output_fields"] = list(section)
    return config
