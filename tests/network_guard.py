"""The guard that keeps tests on loopback: a connection anywhere else fails (and is recorded).

tests/conftest.py installs it around every test; tests/netguard/sitecustomize.py installs it in
a child process (the page under test), which writes each refused address to HUIBAO_NETGUARD_LOG
because the child may swallow the error (Streamlit's IP look-up does)."""

from __future__ import annotations

import ipaddress
import os
import socket

real_connect = socket.socket.connect
real_connect_ex = socket.socket.connect_ex

LOG_VARIABLE = "HUIBAO_NETGUARD_LOG"


class NetworkAccessError(AssertionError):
    pass


def is_loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name that is not localhost would need DNS: refuse


def _refuse(address) -> None:
    log = os.environ.get(LOG_VARIABLE)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{address!r}\n")
    raise NetworkAccessError(f"test tried to reach the network: {address!r}")


def guarded_connect(self, address):
    if not is_loopback(address):
        _refuse(address)
    return real_connect(self, address)


def guarded_connect_ex(self, address):
    if not is_loopback(address):
        _refuse(address)
    return real_connect_ex(self, address)


def install() -> None:
    """For a whole process (the child under test); tests use the monkeypatched fixture."""
    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
