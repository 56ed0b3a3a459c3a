"""The smallest local agent: it gets the row's input fields and returns the output object itself."""

from examples.example_agent import answer


def invoke(payload: dict) -> dict:
    return answer(payload["input"])  # {"success": True, "alk": ..., "exchange_code": ...}
