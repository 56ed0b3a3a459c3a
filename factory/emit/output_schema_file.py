"""The output-schema file of one of our agents: the same YAML form agents from elsewhere register.

Every agent is then described one way (`agent`, `version`, `output_format`,
`fields` with their extraction), whoever made it. Our agents answer with a
structured output, so each field is read at `$.<field>` of it; types and
required-ness come from the canonical output schema.

`generate` writes it for every schema, in both agent forms, at `output_schema_path`.
"""

from __future__ import annotations

from typing import Any

from factory import names
from factory.names import output_schema_path
from factory.emit.serialize import yaml_bytes
from factory.schema.model import CanonicalSchema

OUTPUT_FORMAT = "structured_output"


def output_schema_document(schema: CanonicalSchema) -> dict[str, Any]:
    outputs = schema.output_schema
    fields = []
    for name, prop in outputs.properties.items():
        entry: dict[str, Any] = {"name": name, "type": prop.type}
        if outputs.is_required(name):
            entry["required"] = True
        if prop.description:
            entry["description"] = prop.description
        entry["extraction"] = [{"type": "structured", "path": f"$.{name}"}]
        fields.append(entry)
    return {
        "agent": names.agent_name(schema),
        "version": schema.version,
        "output_format": OUTPUT_FORMAT,
        "description": schema.description,
        "fields": fields,
    }


def emit_output_schema_file(schema: CanonicalSchema) -> dict[str, bytes]:
    return {output_schema_path(schema): yaml_bytes(output_schema_document(schema))}
