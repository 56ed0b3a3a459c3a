"""Run synthesized ASL in moto's Step Functions interpreter, in this process.

moto carries LocalStack's ASL interpreter (`moto.stepfunctions.parser`); with
`mock_aws(config={"stepfunctions": {"execute_state_machine": True}})` it runs
executions instead of only recording them. Stock, it runs almost nothing of a
CDK JSONata machine. `local_step_functions()` closes each gap for the duration
of a `with` block and puts moto back as it was afterwards:

1. JSONata: moto's evaluator is a stub (its JVM bridge was removed). moto
   composes `($states:=<json>;$var:=<json>;<expr>)` as text, which
   jsonata-python evaluates as it is. A state's `{% %}` expressions are
   evaluated faster, each compiled once per thread and given `$states` and the
   variables as bindings (JSON values, null as JSONata's null); a result that
   is null or nothing is evaluated again by moto's own path, so its errors
   (States.QueryEvaluationError for nothing) are moto's.
2. Variables: moto writes a string variable as `"<value>"` unescaped, so a `"`
   in a CSV cell breaks the expression; declarations are written as JSON.
3. Lambda: moto runs functions in Docker. Here a function's `Handler`
   (`module.function`, the project's own code) is called in-process with the
   decoded payload, and an exception comes back the way the Lambda runtime
   reports it (`errorMessage`, `errorType`, `stackTrace`).
4. Activities: moto gives each execution its own empty activity store and has
   no GetActivityTask; SendTaskFailure drops `cause`. Here every execution
   shares one store, GetActivityTask long-polls it, and `cause` is kept.
   moto's SendTaskSuccess reads every RUNNING execution's environment, which is
   None until its worker thread builds it (an AttributeError on a busy machine):
   here both answers go only to executions that have one.
5. `states:startExecution(.sync:2)`: moto stubbed the boto name normalisation
   (`StateMachineArn` -> `stateMachineArn`), filled in here from botocore's model;
   an execution started without a name gets a uuid (moto names them all "None").
6. Distributed Map: moto's grammar refuses `ItemBatcher`, `ResultWriter` with
   `Arguments` and an integer `ToleratedFailurePercentage`, and ignores the
   tolerance. `prepare_definition()` moves them aside; the Map run then applies
   them as AWS documents (an emulation, see EMULATED_RULES and
   tests/sfn/test_emulated_rules.py). ResultWriter cannot run here at all and is
   dropped: the batch pipeline never reads the Map's own results file, and its
   shape is checked on the synthesized definition instead (cfn-lint,
   asl-validator and tests/runtime/test_batch_processor.py::test_machine_shape).
7. A distributed Map child is an execution of its own: here it no longer sees
   (or clashes with, `IllegalOuterScopeWrite`) the parent's variables.
8. Retry waits are recorded in `RETRY_WAITS` and not slept, so a Retry with
   `IntervalSeconds: 10` costs no test time; the number of attempts is kept.
9. A `.sync` task checks its child execution again as soon as that execution
   ends (at most 0.5 s later, as moto), not on a fixed tick (latency and CPU only:
   the child's result is the same).
10. AWS's quotas, as tests/sfn/quotas.py states them: 256 KiB on every state's
   input and output, task result, activity answer and execution input; 25,000
   history events per execution (a Distributed Map child has its own history);
   ItemBatcher's MaxItemsPerBatch and MaxInputBytesPerBatch. Every history event,
   children included, is recorded in quotas.HISTORY for the cost counts.
11. Parsing: one at a time (moto's preprocessor shares state across instances), and
   each definition's ANTLR tree built once (each execution still gets its own
   components).
12. moto's per-request backend lookup, without its global lock once the backend exists.
13. Each JSONPath text parsed once (jsonpath_ng builds its parser tables per parse).
14. One boto3 client per region and service for the tasks (moto built one per task).

moto's internals are version specific: pyproject.toml pins moto.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import itertools
import json
import os
import sys
import threading
import time
import traceback
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import jsonata

from tests.sfn.quota_patches import enforce as enforce_quotas
from tests.sfn.quotas import STATE_BYTES, BatchTooLarge, batch_limits, payload_bytes, split_into_batches

EMULATED_RULES = {
    "item_selector_before_batching": (
        'AWS Step Functions Developer Guide, Map state input and output fields: "Step Functions applies '
        'each option in your Distributed Map state in the order shown in the following list." The list: '
        "1. ItemReader, 2. ItemsPath or Items, 3. ItemSelector, 4. ItemBatcher, 5. ResultWriter."
    ),
    "items_array": (
        'AWS Step Functions Developer Guide, ItemBatcher (Map): "If you use batching, Step Functions adds the '
        'items to an Items array. It then passes the array as input to each child workflow execution."'
    ),
    "batch_input": (
        'AWS Step Functions Developer Guide, ItemBatcher (Map), BatchInput: "Specifies a fixed JSON input to '
        'include in each batch passed to each child workflow execution."'
    ),
    "tolerance_counts_items": (
        'AWS Step Functions API Reference, DescribeMapRun/UpdateMapRun, toleratedFailurePercentage: "The '
        'maximum percentage of failed items before the Map Run fails."'
    ),
}

RETRY_WAITS: list[float] = []
_ABSENT = object()
_MARK = "sfn-harness-map:"
_MAPS: dict[str, tuple[Any, dict[str, Any]]] = {}
_map_ids = itertools.count(1)


# --- pure pieces: the emulated AWS rules -------------------------------------------------------------


def select_and_batch(
    items: list[Any],
    selector: Any,
    batcher: dict[str, Any],
    evaluate: Callable[[Any, dict[str, Any]], Any],
) -> list[dict[str, Any]]:
    """The inputs of the child executions of a distributed Map with ItemBatcher.

    ItemSelector first, per item, with `$states.context.Map.Item` = that item's
    index and value; then the selected items in input order, each batch
    `{"Items": [...], "BatchInput": ...}` (BatchInput only when declared) holding
    at most MaxItemsPerBatch items and at most MaxInputBytesPerBatch bytes (256 KiB
    when not set: tests/sfn/quotas.py). `evaluate(template, map_item)` renders a
    JSONata template. An item too large for any batch raises quotas.BatchTooLarge.
    """
    if selector is not None:
        items = [evaluate(selector, {"Index": index, "Value": item}) for index, item in enumerate(items)]
    max_items, max_bytes = batch_limits(batcher)
    batch_input = evaluate(batcher["BatchInput"], {}) if "BatchInput" in batcher else None

    def wrap(batch_items: list[Any]) -> dict[str, Any]:
        batch: dict[str, Any] = {"Items": batch_items}
        if "BatchInput" in batcher:
            batch["BatchInput"] = batch_input
        return batch

    return split_into_batches(items, max_items, max_bytes, wrap)


def exceeds_tolerance(failed_items: int, total_items: int, tolerated_percentage: float) -> bool:
    """A Map Run fails once its failed items are more than the tolerated percentage of all items."""
    if total_items == 0:
        return False
    return failed_items * 100 > tolerated_percentage * total_items


def prepare_definition(definition: dict[str, Any]) -> str:
    """The definition moto's grammar accepts: batching and tolerance held aside for the Map run."""
    prepared = copy.deepcopy(definition)

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            if state.get("Type") != "Map":
                continue
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            if "ToleratedFailureCount" in state or "ToleratedFailureCountPath" in state:
                raise NotImplementedError("ToleratedFailureCount is not emulated by this harness")
            tolerance = state.pop("ToleratedFailurePercentage", None)
            if "ItemBatcher" in state:
                batch_limits(state["ItemBatcher"])  # a limit AWS refuses fails CreateStateMachine
            if "ItemBatcher" in state or tolerance is not None:
                key = str(next(_map_ids))
                _MAPS[key] = (
                    state.pop("ItemSelector", None) if "ItemBatcher" in state else None,
                    {
                        "batcher": state.pop("ItemBatcher", None),
                        "tolerance": tolerance,
                    },
                )
                processor["Comment"] = _MARK + key
            state.pop("ResultWriter", None)
            walk(processor.get("States", {}))

    walk(prepared["States"])
    return json.dumps(prepared)


# --- the patches ------------------------------------------------------------------------------------


def _evaluate_jsonata(expression: str) -> Any:
    return jsonata.Jsonata(expression).evaluate(None)


def _render(template: Any, bindings: dict[str, Any]) -> Any:
    """A JSONata template (strings `{% expr %}` evaluated, the rest copied) with `bindings` as variables."""
    if isinstance(template, str):
        stripped = template.strip()
        if stripped.startswith("{%") and stripped.endswith("%}"):
            return jsonata.Jsonata(stripped[2:-2].strip()).evaluate(None, bindings)
        return template
    if isinstance(template, dict):
        return {key: _render(value, bindings) for key, value in template.items()}
    if isinstance(template, list):
        return [_render(value, bindings) for value in template]
    return template


def _null_as_jsonata(value: Any) -> Any:
    """JSON null inside a binding, as jsonata-python represents it (a bare None reads as nothing)."""
    from jsonata.utils import Utils

    if value is None:
        return Utils.NULL_VALUE
    if isinstance(value, dict):
        return {key: _null_as_jsonata(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_null_as_jsonata(item) for item in value]
    return value


class _Activities:
    """One activity store for every execution, and GetActivityTask as a long poll."""

    def __init__(self) -> None:
        self.store: dict[str, Any] = {}


@contextlib.contextmanager
def local_step_functions(lambda_environment: dict[str, str] | None = None) -> Iterator[None]:
    """Patch moto so synthesized definitions execute; restore moto (and os.environ) on exit.

    Use inside `mock_aws(config={"stepfunctions": {"execute_state_machine": True}})`.
    """
    from moto.awslambda.models import LambdaFunction
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.exceptions import InvalidExecutionInput
    from moto.stepfunctions.models import StepFunctionBackend
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
        DistributedItemProcessorWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (  # noqa: E501
        StateTaskServiceSfn,
    )
    from moto.stepfunctions.parser.asl.component.intrinsic.jsonata import get_intrinsic_functions_declarations
    from moto.stepfunctions.parser.asl.eval import states as eval_states
    from moto.stepfunctions.parser.asl.eval import variable_store
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        ActivityTaskStartEndpoint,
        CallbackOutcomeFailure,
        CallbackOutcomeSuccess,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
    from moto.stepfunctions.parser.asl.jsonata import validations
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
    from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType, InvalidToken
    from moto.stepfunctions.parser.backend import execution as backend_execution
    from moto.stepfunctions.parser.backend.activity import Activity
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.parser.utils import camel_to_snake_case
    from moto.stepfunctions.responses import StepFunctionResponse

    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, value: Any) -> None:
        saved.append(
            (
                owner,
                name,
                owner.__dict__.get(name, _ABSENT) if isinstance(owner, type) else getattr(owner, name),
            )
        )
        setattr(owner, name, value)

    # 1, 2. JSONata and variable declarations
    def declarations(bindings: dict[str, Any]) -> str:
        return "".join(
            f"{ref}:={to_json_str(value, separators=(',', ':'))};" for ref, value in bindings.items()
        )

    for module in (moto_jsonata, validations, string_expression):
        patch(module, "eval_jsonata_expression", _evaluate_jsonata)
    for module in (moto_jsonata, eval_states, variable_store):
        if hasattr(module, "encode_jsonata_variable_declarations"):
            patch(module, "encode_jsonata_variable_declarations", declarations)

    original_jsonata_body = string_expression.StringJSONata._eval_body
    compiled = threading.local()

    def bound_jsonata_body(self: Any, env: Any) -> None:
        references = moto_jsonata.extract_jsonata_variable_references(self.expression)
        text = f"({get_intrinsic_functions_declarations(references)}{self.expression})"
        cache = compiled.__dict__.setdefault("cache", {})
        if text not in cache:
            cache[text] = jsonata.Jsonata(text)
        store = env.variable_store
        bindings = {**store._outer_scope, **store._inner_scope}
        bindings["states"] = json.loads(to_json_str(env.states._states_data))
        result = cache[text].evaluate(None, {key: _null_as_jsonata(value) for key, value in bindings.items()})
        if result is None:
            return original_jsonata_body(self, env)
        env.stack.append(result)

    patch(string_expression.StringJSONata, "_eval_body", bound_jsonata_body)

    # 3. Lambda handlers in-process
    environment_before = dict(os.environ)
    environment_lock = threading.Lock()

    def invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        with environment_lock:
            os.environ.update(self.environment_vars or {})
            os.environ.update(lambda_environment or {})
        module_name, function_name = self.handler.rsplit(".", 1)
        try:
            handler = getattr(importlib.import_module(module_name), function_name)
            return json.dumps(handler(event if event is not None else {}, None)), False, ""
        except Exception as exc:  # the Lambda runtime's report of an unhandled exception
            report = {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "stackTrace": traceback.format_exc().splitlines(),
            }
            return json.dumps(report), True, ""

    patch(LambdaFunction, "_invoke_lambda", invoke_lambda)

    # 4. Activities
    activities = _Activities()
    closing = threading.Event()
    create_activity = StepFunctionBackend.create_activity
    execution_init = backend_execution.Execution.__init__

    def shared_create_activity(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        activity = create_activity(self, name, *args, **kwargs)
        activities.store.setdefault(activity.arn, Activity(activity.arn, name))
        return activity

    def shared_store_init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["activity_store"] = activities.store
        execution_init(self, *args, **kwargs)

    def callbacks_of(backend: Any, token: str) -> Any:
        for execution in backend._get_executions(ExecutionStatus.RUNNING):
            # an execution is listed RUNNING before its worker thread builds `env`: skip it until then
            env = getattr(getattr(execution, "exec_worker", None), "env", None)
            if env is not None and env.callback_pool_manager.get(token) is not None:
                return env.callback_pool_manager
        raise InvalidToken()

    def get_activity_task(self: Any) -> str:
        activity = activities.store[self._get_param("activityArn")]
        # AWS long-polls for up to 60 s; an empty answer sooner is within the protocol (the worker asks
        # again) and lets a worker thread stop within a second
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline and not closing.is_set():
            try:
                task = activity.get_task()
            except IndexError:
                time.sleep(0.02)
                continue
            # the execution that queued the task may not be listed as RUNNING yet, and moto queues the
            # task just before it registers the task's callback: wait for it, up to 30 s on a loaded
            # machine (the wait ends as soon as the callback is there)
            pool, waited_until = None, time.monotonic() + 30
            while pool is None and time.monotonic() < waited_until and not closing.is_set():
                try:
                    pool = callbacks_of(self.stepfunction_backend, task.task_token)
                except InvalidToken:
                    time.sleep(0.01)
            if pool is None:
                continue  # its execution has ended: AWS drops such a task too
            endpoint = pool.get(task.task_token)
            endpoint.notify_activity_task_start(worker_name=self._get_param("workerName"))
            return json.dumps({"taskToken": task.task_token, "input": task.task_input})
        return json.dumps({})

    def send_task_failure(self: Any) -> str:
        token = self._get_param("taskToken")
        outcome = CallbackOutcomeFailure(
            callback_id=token, error=self._get_param("error"), cause=self._get_param("cause")
        )
        callbacks_of(self.stepfunction_backend, token).notify(token, outcome)
        return "{}"

    def send_task_success(self: Any) -> str:
        # moto's own walks every RUNNING execution and reads `exec_worker.env`, which is None until the
        # execution's thread has built it: under load a token answered then raised AttributeError
        token, output = self._get_param("taskToken"), self._get_param("output")
        if payload_bytes(output) > STATE_BYTES:
            raise AWSError(
                f"output is {payload_bytes(output)} bytes; at most {STATE_BYTES} allowed", "InvalidOutput"
            )
        outcome = CallbackOutcomeSuccess(callback_id=token, output=output)
        callbacks_of(self.stepfunction_backend, token).notify(token, outcome)
        return "{}"

    patch(StepFunctionBackend, "create_activity", shared_create_activity)
    patch(backend_execution.Execution, "__init__", shared_store_init)
    patch(StepFunctionResponse, "get_activity_task", get_activity_task)
    patch(StepFunctionResponse, "send_task_failure", send_task_failure)
    patch(StepFunctionResponse, "send_task_success", send_task_success)
    patch(ActivityTaskStartEndpoint, "_outcome", None)

    # 5. startExecution: names, and boto's parameter names
    start_execution = StepFunctionsParserBackend.start_execution

    def named_start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: Any = None,
        *a: Any,
        **k: Any,
    ) -> Any:
        if execution_input is not None and payload_bytes(execution_input) > STATE_BYTES:
            size = payload_bytes(execution_input)
            raise InvalidExecutionInput(f"input is {size} bytes; at most {STATE_BYTES} allowed")
        return start_execution(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, *a, **k)

    boto_session = botocore.session.get_session()

    def operation(self: Any, service: str, action: str) -> Any:
        model = boto_session.get_service_model(self._get_boto_service_name(service))
        names = {camel_to_snake_case(n): n for n in model.operation_names}
        return model.operation_model(names[camel_to_snake_case(self._get_boto_service_action(action))])

    def normalise_parameters(
        self: Any, parameters: Any, boto_service_name: Any = None, service_action_name: Any = None
    ) -> None:
        shape = operation(self, boto_service_name, service_action_name).input_shape
        if shape is not None:
            self._to_boto_request(parameters, shape)

    def normalise_response(
        self: Any, response: Any, boto_service_name: Any = None, service_action_name: Any = None
    ) -> None:
        shape = operation(self, boto_service_name, service_action_name).output_shape
        if shape is not None:
            self._from_boto_response(response, shape)

    patch(StepFunctionsParserBackend, "start_execution", named_start_execution)
    patch(StateTaskService, "_normalise_parameters", normalise_parameters)
    patch(StateTaskService, "_normalise_response", normalise_response)

    # 6. Distributed Map: ItemSelector, ItemBatcher and the tolerance, as AWS documents them
    map_run = DistributedIterationComponent._map_run
    eval_job = DistributedItemProcessorWorker._eval_job
    failed_items: dict[int, int] = {}
    failed_lock = threading.Lock()

    def emulated_map_run(self: Any, env: Any, eval_input: Any) -> None:
        comment = self._comment.comment if self._comment else ""
        if not comment.startswith(_MARK):
            return map_run(self, env, eval_input)
        selector, options = _MAPS[comment[len(_MARK) :]]
        items = env.stack.pop()
        store = env.variable_store
        variables = {**store._outer_scope, **store._inner_scope}
        states = {
            "input": env.states.get_input(),
            "context": json.loads(to_json_str(env.states.context_object.context_object_data)),
        }

        def evaluate(template: Any, map_item: dict[str, Any]) -> Any:
            context = {**states["context"], "Map": {"Item": map_item}} if map_item else states["context"]
            return _render(template, {**variables, "states": {**states, "context": context}})

        if options["batcher"] is not None:
            try:
                jobs = select_and_batch(items, selector, options["batcher"], evaluate)
            except BatchTooLarge as exc:
                raise map_run_failure(env, "States.DataLimitExceeded", str(exc)) from None
            total = len(items)
        else:
            jobs, total = items, len(items)
        env.stack.append(jobs)
        record = id(eval_input.map_run_record)
        failed_items[record] = 0
        map_run(self, env, eval_input)
        tolerance = options["tolerance"]
        failed = failed_items.pop(record, 0)
        if exceeds_tolerance(failed, total, 0.0 if tolerance is None else float(tolerance)):
            raise map_run_failure(
                env,
                "States.ExceedToleratedFailureThreshold",
                "The specified tolerated failure threshold was exceeded"
                f" ({failed} of {total} items failed, {tolerance or 0}% tolerated)",
            )

    def map_run_failure(env: Any, error: str, cause: str) -> Exception:
        return FailureEventException(
            FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.from_name(error)),
                event_type=HistoryEventType.MapRunFailed,
                event_details=EventDetails(mapRunFailedEventDetails={"error": error, "cause": cause}),
            )
        )

    def counting_eval_job(self: Any, env: Any, job: Any) -> None:
        env.event_manager = EventManager()  # a child workflow is an execution with its own history
        eval_job(self, env, job)
        if job.job_output is None:  # failed, timed out or aborted
            state = env.program_state()
            if isinstance(state, ProgramError):  # the child's own history ends as a failed execution's
                env.event_manager.add_event(
                    context=env.event_history_context,
                    event_type=HistoryEventType.ExecutionFailed,
                    event_details=EventDetails(executionFailedEventDetails=state.error or {}),
                )
            batch = job.job_input
            count = (
                len(batch["Items"]) if isinstance(batch, dict) and isinstance(batch.get("Items"), list) else 1
            )
            with failed_lock:
                key = id(self._map_run_record)
                failed_items[key] = failed_items.get(key, 0) + count

    # 7. A child execution's own variable scope
    child_eval_input = DistributedItemProcessorWorker._eval_input

    def isolated_eval_input(self: Any, env_frame: Any) -> None:
        child_eval_input(self, env_frame)  # ItemSelector still sees the parent's variables
        store = env_frame.variable_store
        store._outer_scope.clear()
        store._outer_variable_declaration_cache = None
        store._variable_declarations_cache = None

    patch(DistributedIterationComponent, "_map_run", emulated_map_run)
    patch(DistributedItemProcessorWorker, "_eval_job", counting_eval_job)
    patch(DistributedItemProcessorWorker, "_eval_input", isolated_eval_input)

    # 10. AWS's quotas (tests/sfn/quotas.py)
    enforce_quotas(patch)

    # 11. One parse at a time: moto's ASL preprocessor keeps its query-language scopes in a list on
    # the class, shared by every instance, so two executions parsed at once (children of a
    # Distributed Map, agent runs started together) corrupt each other's stack and one dies with
    # IndexError in _get_current_query_language. AWS parses each definition on its own.
    # moto parses the definition again for every execution (ANTLR's Python runtime: about 0.03 s
    # for an agent machine, 0.3 s for the batch machine, all under that one lock): each definition's
    # parse tree is built once, by moto's own parse (its syntax errors unchanged), and every
    # execution still gets evaluation components of its own from the preprocessor, which only
    # reads the tree.
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    unlocked_parse = AmazonStateLanguageParser.parse
    parse_lock = threading.Lock()
    trees: dict[str, Any] = {}

    def serial_parse(definition: str) -> Any:
        with parse_lock:
            if definition not in trees:
                program, trees[definition] = unlocked_parse(definition)
                return program, trees[definition]
            return Preprocessor().visit(trees[definition]), trees[definition]

    patch(AmazonStateLanguageParser, "parse", staticmethod(serial_parse))

    # 12. moto looks up its per-account backend on every request through a method that takes a
    # global lock and scans a list with a Python `__eq__`; with a dozen execution threads it took a
    # quarter of an agent batch's time. Once the account's backend exists and is registered, the lookup is a
    # plain dict read, which is all the method does then.
    from moto.core.base_backend import BackendDict

    locked_lookup = BackendDict.__getitem__

    def backend_lookup(self: Any, account_id: str) -> Any:
        if dict.__contains__(self, account_id) and any(dicts is self for dicts in BackendDict._instances):
            return dict.__getitem__(self, account_id)
        return locked_lookup(self, account_id)

    patch(BackendDict, "__getitem__", backend_lookup)

    # 13. jsonpath_ng builds its yacc tables anew for every expression it parses, and moto parses a
    # JSONPath state's ResultPath and paths on every evaluation: 25,000 history events of Pass
    # states spent most of their CPU there. A parsed path is an immutable value: each text is
    # parsed once.
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    patch(result_path, "parse", functools.lru_cache(maxsize=1024)(result_path.parse))
    patch(json_path, "parse", functools.lru_cache(maxsize=1024)(json_path.parse))

    # 14. moto builds a new boto3 client for every service task it runs (a fifth of an agent batch's
    # CPU); its arguments never vary but by region and service, and a client is safe to share
    # between threads: one client each.
    from moto.stepfunctions.parser.asl.utils import boto_client

    new_client = boto_client.boto_client_for
    one_client = functools.lru_cache(maxsize=None)(lambda region, service: new_client(region, service))
    clients_lock = threading.Lock()

    def shared_client(region: str, service: str, state_credentials: Any = None) -> Any:
        with clients_lock:
            return one_client(region, service)

    for module in [m for name, m in sys.modules.items() if name.startswith("moto.stepfunctions.parser")]:
        if getattr(module, "boto_client_for", None) is new_client:
            patch(module, "boto_client_for", shared_client)

    # 9. .sync: between two DescribeExecution calls moto sleeps a fixed 0.5 s. Each call costs CPU
    # (botocore and moto's serializer), and a batch has a dozen such tasks waiting at once: polling
    # faster is most of a batch's CPU, polling slower is latency. Here the task sleeps until the
    # execution it waits for ends, at most 0.5 s, and then asks as moto does.
    ends: dict[str, threading.Event] = {}
    ends_lock, waiting = threading.Lock(), threading.local()
    terminated = backend_execution.BaseExecutionWorkerCommunication.terminated
    build_sync2_resolver = StateTaskServiceSfn._build_sync2_resolver

    def end_of(arn: str) -> threading.Event:
        with ends_lock:
            return ends.setdefault(arn, threading.Event())

    def announced_terminated(self: Any) -> None:
        terminated(self)
        end_of(self.execution.exec_arn).set()

    def sync2_resolver(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
        arn = env.stack[-1]["ExecutionArn"]  # what moto's resolver pops: the StartExecution answer
        resolve = build_sync2_resolver(self, env, *args, **kwargs)

        def resolve_and_name() -> Any:
            waiting.arn = arn
            return resolve()

        return resolve_and_name

    def until_it_ends(seconds: float) -> None:
        arn, waiting.arn = getattr(waiting, "arn", None), None
        if arn is None:  # another service's `.sync`: a short tick
            time.sleep(0.05)
        else:
            end_of(arn).wait(timeout=seconds)

    patch(backend_execution.BaseExecutionWorkerCommunication, "terminated", announced_terminated)
    patch(StateTaskServiceSfn, "_build_sync2_resolver", sync2_resolver)
    patch(state_task_service_callback, "time", types.SimpleNamespace(sleep=until_it_ends))

    # 8. Retry waits recorded, not slept
    RETRY_WAITS.clear()
    patch(retrier_decl, "time", types.SimpleNamespace(sleep=RETRY_WAITS.append))

    try:
        yield
    finally:
        closing.set()
        for owner, name, value in reversed(saved):
            if value is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
        os.environ.clear()
        os.environ.update(environment_before)
