"""What a batch can call: one row per target kind, the only list of them (docs/DESIGN.md).

Runtime (validator, child Lambdas), batch (config parsing, local invokers) and
infra (the batch state machine's branches) all read this table, so a kind is
added by adding a row here and the code its row names:

    name            "agent" | "tool", what a config's `target.type` says
    arn             the one ARN rule of the kind (a whole ARN in a real region)
    payload_form    what each row is sent: "messages" (every agent, ours or not, as the
                    existing batch processor sends it) or "data" (the mapped fields)
    registry_lookup whether the batch validator reads the target's AgentRegistry record
    arn_derived     whether a target of the kind may come without `arn` (ours: `<name>-<env>`)
    invoker         the local engine's invoker for an ARN of this kind
                    (factory.batch.invokers.INVOKERS, keyed by this name)
    task            the batch state machine's per-row Task: integration, argument names,
                    retried errors, and what the row keeps of the answer (`kept`)

What a row keeps (`kept`) is what keeps a child's gathered Map result small:
"execution" keeps the agent execution's ARN (the child's writer reads the answer
with DescribeExecution); "inline" keeps a tool's answer itself, refused above
INLINE_ROW_CAP characters so 25 rows stay under the 256 KiB state limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

PAYLOAD_DATA, PAYLOAD_MESSAGES = "data", "messages"
KEPT_EXECUTION, KEPT_INLINE = "execution", "inline"
# Partition (aws, aws-cn, aws-us-gov, ...), a real region (eu-west-2, us-gov-west-1), a 12-digit account.
_ARN_HEAD = r"^arn:aws(-[a-z]+)*:{service}:[a-z]{{2}}(-[a-z]+)+-[0-9]:[0-9]{{12}}:"


@dataclass(frozen=True)
class RowTask:
    """How the batch state machine calls one row of this kind (a Task state's pieces)."""

    resource: str  # the integration, after arn:<partition>:states:::
    target_argument: str  # the Arguments key the target's ARN goes in
    payload_argument: str  # the Arguments key the row's payload goes in
    retry_errors: tuple[str, ...]
    kept: str  # KEPT_EXECUTION or KEPT_INLINE


@dataclass(frozen=True)
class TargetKind:
    name: str
    describes: str  # "a state machine", for messages
    article: str
    arn: re.Pattern[str]
    arn_example: str
    payload_form: str
    registry_lookup: bool
    arn_derived: bool  # without target.arn the batch machine calls `<name>-<env>` (one of our agents)
    invoker: str
    task: RowTask

    def arn_ok(self, value: Any) -> bool:
        return isinstance(value, str) and self.arn.fullmatch(value) is not None


KINDS: dict[str, TargetKind] = {
    kind.name: kind
    for kind in (
        TargetKind(
            name="agent",
            describes="a state machine",
            article="an",
            arn=re.compile(_ARN_HEAD.format(service="states") + r"stateMachine:[A-Za-z0-9_-]{1,80}\Z"),
            arn_example="arn:aws:states:eu-west-2:123456789012:stateMachine:NAME",
            payload_form=PAYLOAD_MESSAGES,
            registry_lookup=True,
            arn_derived=True,
            invoker="state_machine",
            task=RowTask(
                resource="states:startExecution.sync:2",
                target_argument="StateMachineArn",
                payload_argument="Input",
                retry_errors=(
                    "StepFunctions.ExecutionLimitExceededException",
                    "StepFunctions.AWSStepFunctionsException",
                    "StepFunctions.SdkClientException",
                ),
                kept=KEPT_EXECUTION,
            ),
        ),
        TargetKind(
            name="tool",
            describes="a Lambda function",
            article="a",
            arn=re.compile(
                _ARN_HEAD.format(service="lambda") + r"function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?\Z"
            ),
            arn_example="arn:aws:lambda:eu-west-2:123456789012:function:NAME",
            payload_form=PAYLOAD_DATA,
            registry_lookup=False,
            arn_derived=False,
            invoker="lambda",
            task=RowTask(
                resource="lambda:invoke",
                target_argument="FunctionName",
                payload_argument="Payload",
                retry_errors=(
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                    "Lambda.TooManyRequestsException",
                ),
                kept=KEPT_INLINE,
            ),
        ),
    )
}
TARGET_TYPES = tuple(KINDS)
DEFAULT_KIND = "agent"  # a request or config naming no target calls one of our agents


def kind_of(name: Any) -> TargetKind:
    """The kind named `name` (a config's target.type); the default kind for None."""
    return KINDS[DEFAULT_KIND if name is None else name]


def kind_of_arn(value: Any) -> TargetKind | None:
    """The kind whose ARN rule `value` matches, or None."""
    return next((kind for kind in KINDS.values() if kind.arn_ok(value)), None)


def agent_payload(mapped: dict[str, Any]) -> dict[str, Any]:
    """The input mapper's `{"prompt", "data"}` as every agent takes it: a user message and the input."""
    return {"messages": [{"role": "user", "content": mapped["prompt"]}], "input": mapped["data"]}


def payload_function(kind: TargetKind, plan: Any) -> Callable[[dict[str, Any], int | None], Any]:
    """(row, row number) -> the row's request in the kind's payload form, for one compiled input plan.

    InputRowError for a row the plan refuses. A tool's input is the plan's `data` alone, so no prompt
    is written for it; an agent's is the plan's `transform` as `agent_payload` shapes it.
    """
    if kind.payload_form == PAYLOAD_DATA:
        return plan.data
    transform = plan.transform

    def messages(row: dict[str, Any], row_number: int | None) -> dict[str, Any]:
        mapped = transform(row, row_number)
        return {"messages": [{"role": "user", "content": mapped["prompt"]}], "input": mapped["data"]}

    return messages


def row_payload(kind: TargetKind, plan: Any, row: dict[str, Any], row_number: int | None) -> Any:
    """One CSV row through a compiled input plan, in the kind's payload form (InputRowError if refused)."""
    return payload_function(kind, plan)(row, row_number)
