"""What the browser agent's script executor checks before and while it runs a script.

Stated in docs/DESIGN.md (measured on the real executor): a script it would skip
step by step while reporting success must fail here instead.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator

KNOWN_ACTIONS = {
    "act": {"prompt"},
    "act_with_schema": {"prompt", "schema"},
    "screenshot": set(),
    "validate_profile": set(),
}
SESSION_KEYS = {"profile_name", "required_tags", "allow_temp_profile", "clone_for_parallel", "requires_human_login"}
TOP_LEVEL_KEYS = {"name", "description", "starting_page", "abort_on_error", "session", "steps"}
LEFTOVER_TAG = re.compile(r"\{\{[#^/&{]?\s*[A-Za-z_][\w.]*\s*\}?\}\}")


def contract_violations(script: dict[str, Any], *, rendered: bool) -> list[str]:
    """Everything wrong with a script, as the executor would see it (empty when fine)."""
    problems = []
    unknown = set(script) - TOP_LEVEL_KEYS
    if unknown:
        problems.append(f"unknown top-level keys {sorted(unknown)}")
    page = script.get("starting_page")
    if not isinstance(page, str) or not page.startswith(("http://", "https://")):
        problems.append("starting_page missing or not an http(s) URL")
    if script.get("abort_on_error") is not True:
        problems.append("abort_on_error is not true: failed steps would be reported as success")
    session = script.get("session")
    if not isinstance(session, dict) or not isinstance(session.get("profile_name"), str):
        problems.append("session.profile_name missing")
    elif set(session) - SESSION_KEYS:
        problems.append(f"unknown session keys {sorted(set(session) - SESSION_KEYS)}")
    steps = script.get("steps")
    if not isinstance(steps, list) or not steps:
        return problems + ["steps missing or empty"]
    for index, step in enumerate(steps):
        action = step.get("action")
        if action not in KNOWN_ACTIONS:
            problems.append(f"step {index}: unknown action {action!r} (the executor skips it)")
            continue
        allowed = {"action", "description"} | KNOWN_ACTIONS[action]
        if set(step) - allowed:
            problems.append(f"step {index}: keys {sorted(set(step) - allowed)} are not read by the executor")
        if not isinstance(step.get("description"), str):
            problems.append(f"step {index}: description missing")
        for field in KNOWN_ACTIONS[action]:
            if field not in step:
                problems.append(f"step {index}: {action} needs {field}")
        if action == "act_with_schema" and isinstance(step.get("schema"), dict):
            try:
                Draft202012Validator.check_schema(step["schema"])
            except Exception as err:  # noqa: BLE001 - reported as a finding
                problems.append(f"step {index}: schema is not valid JSON Schema: {err}")
        if rendered:
            for key in ("prompt", "description"):
                text = step.get(key)
                if isinstance(text, str) and LEFTOVER_TAG.search(text):
                    problems.append(f"step {index}: {key} still holds a Mustache tag: {text!r}")
    return problems
