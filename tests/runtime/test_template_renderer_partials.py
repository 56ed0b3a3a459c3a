"""A template is data: a Mustache partial must never make the renderer read a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.runtime.template_renderer import RenderError, compile_leaves


def test_a_partial_is_refused_and_no_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.mustache").write_text("TOP SECRET", "utf-8")
    monkeypatch.chdir(tmp_path)  # chevron's default partials_path is the working directory
    with pytest.raises(RenderError, match="partial"):
        compile_leaves({"prompt": "Type {{> secret}} here"})


def test_ordinary_tags_still_render() -> None:
    render = compile_leaves({"prompt": "Type {{{postcode}}}{{#flat}} flat {{{flat}}}{{/flat}}"})
    assert render({"postcode": "CB1 2AB", "flat": "4"}) == {"prompt": "Type CB1 2AB flat 4"}
