"""A deterministic stand-in for the BT Wholesale browser agent, for local batch runs.

It answers from `exchanges.json` (by postcode area) in the shape the real
browser agent returns: the script executor's result, whose last
`act_with_schema` step holds the extracted object. Behaviour is set by
environment variables, so the same agent serves the README demo, the tests
and the benchmark:

- `EXAMPLE_AGENT_LATENCY_MS`   (default 0): time each call takes.
- `EXAMPLE_AGENT_FAILURE_RATE` (default 0): share of rows whose first attempt
  fails with a transient error; decided by a hash of the row, so runs are
  repeatable, and a retry of the same row succeeds.
- `EXAMPLE_AGENT_CALL_LOG`     (optional): file that gets one JSON line per
  call, so tests can count calls per row.

Use it as `--invoke examples.example_agent:invoke` or run it as a JSON-lines
subprocess agent: `python examples/example_agent.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

FIXTURE = json.loads((Path(__file__).with_name("exchanges.json")).read_text("utf-8"))
_attempts: dict[str, int] = {}
_lock = threading.Lock()


class TransientAgentError(RuntimeError):
    """What a flaky browser session looks like: retrying helps."""


def _row_key(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _fails_first_attempt(key: str, rate: float) -> bool:
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < rate


def _log_call(data: dict[str, Any], attempt: int) -> None:
    path = os.environ.get("EXAMPLE_AGENT_CALL_LOG")
    if path:
        line = json.dumps({"data": data, "attempt": attempt, "pid": os.getpid()}, ensure_ascii=False) + "\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())


def answer(data: dict[str, Any]) -> dict[str, Any]:
    """The extracted object for one address."""
    postcode = str(data.get("postcode", "")).upper()
    area = re.match(r"^[A-Z]{1,2}", postcode)
    known = FIXTURE.get(area.group(0)) if area else None
    if known is None and area:
        known = FIXTURE.get(area.group(0)[:1])
    if known is None:
        return {"success": False, "fttp_avail": False, "metadata": {"reason": f"no exchange for {postcode!r}"}}
    number = int(hashlib.sha256(_row_key(data).encode()).hexdigest()[:12], 16)
    return {
        "success": True,
        "alk": f"A{number % 10**11:011d}",
        **known,
        "ont_reference": f"ONT{number % 10**6:06d}" if known["fttp_avail"] else "N/A",
        "ont_serial_no": f"SN{number % 10**8:08d}" if known["fttp_avail"] else "N/A",
        "port_service_id": f"PS{number % 10**7:07d}" if known["fttp_avail"] else "N/A",
        "screenshot_url": f"file:///recordings/{number % 10**9:09d}.png",
        "metadata": {"source": "example agent fixture", "area": area.group(0)},
    }


def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    """One agent call: the script executor's result for the row's values.

    Called as every agent is, `{"messages": [...], "input": {...}}`; like the
    generated agents it also takes `{"data": {...}}` or the values themselves.
    """
    data = next((payload[key] for key in ("input", "data") if isinstance(payload.get(key), dict)), payload)
    key = _row_key(data)
    with _lock:
        attempt = _attempts.get(key, 0) + 1
        _attempts[key] = attempt
    _log_call(data, attempt)
    latency = float(os.environ.get("EXAMPLE_AGENT_LATENCY_MS", "0")) / 1000
    if latency:
        time.sleep(latency)
    rate = float(os.environ.get("EXAMPLE_AGENT_FAILURE_RATE", "0"))
    if attempt == 1 and _fails_first_attempt(key, rate):
        raise TransientAgentError("browser session dropped (example agent's simulated failure)")
    extracted = answer(data)
    return {
        "success": True,
        "step_results": [
            {"action": "act", "success": True},
            {"action": "act_with_schema", "success": True, "parsed_response": extracted, "matches_schema": True},
            {"action": "screenshot", "success": True},
        ],
    }


def serve(stdin: Any = sys.stdin, stdout: Any = sys.stdout) -> None:
    """JSON lines: one request per line in, one response per line out."""
    for line in stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            response = {"ok": True, "result": invoke(request)}
        except TransientAgentError as err:
            response = {"ok": False, "error": str(err)}
        stdout.write(json.dumps(response, ensure_ascii=False) + "\n")
        stdout.flush()


if __name__ == "__main__":
    serve()
