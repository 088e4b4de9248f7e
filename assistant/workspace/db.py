"""The database under the workspace: one SQLite file, or a PostgreSQL database (``HUIBAO_DATABASE_URL``).

``assistant.workspace.store`` writes its SQL once, in SQLite's dialect; this module runs it on either
backend behind one small connection interface, so the store's rules (one transaction per write,
version numbers taken under the write lock) are the same code on both.

* SQLite: the file, WAL, ``synchronous=FULL``; a write is ``BEGIN IMMEDIATE`` (the write lock is
  taken before anything is read).
* PostgreSQL (psycopg 3): a write is ``BEGIN`` followed by a transaction-scoped advisory lock, so
  writers from every app process queue exactly as SQLite's writers do, and a version number read
  inside the transaction cannot be taken by another writer before it commits. ``lock_timeout``
  plays SQLite's busy timeout. A read is one ``REPEATABLE READ READ ONLY`` transaction (one
  consistent state, as SQLite's read transaction). A connection the server dropped is replaced at
  the start of the next transaction.

The SQL is translated for PostgreSQL when first seen (then cached): ``?`` placeholders become
``%s``; the column ``user`` (a reserved word there) is quoted; ``INSERT OR IGNORE`` becomes
``ON CONFLICT DO NOTHING``; ``char()`` is ``chr()``; an ``INSERT`` into a table with an ``id``
column gets ``RETURNING id`` so that ``lastrowid`` works as it does on SQLite.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from assistant.core.errors import StoreError
from assistant.core.settings import masked_url

BUSY_TIMEOUT_S = 60.0  # a second writer waits this long for the lock before giving up

# Every workspace write takes this one lock (pg_advisory_xact_lock), like SQLite's single writer.
WRITE_LOCK_KEY = 0x6875_6962_616F  # "huibao"

# Tables whose rows carry an ``id`` the server assigns (INTEGER PRIMARY KEY AUTOINCREMENT / SERIAL).
_ID_TABLES = frozenset(
    {"figure_snapshots", "versions", "chat_messages", "chat_proposals", "comments", "batches", "audit", "reviews"}
)
_URL_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


class Row(Protocol):
    """A result row: by position or by column name (sqlite3.Row and ``PgRow`` both are)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    @property
    def lastrowid(self) -> int | None: ...

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the store needs of a database connection."""

    dialect: str  # "sqlite" | "postgresql"
    errors: tuple[type[BaseException], ...]  # the driver's errors (caught as "the write failed")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def begin_write(self) -> None: ...

    def begin_read(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    @property
    def in_transaction(self) -> bool: ...

    def table_names(self) -> set[str]: ...

    def close(self) -> None: ...


def is_database_url(target: str | Path) -> bool:
    """Whether ``target`` names a PostgreSQL server (a URL) rather than a SQLite file (a path)."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in _URL_SCHEMES and "://" in target


def libpq_url(url: str) -> str:
    """The URL as libpq, pg_dump and psql take it (SQLAlchemy's ``+psycopg`` driver suffix removed)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.lower() in _URL_SCHEMES else url


def sqlalchemy_url(url: str) -> str:
    """The URL as SQLAlchemy (Alembic) takes it: always the psycopg 3 driver."""
    return "postgresql+psycopg://" + libpq_url(url).split("://", 1)[1]


def masked_database_url(url: str) -> str:
    """A database URL as shown to people: ``masked_url`` (no password, no query), but with the
    user name kept, which an administrator needs to tell which role failed to sign in."""
    url = libpq_url(url)
    shown = masked_url(url)
    try:
        user = urlsplit(url).username
    except ValueError:
        user = None
    return shown.replace("://", f"://{user}@", 1) if user and "://" in shown else shown


# What the database said, in Chinese: the drivers' messages are English. A message not listed
# here is shown as the database wrote it, after "数据库报错".
_REASONS_ZH = (
    ("file is not a database", "不是 SQLite 数据库文件"),
    ("database disk image is malformed", "文件已损坏"),
    ("database or disk is full", "磁盘已满"),
    ("disk i/o error", "磁盘读写出错"),
    ("readonly database", "文件只读，不能写入"),
    ("unable to open database file", "打不开文件（目录不存在或没有权限）"),
    ("database is locked", "被其他程序占用"),
    ("lock timeout", "等待写入锁超时"),
    ("constraint", "数据不符合表的约束"),
    ("violates", "数据不符合表的约束"),
    ("connection", "与数据库服务器的连接中断"),
    ("server closed", "与数据库服务器的连接中断"),
    ("terminating connection", "数据库服务器正在关闭或重启"),
)


def reason_zh(err: BaseException) -> str:
    """A database error as a Chinese reason (the driver's own words only where unknown)."""
    text = str(err).strip() or type(err).__name__
    lowered = text.lower()
    for needle, reason in _REASONS_ZH:
        if needle in lowered:
            return reason
    return f"数据库报错：{text.splitlines()[0]}"


# --- SQLite ----------------------------------------------------------------------------------


class SQLiteConnection:
    dialect = "sqlite"
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as err:
            raise StoreError(f"无法打开工作区文件 {path}：{reason_zh(err)}") from None
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as err:
            conn.close()
            raise StoreError(f"工作区文件 {path} 无法使用：{reason_zh(err)}") from None
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self.raw.execute(sql, params)

    def begin_write(self) -> None:
        self.raw.execute("BEGIN IMMEDIATE")

    def begin_read(self) -> None:
        self.raw.execute("BEGIN")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        self.raw.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def table_names(self) -> set[str]:
        return {r[0] for r in self.raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def close(self) -> None:
        self.raw.close()


# --- PostgreSQL ------------------------------------------------------------------------------


class PgRow(Sequence[Any]):
    """A row read by position or by column name, as sqlite3.Row is."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: Sequence[Any]) -> None:
        self._index = index
        self._values = values

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._index, self._values))!r})"


def _row_factory(cursor: Any) -> Any:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(index, values)


_LITERAL = re.compile(r"('(?:[^']|'')*')")
_INSERT_INTO = re.compile(r"^\s*INSERT\s+(?:OR\s+IGNORE\s+)?INTO\s+(\w+)", re.IGNORECASE)


@lru_cache(maxsize=512)
def postgres_sql(sql: str) -> tuple[str, bool]:
    """``sql`` (SQLite's dialect, ``?`` placeholders) for psycopg; and whether it returns the new id."""
    parts = _LITERAL.split(sql)
    for i in range(0, len(parts), 2):  # outside string literals only
        code = parts[i].replace("%", "%%").replace("?", "%s")
        code = re.sub(r'(?<!")\buser\b(?!")', '"user"', code)
        code = re.sub(r"\bchar\(", "chr(", code)
        parts[i] = code
    for i in range(1, len(parts), 2):
        parts[i] = parts[i].replace("%", "%%")
    out = "".join(parts)
    ignore = re.match(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", out, re.IGNORECASE) is not None
    if ignore:
        out = re.sub(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", "INSERT INTO", out, count=1, flags=re.IGNORECASE)
        out += " ON CONFLICT DO NOTHING"
    insert = _INSERT_INTO.match(sql)
    returns_id = bool(insert and insert.group(1) in _ID_TABLES and "RETURNING" not in sql.upper())
    if returns_id:
        out += " RETURNING id"
    return out, returns_id


class PgCursor:
    """psycopg's cursor with sqlite3's ``lastrowid`` (read from ``RETURNING id``)."""

    def __init__(self, cursor: Any, returns_id: bool) -> None:
        self._cursor = cursor
        self.rowcount: int = cursor.rowcount
        self.lastrowid: int | None = None
        if returns_id:
            row = cursor.fetchone()
            self.lastrowid = int(row[0]) if row is not None else None

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


class PostgresConnection:
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg  # only a workspace on a server pays for the driver

        self._psycopg = psycopg
        self.url = url
        self.errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        self.raw = self._connect()

    def _connect(self) -> Any:
        psycopg = self._psycopg
        try:
            conn = psycopg.connect(
                libpq_url(self.url),
                autocommit=True,  # transactions are explicit: BEGIN … COMMIT, as on SQLite
                row_factory=_row_factory,
                connect_timeout=10,
                # No server-side prepared statements: a restore replaces the tables under them, and
                # a connection pooler in transaction mode (PgBouncer) cannot keep them.
                prepare_threshold=None,
                application_name="huibao",
                options=f"-c lock_timeout={int(BUSY_TIMEOUT_S * 1000)}",
            )
        except psycopg.Error as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise StoreError(
                f"无法连接工作区数据库 {masked_database_url(self.url)}：{reason}。"
                "请检查 HUIBAO_DATABASE_URL、数据库服务是否在运行、用户名和密码。"
            ) from None
        return conn

    def _ensure_open(self) -> None:
        """A connection the server dropped (restart, idle timeout) is replaced before a new transaction."""
        if self.raw.closed or self.raw.broken:
            self.raw = self._connect()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        query, returns_id = postgres_sql(sql)
        return PgCursor(self.raw.execute(query, tuple(params)), returns_id)

    def begin_write(self) -> None:
        self._ensure_open()
        self.raw.execute("BEGIN")
        try:
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        except BaseException:
            self.rollback()
            raise

    def begin_read(self) -> None:
        self._ensure_open()
        self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if not self.raw.closed:
            self.raw.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        if self.raw.closed:
            return False
        return self.raw.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE

    def table_names(self) -> set[str]:
        rows = self.raw.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {r[0] for r in rows}

    def close(self) -> None:
        self.raw.close()


def connect(target: str | Path) -> SQLiteConnection | PostgresConnection:
    """A connection to the workspace at ``target``: a PostgreSQL URL or a SQLite file's path."""
    if is_database_url(target):
        return PostgresConnection(str(target))
    return SQLiteConnection(Path(target))
