"""Mustache text that is safe by construction.

Browser scripts are Mustache templates rendered with chevron. Two things must
hold: a value reaches the browser verbatim (chevron HTML-escapes `{{x}}`, so
placeholders are always written triple, `{{{x}}}`), and schema text that
happens to contain `{{` never becomes a tag (`literal`).
"""

from __future__ import annotations

from dataclasses import dataclass

from chevron.tokenizer import ChevronError, tokenize

# `{{` switched to another delimiter for exactly those two characters, then
# switched back. Wrapping only the braces keeps both set-delimiter tags next
# to non-blank text, so Mustache's standalone-line rule never strips a newline.
_OPEN_BRACES = "{{=<% %>=}}{{<%={{ }}=%>"


def literal(text: str) -> str:
    """Mustache source that renders to exactly `text`, whatever it contains."""
    return text.replace("{{", _OPEN_BRACES)


def placeholder(name: str) -> str:
    """A placeholder that inserts the value verbatim (no HTML escaping)."""
    return "{{{" + name + "}}}"


def optional_section(name: str, body: str) -> str:
    """`body` only when `name` has a non-empty value; nothing at all otherwise."""
    return "{{#" + name + "}}" + body + "{{/" + name + "}}"


@dataclass(frozen=True)
class Tag:
    kind: str
    name: str


class MustacheSyntaxError(ValueError):
    """An authored template chevron cannot parse."""


def tags(template: str) -> list[Tag]:
    """Every tag of an authored template (variables and sections), in order."""
    try:
        tokens = list(tokenize(template))
    except ChevronError as err:
        raise MustacheSyntaxError(" ".join(str(err).split())) from None
    return [Tag(kind, name) for kind, name in tokens if kind != "literal"]


def normalize_authored(template: str) -> str:
    """Rewrite an authored prompt so every placeholder inserts verbatim.

    Authors write `{{postcode}}` as most Mustache tutorials do; chevron would
    HTML-escape the value (`O&#x27;Brien`). The token stream is re-serialised
    with triple braces; sections, inverted sections and literal text keep
    their meaning, and comments and delimiter changes are resolved away.
    """
    try:
        tokens = list(tokenize(template))
    except ChevronError as err:
        raise MustacheSyntaxError(" ".join(str(err).split())) from None
    out: list[str] = []
    for kind, name in tokens:
        if kind == "literal":
            out.append(literal(name))
        elif kind in ("variable", "no escape"):
            out.append(placeholder(name))
        elif kind == "section":
            out.append("{{#" + name + "}}")
        elif kind == "inverted section":
            out.append("{{^" + name + "}}")
        elif kind == "end":
            out.append("{{/" + name + "}}")
        elif kind == "partial":
            raise MustacheSyntaxError(f"partials ({{{{>{name}}}}}) are not supported")
    return "".join(out)
