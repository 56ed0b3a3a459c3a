"""Plans are shared only between configs with the same content, order and types."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from factory.runtime.plan_cache import PlanCache


def counting_cache(size: int = 32):
    built = []

    def compile(*config):
        built.append(config)
        return object()

    return PlanCache(compile, size), built


def test_equal_content_shares_one_plan():
    cache, built = counting_cache()
    first = cache.get({"a": [1, "x"]}, None)
    assert cache.get({"a": [1, "x"]}, None) is first  # a fresh, equal object: one Lambda event after another
    assert len(built) == 1


def test_order_and_types_make_different_plans():
    cache, built = counting_cache()
    plans = {
        id(cache.get(config))
        for config in ({"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": True, "b": 2}, {"a": 1.0, "b": 2})
    }
    assert len(plans) == 4 and len(built) == 4


def test_config_that_is_not_plain_data_is_compiled_every_time():
    cache, built = counting_cache()
    for config in (OrderedDict(a=1), {"a": Decimal("1")}):
        assert cache.get(config) is not cache.get(config)
    assert len(built) == 4 and len(cache) == 0


def test_least_recently_used_plan_goes_first():
    cache, built = counting_cache(size=2)
    a = cache.get("a")
    cache.get("b")
    assert cache.get("a") is a
    cache.get("c")  # evicts "b", the least recently used
    assert cache.get("a") is a
    cache.get("b")
    assert len(built) == 4


def count_compiles(monkeypatch, module):
    """Clear `module`'s plan cache and count the plans it builds from now on."""
    calls = []
    cache = module._PLANS
    real = cache._compile
    monkeypatch.setattr(cache, "_compile", lambda *config: calls.append(1) or real(*config))
    cache.clear()
    return calls


def test_each_runtime_function_compiles_a_config_once(monkeypatch, energy_mapping, energy_record):
    """Every row of a run (or every event to one Lambda container) brings an equal, fresh config."""
    import copy
    import json
    from pathlib import Path

    from factory.runtime import input_mapper, template_renderer
    from factory.runtime.output_mapping import structured as output_mapper

    schemas = energy_record["structured_output"]["schemas"]
    template = json.loads(
        (
            Path(__file__).resolve().parents[2] / "generated/templates/energy_tariff_quotes_v2.0.1.json"
        ).read_text()
    )
    compiles = [
        count_compiles(monkeypatch, module) for module in (input_mapper, output_mapper, template_renderer)
    ]
    for number in range(1, 6):
        mapping = copy.deepcopy(energy_mapping)
        agent_input = input_mapper.transform_input(
            {"Postcode": "SW1A 1AA", "Annual kWh": "2900"}, mapping, copy.deepcopy(schemas["input"]), number
        )
        output_mapper.extract_structured_output(
            {"structured_output": {}}, mapping, copy.deepcopy(schemas["output"])
        )
        template_renderer.render_script(copy.deepcopy(template), agent_input["data"])
    assert [len(calls) for calls in compiles] == [1, 1, 1]
