"""Test-wide guards: no network beyond loopback, no user settings, data in a temp folder."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from assistant.testing.openai_server import FakeOpenAIServer
from tests.kb_fixtures.helpers import embedder  # noqa: F401  (session fixture shared by the knowledge-base tests)

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name that is not localhost would need DNS: refuse


class NetworkAccessError(AssertionError):
    pass


def _guarded_connect(self, address):
    if not _is_loopback(address):
        raise NetworkAccessError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_loopback(address):
        raise NetworkAccessError(f"test tried to reach the network: {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
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
