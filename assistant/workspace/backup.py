"""Backing up and restoring the workspace (``huibao backup`` / ``huibao restore-backup``).

SQLite (a file in the data folder):

* A backup is SQLite's online backup API (``Connection.backup``) reading one consistent snapshot
  while other processes keep writing (WAL readers never wait for a writer). It is written to a
  temporary file beside the target, made a single self-contained file (rollback journal, no
  ``-wal``), fsynced and renamed into place: the target is never half-written.
* A restore first checks the file (read-only: a huibao workspace, not newer than this program,
  ``PRAGMA integrity_check`` ok); a bad file changes nothing. The current workspace is then
  backed up beside itself with a timestamp, the file is copied and migrated (as ``Store.open``
  does) beside the workspace, and copied *into* the live workspace with the backup API. That is
  one write transaction on the workspace: other processes keep their connections and see the
  restored content on their next read, instead of writing on into a renamed-away file, and the
  workspace's ``-wal`` can never be replayed onto a different file.

PostgreSQL (``HUIBAO_DATABASE_URL``): ``pg_dump``'s custom format (one consistent snapshot while
the app keeps writing) and ``pg_restore``; see ``assistant.workspace.pgbackup``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assistant.core.errors import InputError, StoreError
from assistant.workspace import pgbackup
from assistant.workspace.db import BUSY_TIMEOUT_S, is_database_url, masked_database_url, reason_zh
from assistant.workspace.store import Store, refuse_unusable


@dataclass(frozen=True)
class WorkspaceSummary:
    """What a workspace (or a backup of one) holds, for the Chinese summary a command prints."""

    path: Path | str  # the file, or the database (its URL without the password)
    reports: int  # including those in the 回收站
    versions: int
    size: int  # bytes
    schema_version: int

    def describe(self) -> str:
        return f"汇报 {self.reports} 份，版本 {self.versions} 个，{_size_zh(self.size)}"


@dataclass(frozen=True)
class RestoreResult:
    restored: WorkspaceSummary  # the workspace as it is now
    safety_copy: WorkspaceSummary | None  # the workspace as it was (None: there was none)


def _size_zh(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(size, 1) / 1024:.1f} KB"


def _summarise(conn: sqlite3.Connection, path: Path) -> WorkspaceSummary:
    reports = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    versions = conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    schema = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    return WorkspaceSummary(path, int(reports), int(versions), path.stat().st_size, int(schema or 0))


def _is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that writes nothing to ``path``, not even a -wal or -shm file."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _copy_to_temp(source: sqlite3.Connection, folder: Path, name: str) -> Path:
    """A consistent copy of ``source`` in a new temporary file in ``folder``, fsynced."""
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        target = sqlite3.connect(tmp, isolation_level=None)
        try:
            source.backup(target)
            # The copy carries the WAL flag of its source; a backup must be one self-contained file.
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


def _check_target(workspace: Path | None, target: Path, force: bool) -> None:
    if target.exists() and not force:
        raise InputError(f"{target} 已存在，未作改动。换一个文件名，或加 --force 覆盖。")
    if target.is_dir():
        raise InputError(f"{target} 是一个目录，请给出备份文件的路径。")
    if workspace is not None and target.resolve() == workspace.resolve():
        raise InputError(f"{target} 就是工作区文件本身，请换一个路径。")
    if not target.parent.is_dir():
        raise InputError(f"目录 {target.parent} 不存在，未作改动。")


def backup_workspace(workspace: str | Path, target: str | Path, *, force: bool = False) -> WorkspaceSummary:
    """Write a consistent copy of ``workspace`` (a SQLite file or a PostgreSQL URL) to ``target``
    (refused if it exists, unless ``force``)."""
    if is_database_url(workspace):
        target = Path(target)
        _check_target(None, target, force)
        found = pgbackup.dump(str(workspace), target)
        return WorkspaceSummary(target, found.reports, found.versions, target.stat().st_size, found.schema_version)
    workspace, target = Path(workspace), Path(target)
    if not workspace.is_file():
        raise InputError(f"工作区文件 {workspace} 不存在，没有可备份的内容。")
    _check_target(workspace, target, force)
    try:
        source = sqlite3.connect(workspace, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as err:
        raise StoreError(f"无法打开工作区文件 {workspace}：{reason_zh(err)}") from None
    try:
        tmp = _copy_to_temp(source, target.parent, target.name)
    except sqlite3.Error as err:
        raise StoreError(f"备份工作区失败，{target} 未作改动：{reason_zh(err)}") from None
    finally:
        source.close()
    try:
        conn = _read_only(tmp)
        try:
            summary = _summarise(conn, tmp)
        finally:
            conn.close()
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_dir(target.parent)
    return WorkspaceSummary(target, summary.reports, summary.versions, target.stat().st_size, summary.schema_version)


def check_backup(path: str | Path, workspace: str | Path | None = None) -> WorkspaceSummary:
    """Read ``path`` without writing anything and say what it holds; InputError if it is no usable
    workspace, or (given ``workspace``) a backup of the other kind of workspace."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"备份文件 {path} 不存在，工作区未作改动。")
    on_server = workspace is not None and is_database_url(workspace)
    if pgbackup.is_dump(path):
        if workspace is not None and not on_server:
            raise InputError(
                f"{path} 是 PostgreSQL 工作区的备份（pg_dump），当前工作区是 SQLite 文件；"
                "请在设置了 HUIBAO_DATABASE_URL 的服务器上恢复。工作区未作改动。"
            )
        found = pgbackup.read_dump(path)
        return WorkspaceSummary(path, found.reports, found.versions, path.stat().st_size, found.schema_version)
    if on_server and not _is_sqlite_file(path):
        raise InputError(
            f"{path} 既不是 PostgreSQL 工作区的备份（huibao backup 写出的 pg_dump 文件），"
            "也不是 SQLite 工作区文件。工作区未作改动。"
        )
    try:
        refuse_unusable(path, hint="请确认这是 huibao backup 写出的文件")
    except StoreError as err:
        raise InputError(f"{err}工作区未作改动。") from None
    try:
        conn = _read_only(path)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "schema_version" not in tables:  # an empty SQLite file
                raise InputError(f"{path} 是空的 SQLite 文件，不是 huibao 工作区。工作区未作改动。")
            try:
                problems = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
            except sqlite3.DatabaseError as err:  # a page too broken for the check to walk
                problems = [str(err)]
            if problems != ["ok"]:
                raise InputError(f"{path} 已损坏（完整性检查：{'；'.join(problems)}）。工作区未作改动。")
            return _summarise(conn, path)
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise InputError(f"{path} 不是有效的工作区文件（{reason_zh(err)}）。工作区未作改动。") from None


def _unused(folder: Path, stem: str, suffix: str) -> Path:
    candidate, n = folder / f"{stem}{suffix}", 2
    while candidate.exists():
        candidate, n = folder / f"{stem}-{n}{suffix}", n + 1
    return candidate


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now()).strftime("%Y%m%d-%H%M%S")


def safety_copy_path(workspace: Path, now: datetime | None = None) -> Path:
    """Where the workspace is saved before a restore: beside it, named by the time."""
    return _unused(workspace.parent, f"{workspace.name}.before-restore-{_stamp(now)}", ".bak")


def database_safety_path(folder: Path, now: datetime | None = None) -> Path:
    """Where a database workspace is dumped before a restore: in ``folder``, named by the time."""
    return _unused(folder, f"workspace-before-restore-{_stamp(now)}", ".dump")


def restore_workspace(workspace: str | Path, source: str | Path, *, safety_dir: Path | None = None) -> RestoreResult:
    """Replace the workspace with the backup ``source``, after backing the workspace up: beside the
    file (SQLite), or into ``safety_dir`` (PostgreSQL: the data folder's ``backups/``)."""
    if is_database_url(workspace):
        return _restore_database(str(workspace), Path(source), safety_dir)
    workspace, source = Path(workspace), Path(source)
    check_backup(source, workspace)
    if source.resolve() == workspace.resolve():
        raise InputError(f"{source} 就是工作区文件本身，无需恢复。")
    workspace.parent.mkdir(parents=True, exist_ok=True)
    safety = backup_workspace(workspace, safety_copy_path(workspace)) if workspace.is_file() else None
    reader = _read_only(source)
    try:
        tmp = _copy_to_temp(reader, workspace.parent, workspace.name)
    finally:
        reader.close()
    try:
        Store.open(tmp).close()  # an older schema is migrated here, before the workspace is touched
        for old_copy in tmp.parent.glob(f"{tmp.name}.v*.bak"):
            old_copy.unlink()  # the pre-migration copy of a temporary file: ``source`` itself is that copy
        if safety is None:
            os.replace(tmp, workspace)
            _fsync_dir(workspace.parent)
        else:
            _copy_into(tmp, workspace)
    finally:
        _remove(tmp)
    Store.open(workspace).close()  # as every later open does: refuses nothing, migrates nothing now
    conn = sqlite3.connect(workspace, timeout=BUSY_TIMEOUT_S)
    try:
        summary = _summarise(conn, workspace)
    finally:
        conn.close()
    return RestoreResult(summary, safety)


def _copy_into(restored: Path, workspace: Path) -> None:
    """Copy ``restored`` over the live workspace in one write transaction (other connections stay valid)."""
    src = sqlite3.connect(restored)
    try:
        dst = sqlite3.connect(workspace, timeout=BUSY_TIMEOUT_S)
        try:
            dst.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            src.backup(dst)
        except sqlite3.Error as err:
            raise StoreError(f"恢复失败，工作区未作改动：{reason_zh(err)}") from None
        finally:
            dst.close()
    finally:
        src.close()


def _restore_database(url: str, source: Path, safety_dir: Path | None) -> RestoreResult:
    """A pg_dump backup is restored with pg_restore; a SQLite workspace (a backup, or the file an
    office used before moving onto the server) is migrated in a copy and its rows loaded."""
    check_backup(source, url)
    folder = safety_dir or source.parent
    folder.mkdir(parents=True, exist_ok=True)
    safety_path = database_safety_path(folder)
    safety: WorkspaceSummary | None = None
    if pgbackup.holds_workspace(url):
        found = pgbackup.dump(url, safety_path)
        safety = WorkspaceSummary(
            safety_path, found.reports, found.versions, safety_path.stat().st_size, found.schema_version
        )
    if pgbackup.is_dump(source):
        pgbackup.restore(url, source)
        Store.open(url).close()  # an older backup's schema is migrated here
    else:
        Store.open(url).close()  # the database at the current schema, to load rows into
        reader = _read_only(source)
        try:
            tmp = _copy_to_temp(reader, folder, source.name)
        finally:
            reader.close()
        try:
            Store.open(tmp).close()  # the copy migrated to the current schema; ``source`` stays as it is
            for old_copy in tmp.parent.glob(f"{tmp.name}.v*.bak"):
                old_copy.unlink()
            pgbackup.load_sqlite(url, tmp)
        finally:
            _remove(tmp)
    now = pgbackup.summary(url)
    return RestoreResult(
        WorkspaceSummary(masked_database_url(url), now.reports, now.versions, now.size, now.schema_version), safety
    )
