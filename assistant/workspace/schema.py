"""The workspace schema's versions and migrations, for both backends (Alembic).

The scripts are in ``assistant/workspace/migrations/versions``: revision ``0001`` creates the first
released layout and each later one brings it one ``schema_version`` further, setting that number
too (older huibao releases read it to refuse a newer workspace). A SQLite workspace made before
Alembic has ``schema_version`` but no ``alembic_version``: it is stamped with the revision of its
version and upgraded from there.

Opening a workspace that is already current reads two small tables and imports nothing of Alembic
or SQLAlchemy (they cost a command ~0.3 s to import). A migration runs on its own connection in
one transaction that first takes the workspace's write lock (SQLite ``BEGIN IMMEDIATE``; the
PostgreSQL advisory lock every writer takes), so two processes opening an old workspace at once
migrate it once, and a migration that fails leaves nothing half-done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core.errors import StoreError
from assistant.workspace.db import WRITE_LOCK_KEY, Connection, is_database_url, sqlalchemy_url

SCHEMA_VERSION = 6
HEAD_REVISION = "0006"
# schema_version -> the Alembic revision that brings a workspace to it
REVISION_OF_VERSION = {v: f"{v:04d}" for v in range(1, SCHEMA_VERSION + 1)}

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class SchemaState:
    version: int  # schema_version: 0 = empty; -1 = tables that are not a workspace
    revision: str | None  # Alembic's revision; None before Alembic managed the file

    @property
    def current(self) -> bool:
        return self.version == SCHEMA_VERSION and self.revision == HEAD_REVISION


def read_state(conn: Connection) -> SchemaState:
    """The schema version and Alembic revision, read without writing anything."""
    tables = conn.table_names()
    if "schema_version" not in tables:
        return SchemaState(0 if not tables - {"alembic_version"} else -1, None)
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    revision = None
    if "alembic_version" in tables:
        found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = str(found[0]) if found else None
    return SchemaState(int(row[0] or 0), revision)


def newer_message(found: int, noun: str = "工作区") -> str:
    return f"{noun}版本（{found}）高于本程序支持的版本（{SCHEMA_VERSION}），请升级 huibao。"


def _engine(target: str | Path) -> Any:
    from sqlalchemy import create_engine, event  # heavy (~0.2 s): only a migration needs it
    from sqlalchemy.engine import URL  # as above
    from sqlalchemy.pool import NullPool  # as above

    if is_database_url(target):
        return create_engine(sqlalchemy_url(str(target)), poolclass=NullPool)
    engine = create_engine(URL.create("sqlite", database=str(target)), poolclass=NullPool)

    # pysqlite neither begins a transaction before DDL nor takes the write lock early: do both,
    # as SQLAlchemy's documentation recommends, so the whole migration is one locked transaction.
    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def upgrade(target: str | Path, revision: str = "head") -> None:
    """Bring the workspace at ``target`` to ``HEAD_REVISION`` (creating it when empty).
    ``revision``: stop earlier (tests make old workspaces so)."""
    from alembic import command  # heavy (~0.4 s with SQLAlchemy): only when a migration runs
    from alembic.config import Config  # as above
    from alembic.runtime.migration import MigrationContext  # as above
    from alembic.script import ScriptDirectory  # as above
    from sqlalchemy import text  # as above
    from sqlalchemy.exc import DBAPIError  # as above

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    engine = _engine(target)
    try:
        with engine.connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
            # Read again under the lock: another process may have migrated meanwhile.
            tables = set(connection.dialect.get_table_names(connection))
            version = 0
            if "schema_version" in tables:
                version = int(connection.execute(text("SELECT MAX(version) FROM schema_version")).scalar() or 0)
            elif tables - {"alembic_version"}:
                raise StoreError("这里已有其他数据表，不是 huibao 工作区。")
            if version > SCHEMA_VERSION:
                raise StoreError(newer_message(version))
            context = MigrationContext.configure(connection)
            if version and not context.get_current_heads():
                context.stamp(script, REVISION_OF_VERSION[version])  # a workspace from before Alembic
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except DBAPIError as err:  # disk full, I/O error, connection lost: the transaction rolled back
        raise StoreError(f"工作区表结构的建立或迁移失败，未作任何改动：{err.orig}") from None
    finally:
        engine.dispose()
