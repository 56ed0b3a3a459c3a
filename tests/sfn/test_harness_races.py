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
