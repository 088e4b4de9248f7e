"""Test-wide guards: no network beyond loopback, no user settings, data in a temp folder."""

from __future__ import annotations

import socket

import pytest

from assistant.testing.openai_server import FakeOpenAIServer
from tests.kb_fixtures.helpers import embedder  # noqa: F401  (session fixture shared by the knowledge-base tests)
from tests.network_guard import guarded_connect, guarded_connect_ex


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    yield


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    """No key, endpoint or config file of the developer's leaks into a test; data goes to tmp."""
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "HUIBAO_MODEL", "HUIBAO_BASE_URL", "HUIBAO_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HUIBAO_CONFIG", str(tmp_path / "no-such-huibao.toml"))
    monkeypatch.setenv("HUIBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    from assistant.core.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def fake_openai():
    """A started local OpenAI-compatible server (assistant.testing.openai_server), stopped after the test."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on a loopback port for the whole session (tests/pg_server.py);
    skipped, with the reason, where one cannot be started."""
    from tests import pg_server

    why = pg_server.unavailable()
    if why:
        pytest.skip(f"PostgreSQL 测试跳过：{why}")
    server = pg_server.PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def workspace_target(request, tmp_path):
    """Where a test's workspace lives: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return tmp_path / "ws.sqlite3"
    return request.getfixturevalue("postgres").new_database()
