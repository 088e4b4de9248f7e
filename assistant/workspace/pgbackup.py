"""Backing up and restoring a workspace on PostgreSQL with the server's own tools.

* A backup is ``pg_dump --format=custom``: one consistent snapshot (a repeatable-read transaction)
  while the app keeps writing. It is written to a temporary file beside the target, checked (it
  lists and its rows read back) and renamed into place: the target is never half-written.
* A backup is checked before anything changes: its table of contents must list the workspace's
  tables, and its ``schema_version`` must not be newer than this program.
* A restore is one transaction (``psql --single-transaction``, stopping at the first error): it
  takes the write lock every app process takes, drops the workspace's tables and loads the
  backup's (the SQL ``pg_restore`` writes). If anything fails, the database is as it was; app
  processes keep their connections and read the restored workspace on their next request. An
  older backup is migrated afterwards, as opening it would.

The password in ``HUIBAO_DATABASE_URL`` is handed to the tools in ``PGPASSWORD``, never on their
command line (where any user of the machine could read it with ``ps``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from assistant.core.errors import InputError, StoreError
from assistant.workspace.db import WRITE_LOCK_KEY, connect, libpq_url, masked_database_url, reason_zh
from assistant.workspace.schema import SCHEMA_VERSION, newer_message

DUMP_MAGIC = b"PGDMP"  # the first bytes of pg_dump's custom format
# Every table of the current schema (tests/test_pg_backup.py checks the list against a new workspace).
WORKSPACE_TABLES = (
    "alembic_version",
    "audit",
    "batches",
    "chat_messages",
    "chat_proposals",
    "comments",
    "figure_snapshots",
    "memberships",
    "reports",
    "reviews",
    "schema_version",
    "sections",
    "sessions",
    "users",
    "versions",
)
_REQUIRED = ("schema_version", "reports", "sections", "versions")
_TOOL_TIMEOUT_S = 3600


@dataclass(frozen=True)
class DatabaseSummary:
    reports: int
    versions: int
    schema_version: int
    size: int = 0  # bytes (the live database's)


def tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, or where Debian keeps it (/usr/lib/postgresql/N/bin)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0)
    )
    if candidates:
        return candidates[-1]
    raise StoreError(
        f"找不到 {name}：备份和恢复 PostgreSQL 工作区需要 PostgreSQL 客户端程序"
        "（Debian/Ubuntu：apt-get install postgresql-client，版本不低于数据库服务器）。"
    )


def _connection_args(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that carries the password."""
    parts = urlsplit(libpq_url(url))
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = parts.password
        user = f"{parts.username}@" if parts.username else ""
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=user + host)
    return urlunsplit(parts), env


def _run(args: list[str], *, env: dict[str, str] | None = None, what: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=_TOOL_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise StoreError(f"{what}失败：{err}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = "；".join(lines[-3:]) if lines else f"退出码 {done.returncode}"
        raise StoreError(f"{what}失败：{reason}")
    return done


def is_dump(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(DUMP_MAGIC)) == DUMP_MAGIC
    except OSError:
        return False


def read_dump(path: Path, *, refuse_newer: bool = True) -> DatabaseSummary:
    """What a pg_dump file holds, read without touching any database; InputError if it is not a
    usable workspace backup (or, with ``refuse_newer``, one newer than this program)."""
    try:
        listing = _run([tool("pg_restore"), "--list", str(path)], what="读取备份文件")
    except StoreError as err:
        raise InputError(f"{path} 不是有效的 PostgreSQL 备份文件（{err}）。工作区未作改动。") from None
    tables = set(re.findall(r" TABLE DATA \S+ (\w+) ", listing.stdout))
    missing = [t for t in _REQUIRED if t not in tables]
    if missing:
        raise InputError(
            f"{path} 是 PostgreSQL 备份，但不是 huibao 工作区（缺少数据表 {'、'.join(missing)}）。工作区未作改动。"
        )
    args = [tool("pg_restore"), "--data-only", "--file=-"]
    for table in ("schema_version", "reports", "versions"):
        args += ["--table", table]
    data = _run([*args, str(path)], what="读取备份文件").stdout
    rows = _copy_rows(data)
    version = int(rows["schema_version"][0]) if rows.get("schema_version") else 0
    if refuse_newer and version > SCHEMA_VERSION:
        raise InputError(f"{path}：{newer_message(version, '备份的工作区')}工作区未作改动。")
    return DatabaseSummary(len(rows.get("reports", [])), len(rows.get("versions", [])), version)


def _copy_rows(sql: str) -> dict[str, list[str]]:
    """Rows of each ``COPY table (…) FROM stdin;`` block in pg_restore's SQL, by table."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in sql.splitlines():
        if current is None:
            m = re.match(r"COPY (?:\w+\.)?(\w+) .* FROM stdin;$", line)
            if m:
                current = out.setdefault(m.group(1), [])
        elif line == "\\.":
            current = None
        else:
            current.append(line)
    return out


def dump(url: str, target: Path) -> DatabaseSummary:
    """``pg_dump`` of the workspace's database to ``target`` (written whole or not at all)."""
    dsn, env = _connection_args(url)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        args = [tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={tmp}"]
        args += [f"--table={t}" for t in WORKSPACE_TABLES]
        _run([*args, dsn], env=env, what=f"备份工作区数据库 {masked_database_url(url)}")
        found = read_dump(tmp, refuse_newer=False)  # a copy is always possible; restoring it is checked
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return found


def holds_workspace(url: str) -> bool:
    conn = connect(url)
    try:
        return "schema_version" in conn.table_names()
    finally:
        conn.close()


def summary(url: str) -> DatabaseSummary:
    conn = connect(url)
    try:
        reports = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        versions = conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
        version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        return DatabaseSummary(int(reports), int(versions), int(version or 0), int(size))
    finally:
        conn.close()


def restore(url: str, source: Path) -> None:
    """Replace the workspace's tables with the backup's, in one transaction."""
    dsn, env = _connection_args(url)
    load = _run(
        [tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(source)], what="读取备份文件"
    ).stdout
    drops = "".join(f'DROP TABLE IF EXISTS "{t}" CASCADE;\n' for t in WORKSPACE_TABLES)
    script = (
        # The write lock every app process takes: no version is saved halfway through the swap.
        f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY});\n" + drops + load
    )
    fd, script_name = tempfile.mkstemp(prefix="huibao-restore-", suffix=".sql")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(script)
        _run(
            [
                tool("psql"),
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                f"--file={script_name}",
                dsn,
            ],
            env=env,
            what="恢复（工作区未作改动）",
        )
    finally:
        with contextlib.suppress(OSError):
            os.unlink(script_name)


# Parents before children (foreign keys): the order rows are copied in from a SQLite workspace.
COPY_ORDER = (
    "reports",
    "figure_snapshots",
    "sections",
    "batches",
    "versions",
    "chat_messages",
    "chat_proposals",
    "comments",
    "users",
    "memberships",
    "sessions",
    "audit",
    "reviews",
)
_SERIAL_TABLES = (
    "figure_snapshots",
    "batches",
    "versions",
    "chat_messages",
    "chat_proposals",
    "comments",
    "audit",
    "reviews",
)


def load_sqlite(url: str, source: Path) -> None:
    """Replace the database workspace's rows with those of a SQLite workspace file at the same
    schema version (an office moving its single-server workspace onto PostgreSQL), in one
    transaction under the write lock; the id counters continue after the copied rows."""
    conn = connect(url)
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.begin_write()
        try:
            quoted = ", ".join(f'"{t}"' for t in COPY_ORDER)
            conn.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
            for table in COPY_ORDER:
                cursor = reader.execute(f'SELECT * FROM "{table}"')
                columns = [d[0] for d in cursor.description]
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join("?" for _ in columns)
                for row in cursor:
                    conn.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', row)
            for table in _SERIAL_TABLES:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM \"{table}\""
                )
            conn.commit()
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
    except conn.errors as err:
        raise StoreError(f"恢复失败，工作区未作改动：{reason_zh(err)}") from None
    finally:
        reader.close()
        conn.close()
