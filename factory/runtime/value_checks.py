"""A small JSON Schema subset check for Lambda code, stdlib only (docs/runtime.md)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Sequence

from factory.runtime.bounded_regex import MAX_SUBJECT_CHARS, compile_bounded

JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
# The classes of each JSON type's values, in the order a value's type is named (bool is no number).
_CLASSES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def type_matches(value: Any, json_type: str | list[str] | None) -> bool:
    """True when `value` is an instance of the JSON Schema type (bool is not a number, 2.0 is an integer)."""
    if isinstance(json_type, list):
        return any(type_matches(value, single) for single in json_type)
    classes = _CLASSES.get(json_type) if isinstance(json_type, str) else None
    if classes is None:
        return True
    if isinstance(value, bool):
        return json_type == "boolean"
    return isinstance(value, classes) or (
        json_type == "integer" and isinstance(value, float) and value.is_integer()
    )


def json_type_name(value: Any) -> str:
    return next(
        (name for name, classes in _CLASSES.items() if isinstance(value, classes)), type(value).__name__
    )


@lru_cache(maxsize=256)
def compiled_pattern(pattern: str) -> re.Pattern[str]:
    """A schema `pattern`, refused (re.error) when it does not compile or could run long (bounded_regex)."""
    return compile_bounded(pattern)


def _pattern_problem(name: str, value: str, pattern: Any) -> str | None:
    if len(value) > MAX_SUBJECT_CHARS:
        return f"{name}: {len(value)} characters, more than the {MAX_SUBJECT_CHARS} checked against pattern {pattern}"
    try:
        matched = compiled_pattern(pattern).search(value)
    except re.error as err:
        return f"{name}: pattern cannot be used: {err}"
    return None if matched else f"{name}: {short_repr(value)} does not match pattern {pattern}"


def property_problems(name: str, value: Any, prop: dict[str, Any]) -> list[str]:
    """Every way `value` breaks the property `prop`, as messages naming `name`."""
    expected = prop.get("type")
    if not type_matches(value, expected):
        return [f"{name}: expected {expected}, got {json_type_name(value)} {short_repr(value)}"]
    problems = []
    if "enum" in prop and value not in prop["enum"]:
        problems.append(f"{name}: {short_repr(value)} is not one of {prop['enum']}")
    if isinstance(value, str):
        pattern = prop.get("pattern")
        refused = _pattern_problem(name, value, pattern) if pattern else None
        if refused:
            problems.append(refused)
        if "minLength" in prop and len(value) < prop["minLength"]:
            problems.append(f"{name}: shorter than minLength {prop['minLength']}")
        if "maxLength" in prop and len(value) > prop["maxLength"]:
            problems.append(f"{name}: longer than maxLength {prop['maxLength']}")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in prop and value < prop["minimum"]:
            problems.append(f"{name}: {value} is below minimum {prop['minimum']}")
        if "maximum" in prop and value > prop["maximum"]:
            problems.append(f"{name}: {value} is above maximum {prop['maximum']}")
    return problems


def required_fields(schema: dict[str, Any]) -> list[str]:
    """Required names from a standard `required` list or per-property `required: true`."""
    listed = schema.get("required")
    names = list(listed) if isinstance(listed, list) else []
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("required") is True and name not in names:
            names.append(name)
    return names


def object_problems(value: Any, schema: dict[str, Any]) -> list[str]:
    """Problems of an object against an object schema: required, then each property."""
    if not isinstance(value, dict):
        return [f"$: expected object, got {json_type_name(value)}"]
    problems = [
        f"{name}: required field is missing" for name in required_fields(schema) if value.get(name) is None
    ]
    for name, prop in (schema.get("properties") or {}).items():
        if name in value and value[name] is not None and isinstance(prop, dict):
            problems.extend(property_problems(name, value[name], prop))
    return problems


def short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_NO_PROBLEMS: tuple[str, ...] = ()
_STRING_RULES = ("pattern", "minLength", "maxLength")
_NUMBER_RULES = ("minimum", "maximum")


def always_valid_classes(prop: Any) -> frozenset[type]:
    """The exact classes every value of which passes `prop` (no need to check them): the type's classes
    when no constraint could refuse one (no enum, pattern, length or bound), else none."""
    json_type = prop.get("type") if isinstance(prop, dict) else None
    if not isinstance(json_type, str) or json_type not in _CLASSES or "enum" in prop:
        return frozenset()
    rules = _STRING_RULES if json_type == "string" else _NUMBER_RULES
    return frozenset() if any(prop.get(key) is not None for key in rules) else frozenset(_CLASSES[json_type])


def compile_property_check(name: str, prop: Any) -> Callable[[Any], Sequence[str]]:
    """`property_problems(name, value, prop)` for one field, built once: a value of a class every
    instance of which passes (`always_valid_classes`) is not looked at."""
    valid = always_valid_classes(prop)
    if valid:
        return lambda value: (
            _NO_PROBLEMS if value.__class__ in valid else property_problems(name, value, prop)
        )
    return lambda value: property_problems(name, value, prop)


def text_test(name: Any, prop: dict[str, Any]) -> Callable[[str], Any]:
    """For text meeting `prop`: truthy when it passes (the check would find nothing); a text property whose
    only rule is a pattern is tested by the pattern's own `search`, which is what its check runs."""
    pattern = prop.get("pattern")
    if (
        prop.get("type") in (None, "string")
        and isinstance(pattern, str)
        and pattern
        and not any(key in prop for key in ("enum", "minLength", "maxLength", "minimum", "maximum"))
    ):
        try:
            search = compiled_pattern(pattern).search  # read only text short enough to search in bounded time
            return lambda text: len(text) <= MAX_SUBJECT_CHARS and search(text)
        except re.error:
            pass
    check = compile_property_check(name, prop)
    return lambda text: not check(text)
