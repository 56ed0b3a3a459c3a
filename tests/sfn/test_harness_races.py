"""The harness under load: an answer from the browser worker while another execution is still starting.

moto lists an execution RUNNING before its worker thread has built the execution's
environment. moto's own SendTaskSuccess walks every RUNNING execution and reads
`exec_worker.env.callback_pool_manager`, so an answer sent in that window raised
`AttributeError: 'NoneType' object has no attribute 'callback_pool_manager'` (seen at
teardown of tests/sfn on a busy machine). The window is held open here on purpose.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.sfn.browser_worker import executor_success
from tests.sfn.conftest import ENV
from tests.sfn.deployment import ACCOUNT, REGION
from tests.sfn.outputs import VALID_INPUT, executor_result

pytestmark = pytest.mark.slow
NAME = "broadband_availability_bt_wholesale"
MACHINE = f"broadband-availability-bt-wholesale-agent-{ENV}"


@pytest.fixture
def an_execution_still_starting(local_aws):
    """A RUNNING execution whose worker has no environment yet, listed first, for one test."""
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends[ACCOUNT][REGION]
    (machine,) = [m for m in backend.state_machines if m.name == MACHINE]
    starting = SimpleNamespace(
        name="still-starting",
        execution_arn=f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:still-starting",
        execution_input="{}",
        status=ExecutionStatus.RUNNING,
        exec_worker=SimpleNamespace(env=None),
    )
    machine.executions.insert(0, starting)
    yield starting
    machine.executions.remove(starting)


def test_a_task_answered_while_another_execution_starts_reaches_its_execution(
    local_aws, browser, an_execution_still_starting
):
    extracted = {"success": True, "fttp_avail": True}
    browser.executor = lambda script: executor_success(executor_result(extracted))
    errors_before = len(browser.errors)
    run = local_aws.run(MACHINE, {"data": VALID_INPUT[NAME]})
    assert (run.status, run.error, run.cause) == ("SUCCEEDED", None, None)
    assert browser.errors[errors_before:] == []


def _parse_together(parse, definition: str, threads: int = 8, each: int = 25) -> list[BaseException]:
    """Parse `definition` from several threads at once; the exceptions raised."""
    import threading

    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for _ in range(each):
            try:
                parse(definition)
            except BaseException as err:  # noqa: BLE001 - collected for the assertion
                errors.append(err)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_definitions_are_parsed_one_at_a_time(local_aws, monkeypatch):
    """moto's preprocessor keeps its query-language scopes in a class-level list: parsed from
    several threads at once (Distributed Map children and agent runs starting together, as in a
    1,000-row batch), one parse pops another's scope and dies with IndexError. The harness parses
    one definition at a time, as AWS parses each on its own: no two preprocessor runs overlap, even
    when each is slowed to make an overlap likely."""
    import threading
    import time

    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    state, guard, depth = {"active": 0, "most": 0}, threading.Lock(), threading.local()
    visit = Preprocessor.visit

    def watched(self, tree):
        top = getattr(depth, "n", 0) == 0
        depth.n = getattr(depth, "n", 0) + 1
        if top:
            with guard:
                state["active"] += 1
                state["most"] = max(state["most"], state["active"])
            time.sleep(0.002)
        try:
            return visit(self, tree)
        finally:
            depth.n -= 1
            if top:
                with guard:
                    state["active"] -= 1

    monkeypatch.setattr(Preprocessor, "visit", watched)
    backend = stepfunctions_parser_backends[ACCOUNT][REGION]
    (machine,) = [m for m in backend.state_machines if m.name == MACHINE]
    assert _parse_together(AmazonStateLanguageParser.parse, machine.definition, threads=4, each=5) == []
    assert state["most"] == 1
