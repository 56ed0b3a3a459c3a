"""Valid inputs and outputs for each bundled schema, for driving the agent machines."""

from __future__ import annotations

from typing import Any

# One valid set of variables per bundled schema, and the field that breaks each: off its
# pattern where the schema has a pattern, otherwise a required field left out (None).
VALID_INPUT: dict[str, dict[str, Any]] = {
    "broadband_availability_bt_wholesale": {
        "building_number": "12",
        "street": 'Mill "Road"',
        "postcode": "CB1 2AB",
    },
    "company_profile_companies_house": {"company_number": "01234567"},
    "energy_tariff_quotes": {"postcode": "SW1A 1AA", "annual_kwh": 3100, "fuel_type": "dual"},
    "planning_applications_council": {"address": "1 High Street, Cambridge", "radius_m": 250},
}
BAD_INPUT: dict[str, tuple[str, Any]] = {
    "broadband_availability_bt_wholesale": ("postcode", "not a postcode"),
    "company_profile_companies_house": ("company_number", "123"),
    "energy_tariff_quotes": ("postcode", "sw1a1aa"),
    "planning_applications_council": ("address", None),
}


def valid_output(schema: dict[str, Any]) -> dict[str, Any]:
    """The smallest object the output schema accepts: its required properties, each a valid value."""
    return {name: _value(schema["properties"][name]) for name in schema.get("required", [])}


def _value(prop: dict[str, Any]) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "boolean":
        return True
    if kind == "integer":
        return max(int(prop.get("minimum", 0)), 0)
    if kind == "number":
        return float(prop.get("minimum", 1.5))
    if kind == "array":
        return [_value(prop.get("items", {"type": "string"})) for _ in range(int(prop.get("minItems", 0)))]
    if kind == "object":
        return valid_output(prop) if "properties" in prop else {}
    if prop.get("format") == "date":
        return "2025-10-17"
    return "value"


def executor_result(extracted: dict[str, Any]) -> dict[str, Any]:
    """The script executor's result for a script whose act_with_schema step extracted `extracted`."""
    return {
        "success": True,
        "step_results": [
            {"action": "act", "success": True},
            {
                "action": "act_with_schema",
                "success": True,
                "parsed_response": extracted,
                "matches_schema": True,
            },
        ],
    }
