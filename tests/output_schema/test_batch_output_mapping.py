"""The engines' one call: a batch config's target and output mapping, or Problems naming file and place."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from factory.errors import FactoryError
from factory.output_mapping import batch_output_mapping
from factory.runtime.mapping_choice import Target
from tests.runtime.transcripts import DESIGN_CONFIG_YAML, DESIGN_REGISTRY_YAML


@pytest.fixture()
def schemas(tmp_path: Path) -> Path:
    (tmp_path / "broadband-agent-rust.yaml").write_text(DESIGN_REGISTRY_YAML, "utf-8")
    return tmp_path


def test_config_then_registry_then_structured(schemas: Path):
    config = yaml.safe_load(DESIGN_CONFIG_YAML)
    config["target"] = {"type": "agent", "name": "broadband-agent-rust"}
    target, choice = batch_output_mapping(config, "batch.yaml", schemas)
    assert target == Target("agent", "broadband-agent-rust") and choice.source == "config"
    del config["output_mappings"]
    _, choice = batch_output_mapping(config, "batch.yaml", schemas)
    assert choice.source == "registry" and choice.mappings.names == ["exchange", "download_speed"]
    _, choice = batch_output_mapping({}, "batch.yaml", schemas, Target("agent", "our-agent"))
    assert (choice.source, choice.mappings) == ("structured_output", None)
    assert batch_output_mapping({}, "batch.yaml", None) == (None, choice)


def test_problems_name_the_file_and_place(schemas: Path):
    with pytest.raises(FactoryError) as caught:
        batch_output_mapping({"target": {"type": "lambda", "name": "x"}}, "batch.yaml", schemas)
    assert str(caught.value).startswith("batch.yaml: $.target.type: type 'lambda' is not known")
    config = {"target": {"type": "tool", "name": "t"},
              "output_mappings": {"t": {"type": "tool", "extraction_methods": [{"method": "direct"}]}}}
    with pytest.raises(FactoryError) as caught:
        batch_output_mapping(config, "batch.yaml", schemas)
    assert str(caught.value) == (
        "batch.yaml: $.output_mappings.t.extraction_methods[0]: direct needs 'field_mappings' "
        "{field: expression} or 'paths' (see docs/generic-mapping.md)"
    )
    (schemas / "broken.yaml").write_text("agent: broken\n", "utf-8")
    with pytest.raises(FactoryError) as caught:
        batch_output_mapping({"target": {"type": "agent", "name": "broken"}}, "batch.yaml", schemas)
    assert str(caught.value).splitlines()[0].startswith(f"{schemas.as_posix()}/broken.yaml: $.version:")
