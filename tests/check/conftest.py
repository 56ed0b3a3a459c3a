"""Fixtures for the check tests: the bundled schemas generated once per session, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from check_project import Project, make_template


@pytest.fixture(scope="session")
def generated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def project(generated_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "project"
    shutil.copytree(generated_template, root)
    monkeypatch.chdir(root)
    return Project(root)
