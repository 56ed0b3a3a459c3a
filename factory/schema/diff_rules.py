"""The diff's rule table, and one check per rule, in the style of buf's breaking-change checks.

Each `Rule` has an id, a kind (breaking / additive / cosmetic), a purpose, and
a check `(pair, rule) -> Iterator[Change]` over the two documents. A change is
worded in the past tense ("Previously present output field 'alk' was
deleted."). A field that is new (or gone) is reported once, at its top-most
new (or gone) path. Rules run in table order.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from factory.schema.diff_model import ADDITIVE, BREAKING, COSMETIC, SIDES, Change, Check, FieldInfo, Rule, SchemaPair

# Keywords that only describe a field; changing them changes no contract.
DESCRIPTIVE_KEYWORDS = frozenset({"description", "title", "examples"})
# Keywords the dedicated rules below cover; the catch-all skips them.
STRUCTURAL_KEYWORDS = frozenset({"type", "enum", "pattern", "properties", "items", "required"})
LOWER_BOUNDS = ("minimum", "minLength", "minItems")
UPPER_BOUNDS = ("maximum", "maxLength", "maxItems")
BOUND_KEYWORDS = frozenset(LOWER_BOUNDS + UPPER_BOUNDS)


# --- reading the pair ------------------------------------------------------------


def _label(info: FieldInfo) -> str:
    return info.path.split(".", 1)[1]


def _is_items(info: FieldInfo) -> bool:
    return info.path.endswith("[]")


def _added(pair: SchemaPair, side: str, items: bool = False) -> Iterator[FieldInfo]:
    """Fields (or, with `items`, array items schemas) new in `new`, where their parent already existed."""
    for path, info in pair.new_fields.items():
        parent_existed = info.parent is None or info.parent in pair.old_fields
        if info.side == side and path not in pair.old_fields and parent_existed and _is_items(info) == items:
            yield info


def _removed(pair: SchemaPair, side: str, items: bool = False) -> Iterator[FieldInfo]:
    for path, info in pair.old_fields.items():
        parent_remains = info.parent is None or info.parent in pair.new_fields
        if info.side == side and path not in pair.new_fields and parent_remains and _is_items(info) == items:
            yield info


def _array_label(info: FieldInfo) -> str:
    return _label(info)[: -len("[]")]


def _common(pair: SchemaPair, *sides: str) -> Iterator[tuple[FieldInfo, FieldInfo]]:
    """Fields present in both versions, on any of `sides`: all input fields first, then output."""
    for path, old in pair.old_fields.items():
        new = pair.new_fields.get(path)
        if old.side in sides and new is not None:
            yield old, new


def _change(rule: Rule, path: str, message: str) -> Change:
    return Change(rule.id, rule.kind, path, message)


# --- one check per rule ------------------------------------------------------------


def _input_field_added(required: bool) -> Check:
    wording = "Input field '{}' was added as required." if required else "Optional input field '{}' was added."

    def check(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
        for info in _added(pair, "input"):
            if info.required == required:
                yield _change(rule, info.path, wording.format(_label(info)))

    return check


def _field_removed(side: str) -> Check:
    def check(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
        for info in _removed(pair, side):
            yield _change(rule, info.path, f"Previously present {side} field '{_label(info)}' was deleted.")
        if side == "output":  # consumers relied on the shape of the items
            for info in _removed(pair, side, items=True):
                yield _change(rule, info.path, f"The items schema of output field '{_array_label(info)}' was deleted.")

    return check


def _output_field_added(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    for info in _added(pair, "output"):
        yield _change(rule, info.path, f"Output field '{_label(info)}' was added.")


def _required_changed(side: str, became: bool) -> Check:
    def check(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
        for old, new in _common(pair, side):
            if not old.required and new.required and became:
                yield _change(rule, new.path, f"Previously optional {side} field '{_label(new)}' was made required.")
            elif old.required and not new.required and not became:
                yield _change(rule, new.path, f"Previously required {side} field '{_label(new)}' was made optional.")

    return check


def _type_changed(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    for old, new in _common(pair, *SIDES):
        yield from _keyword_changes(rule, old, new, ("type",))


def _enum_values(schema: dict[str, Any]) -> list[Any] | None:
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _enum_narrowed(side: str) -> Check:
    def check(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
        for old, new in _common(pair, side):
            before, after = _enum_values(old.schema), _enum_values(new.schema)
            if after is None:
                continue
            if before is None:
                if side == "input":
                    yield _change(rule, new.path, f"An enum restriction was added to input field '{_label(new)}'.")
                continue
            gone = [value for value in before if value not in after]
            if gone:
                yield _change(
                    rule, new.path,
                    f"Enum value(s) {', '.join(map(repr, gone))} of {side} field '{_label(new)}' were removed.",
                )

    return check


def _enum_widened(side: str) -> Check:
    def check(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
        for old, new in _common(pair, side):
            before, after = _enum_values(old.schema), _enum_values(new.schema)
            if before is None:
                continue
            if after is None:
                yield _change(rule, new.path, f"The enum restriction of {side} field '{_label(new)}' was removed.")
                continue
            added = [value for value in after if value not in before]
            if added:
                yield _change(
                    rule, new.path,
                    f"Enum value(s) {', '.join(map(repr, added))} were added to {side} field '{_label(new)}'.",
                )

    return check


def _items_added(pair: SchemaPair, rule: Rule, side: str) -> Iterator[Change]:
    for info in _added(pair, side, items=True):
        yield _change(rule, info.path, f"An items schema was added to {side} field '{_array_label(info)}'.")


def _input_items_restricted(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    yield from _items_added(pair, rule, "input")


def _input_pattern_restricted(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    for old, new in _common(pair, "input"):
        before, after = old.schema.get("pattern"), new.schema.get("pattern")
        if after is not None and before != after:
            verb = "added to" if before is None else "changed on"
            yield _change(rule, new.path, f"A pattern was {verb} input field '{_label(new)}'.")


def _tightened(keyword: str, before: Any, after: Any) -> bool:
    if after is None:
        return False
    if before is None:
        return True
    return after > before if keyword in LOWER_BOUNDS else after < before


def _bound_changes(old: FieldInfo, new: FieldInfo) -> Iterator[tuple[str, Any, Any, bool]]:
    """Each bound keyword whose value changed: keyword, before, after, and whether it tightened."""
    for keyword in LOWER_BOUNDS + UPPER_BOUNDS:
        before, after = old.schema.get(keyword), new.schema.get(keyword)
        if before != after:
            yield keyword, before, after, _tightened(keyword, before, after)


def _input_bounds_tightened(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    for old, new in _common(pair, "input"):
        for keyword, before, after, tightened in _bound_changes(old, new):
            if tightened:
                yield _change(
                    rule, new.path,
                    f"The {keyword} of input field '{_label(new)}' was tightened from {before!r} to {after!r}.",
                )


def _input_restriction_loosened(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    for info in _removed(pair, "input", items=True):
        yield _change(rule, info.path, f"The items schema of input field '{_array_label(info)}' was removed.")
    for old, new in _common(pair, "input"):
        if old.schema.get("pattern") is not None and new.schema.get("pattern") is None:
            yield _change(rule, new.path, f"The pattern of input field '{_label(new)}' was removed.")
        for keyword, before, after, tightened in _bound_changes(old, new):
            if not tightened:
                yield _change(
                    rule, new.path,
                    f"The {keyword} of input field '{_label(new)}' was loosened from {before!r} to {after!r}.",
                )


def _keyword_changes(rule: Rule, old: FieldInfo, new: FieldInfo, keywords: Iterable[str]) -> Iterator[Change]:
    """One change for each of `keywords` whose value differs, saying from what to what."""
    for keyword in keywords:
        before, after = old.schema.get(keyword), new.schema.get(keyword)
        if before != after:
            yield _change(
                rule, new.path,
                f"The {keyword} of {new.side} field '{_label(new)}' was changed from {before!r} to {after!r}.",
            )


def _output_constraint_changed(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    yield from _items_added(pair, rule, "output")
    for old, new in _common(pair, "output"):
        if _enum_values(old.schema) is None and _enum_values(new.schema) is not None:
            yield _change(rule, new.path, f"An enum restriction was added to output field '{_label(new)}'.")
        yield from _keyword_changes(rule, old, new, ("pattern",) + LOWER_BOUNDS + UPPER_BOUNDS)


def _other_keyword_changed(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    """Anything else about a field's contract (format, default, ...): never silently ignored."""
    skip = DESCRIPTIVE_KEYWORDS | STRUCTURAL_KEYWORDS | BOUND_KEYWORDS
    for old, new in _common(pair, *SIDES):
        yield from _keyword_changes(rule, old, new, sorted((set(old.schema) | set(new.schema)) - skip))


def _field_described(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    for old, new in _common(pair, *SIDES):
        for keyword in sorted(DESCRIPTIVE_KEYWORDS):
            if old.schema.get(keyword) != new.schema.get(keyword):
                yield _change(rule, new.path, f"The {keyword} of {new.side} field '{_label(new)}' was changed.")


def _output_order_changed(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    before = [name for name in (pair.old.get("output_schema") or {}).get("properties", {}) if name in
              (pair.new.get("output_schema") or {}).get("properties", {})]
    after = [name for name in (pair.new.get("output_schema") or {}).get("properties", {}) if name in before]
    if before != after:
        yield _change(rule, "output", "The order of output fields (the CSV column order) was changed.")


def _extraction_name_changed(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    before, after = pair.old.get("extraction_name"), pair.new.get("extraction_name")
    if before != after:
        yield _change(rule, "extraction_name", f"The extraction_name was changed from {before!r} to {after!r}.")


def _batch_column_changed(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    def columns(doc: dict[str, Any]) -> dict[str, str]:
        fields = (doc.get("input_schema") or {}).get("properties") or {}
        authored = ((doc.get("batch") or {}).get("csv_columns")) or {}
        return {name: authored.get(name, name) for name in fields}

    before, after = columns(pair.old), columns(pair.new)
    for name, column in before.items():
        if name in after and after[name] != column:
            yield _change(
                rule, f"batch.csv_columns.{name}",
                f"The CSV column of input field '{name}' was changed from {column!r} to {after[name]!r}.",
            )


def _section_changed(section: str, noun: str) -> Check:
    def check(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
        if pair.old.get(section) != pair.new.get(section):
            yield _change(rule, section, f"The {noun} was changed.")

    return check


def _top_described(pair: SchemaPair, rule: Rule) -> Iterator[Change]:
    for key in ("description", "metadata"):
        if pair.old.get(key) != pair.new.get(key):
            yield _change(rule, key, f"The schema's {key} was changed.")
    for side in SIDES:
        before = (pair.old.get(f"{side}_schema") or {}).get("description")
        after = (pair.new.get(f"{side}_schema") or {}).get("description")
        if before != after:
            yield _change(rule, side, f"The description of the {side} schema was changed.")


RULES: tuple[Rule, ...] = (
    # breaking
    Rule("EXTRACTION_NAME_NO_CHANGE", BREAKING, "Agents, templates and tools are keyed by the extraction name.",
         _extraction_name_changed),
    Rule("INPUT_FIELD_NO_ADD_REQUIRED", BREAKING, "Existing callers and CSVs do not supply a new required input.",
         _input_field_added(required=True)),
    Rule("INPUT_FIELD_NO_MAKE_REQUIRED", BREAKING, "Callers that left an optional input out would now fail.",
         _required_changed("input", True)),
    Rule("INPUT_FIELD_NO_DELETE", BREAKING, "Callers still send the field; templates and CSV mappings use it.",
         _field_removed("input")),
    Rule("OUTPUT_FIELD_NO_DELETE", BREAKING, "Consumers and CSV columns rely on every output field.",
         _field_removed("output")),
    Rule("OUTPUT_FIELD_NO_MAKE_OPTIONAL", BREAKING, "Consumers rely on a required output always being there.",
         _required_changed("output", False)),
    Rule("OUTPUT_FIELD_NO_MAKE_REQUIRED", BREAKING, "Results that passed validation before would now be rejected.",
         _required_changed("output", True)),
    Rule("FIELD_SAME_TYPE", BREAKING, "A value of the old type no longer validates.",
         _type_changed),
    Rule("OUTPUT_ENUM_VALUE_NO_DELETE", BREAKING, "Stored results and consumers still use the removed value.",
         _enum_narrowed("output")),
    Rule("INPUT_ENUM_NO_NARROW", BREAKING, "Inputs that validated before would be rejected.",
         _enum_narrowed("input")),
    Rule("INPUT_PATTERN_NO_RESTRICT", BREAKING, "Inputs that validated before may be rejected.",
         _input_pattern_restricted),
    Rule("INPUT_ITEMS_NO_RESTRICT", BREAKING, "Arrays that validated before may be rejected.",
         _input_items_restricted),
    Rule("INPUT_BOUNDS_NO_TIGHTEN", BREAKING, "Inputs that validated before may be rejected.",
         _input_bounds_tightened),
    Rule("BATCH_COLUMN_NO_CHANGE", BREAKING, "Existing CSV files name the old column.",
         _batch_column_changed),
    # additive
    Rule("INPUT_FIELD_ADDED_OPTIONAL", ADDITIVE, "Old callers keep working; new ones may send more.",
         _input_field_added(required=False)),
    Rule("INPUT_FIELD_MADE_OPTIONAL", ADDITIVE, "Every old input still validates.",
         _required_changed("input", False)),
    Rule("OUTPUT_FIELD_ADDED", ADDITIVE, "Consumers see a new field (and CSV column) they may ignore.",
         _output_field_added),
    Rule("INPUT_ENUM_WIDENED", ADDITIVE, "Every old input still validates.",
         _enum_widened("input")),
    Rule("OUTPUT_ENUM_VALUE_ADDED", ADDITIVE, "Consumers may meet a value they have not seen.",
         _enum_widened("output")),
    Rule("INPUT_RESTRICTION_LOOSENED", ADDITIVE, "Every old input still validates.",
         _input_restriction_loosened),
    Rule("OUTPUT_CONSTRAINT_CHANGED", ADDITIVE, "The agent's output contract changed within the same fields.",
         _output_constraint_changed),
    Rule("FIELD_KEYWORD_CHANGED", ADDITIVE, "Any other contract keyword (format, default, ...) changed.",
         _other_keyword_changed),
    Rule("OUTPUT_FIELD_ORDER_CHANGED", ADDITIVE, "Output fields become CSV columns in order.",
         _output_order_changed),
    Rule("BROWSER_CONFIG_CHANGED", ADDITIVE, "The registered template opens a different page or session.",
         _section_changed("browser_config", "browser configuration")),
    Rule("WORKFLOW_CHANGED", ADDITIVE, "The registered template runs different steps.",
         _section_changed("workflow", "authored workflow")),
    Rule("AGENT_SECTION_CHANGED", ADDITIVE, "The registered agent record changes.",
         _section_changed("agent", "agent section")),
    # cosmetic
    Rule("FIELD_DESCRIPTION_CHANGED", COSMETIC, "Descriptions, titles and examples change no contract.",
         _field_described),
    Rule("SCHEMA_DESCRIPTION_CHANGED", COSMETIC, "Descriptions, metadata and tags change no contract.",
         _top_described),
)

