"""Rule ids are constants (factory/rules.py): distinct, stable-looking, and each one raised somewhere.

Tests name the rule they expect through these constants
(tests/schema/test_validation_rules.py); this keeps the list itself honest:
no two rules share an id, and no id is left behind when its check goes.
"""

from __future__ import annotations

import re
from pathlib import Path

from factory import rules

PACKAGE = Path(rules.__file__).parent
IDS = {name: value for name, value in vars(rules).items() if name.isupper() and isinstance(value, str)}


def test_rule_ids_are_distinct_kebab_case_names_of_their_constant() -> None:
    assert len(IDS) >= 40
    assert len(set(IDS.values())) == len(IDS)
    for name, value in IDS.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", value), value
        assert value.upper().replace("-", "_") == name, name


def test_every_rule_id_is_raised_by_some_module() -> None:
    sources = "\n".join(path.read_text("utf-8") for path in PACKAGE.rglob("*.py") if path.name != "rules.py")
    unused = sorted(name for name in IDS if f"rules.{name}" not in sources)
    assert unused == []
