"""The batch mapping: how CSV columns feed the agent and results become columns.

The runtime input mapper reads `input_mapping`; the output mapper reads
`structured_output_fields` and tries `extraction_methods` in order.
"""

from __future__ import annotations

from typing import Any

from factory import names
from factory.emit.serialize import yaml_bytes
from factory.schema.model import CanonicalSchema


def csv_column(schema: CanonicalSchema, field: str) -> str:
    """The CSV column for an input field: authored in `batch`, else the field name."""
    return schema.batch.csv_columns.get(field, field)


def batch_mapping(schema: CanonicalSchema) -> dict[str, Any]:
    inputs = schema.input_schema
    outputs = schema.output_schema
    return {
        "extraction_name": schema.extraction_name,
        "version": schema.version,
        "agent_name": names.agent_name(schema),
        "template_id": names.template_id(schema),
        "input_mapping": {
            "column_mappings": {csv_column(schema, field): field for field in inputs.properties},
            "field_types": {field: prop.type for field, prop in inputs.properties.items()},
            "required_fields": list(inputs.required),
        },
        "structured_output_fields": outputs.field_names(),
        "required_output_fields": list(outputs.required),
        "output_columns": outputs.field_names() + list(names.METADATA_COLUMNS),
        "extraction_methods": [
            {"method": "structured_output"},
            {"method": "tool_result", "tool_name": names.print_output_tool_name(schema)},
        ],
    }


def emit_batch_mapping(schema: CanonicalSchema) -> dict[str, bytes]:
    return {names.batch_mapping_path(schema): yaml_bytes(batch_mapping(schema))}
