"""Schema text that tries to break every boundary it crosses."""

from __future__ import annotations

from typing import Any

NASTY = (
    'quote " apostrophe \' backslash \\ triple """ and \'\'\' newline\nsecond line\r\n'
    "mustache {{x}} {{{y}}} {{#z}}section{{/z}} {{=<% %>=}} jinja {% raw %} {{ '}}' }} "
    "</script><script>alert(1)</script> & &amp; ünïcödé ✓ 日本語 \t tab ${HOME} $(rm -rf /) `id` # comment"
)
LONG = ("ten kB of text " + NASTY) * 40


def distinct(*values: str) -> list[str]:
    """Enum values must be unique; keep the first of each."""
    return list(dict.fromkeys(values))


def hostile_schema(name: str = "hostile_text", text: str = NASTY) -> dict[str, Any]:
    return {
        "extraction_name": name,
        "version": "3.1.4",
        "description": text,
        "input_schema": {
            "type": "object",
            "description": text,
            "properties": {
                "query": {"type": "string", "description": text, "required": True, "default": text},
                "choice": {"type": "string", "enum": distinct(text, "plain", '"""', "{{x}}"), "description": text},
                "long_note": {"type": "string", "description": LONG},
            },
        },
        "output_schema": {
            "type": "object",
            "properties": {
                "answer": {"type": "string", "description": text, "enum": distinct(text, "</script>", "a\\b"), "required": True},
                "score": {"type": "number", "description": LONG, "minimum": -1.5, "maximum": 1e6},
                "items": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"label": {"type": "string", "description": text}}},
                },
            },
        },
        "browser_config": {
            "profile_name": "profile " + text[:40],
            "starting_url": "https://example.com/search?q=%22x%22&a={{x}}",
            "timeout": 60,
            "required_tags": [text],
        },
        "metadata": {"author": text, "tags": [text, "t"], "use_cases": [text]},
        "agent": {"description": text},
    }
