"""The harness's emulation of what moto's interpreter cannot run, each rule pinned to AWS's documentation.

moto refuses ItemBatcher and ignores ToleratedFailurePercentage; tests/sfn/interpreter.py
applies them as AWS documents them (EMULATED_RULES holds the sentences). The executed
batch tests rely on these rules; these tests hold the rules themselves.
"""

from __future__ import annotations

from tests.sfn.interpreter import EMULATED_RULES, _render, exceeds_tolerance, select_and_batch

# The batch processor's own ItemSelector and ItemBatcher (factory/infra/batch_processor.py, ProcessRows).
SELECTOR = {
    "row": "{% $states.context.Map.Item.Value %}",
    "row_number": "{% $states.context.Map.Item.Index + 1 %}",
}
BATCHER = {"MaxItemsPerBatch": 25, "BatchInput": {"batch_id": "{% $batch_id %}"}}


def evaluate(template, map_item):
    context = {"Map": {"Item": map_item}} if map_item else {}
    return _render(template, {"batch_id": "b#1", "states": {"context": context}})


def batches(count):
    return select_and_batch([{"n": str(i)} for i in range(count)], SELECTOR, BATCHER, evaluate)


def test_item_selector_applies_to_each_item_before_batching():
    """Map state input and output fields: "Step Functions applies each option in your Distributed Map state
    in the order shown", and that list puts ItemSelector (3) before ItemBatcher (4). So each item is
    selected with its own index: row numbers run on across the batches instead of restarting at 1 in
    each child."""
    rule = EMULATED_RULES["item_selector_before_batching"]
    assert "in the order shown" in rule and rule.index("ItemSelector") < rule.index("ItemBatcher")
    numbers = [item["row_number"] for batch in batches(60) for item in batch["Items"]]
    assert numbers == list(range(1, 61))
    assert [item["row"] for item in batches(60)[1]["Items"]][:2] == [{"n": "25"}, {"n": "26"}]


def test_items_are_batched_in_order_under_an_items_array():
    """ItemBatcher (Map): "If you use batching, Step Functions adds the items to an Items array. It then
    passes the array as input to each child workflow execution." At most MaxItemsPerBatch each."""
    assert "Items array" in EMULATED_RULES["items_array"]
    assert [len(batch["Items"]) for batch in batches(60)] == [25, 25, 10]
    assert batches(0) == []


def test_batch_input_is_added_to_every_batch():
    """ItemBatcher (Map), BatchInput: "Specifies a fixed JSON input to include in each batch passed to each
    child workflow execution." It is evaluated once, in the Map state's scope (here $batch_id)."""
    assert "each batch" in EMULATED_RULES["batch_input"]
    assert [batch["BatchInput"] for batch in batches(30)] == [{"batch_id": "b#1"}] * 2
    assert "BatchInput" not in select_and_batch([1, 2], None, {"MaxItemsPerBatch": 1}, evaluate)[0]


def test_the_tolerated_failure_percentage_counts_items():
    """toleratedFailurePercentage: "The maximum percentage of failed items before the Map Run fails."
    Items, not child executions: one failed child of 25 rows is 25 failed items, and the Map Run fails
    only once the failed share is above the percentage."""
    assert "failed items" in EMULATED_RULES["tolerance_counts_items"]
    assert not exceeds_tolerance(3, 60, 5)  # 5.0 %: at the maximum, not above it
    assert exceeds_tolerance(4, 60, 5)
    assert exceeds_tolerance(25, 60, 5)  # one failed child of 25 items
    assert not exceeds_tolerance(0, 0, 0)
