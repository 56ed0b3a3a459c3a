"""The canonical schema as typed data.

The loader has already checked the document against the meta-schema and turned
per-property `"required": true` flags into standard `required` lists, so this
model only ever sees one form. Everything emitted is built from it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FieldType = Literal["string", "number", "integer", "boolean", "object", "array"]

# Keys of a property schema in the order they are emitted. One fixed order keeps
# output identical whatever order an author wrote them in.
_PROPERTY_KEY_ORDER = (
    "type",
    "title",
    "description",
    "enum",
    "pattern",
    "format",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "examples",
    "items",
    "properties",
    "required",
)


class PropertySchema(BaseModel):
    """One property: the JSON Schema subset docs/DESIGN.md lists."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    type: FieldType
    title: str | None = None
    description: str | None = None
    enum: list[Any] | None = None
    pattern: str | None = None
    format: str | None = None
    default: Any = None
    minimum: float | int | None = None
    maximum: float | int | None = None
    min_length: int | None = Field(default=None, alias="minLength")
    max_length: int | None = Field(default=None, alias="maxLength")
    min_items: int | None = Field(default=None, alias="minItems")
    max_items: int | None = Field(default=None, alias="maxItems")
    examples: list[Any] | None = None
    items: PropertySchema | None = None
    properties: dict[str, PropertySchema] | None = None
    required: list[str] = Field(default_factory=list)

    @property
    def has_default(self) -> bool:
        """`default: null` is a default too, so presence is what counts."""
        return "default" in self.model_fields_set

    def to_json_schema(self) -> dict[str, Any]:
        """Standard JSON Schema (draft 2020-12) for this property."""
        raw = self.model_dump(by_alias=True, exclude_unset=True)
        out: dict[str, Any] = {}
        for key in _PROPERTY_KEY_ORDER:
            if key == "items" and self.items is not None:
                out["items"] = self.items.to_json_schema()
            elif key == "properties" and self.properties is not None:
                out["properties"] = {
                    name: prop.to_json_schema() for name, prop in self.properties.items()
                }
            elif key == "required":
                if self.required:
                    out["required"] = list(self.required)
            elif key in raw:
                out[key] = raw[key]
        return out


class ObjectSchema(BaseModel):
    """A top-level input or output schema: always an object with properties."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["object"] = "object"
    description: str | None = None
    properties: dict[str, PropertySchema]
    required: list[str] = Field(default_factory=list)

    def field_names(self) -> list[str]:
        """Field names in authored order: they become CSV columns in this order."""
        return list(self.properties)

    def is_required(self, name: str) -> bool:
        return name in self.required

    def to_json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object"}
        if self.description is not None:
            out["description"] = self.description
        out["properties"] = {
            name: prop.to_json_schema() for name, prop in self.properties.items()
        }
        if self.required:
            out["required"] = list(self.required)
        return out


class BrowserConfig(BaseModel):
    """How the browser agent opens the site: profile, URL, time budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile_name: str
    starting_url: str
    timeout: int = 300
    requires_login: bool = False
    clone_for_parallel: bool = False
    required_tags: list[str] = Field(default_factory=list)
    allow_temp_profile: bool | None = None

    @property
    def temp_profile_allowed(self) -> bool:
        """A site behind a login needs the real profile; others may fall back."""
        if self.allow_temp_profile is not None:
            return self.allow_temp_profile
        return not self.requires_login


class Metadata(BaseModel):
    """Descriptive metadata; free-form keys beyond these are kept as authored."""

    model_config = ConfigDict(extra="allow", frozen=True)

    author: str | None = None
    created_at: str | None = None
    tags: list[str] = Field(default_factory=list)
    use_cases: list[str] = Field(default_factory=list)


class WorkflowStep(BaseModel):
    """One authored browser step, in the script executor's own step format."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["act", "act_with_schema", "screenshot", "validate_profile"]
    description: str
    prompt: str | None = None


class BatchSection(BaseModel):
    """CSV column names for input fields, where they differ from the field name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    csv_columns: dict[str, str] = Field(default_factory=dict)


class AgentSection(BaseModel):
    """Overrides for the generated agent record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    description: str | None = None
    llm_provider: str | None = None
    model_id: str | None = None


class CanonicalSchema(BaseModel):
    """One extraction task, the single source of truth for every artifact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extraction_name: str
    version: str
    description: str
    input_schema: ObjectSchema
    output_schema: ObjectSchema
    browser_config: BrowserConfig
    metadata: Metadata = Field(default_factory=Metadata)
    workflow: list[WorkflowStep] | None = None
    batch: BatchSection = Field(default_factory=BatchSection)
    agent: AgentSection = Field(default_factory=AgentSection)
