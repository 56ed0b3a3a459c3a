"""Helpers shared by the registry tests: record variants and the moto reset."""

from __future__ import annotations

import copy
import json
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from click.testing import Result

from factory.registry.records import RecordPair
from factory.registry.service import build_pairs

REPO = Path(__file__).resolve().parents[2]
ENV = "test"
REGION = "us-east-1"


def reset_moto(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).read()


def variant(base: RecordPair, template_id: str | None = None, version: str | None = None,
            description: str | None = None, agent_name: str | None = None) -> RecordPair:
    """A copy of a generated record pair under another id, version or content."""
    template, agent = copy.deepcopy(base.template), copy.deepcopy(base.agent)
    if template_id is not None:
        template["template_id"] = template["extraction_name"] = template_id
        agent["extraction_name"] = template_id
        agent["template_config"]["template_id"] = template_id
        agent["agent_name"] = agent_name or template_id.replace("_", "-") + "-agent"
    if version is not None:
        template["version"] = agent["version"] = agent["template_config"]["template_version"] = version
    if description is not None:
        template["description"] = agent["description"] = description
    return RecordPair(base.source, template, agent)


def pairs_of(*records: RecordPair, at: str = "2026-01-01T00:00:00.000Z") -> list[RecordPair]:
    return build_pairs(list(records), at)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def run(*args: str) -> "Result":
    """One CLI invocation, in-process."""
    from click.testing import CliRunner

    from factory.cli import main

    return CliRunner().invoke(main, list(args))
