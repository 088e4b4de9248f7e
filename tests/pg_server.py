"""A real PostgreSQL server for the tests: ``initdb`` and ``postgres`` in a temporary folder,
listening on a loopback port only, stopped when the test session ends.

PostgreSQL refuses to run as root, so as root the server runs as the unprivileged ``postgres``
user (``runuser -u postgres``, from the Debian package); as another user it runs as that user
(or through ``sudo -u postgres`` where the folder cannot be theirs). ``scripts/system-deps.sh``
installs the package. Where the binaries are missing, or root is needed and neither root nor
sudo is available, ``unavailable()`` says why and the PostgreSQL tests are skipped with it.

The test server trades durability for speed (``fsync=off``): the tests kill clients, never the
server, so what they check does not depend on it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from assistant.core.errors import StoreError
from assistant.workspace import pgbackup


def pg_bin_dir() -> Path | None:
    """Where initdb/postgres/pg_isready live: found as the product finds pg_dump (Debian keeps them
    out of PATH, under /usr/lib/postgresql/<major>/bin)."""
    try:
        return Path(pgbackup.tool("initdb")).resolve().parent
    except StoreError:
        return None


def _as_postgres_prefix() -> list[str] | None:
    """The command prefix that runs a program as the ``postgres`` user, or None if impossible."""
    if os.geteuid() != 0:
        return []  # an ordinary user may run the server as themselves
    if shutil.which("runuser"):
        try:
            subprocess.run(["id", "postgres"], check=True, capture_output=True)
            return ["runuser", "-u", "postgres", "--"]
        except subprocess.CalledProcessError:
            return None
    return None


def unavailable() -> str | None:
    """Why a PostgreSQL server cannot be started here (None: it can)."""
    if pg_bin_dir() is None:
        return "未安装 PostgreSQL（apt-get install postgresql；scripts/system-deps.sh 在有 root 或 sudo 时自动安装）"
    if _as_postgres_prefix() is None:
        return "以 root 运行但没有 postgres 用户或 runuser，无法启动 PostgreSQL（它拒绝以 root 运行）"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One throwaway cluster; ``new_database()`` gives each test its own empty database."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # fsync on, as a real server (bench/bench_store.py); tests need no fsync
        self.bin = pg_bin_dir()
        self.prefix = _as_postgres_prefix()
        assert self.bin is not None and self.prefix is not None, unavailable()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="huibao-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.proc: subprocess.Popen | None = None
        self._count = 0

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix, *args], check=True, capture_output=True, text=True, **kw)

    def start(self) -> PostgresServer:
        if self.prefix:  # the folder must belong to the user the server runs as
            shutil.chown(self.root, user="postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",  # loopback only, throwaway cluster: no password
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        log = open(self.log, "w")  # noqa: SIM115 (kept open for the server's life)
        if self.prefix:
            shutil.chown(self.log, user="postgres")
        self.proc = subprocess.Popen(
            [
                *self.prefix,
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(self.root),  # the Unix socket too stays in the throwaway folder
                "-c",
                "max_connections=200",
                *(
                    []
                    if self.durable
                    else ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
                ),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"PostgreSQL 未能启动：{self.log.read_text(errors='replace')[-2000:]}")
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
            )
            if ready.returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL 60 秒内没有就绪：{self.log.read_text(errors='replace')[-2000:]}")

    def new_database(self) -> str:
        """A new empty database on this server; its URL."""
        import psycopg

        self._count += 1
        name = f"ws_{os.getpid()}_{self._count}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: smart shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
