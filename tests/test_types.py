"""mypy over factory/ finds nothing: the configuration in pyproject.toml ([tool.mypy]) is the contract.

It is strict enough to catch `None` where a value is required (no implicit
Optional, strict optional, checked bodies of untyped functions) and a
`type: ignore` that no longer ignores anything. Slow (a type check of the
whole package), so the fast command leaves it out and the full one runs it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_mypy_finds_no_error_in_factory() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-color-output", "--no-error-summary"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout
