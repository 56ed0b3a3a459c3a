"""Choosing a backend from the command line's options, in one place.

`--env local` (or `--backend sqlite`) is the embedded file; an endpoint, a
profile or findable credentials mean DynamoDB; with none of them the embedded
file is used too, after a one-line notice, so a fresh machine just works.
Without `--env` the environment is `local` on such a machine and `dev` where
AWS is configured.
"""

from __future__ import annotations

from typing import Callable

from factory.errors import FactoryError, Problem
from factory.registry.arns import caller_account, check_account, partition_for, state_machine_arn
from factory.registry.dynamodb import DynamoRegistry, DynamoSettings, has_aws_configuration
from factory.registry.protocol import Registry
from factory.registry.records import RecordPair, check_env_name
from factory.registry.options import RegistryOptions
from factory.registry.sqlite import SqliteRegistry

LOCAL_ENV = "local"
DEFAULT_AWS_ENV = "dev"
BACKENDS = ("auto", "dynamodb", "sqlite")


def open_registry(options: RegistryOptions, notice: Callable[[str], None]) -> Registry:
    """The registry the options name; without --env, `local` unless AWS is configured (then `dev`)."""
    flags = options.flags
    if options.backend not in BACKENDS:
        raise FactoryError(Problem(flags.backend, "$", "backend", f"unknown backend {options.backend!r}",
                                   f"one of {', '.join(BACKENDS)}"))
    env_name = options.env_name
    if env_name is not None:
        check_env_name(env_name)
    if env_name == LOCAL_ENV and (options.backend == "dynamodb" or options.endpoint_url):
        raise FactoryError(Problem(flags.env, "$", "env-name",
                                   f"{flags.env} local is the embedded registry file, not DynamoDB",
                                   f"pick another env name (e.g. {flags.env} dev) for DynamoDB"))
    use_sqlite = options.backend == "sqlite" or env_name == LOCAL_ENV
    if options.backend == "auto" and not use_sqlite and not has_aws_configuration(options.profile,
                                                                                    options.endpoint_url):
        env_name = env_name or LOCAL_ENV
        notice(f"notice: no AWS credentials or endpoint configured; using the local registry "
               f"{options.registry_file.as_posix()} (env {env_name})")
        use_sqlite = True
    if env_name is None:
        env_name = LOCAL_ENV if options.backend == "sqlite" else DEFAULT_AWS_ENV
    if use_sqlite:
        return SqliteRegistry(env_name, options.registry_file, page_size=options.page_size or 100,
                              template_table=options.template_table, agent_table=options.agent_table,
                              tool_table=options.tool_table)
    return DynamoRegistry(DynamoSettings(
        env_name=env_name, region=options.region, profile=options.profile,
        endpoint_url=options.endpoint_url, template_table=options.template_table,
        agent_table=options.agent_table, tool_table=options.tool_table, page_size=options.page_size,
        flags=flags,
    ), notice=notice)


def agent_arns(registry: Registry, records: list[RecordPair], account: str | None,
               region: str | None, no_arn: bool) -> dict[str, str]:
    """`{agent_name: state machine ARN}`, or nothing with --no-arn or locally without --account."""
    if no_arn:
        return {}
    if isinstance(registry, DynamoRegistry):
        region = region or registry.region
        partition = partition_for(registry.session, region)
        account = check_account(account) if account else caller_account(
            registry.session, region, registry.settings.endpoint_url)
    else:
        if not account:
            return {}  # the local registry has no AWS account behind it
        check_account(account)
        if not region:
            raise FactoryError(Problem("--region", "$", "aws-region", "an ARN needs a region",
                                       "pass --region with --account, or --no-arn"))
        partition = "aws"
    return {record.agent["agent_name"]: state_machine_arn(record.agent["agent_name"], registry.env_name,
                                                          account, region, partition)
            for record in records}
