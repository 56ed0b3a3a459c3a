"""Fixtures: one moto server for the session, reset per test; every registry
behaviour runs against both backends through the `make_registry` factory."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from factory.emit.agent_record import agent_record
from factory.emit.browser_template import template_record
from factory.generation import load_valid
from factory.registry.records import RecordPair
from factory.registry.dynamodb import DynamoRegistry, DynamoSettings
from factory.registry.protocol import Registry
from factory.registry.sqlite import SqliteRegistry
from tests.registry.helpers import ENV, REGION, REPO, reset_moto


def atomic_moto_server() -> Any:
    """moto's threaded server with one request handled at a time.

    moto runs concurrent requests against shared Python dicts: two
    TransactWriteItems can both pass `attribute_not_exists`, and a cancelled
    transaction restores a snapshot of the whole table, erasing a write made
    meanwhile by another thread. DynamoDB applies each request atomically, so
    the server here does too (a lock around the WSGI app); the clients still
    race freely between their reads and their conditional writes, which is
    what the race test exercises.
    """
    from moto.server import DomainDispatcherApplication, ThreadedMotoServer, create_backend_app
    from werkzeug.serving import make_server

    class AtomicMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            lock = threading.Lock()

            def one_at_a_time(environ: Any, start_response: Any) -> Any:
                with lock:
                    return list(app(environ, start_response))

            self._server = make_server(self._ip_address, self._port, one_at_a_time, True)
            self._server_ready_event.set()
            self._server.serve_forever()

    return AtomicMotoServer(ip_address="127.0.0.1", port=0, verbose=False)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = atomic_moto_server()
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def dummy_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials only; nothing from the machine's AWS configuration."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "SCHEMA_FACTORY_ENV"):
        monkeypatch.delenv(name, raising=False)



@pytest.fixture(params=["dynamodb", "sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_registry(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Registry]:
    """A fresh registry per call (threads get their own), tables created once."""
    if backend == "dynamodb":
        endpoint = request.getfixturevalue("moto_endpoint")
        reset_moto(endpoint)

        def make(page_size: int | None = 2) -> Registry:
            return DynamoRegistry(DynamoSettings(env_name=ENV, region=REGION, endpoint_url=endpoint,
                                                 page_size=page_size))
    else:
        path = tmp_path / "registry.sqlite"

        def make(page_size: int | None = 2) -> Registry:
            return SqliteRegistry(ENV, path, page_size=page_size or 100)

    make().create_tables()
    return make


@pytest.fixture
def registry(make_registry: Callable[..., Registry]) -> Registry:
    return make_registry()


@pytest.fixture(scope="session")
def bundled_records() -> list[RecordPair]:
    loaded = load_valid([REPO / "schemas"])
    return [RecordPair(item.source.display, template_record(item.schema), agent_record(item.schema))
            for item in loaded]




@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's schemas and generated files as the working directory."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "generated", root / "generated")
    monkeypatch.chdir(root)
    return root



@pytest.fixture
def where(backend: str, project: Path, request: pytest.FixtureRequest) -> list[str]:
    """The flags that point a command at a fresh registry of the backend under test."""
    if backend == "dynamodb":
        endpoint = request.getfixturevalue("moto_endpoint")
        reset_moto(endpoint)
        return ["--env", ENV, "--endpoint-url", endpoint, "--region", REGION]
    return ["--env", ENV, "--backend", "sqlite", "--registry-file", str(project / "registry.sqlite")]
