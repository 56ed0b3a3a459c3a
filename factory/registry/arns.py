"""The agent's state machine ARN, derived, never looked up.

Agent stacks name their state machine `{agent_name}-{env}`, so the ARN is
known before the stack is deployed; only the account (STS or `--account`) and
region are needed.
"""

from __future__ import annotations

import re

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from factory import names
from factory.errors import FactoryError, Problem

ACCOUNT_RE = re.compile(r"^[0-9]{12}\Z")


def state_machine_arn(agent_name: str, env_name: str, account: str, region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:states:{region}:{account}:stateMachine:{names.state_machine_name(agent_name, env_name)}"


def check_account(account: str) -> str:
    if not ACCOUNT_RE.match(account):
        raise FactoryError(Problem("--account", "$", "account", f"AWS account id {account!r} is not 12 digits",
                                   "e.g. --account 123456789012"))
    return account


def caller_account(session: boto3.Session, region: str, endpoint_url: str | None) -> str:
    """The account of the credentials in use, from STS."""
    config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=3, read_timeout=10)
    try:
        client = session.client("sts", region_name=region, endpoint_url=endpoint_url, config=config)
        return str(client.get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as err:
        raise FactoryError(Problem("sts", "$", "account", f"cannot find the AWS account for the ARN: {err}",
                                   "pass --account ACCOUNT_ID, or --no-arn")) from None


def partition_for(session: boto3.Session, region: str) -> str:
    try:
        return session.get_partition_for_region(region)
    except Exception:  # noqa: BLE001 - unknown regions (local endpoints) are in the aws partition
        return "aws"
