"""What only the DynamoDB backend can get wrong: reaching it, its tables, its request count."""

from __future__ import annotations

import socket
import time
from collections import Counter

import pytest

from factory.errors import FactoryError
from factory.registry.dynamodb import DynamoRegistry, DynamoSettings
from factory.registry.records import RecordPair
from factory.registry.service import list_templates, register
from factory.registry.tables import AGENT_TABLE, TEMPLATE_TABLE
from tests.registry.helpers import ENV, REGION, pairs_of, reset_moto, variant


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def moto(moto_endpoint: str) -> str:
    reset_moto(moto_endpoint)
    return moto_endpoint


def dynamo(endpoint: str, **settings: object) -> DynamoRegistry:
    return DynamoRegistry(DynamoSettings(env_name=ENV, region=REGION, endpoint_url=endpoint, **settings))  # type: ignore[arg-type]


def count_requests(registry: DynamoRegistry) -> Counter[str]:
    counts: Counter[str] = Counter()

    def count(**kwargs: object) -> None:
        counts[str(kwargs["event_name"]).rsplit(".", 1)[-1]] += 1

    registry.client.meta.events.register_first("before-send.dynamodb", count)
    return counts


def test_unreachable_endpoint_fails_fast_and_clearly() -> None:
    registry = dynamo(f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    with pytest.raises(FactoryError) as caught:
        list_templates(registry)
    assert time.monotonic() - started < 10
    (problem,) = caught.value.problems
    assert problem.rule == "unreachable" and "cannot reach DynamoDB" in problem.message
    assert "--endpoint-url" in problem.hint


def test_missing_table_says_how_to_make_it(moto: str, bundled_records: list[RecordPair]) -> None:
    registry = dynamo(moto)
    with pytest.raises(FactoryError) as caught:
        register(registry, pairs_of(*bundled_records))
    (problem,) = caught.value.problems
    assert problem.rule == "table-missing"
    assert f"TemplateRegistry-{ENV}" in problem.message
    assert "--create-tables" in problem.hint and "shared stack" in problem.hint


def test_create_tables_makes_keys_and_indexes_and_is_idempotent(moto: str) -> None:
    registry = dynamo(moto)
    registry.create_tables()
    registry.create_tables()
    for shape in (TEMPLATE_TABLE, AGENT_TABLE):
        table = registry.client.describe_table(TableName=shape.table_name(ENV))["Table"]
        assert [k["AttributeName"] for k in table["KeySchema"]] == [shape.partition_key, shape.sort_key]
        names = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
        names |= {i["IndexName"] for i in table.get("LocalSecondaryIndexes", [])}
        assert names == {index.name for index in shape.indexes}


def test_table_names_can_be_overridden(moto: str, bundled_records: list[RecordPair]) -> None:
    registry = dynamo(moto, template_table="Templates-custom", agent_table="Agents-custom")
    registry.create_tables()
    register(registry, pairs_of(bundled_records[0]))
    assert registry.client.scan(TableName="Templates-custom")["Count"] == 1
    assert registry.client.scan(TableName="Agents-custom")["Count"] == 1


def test_request_budget(moto: str, bundled_records: list[RecordPair]) -> None:
    """At most 3 requests per new schema; unchanged ones share one batched check."""
    registry = dynamo(moto)
    registry.create_tables()
    records = [variant(bundled_records[0], template_id=f"budget_{n:03d}") for n in range(51)]
    counts = count_requests(registry)
    register(registry, pairs_of(*records))
    assert counts == Counter({"BatchGetItem": 2, "TransactWriteItems": 2})
    counts.clear()
    register(registry, pairs_of(*records))
    assert counts == Counter({"BatchGetItem": 2})


def test_no_region_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FactoryError, match="no AWS region"):
        DynamoRegistry(DynamoSettings(env_name=ENV))


def test_unprocessed_keys_are_fetched_again(moto: str, bundled_records: list[RecordPair]) -> None:
    import json

    from botocore.awsrequest import AWSResponse

    registry = dynamo(moto)
    registry.create_tables()
    pairs = pairs_of(*bundled_records)
    register(registry, pairs)
    counts = count_requests(registry)
    deferred: list[int] = []

    class Raw:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def stream(self, **_: object):  # type: ignore[no-untyped-def]
            yield self.body

    def defer_everything_once(request, **_: object):  # type: ignore[no-untyped-def]
        if deferred:
            return None
        deferred.append(1)
        body = json.dumps({"Responses": {}, "UnprocessedKeys": json.loads(request.body)["RequestItems"]}).encode()
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, Raw(body))

    registry.client.meta.events.register("before-send.dynamodb.BatchGetItem", defer_everything_once)
    results = register(registry, pairs)
    assert {r.outcome for r in results} == {"unchanged"}
    assert counts["BatchGetItem"] == 2 and deferred == [1]


def test_client_uses_adaptive_retries(moto: str) -> None:
    assert dynamo(moto).client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 3}
