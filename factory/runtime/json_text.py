"""`json.dumps` for the per-row hot paths, with the encoder built once (docs/runtime.md)."""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, Callable, Iterable


def chunk_encoder(separators: tuple[str, str] | None = None) -> Callable[[Any, int], Iterable[str]]:
    """`encode(value, 0)`: the chunks of `json.dumps(value, ensure_ascii=False, ...)` for a dict or list."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=separators)
    if c_make_encoder is None:  # an interpreter without the C accelerator
        return lambda value, level: encoder.iterencode(value)
    default, key_separator, item_separator = encoder.default, encoder.key_separator, encoder.item_separator
    return c_make_encoder(
        None, default, encode_basestring, None, key_separator, item_separator, False, False, True
    )
