"""Targets this factory did not generate, run in-process by the harness as Lambda handlers.

`llm_model` is the one step of a tiny LLM-style agent (a state machine taking
`{"messages": [...]}`): it answers with the transcript an Anthropic-style agent
returns, a `tool_use` of `browser_broadband` and its `tool_result`, then a text
turn. `classify` is a plain Lambda tool taking the row's mapped fields.
"""

from __future__ import annotations

import json
from typing import Any

EXCHANGES = {"CB1": "CAMBRIDGE", "SW1A": "WESTMINSTER", "EH1": "EDINBURGH"}


class ModelOverloaded(RuntimeError):
    """The model's failure for a ZZ postcode: the agent execution fails, the row is FAILED."""


def llm_model(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    question = event["messages"][-1]["content"]
    values = json.loads(question)  # our input mapper's prompt is the mapped fields as JSON text
    postcode = values["postcode"]
    if postcode.startswith("ZZ"):
        raise ModelOverloaded(f"model overloaded on {postcode}")
    exchange = EXCHANGES.get(postcode.split()[0], "UNKNOWN")
    return {
        "messages": [
            *event["messages"],
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking the line."},
                    {"type": "tool_use", "id": "tu_1", "name": "browser_broadband", "input": values},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "tu_1",
                        "content": f"Exchange: {exchange}\nCabinet: {values['building_number']}",
                    }
                ],
            },
            {"role": "assistant", "content": [{"type": "text", "text": "Exchange " + exchange}]},
        ]
    }


def classify(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    text = str(event["text"])
    if "crash" in text:
        raise ValueError(f"cannot classify {text!r}")
    category = "billing" if "invoice" in text else "other"
    return {"category": category, "confidence_score": 0.5 if category == "other" else 0.9}


NOTES_BYTES = 100_000


def notes_for(postcode: str, building: str) -> str:
    """NOTES_BYTES of one-line text that depends on the row: what a talkative agent extracts."""
    seed = f"{postcode}/{building} "
    return (seed * (NOTES_BYTES // len(seed) + 1))[: NOTES_BYTES - 1] + "."


def verbose_model(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """`llm_model`, whose tool_result also carries 100 KB of notes on one line (a row's large output)."""
    answer = llm_model(event, context)
    values = json.loads(event["messages"][-1]["content"])
    result = answer["messages"][-2]["content"][0]
    result["content"] += "\nNotes: " + notes_for(values["postcode"], values["building_number"])
    return answer
