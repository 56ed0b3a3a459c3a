"""The DynamoDB backend: the production registry, over boto3.

Every failure the user can fix (no endpoint, no table, no credentials, a
refused request) leaves as a `FactoryError` naming the table and the fix;
botocore's exceptions never reach the CLI. Retries use botocore's adaptive
mode (client-side rate limiting on throttling) with few attempts and short
timeouts, so an unreachable endpoint fails within seconds.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from factory.errors import FactoryError, Problem
from factory.registry.options import REGISTRY_COMMAND_FLAGS, RegistryFlags
from factory.registry.protocol import SUMMARY_ATTRIBUTES, Kind
from factory.registry.records import Key, Stored, StoredTool, author_of, semantic_order, to_decimal
from factory.registry.tables import (
    AGENT_TABLE,
    AGENT_VERSIONS_INDEX,
    AGENTS_BY_EXTRACTION_NAME,
    TEMPLATE_TABLE,
    TEMPLATE_VERSIONS_INDEX,
    TEMPLATES_BY_STATUS,
    TOOL_TABLE,
    TableShape,
)

BATCH_GET_MAX_KEYS = 100
KEY_KINDS: tuple[Kind, ...] = ("template", "agent")  # the tables whose items carry a version
# Attribute names DynamoDB reserves, as the placeholders our expressions use.
RESERVED_WORDS = {"status": "#st", "version": "#v"}
# Only `register` creates tables, so the fix names it whichever command found the table missing.
MISSING_TABLE_HINT = (
    "create the tables with `schema-factory register --create-tables` (dev endpoints), or deploy the shared "
    "stack with the registry tables (factory/infra/registry_tables.py)"
)
INDEX_HINT = "the command reads the base table where an index is absent; report this if it still fails"


@dataclass(frozen=True)
class DynamoSettings:
    """Where the tables are and how to reach them; None means boto3's own default."""

    env_name: str
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    template_table: str | None = None
    agent_table: str | None = None
    tool_table: str | None = None
    page_size: int | None = None
    flags: RegistryFlags = REGISTRY_COMMAND_FLAGS  # the calling command's flags, named by the fixes
    max_attempts: int = 3  # in all, the first try included: bounds the wait on a dead endpoint
    connect_timeout: float = 3.0
    read_timeout: float = 20.0


def make_session(profile: str | None, region: str | None) -> boto3.Session:
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as err:
        raise FactoryError(Problem("--profile", "$", "aws-profile", str(err), "check ~/.aws/config")) from None


def has_aws_configuration(profile: str | None, endpoint_url: str | None) -> bool:
    """Whether anything says "use AWS": an endpoint, a profile, or findable credentials."""
    if endpoint_url or profile:
        return True
    try:
        return boto3.Session().get_credentials() is not None
    except BotoCoreError:
        return False


class DynamoRegistry:
    """TemplateRegistry-{env} and AgentRegistry-{env} in DynamoDB."""

    def __init__(self, settings: DynamoSettings, session: boto3.Session | None = None,
                 notice: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.notice = notice or (lambda text: None)
        self._indexes: dict[str, frozenset[str]] = {}
        self.env_name = settings.env_name
        self.session = session or make_session(settings.profile, settings.region)
        region = settings.region or self.session.region_name
        if region is None and settings.endpoint_url:
            region = "us-east-1"  # local endpoints ignore it, but request signing needs one
        flags = settings.flags
        if region is None:
            raise FactoryError(Problem(flags.region or "AWS_DEFAULT_REGION", "$", "aws-region",
                                       "no AWS region configured", f"{flags.region_fix()}, or use {flags.env} local"))
        self.region = region
        config = Config(
            retries={"mode": "adaptive", "total_max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )
        try:
            self.client = self.session.client("dynamodb", region_name=region,
                                              endpoint_url=settings.endpoint_url, config=config)
        except (BotoCoreError, ValueError) as err:
            raise FactoryError(Problem(flags.endpoint_url, "$", "aws-client", str(err),
                                       f"check {flags.endpoint_url}" + (f" and {flags.region}" if flags.region
                                                                        else ""))) from None
        self.tables = {
            "template": settings.template_table or TEMPLATE_TABLE.table_name(settings.env_name),
            "agent": settings.agent_table or AGENT_TABLE.table_name(settings.env_name),
            "tool": settings.tool_table or TOOL_TABLE.table_name(settings.env_name),
        }
        self.shapes: dict[str, TableShape] = {"template": TEMPLATE_TABLE, "agent": AGENT_TABLE, "tool": TOOL_TABLE}
        self._serializer = TypeSerializer()
        self._deserializer = TypeDeserializer()

    # -- plumbing -----------------------------------------------------------

    def describe(self, *kinds: str) -> str:
        where = self.settings.endpoint_url or f"DynamoDB {self.region}"
        names = " and ".join(self.tables[kind] for kind in kinds or ("template", "agent"))
        return f"{names} at {where}"

    @contextlib.contextmanager
    def _errors(self, *kinds: str) -> Iterator[None]:
        """Turn botocore's failures into problems that say what to do."""
        tables = " or ".join(self.tables[kind] for kind in kinds or ("template", "agent"))
        where = self.settings.endpoint_url or f"DynamoDB in {self.region}"
        flags = self.settings.flags
        try:
            yield
        except (NoCredentialsError, PartialCredentialsError) as err:
            raise FactoryError(Problem(where, "$", "aws-credentials", str(err),
                                       f"configure AWS credentials or use {flags.env} local")) from None
        except NoRegionError as err:
            raise FactoryError(Problem(where, "$", "aws-region", str(err), flags.region_fix())) from None
        except ClientError as err:
            error = err.response.get("Error", {})
            code, message = error.get("Code", "ClientError"), error.get("Message", str(err))
            if "index" in message.lower():
                named = re.findall(r"index:?\s*([A-Za-z0-9_.-]+)", message)
                which = f"index {named[-1]}" if named else "an index"
                raise FactoryError(Problem(where, "$", "index-missing",
                                           f"{which} is missing on table {tables} ({code}: {message})",
                                           INDEX_HINT)) from None
            if code == "ResourceNotFoundException":
                raise FactoryError(Problem(where, "$", "table-missing",
                                           f"registry table {tables} does not exist ({message})",
                                           MISSING_TABLE_HINT)) from None
            raise FactoryError(Problem(where, "$", "dynamodb", f"{code} on {tables}: {message}",
                                       "check the table, your permissions and the request")) from None
        except (BotoConnectionError, HTTPClientError) as err:
            raise FactoryError(Problem(where, "$", "unreachable", f"cannot reach DynamoDB: {err}",
                                       f"check {flags.endpoint_url}, "
                                       + (f"{flags.region} " if flags.region else "the AWS region ")
                                       + "and the network")) from None
        except BotoCoreError as err:
            raise FactoryError(Problem(where, "$", "aws", f"request to {tables} failed: {err}",
                                       "check your AWS configuration")) from None

    def _dump(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: self._serializer.serialize(value) for name, value in to_decimal(item).items()}

    def _load(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: self._deserializer.deserialize(value) for name, value in item.items()}

    def _key(self, key: Key) -> dict[str, Any]:
        shape = self.shapes[key.kind]
        keys = {shape.partition_key: {"S": key.name}}
        if shape.sort_key is not None:
            keys[shape.sort_key] = {"S": key.version}
        return keys

    def _has_index(self, kind: str, index: str) -> bool:
        """Whether the table has the index; tables the existing stacks made lack some of ours.

        Asked once per table (DescribeTable) and only by the commands that
        query an index; a missing index is said once, then the base table is read.
        """
        if kind not in self._indexes:
            with self._errors(kind):
                table = self.client.describe_table(TableName=self.tables[kind])["Table"]
            self._indexes[kind] = frozenset(
                entry["IndexName"] for field in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes")
                for entry in table.get(field) or [])
        if index in self._indexes[kind]:
            return True
        self.notice(f"notice: index {index} is missing on table {self.tables[kind]}; "
                    "reading the base table instead")
        return False

    def _scan_pages(self, kind: str, **params: Any) -> Iterator[dict[str, Any]]:
        params["TableName"] = self.tables[kind]
        if self.settings.page_size:
            params["Limit"] = self.settings.page_size
        while True:
            with self._errors(kind):
                page = self.client.scan(**params)
            for item in page.get("Items", []):
                yield self._load(item)
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _query_pages(self, kind: str, **params: Any) -> Iterator[dict[str, Any]]:
        params["TableName"] = self.tables[kind]
        if self.settings.page_size:
            params["Limit"] = self.settings.page_size
        while True:
            with self._errors(kind):
                page = self.client.query(**params)
            for item in page.get("Items", []):
                yield self._load(item)
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- the protocol -------------------------------------------------------

    def create_tables(self) -> None:
        for kind, shape in self.shapes.items():
            params: dict[str, Any] = {
                "TableName": self.tables[kind],
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"}
                                         for name in shape.key_attributes],
                "KeySchema": [{"AttributeName": shape.partition_key, "KeyType": "HASH"}]
                + ([{"AttributeName": shape.sort_key, "KeyType": "RANGE"}] if shape.sort_key else []),
            }
            for local, field in ((True, "LocalSecondaryIndexes"), (False, "GlobalSecondaryIndexes")):
                indexes = [index for index in shape.indexes if index.local == local]
                if not indexes:
                    continue
                params[field] = [{
                    "IndexName": index.name,
                    "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"},
                                  {"AttributeName": index.sort_key, "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"},
                } for index in indexes]
            with self._errors(kind):
                try:
                    self.client.create_table(**params)
                except ClientError as err:
                    if _code(err) != "ResourceInUseException":  # exists already: fine
                        raise
            with self._errors(kind):
                self.client.get_waiter("table_exists").wait(
                    TableName=self.tables[kind], WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    def fetch(self, keys: list[Key]) -> dict[Key, Stored]:
        found: dict[Key, Stored] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET_MAX_KEYS):
            chunk = unique[start:start + BATCH_GET_MAX_KEYS]
            request: dict[str, Any] = {}
            for kind in ("template", "agent"):
                wanted = [self._key(key) for key in chunk if key.kind == kind]
                if wanted:
                    shape = self.shapes[kind]
                    request[self.tables[kind]] = {
                        "Keys": wanted,
                        "ConsistentRead": True,  # a racing writer's item must be seen once it is written
                        "ProjectionExpression": "#pk, #sk, content_sha256, #st",
                        "ExpressionAttributeNames": {"#pk": shape.partition_key, "#sk": shape.sort_key,
                                                     "#st": "status"},
                    }
            while request:
                with self._errors():
                    response = self.client.batch_get_item(RequestItems=request)
                for kind in KEY_KINDS:
                    shape = self.shapes[kind]
                    for raw in response.get("Responses", {}).get(self.tables[kind], []):
                        item = self._load(raw)
                        sort = item[shape.sort_key or "version"]
                        key = Key(kind, str(item[shape.partition_key]), str(sort))
                        found[key] = Stored(item.get("content_sha256", ""), item.get("status", ""))
                request = response.get("UnprocessedKeys") or {}
        return found

    def put_new(self, items: list[tuple[Key, dict[str, Any]]]) -> bool:
        transact = [{
            "Put": {
                "TableName": self.tables[key.kind],
                "Item": self._dump(item),
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": self.shapes[key.kind].partition_key},
            }
        } for key, item in items]
        return self._transact(transact)

    def set_attribute(self, key: Key, name: str, value: str, expected: str | None) -> bool:
        unchanged = "attribute_not_exists(#a)" if expected is None else "#a = :expected"
        condition = f"attribute_exists(#pk) AND {unchanged}"
        update: dict[str, Any] = {
            "TableName": self.tables[key.kind],
            "Key": self._key(key),
            "UpdateExpression": "SET #a = :value",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": self.shapes[key.kind].partition_key, "#a": name},
            "ExpressionAttributeValues": {":value": {"S": value}, **({} if expected is None else
                                                                     {":expected": {"S": expected}})},
        }
        return self._transact([{"Update": update}])

    def get(self, key: Key) -> dict[str, Any] | None:
        with self._errors(key.kind):
            response = self.client.get_item(TableName=self.tables[key.kind], Key=self._key(key),
                                            ConsistentRead=True)
        item = response.get("Item")
        return self._load(item) if item else None

    def latest(self, kind: Kind, name: str) -> dict[str, Any] | None:
        shape = self.shapes[kind]
        index = TEMPLATE_VERSIONS_INDEX if kind == "template" else AGENT_VERSIONS_INDEX
        key_condition = {"KeyConditionExpression": "#pk = :name",
                         "ExpressionAttributeNames": {"#pk": shape.partition_key},
                         "ExpressionAttributeValues": {":name": {"S": name}}}
        if not self._has_index(kind, index):
            # A Query on the key: every version of one name, ordered here semantically.
            items = list(self._query_pages(kind, **key_condition))
            return max(items, key=lambda item: semantic_order(str(item.get("version", "")))) if items else None
        with self._errors(kind):
            response = self.client.query(TableName=self.tables[kind], IndexName=index,
                                         ScanIndexForward=False, Limit=1, **key_condition)
        items = response.get("Items", [])
        if not items:
            # The versions index is sparse (version_key): another writer's items are only found by the key.
            found = list(self._query_pages(kind, **key_condition))
            return max(found, key=lambda item: semantic_order(str(item.get("version", "")))) if found else None
        return self._load(items[0])

    def templates_with_status(self, status: str) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {
            "ProjectionExpression": ", ".join(RESERVED_WORDS.get(name, name) for name in SUMMARY_ATTRIBUTES),
            "ExpressionAttributeNames": {"#st": "status", "#v": "version"},
            "ExpressionAttributeValues": {":status": {"S": status}},
        }
        if not self._has_index("template", TEMPLATES_BY_STATUS):
            return self._scan_pages("template", FilterExpression="#st = :status", **params)
        return self._query_pages("template", IndexName=TEMPLATES_BY_STATUS, KeyConditionExpression="#st = :status",
                                 **params)

    def agents_for(self, extraction_name: str, version: str, agent_name: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":name": {"S": extraction_name}, ":version": {"S": version}},
        }
        if not self._has_index("agent", AGENTS_BY_EXTRACTION_NAME):
            if agent_name is None:  # a template another writer registered: look through the table
                return list(self._scan_pages("agent", FilterExpression="extraction_name = :name AND #v = :version",
                                             **params))
            params["ExpressionAttributeNames"]["#pk"] = "agent_name"
            params["ExpressionAttributeValues"][":agent"] = {"S": agent_name}
            return list(self._query_pages("agent", KeyConditionExpression="#pk = :agent AND #v = :version",
                                          FilterExpression="extraction_name = :name", **params))
        return list(self._query_pages(
            "agent", IndexName=AGENTS_BY_EXTRACTION_NAME, KeyConditionExpression="extraction_name = :name",
            FilterExpression="#v = :version", **params))

    def fetch_tools(self, names: list[str]) -> dict[str, StoredTool]:
        found: dict[str, StoredTool] = {}
        unique = list(dict.fromkeys(names))
        for start in range(0, len(unique), BATCH_GET_MAX_KEYS):
            request: dict[str, Any] = {self.tables["tool"]: {
                "Keys": [{"tool_name": {"S": name}} for name in unique[start:start + BATCH_GET_MAX_KEYS]],
                "ConsistentRead": True,
                "ProjectionExpression": "tool_name, content_sha256, version_key, author",
            }}
            while request:
                with self._errors("tool"):
                    response = self.client.batch_get_item(RequestItems=request)
                for raw in response.get("Responses", {}).get(self.tables["tool"], []):
                    item = self._load(raw)
                    found[item["tool_name"]] = StoredTool(item.get("content_sha256"), item.get("version_key"),
                                                                author_of(item))
                request = response.get("UnprocessedKeys") or {}
        return found

    def put_tools(self, writes: list[tuple[dict[str, Any], str | None]]) -> bool:
        transact = []
        for item, expected in writes:
            put: dict[str, Any] = {"TableName": self.tables["tool"], "Item": self._dump(item)}
            if expected is None:
                put["ConditionExpression"] = "attribute_not_exists(tool_name)"
            else:
                put["ConditionExpression"] = "content_sha256 = :expected"
                put["ExpressionAttributeValues"] = {":expected": {"S": expected}}
            transact.append({"Put": put})
        return all(self._transact(transact[start:start + 100]) for start in range(0, len(transact), 100))

    def move_status(self, moves: list[tuple[Key, str]], target: str, updated_at: str) -> bool:
        transact = [{
            "Update": {
                "TableName": self.tables[key.kind],
                "Key": self._key(key),
                "UpdateExpression": "SET #st = :target, updated_at = :at",
                "ConditionExpression": "#st = :current",
                "ExpressionAttributeNames": {"#st": "status"},
                "ExpressionAttributeValues": {":target": {"S": target}, ":at": {"S": updated_at},
                                              ":current": {"S": current}},
            }
        } for key, current in moves]
        return self._transact(transact)

    def _transact(self, transact: list[dict[str, Any]]) -> bool:
        """All or nothing; False when a condition failed or another transaction got there first."""
        with self._errors():
            try:
                self.client.transact_write_items(TransactItems=transact)
            except ClientError as err:
                if _code(err) != "TransactionCanceledException":
                    raise
                reasons = {reason.get("Code") for reason in err.response.get("CancellationReasons", [])}
                if reasons - {"None", None, "ConditionalCheckFailed", "TransactionConflict"}:
                    raise
                return False
        return True


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))
