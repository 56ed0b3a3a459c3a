"""One agent behaviour for both engines: the local engine calls `invoke`, the browser worker `execute`.

The answer depends only on the row's postcode and building number, which the
worker reads back from the rendered script's first prompt (the template lists
each variable as `- <name> (<description>): <value>`). Postcodes starting "ZZ"
make the browser fail; everything else answers from examples/exchanges.json.
"""

from __future__ import annotations

import re
from typing import Any

from examples.example_agent import answer
from tests.sfn.browser_worker import ExecutorResult, executor_failure, executor_success
from tests.sfn.outputs import executor_result

KEYS = ("postcode", "building_number")


class BrowserCrashed(RuntimeError):
    """The failure the behaviour produces for a ZZ postcode."""


def result_for(values: dict[str, Any]) -> dict[str, Any]:
    postcode = str(values.get("postcode", ""))
    if postcode.startswith("ZZ"):
        raise BrowserCrashed(f"browser crashed on {postcode}")
    return executor_result(answer({key: str(values.get(key, "")) for key in KEYS}))


def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    """The local engine's `--invoke tests.sfn.agent_behaviour:invoke`."""
    return result_for(payload.get("input", payload))


def values_in_script(script: dict[str, Any]) -> dict[str, str]:
    prompt = script["steps"][0]["prompt"]
    values = {}
    for key in KEYS:
        found = re.search(rf"^- {key} \(.*\): (.*)$", prompt, re.MULTILINE)
        if found:
            values[key] = found.group(1)
    return values


def execute(script: Any) -> ExecutorResult:
    """The browser worker's script executor."""
    if not isinstance(script, dict) or "starting_page" not in script:
        return executor_failure("Script must have a starting_page")
    try:
        return executor_success(result_for(values_in_script(script)))
    except BrowserCrashed as exc:
        return executor_failure(str(exc))
