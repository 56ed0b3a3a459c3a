"""Realistic responses for the generic mapper's tests: LLM transcripts, tool outputs, AWS envelopes.

The transcripts follow the Anthropic Messages shape an LLM agent's state machine
hands back (`messages` with `tool_use` blocks from the assistant and `tool_result`
blocks from the user, the tool's name only on the tool_use) and the Bedrock
Converse shape (`toolUse` / `toolResult`).
"""

from __future__ import annotations

import json
from typing import Any

BROADBAND_TEXT = (
    "Address: 10 Downing Street, London\n"
    "Exchange: WHITEHALL\n"
    "Cabinet: Direct Exchange\n"
    "Download Speed: 50.0-330.0 Mbps\n"
    "Upload Speed: 3.0-50.0 Mbps\n"
)

# The design's configuration example, exactly as written there.
DESIGN_CONFIG_YAML = """\
output_mappings:
  broadband-agent-rust:
    type: "agent"
    extraction_methods:
      - method: "tool_result"
        tool_name: "browser_broadband"
        field_mappings:
          exchange: "$.content | parse('Exchange: (.+)')"
          cabinet: "$.content | parse('Cabinet: (.+)')"

      - method: "structured_output"
        tool_name: "print_output"
        field_mappings:
          exchange: "$.exchange"
          cabinet: "$.cabinet"

      - method: "jmespath"
        paths:
          exchange: "messages[-1].content[0].text"
          transform: "parse_text"

  web-search-agent:
    type: "agent"
    extraction_methods:
      - method: "results_array"
        field_mappings:
          title: "results[0].title"
          url: "results[0].url"
          snippet: "results[0].snippet"

  classification-tool:
    type: "tool"
    extraction_methods:
      - method: "direct"
        field_mappings:
          category: "$.category"
          confidence: "$.confidence_score"
"""

# The design's Agent Output Schema Registry example, exactly as written there.
DESIGN_REGISTRY_YAML = """\
# schemas/broadband-agent-rust.yaml
agent: broadband-agent-rust
version: "1.0"
output_format: "messages"
fields:
  - name: exchange
    type: string
    extraction:
      - type: tool_result
        tool: browser_broadband
        pattern: "Exchange: ([A-Z\\\\s]+)"
      - type: structured
        path: "$.exchange"

  - name: download_speed
    type: string
    extraction:
      - type: tool_result
        tool: browser_broadband
        pattern: "Download Speed: ([\\\\d.-]+\\\\s*Mbps)"
      - type: structured
        path: "$.speeds.download"
"""


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def tool_use(use_id: str, name: str, tool_input: dict[str, Any], text: str = "") -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    blocks.append({"type": "tool_use", "id": use_id, "name": name, "input": tool_input})
    return {"role": "assistant", "content": blocks}


def tool_result(use_id: str, content: Any, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": use_id, "content": content}
    if is_error:
        block["is_error"] = True
    return {"role": "user", "content": [block]}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def broadband_transcript(result_content: Any = BROADBAND_TEXT, final: str = "Done.") -> dict[str, Any]:
    """An LLM agent that called browser_broadband once, then a distractor tool, then answered."""
    return {
        "messages": [
            user("Check broadband for 10 Downing Street, SW1A 2AA"),
            tool_use("toolu_01A", "browser_broadband", {"postcode": "SW1A 2AA"}, "I'll look that up."),
            tool_result("toolu_01A", result_content),
            tool_use("toolu_01B", "get_weather", {"city": "London"}),
            tool_result("toolu_01B", "Exchange: WRONG\nCabinet: WRONG"),
            assistant(final),
        ],
        "output": {"message": final},
    }


def execution_envelope(output: Any) -> dict[str, Any]:
    """What DescribeExecution / a .sync task hands back: the agent's output as JSON text."""
    return {
        "executionArn": "arn:aws:states:eu-west-2:123456789012:execution:broadband-agent-rust:row-1",
        "status": "SUCCEEDED",
        "output": json.dumps(output),
    }


def lambda_envelope(payload: Any) -> dict[str, Any]:
    """What a lambda:invoke task hands back."""
    return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}


WEB_RESULTS = {
    "query": "schema factory step functions",
    "results": [
        {"title": "Step Functions agents", "url": "https://example.com/a", "snippet": "Agents on AWS"},
        {"title": "Second", "url": "https://example.com/b", "snippet": "Another"},
    ],
}
