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
