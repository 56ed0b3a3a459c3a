"""Issue #25 case 10: no name, version or identifier check accepts a trailing newline.

`re.match(r"^...$", text)` accepts `text + "\\n"` (`$` matches before a final
newline), so `"version": "1.0.0\\n"` validated and became file names. Every
check is anchored with `\\Z` (or called with `fullmatch`). The sweep below finds
every compiled pattern of factory/ (module constants, and those kept in tuples
and dicts), builds a text each one accepts from its own parse tree, and proves
that text plus a newline is refused by `match` and `search`; a static pass
refuses a literal pattern ending in `$` at any `re` call.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import pkgutil
import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

import factory
from factory.cli import main
from tests.conftest import REPO

CANDIDATES = "aZ0_-.x/: @"
CATEGORY_SAMPLES = {"DIGIT": "0", "WORD": "a", "SPACE": " "}


def _in_class(items: Any, char: str) -> bool:
    found = False
    for op, av in items:
        if op == sre.LITERAL:
            found = found or chr(av) == char
        elif op == sre.RANGE:
            found = found or av[0] <= ord(char) <= av[1]
        elif op == sre.CATEGORY:
            kind = str(av)
            base = {"DIGIT": r"\d", "WORD": r"\w", "SPACE": r"\s"}.get(kind.rsplit("_", 1)[-1], r"\n")
            found = found or (re.fullmatch(base, char) is None) == ("_NOT_" in kind)
    return not found if items and items[0][0] == sre.NEGATE else found


def sample(items: Any) -> str:
    """A text the parsed pattern accepts: each repeat at its minimum (at least once), first alternatives."""
    out = []
    for op, av in items:
        if op == sre.LITERAL:
            out.append(chr(av))
        elif op == sre.IN:
            own = [chr(a) for o, a in av if o == sre.LITERAL] + [chr(a[0]) for o, a in av if o == sre.RANGE]
            out.append(next(c for c in [*own, *CANDIDATES] if _in_class(av, c)))
        elif op == sre.ANY:
            out.append("a")
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            out.append(sample(av[2]) * max(av[0], 1 if av[1] else 0))
        elif op == sre.SUBPATTERN:
            out.append(sample(av[-1]))
        elif op == sre.BRANCH:
            out.append(sample(av[1][0]))
    return "".join(out)


def factory_patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    for info in pkgutil.walk_packages(factory.__path__, "factory."):
        if info.name.startswith("factory.infra"):  # CDK constructs: they check nothing of their own
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # factory.infra without the cdk extra
            continue
        for name, value in vars(module).items():
            values = (
                value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else [value]
            )
            for item in values:
                # a table row (a dataclass such as a target kind) holds its rules as fields
                row = dataclasses.is_dataclass(item) and not isinstance(item, type)
                inner = [getattr(item, f.name) for f in dataclasses.fields(item)] if row else [item]
                for rule in inner:
                    if isinstance(rule, re.Pattern) and isinstance(rule.pattern, str):
                        yield f"{info.name}.{name}", rule


def whole_value_check(pattern: re.Pattern[str]) -> bool:
    """Anchored at both ends, one value at a time; `\\s*` before the end allows trailing space by design."""
    text = pattern.pattern
    return (
        text.startswith(("^", "\\A"))
        and text.endswith(("$", "\\Z"))
        and not pattern.flags & re.MULTILINE
        and not text.endswith(("\\s*$", "\\s*\\Z"))
    )


ANCHORED = sorted({(where, p.pattern): p for where, p in factory_patterns() if whole_value_check(p)}.items())


def test_the_sweep_finds_the_identifier_checks() -> None:
    names = {where for (where, _), _ in ANCHORED}
    for expected in (
        "factory.names.SEMVER_RE",
        "factory.names.ENV_NAME_RE",
        "factory.schema.checks.EXTRACTION_NAME_RE",
        "factory.schema.checks.AGENT_NAME_RE",
        "factory.runtime.output_mapping.registered.VERSION",
        "factory.batch.aws_run.S3_URI",
        "factory.runtime.target_kinds.KINDS",
    ):
        assert expected in names, sorted(names)


@pytest.mark.parametrize("key,pattern", ANCHORED, ids=[where for (where, _), _ in ANCHORED])
def test_no_anchored_pattern_accepts_a_trailing_newline(
    key: tuple[str, str], pattern: re.Pattern[str]
) -> None:
    text = sample(sre_parse.parse(pattern.pattern, pattern.flags))
    assert pattern.fullmatch(text), f"the sweep's sample {text!r} does not match {pattern.pattern}"
    assert pattern.match(text + "\n") is None
    assert pattern.search(text + "\n") is None


def test_no_literal_pattern_ends_with_a_dollar_at_an_re_call() -> None:
    offenders = []
    for path in sorted((REPO / "factory").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value.endswith("$")
                and "MULTILINE" not in ast.unparse(node)
            ):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize(
    "key,value", [("version", "1.0.0\n"), ("extraction_name", "broadband_availability_bt_wholesale\n")]
)
def test_validate_refuses_a_trailing_newline(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    document = json.loads((REPO / "schemas" / "broadband_availability_bt_wholesale.json").read_text("utf-8"))
    document[key] = value
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "broadband_availability_bt_wholesale.json").write_text(
        json.dumps(document), "utf-8"
    )
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1, result.output
    assert f"$.{key}:" in result.output
