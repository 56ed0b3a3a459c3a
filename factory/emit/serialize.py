"""The one way generated JSON and YAML are written: stable, LF, one trailing newline."""

from __future__ import annotations

import json
from typing import Any

import yaml


def json_bytes(data: Any) -> bytes:
    """Pretty JSON, non-ASCII kept as is, key order as built (authored order)."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class _Dumper(yaml.SafeDumper):
    """Safe YAML that indents lists under their key, as people write it."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value used twice is written twice: the one loader refuses aliases (strict_yaml)


def yaml_bytes(data: Any) -> bytes:
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=float("inf"),
    )
    return text.encode("utf-8")
