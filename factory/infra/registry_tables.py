"""TemplateRegistry-{env}, AgentRegistry-{env} and ToolRegistry-{env} as a CDK construct.

Keys and indexes come from `factory.registry.tables`, the same definitions
`register --create-tables` uses, and the table ARNs are exported under the
names generated agent stacks import (`factory.exports`), so a deployed
registry and a dev one cannot differ and agent stacks always find theirs.
The tables carry the indexes step-functions-agent's stacks create as well as
ours (AgentsByLLM, AgentsByEnvironment, the ToolRegistry indexes), so one
deployment serves both systems' readers.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from factory.exports import AGENT_REGISTRY_TABLE_ARN, TEMPLATE_REGISTRY_TABLE_ARN, export_name
from factory.registry.records import check_env_name
from factory.registry.tables import AGENT_TABLE, TEMPLATE_TABLE, TOOL_TABLE, TableShape

PROTECTED_ENVS = ("prod",)


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class RegistryTables(Construct):
    """Both registry tables with their indexes and exported ARNs.

    `protect` (default: the env is prod) turns on point-in-time recovery and
    deletion protection and retains the tables when the stack goes away:
    registered versions are meant to outlive any deployment.
    """

    def __init__(self, scope: Construct, construct_id: str, *, env_name: str, protect: bool | None = None) -> None:
        super().__init__(scope, construct_id)
        check_env_name(env_name)
        self.env_name = env_name
        self.protected = env_name in PROTECTED_ENVS if protect is None else protect
        self.template_table = self._table("TemplateRegistry", TEMPLATE_TABLE)
        self.agent_table = self._table("AgentRegistry", AGENT_TABLE)
        self.tool_table = self._table("ToolRegistry", TOOL_TABLE)
        for construct_name, table, value in (
            ("TemplateRegistryTableArn", self.template_table, TEMPLATE_REGISTRY_TABLE_ARN),
            ("AgentRegistryTableArn", self.agent_table, AGENT_REGISTRY_TABLE_ARN),
        ):
            CfnOutput(self, construct_name, value=table.table_arn, export_name=export_name(env_name, value),
                      description=f"ARN of {table.node.id}-{env_name}")

    def _table(self, construct_id: str, shape: TableShape) -> dynamodb.Table:
        table = dynamodb.Table(
            self, construct_id,
            table_name=shape.table_name(self.env_name),
            partition_key=_string(shape.partition_key),
            sort_key=_string(shape.sort_key) if shape.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=self.protected),
            deletion_protection=self.protected,
            removal_policy=RemovalPolicy.RETAIN if self.protected else RemovalPolicy.DESTROY,
        )
        for index in shape.indexes:
            if index.local:
                table.add_local_secondary_index(index_name=index.name, sort_key=_string(index.sort_key),
                                                projection_type=dynamodb.ProjectionType.ALL)
            else:
                table.add_global_secondary_index(index_name=index.name, partition_key=_string(index.partition_key),
                                                 sort_key=_string(index.sort_key),
                                                 projection_type=dynamodb.ProjectionType.ALL)
        return table
