"""The workspace store: SQL and transactions, nothing else.

One SQLite file (``settings.workspace_path``), or one PostgreSQL database
(``settings.database_url``, see ``db.py``), holds saved reports, every version of every
section, figure snapshots and the chat. The SQL is written once; ``db.py`` runs it on either
backend, and ``schema.py`` keeps the tables current (Alembic). ``Store`` reads and writes domain objects (ReportSpec,
SectionDraft, ReportDraft, Figure); the rules that decide *what* to write (regenerate, hand
edit re-check, revert, staleness, diffs) live in ``assistant.workspace.service``, whose
``Workspace`` is what callers open. Nothing here drafts or checks a text.

Nothing is deleted by normal operations: a regeneration, a hand edit or a revert each add a
new version and move the section's "current" pointer. Drafts and checks are stored as the
pydantic models' own JSON (``model_dump_json``) so the store keeps working when those models
gain fields; a few fields are copied into columns only so that history can be listed without
parsing JSON.

Durability and concurrency:

* WAL journal, ``synchronous=FULL``. In WAL mode ``NORMAL`` already survives a killed
  process; ``FULL`` also keeps the last commit across a power cut. A version is written
  once after a model call that takes seconds, so one extra fsync per commit costs nothing
  a user notices, and "saved" then really means saved.
* Every write is one ``BEGIN IMMEDIATE`` transaction (PostgreSQL: a transaction that first
  takes one advisory lock, shared by every app process). The write lock is taken at the
  start, so the next version number is computed and inserted under the same lock, and a
  second process waits (busy timeout) instead of failing. A UNIQUE constraint on
  (report, section, version) backs this up. A locked section is refused inside that same
  transaction, so a lock set by another process while a draft was being written still holds.
* The store never drafts: the service drafts outside any transaction and only the insert
  of the finished version is inside one, so killing the process mid-generation loses
  nothing that was saved.
* A workspace written by a newer huibao is refused before anything is written to it; an older
  SQLite file is copied to ``<name>.v<N>.bak`` before it is migrated.

The outline (``reports.spec_json``) and the ``sections`` rows move together: ``save_outline``
writes a changed outline and, in the same transaction, gives every section its place
(``position``, ``level``). A section removed from the outline keeps its row and every version;
its ``position`` is ``REMOVED`` (-1), so listings, the current report and staleness skip it,
and the outline's ``removed`` list says where it stood, so that it can be restored.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from assistant.check.result import CheckResult, Summary
from assistant.core.errors import StoreError
from assistant.core.figures import Figure, check_figure
from assistant.core.settings import input_limits
from assistant.drafting.drafts import ReportDraft, SectionDraft
from assistant.drafting.spec import ReportSpec, SectionSpec, check_outline
from assistant.workspace import schema
from assistant.workspace.db import (
    Connection,
    Row,
    SQLiteConnection,
    connect,
    is_database_url,
    masked_database_url,
    reason_zh,
)
from assistant.workspace.schema import SCHEMA_VERSION

REMOVED = -1  # sections.position of a section taken out of the outline (kept, restorable)

Author = Literal["model", "offline", "hand", "revert", "import"]
_AUTHORS = ("model", "offline", "hand", "revert", "import")
AUTHOR_ZH = {"model": "模型", "offline": "离线", "hand": "手工修改", "revert": "回退", "import": "导入 Word"}

# Settings worth recording beside a version: they change the output. Never the key.
_SAFE_SETTINGS = ("model", "temperature", "context_tokens", "answer_tokens", "retrieve_k", "embedding", "tokenizer")

# The schema itself and its migrations, for both backends, are Alembic's scripts in
# ``migrations/versions`` (run by ``assistant.workspace.schema``).

# --- public value objects ------------------------------------------------------------------


class ReportInfo(BaseModel):
    id: str
    title: str
    organisation: str
    year: int
    sections: int
    created: str
    updated: str
    stale: int = 0  # filled in by the service (staleness is a rule, not a column)
    deleted_at: str | None = None  # set while the report is in the 回收站


BatchKind = Literal["draft_all", "refresh", "undo"]
_BATCH_KINDS = ("draft_all", "refresh", "undo")
BATCH_ZH = {"draft_all": "重新起草全文", "refresh": "重新起草待更新的章节", "undo": "撤销"}


class BatchInfo(BaseModel):
    """One whole-report action: the versions it saved, one per section it changed."""

    id: int
    report_id: str
    kind: str
    created: str
    versions: dict[str, int]  # section id -> the version this action saved
    unlocked: list[str]  # sections the user chose to unlock for it
    undone_by: int | None = None


class UndoResult(BaseModel):
    batch_id: int  # the undo's own batch
    reverted: dict[str, int]  # section id -> the new version holding the earlier text
    skipped: dict[str, str]  # section id -> why it was left as it is (Chinese)


class WorkspaceNotEmpty(StoreError):
    """``create_report(only_into_empty=True)`` found a report already there."""


class VersionConflict(StoreError):
    """A hand edit made on a version that is no longer current: someone saved meanwhile."""

    def __init__(self, report_id: str, section_id: str, base_version: int, current_version: int) -> None:
        self.report_id, self.section_id = report_id, section_id
        self.base_version, self.current_version = base_version, current_version
        super().__init__(
            f"章节“{section_id}”在您修改期间已保存了新版本（您修改的是第 {base_version} 版，"
            f"当前为第 {current_version} 版），本次修改未保存。请先对比差异，再决定是否覆盖。"
        )


class SectionInfo(BaseModel):
    section_id: str
    title: str
    level: int
    position: int
    locked: bool
    current_version: int
    versions: int


class CommentEntry(BaseModel):
    """A comment a marked-up Word file carried, kept on its section."""

    section_id: str | None  # None: anchored outside every section (the title)
    author: str
    text: str
    anchor: str  # the start of the paragraph it was anchored to
    source: str = ""  # the import it came with
    created: str = ""


class VersionInfo(BaseModel):
    version: int
    author: str
    user: str | None = None  # who saved it (None: saved before accounts were recorded)
    model: str | None
    instruction: str | None
    created: str
    check: Summary
    check_summary: str
    is_current: bool
    reverted_from: int | None = None
    snapshot_id: int | None = None
    chars: int = 0


ReviewState = Literal["draft", "submitted", "approved", "returned"]
REVIEW_STATES = ("draft", "submitted", "approved", "returned")
REVIEW_ZH = {"draft": "草稿", "submitted": "待审", "approved": "已通过", "returned": "退回"}

# Audit actions: the key stored, the Chinese a person reads (the CSV's action column).
ACTION_ZH = {
    "create": "新建汇报",
    "rename": "改名",
    "delete": "删除（移入回收站）",
    "restore": "恢复",
    "draft": "起草",
    "edit": "手工修改",
    "revert": "回退",
    "import": "导入 Word",
    "figures": "更新数据",
    "notes": "修改要点",
    "outline": "修改提纲",
    "lock": "锁定",
    "unlock": "解锁",
    "submit": "提交审核",
    "approve": "审核通过",
    "return": "退回",
    "reopen": "回到草稿",
    "export": "导出",
    "user_add": "添加用户",
    "user_disable": "停用用户",
    "user_enable": "启用用户",
    "user_passwd": "修改密码",
    "member_add": "加入汇报",
    "member_remove": "移出汇报",
    "endpoint": "设置模型接口",
    "kb_upload": "知识库上传",
    "kb_delete": "知识库删除",
    "kb_retag": "知识库改标注",
    "signin": "登录",
    "signin_failed": "登录失败",
    "signout": "退出登录",
}
# A version's author -> the audit action that records it.
_VERSION_ACTION = {"model": "draft", "offline": "draft", "hand": "edit", "revert": "revert", "import": "import"}


class AuditEntry(BaseModel):
    """One line of who did what: the audit CSV's columns."""

    time: str
    user: str
    action: str  # a key of ACTION_ZH
    report_id: str | None = None
    section_id: str | None = None
    version: int | None = None
    detail: str = ""

    @property
    def action_zh(self) -> str:
        return ACTION_ZH.get(self.action, self.action)


class ReviewInfo(BaseModel):
    """A section's review state: which version it applies to, and the last decision."""

    section_id: str
    title: str
    state: str  # a key of REVIEW_ZH
    version: int | None  # the version submitted, approved or returned
    current_version: int
    by: str = ""  # who made the last decision
    comment: str = ""
    at: str = ""

    @property
    def state_zh(self) -> str:
        return REVIEW_ZH.get(self.state, self.state)


class ReviewEvent(BaseModel):
    section_id: str
    version: int
    state: str
    previous: str
    user: str
    comment: str
    created: str


class UserRecord(BaseModel):
    name: str
    role: str
    enabled: bool
    created: str
    last_login: str | None = None
    failed_logins: int = 0
    password_hash: str = ""  # never printed: `huibao user list` and the page show the other fields


class ChatEntry(BaseModel):
    role: str
    text: str
    created: str


@dataclass(frozen=True)
class StoredVersion:
    """A version as stored: the draft plus what was recorded beside it."""

    draft: SectionDraft
    settings: dict[str, Any]  # model_settings_of() at the time: never a key or an endpoint
    snapshot_id: int | None  # the figures snapshot the draft was made from


@dataclass(frozen=True)
class SectionBasis:
    """A section's current version, reduced to what staleness looks at."""

    section_id: str
    title: str
    locked: bool
    snapshot_id: int | None  # None only in rows of old files that recorded no snapshot
    figures_used: frozenset[str]  # figure ids the text states (provenance figure uses)


@dataclass(frozen=True)
class FigureBasis:
    """One consistent read of a report's outline, figures snapshots and current versions."""

    spec: ReportSpec
    newest_snapshot_id: int
    snapshots: dict[int, list[Figure]]  # the newest and each one a current version rests on
    sections: list[SectionBasis]  # in outline order


def check_summary_zh(summary: Summary) -> str:
    """One line a person reads in a history table."""
    parts = [f"数字核对 {summary.grounded}", f"无来源 {summary.invented}"]
    if summary.misattributed:
        parts.append(f"错配 {summary.misattributed}")
    if summary.unverified:
        parts.append(f"待核实 {summary.unverified}")
    parts.append(f"占位 {summary.placeholders}")
    if summary.style_errors or summary.style_warnings:
        parts.append(f"规范 {summary.style_errors} 错/{summary.style_warnings} 提示")
    return "，".join(parts)


def model_settings_of(settings: Any) -> dict[str, Any]:
    """The settings that shape a generation, safe to keep: never the key or the endpoint."""
    if settings is None:
        return {}
    if isinstance(settings, dict):
        data = settings
    else:
        data = {name: getattr(settings, name) for name in _SAFE_SETTINGS if hasattr(settings, name)}
    return {k: v for k, v in data.items() if k in _SAFE_SETTINGS and isinstance(v, (str, int, float, bool))}


# --- helpers -------------------------------------------------------------------------------

_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: the id is typed by hand
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _brief(items: list[str], limit: int = 12) -> str:
    shown = "、".join(items[:limit])
    return shown + (f" 等 {len(items)} 个" if len(items) > limit else "") if items else "（无）"


class Store:
    """The workspace file's tables. Open with ``Store.open(path)``; safe to share between threads.

    Callers normally open ``assistant.workspace.service.Workspace``, which wraps a Store.
    """

    def __init__(self, conn: Connection, target: str | Path, clock: Callable[[], str] = _now, user: str = "") -> None:
        self._conn = conn
        self.target = target  # the SQLite file's path, or the PostgreSQL URL
        self._clock = clock
        self._lock = threading.RLock()
        self.user = user  # recorded on every version and audit line this store writes

    @property
    def path(self) -> Path | None:
        """The workspace file (SQLite); None for a workspace on a database server."""
        return None if is_database_url(self.target) else Path(self.target)

    @property
    def location(self) -> str:
        """Where the workspace is, as shown to people: the file, or the server without its password."""
        return masked_database_url(str(self.target)) if is_database_url(self.target) else str(self.target)

    @property
    def dialect(self) -> str:
        return self._conn.dialect

    def as_user(self, user: str) -> Store:
        """The same workspace and connection, writing as ``user`` (one per signed-in person)."""
        view = copy.copy(self)  # shares the connection and its lock
        view.user = user
        return view

    def now(self) -> str:
        return self._clock()

    def _audit(
        self,
        conn: Connection,
        action: str,
        report_id: str | None = None,
        section_id: str | None = None,
        version: int | None = None,
        detail: str = "",
    ) -> None:
        """One audit line, in the caller's transaction: the change and its record commit together."""
        conn.execute(
            "INSERT INTO audit(time, user, action, report_id, section_id, version, detail) VALUES (?,?,?,?,?,?,?)",
            (self._clock(), self.user, action, report_id, section_id, version, detail),
        )

    # --- opening and migrating ---------------------------------------------------------

    @classmethod
    def open(cls, target: str | Path, *, clock: Callable[[], str] | None = None) -> Store:
        """Open (creating or migrating) the workspace at ``target``: a SQLite file's path, or a
        PostgreSQL URL (``HUIBAO_DATABASE_URL``).

        A workspace written by a newer huibao is refused before anything is written to it.
        """
        if not is_database_url(target):
            path = Path(target)
            if path.exists():
                refuse_unusable(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
            target = path
        conn = connect(target)
        try:
            _migrate(conn, target)
        except conn.errors as err:
            conn.close()
            where = (
                f"工作区文件 {target}" if isinstance(target, Path) else f"工作区数据库 {masked_database_url(target)}"
            )
            raise StoreError(f"{where} 无法使用：{reason_zh(err)}") from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, target, clock or _now)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema.read_state(self._conn).version

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One atomic write: the write lock is taken before anything is read (SQLite BEGIN
        IMMEDIATE; PostgreSQL the advisory lock every writer takes)."""
        with self._lock:
            conn = self._conn
            try:
                conn.begin_write()
            except conn.errors as err:
                raise StoreError(f"工作区正被其他程序长时间占用，请稍后再试（{reason_zh(err)}）。") from None
            try:
                yield conn
                conn.commit()
            except BaseException as err:
                if conn.in_transaction:
                    with contextlib.suppress(*conn.errors):  # a dropped connection has nothing to roll back
                        conn.rollback()
                if isinstance(err, conn.errors):  # disk full, read-only file, constraint: say so plainly
                    raise StoreError(f"写入工作区失败，本次操作未保存任何改动：{reason_zh(err)}") from None
                raise

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        # A read transaction so that several SELECTs see one consistent state.
        with self._lock:
            conn = self._conn
            try:
                conn.begin_read()
            except conn.errors as err:
                raise StoreError(f"读取工作区失败：{reason_zh(err)}") from None
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.commit()

    # --- validation ---------------------------------------------------------------------

    def _report_row(self, conn: Connection, report_id: str, *, deleted: bool = False) -> Row:
        """The report's row; one in the 回收站 only with ``deleted=True`` (restore, listing)."""
        row = conn.execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()
        if row is None:
            ids = [r[0] for r in conn.execute("SELECT id FROM reports WHERE deleted_at IS NULL ORDER BY updated DESC")]
            raise StoreError(
                f"工作区中没有编号为“{report_id}”的汇报。已有汇报：{_brief(ids)}。可用 huibao reports 查看。"
            )
        if row["deleted_at"] is not None and not deleted:
            raise StoreError(
                f"汇报“{report_id}”（{row['title']}）在回收站中，不能查看或修改。恢复：huibao restore {report_id}"
            )
        return row

    def _section_row(self, conn: Connection, report_id: str, section_id: str) -> Row:
        self._report_row(conn, report_id)
        row = conn.execute(
            "SELECT * FROM sections WHERE report_id = ? AND section_id = ?", (report_id, section_id)
        ).fetchone()
        if row is None:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT section_id FROM sections WHERE report_id = ? AND position >= 0 ORDER BY position",
                    (report_id,),
                )
            ]
            raise StoreError(f"汇报“{report_id}”中没有编号为“{section_id}”的章节。可用的章节编号：{_brief(ids, 30)}。")
        return row

    def _version_row(self, conn: Connection, report_id: str, section_id: str, version: int) -> Row:
        sec = self._section_row(conn, report_id, section_id)
        row = conn.execute(
            "SELECT * FROM versions WHERE report_id = ? AND section_id = ? AND version = ?",
            (report_id, section_id, version),
        ).fetchone()
        if row is None:
            n = (
                conn.execute(
                    "SELECT MAX(version) FROM versions WHERE report_id = ? AND section_id = ?", (report_id, section_id)
                ).fetchone()[0]
                or 0
            )
            valid = f"有效版本为 1–{n}" if n else "该章节还没有任何版本"
            raise StoreError(
                f"汇报“{report_id}”章节“{section_id}”（{sec['title'] or '无标题'}）没有第 {version} 版；{valid}。"
            )
        return row

    def _refuse_removed(self, sec: Row) -> None:
        if sec["position"] == REMOVED:
            raise StoreError(
                f"章节“{sec['section_id']}”（{sec['title'] or '无标题'}）已从提纲中移除（全部版本保留），"
                "不能修改；请先在“提纲”页恢复它。"
            )

    def _refuse_locked(self, sec: Row) -> None:
        self._refuse_removed(sec)
        if sec["locked"]:
            raise StoreError(
                f"章节“{sec['section_id']}”（{sec['title'] or '无标题'}）已锁定，不能生成或修改新版本。"
                f"如需修改，请先解锁：huibao unlock {sec['report_id']} {sec['section_id']}"
            )

    # --- reports --------------------------------------------------------------------------

    def create_report(
        self,
        spec: ReportSpec,
        figures: list[Figure],
        report_id: str | None = None,
        *,
        draft: ReportDraft | None = None,
        settings: Any = None,
        only_into_empty: bool = False,
    ) -> str:
        """Save a new report's outline and figures; returns the id the user types later.

        With ``draft`` (made from these figures) its sections are saved as version 1 in the
        same transaction, so a crash never leaves a report without its text. With
        ``only_into_empty`` it raises ``WorkspaceNotEmpty`` when any report (回收站 included)
        exists, decided under the write lock: two app processes starting at once on one
        database create the sample report once.
        """
        check_outline(spec)  # the one validation boundary: no outline or figure out of range is ever written
        limits = input_limits()
        for fig in figures:
            check_figure(fig, limits=limits)
        now = self._clock()
        with self._write() as conn:
            if only_into_empty and conn.execute("SELECT 1 FROM reports LIMIT 1").fetchone():
                raise WorkspaceNotEmpty("工作区中已有汇报，未新建。")
            if report_id is None:
                report_id = self._new_id(conn, spec.year)
            elif not _ID_RE.fullmatch(report_id):
                raise StoreError(f"汇报编号“{report_id}”无效：只能用字母、数字、“-”“_”“.”，不超过 40 个字符。")
            elif conn.execute("SELECT 1 FROM reports WHERE id = ?", (report_id,)).fetchone():
                raise StoreError(f"工作区中已有编号为“{report_id}”的汇报，请换一个编号。")
            conn.execute(
                "INSERT INTO reports(id, title, organisation, year, spec_json, created, updated, created_by)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (report_id, spec.title, spec.organisation, spec.year, spec.model_dump_json(), now, now, self.user),
            )
            if self.user:  # the creator is a member
                conn.execute(
                    "INSERT INTO memberships(report_id, user, added) VALUES (?, ?, ?)", (report_id, self.user, now)
                )
            self._audit(conn, "create", report_id, detail=spec.title)
            conn.execute(
                "INSERT INTO figure_snapshots(report_id, figures_json, created) VALUES (?, ?, ?)",
                (report_id, _figures_json(figures), now),
            )
            for position, (outline, level) in enumerate(_walk_levels(spec.sections)):
                conn.execute(
                    "INSERT INTO sections(report_id, section_id, title, level, position) VALUES (?, ?, ?, ?, ?)",
                    (report_id, outline.id, outline.title or "", level, position),
                )
            for sec in draft.sections if draft is not None else []:
                self._insert_version(
                    conn,
                    report_id,
                    sec,
                    author=sec.provenance.engine,
                    instruction=sec.provenance.instruction,
                    settings=settings,
                    snapshot_id=None,
                )
        return report_id

    def _new_id(self, conn: Connection, year: int) -> str:
        for _ in range(100):
            candidate = f"{year}-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(4))
            if not conn.execute("SELECT 1 FROM reports WHERE id = ?", (candidate,)).fetchone():
                return candidate
        raise StoreError("无法生成新的汇报编号，请用 report_id 指定一个。")  # pragma: no cover

    def reports(self, *, deleted: bool = False) -> list[ReportInfo]:
        """The live reports, newest first; with ``deleted=True`` those in the 回收站 instead."""
        where = "r.deleted_at IS NOT NULL" if deleted else "r.deleted_at IS NULL"
        with self._read() as conn:
            rows = conn.execute(
                "SELECT r.*, (SELECT COUNT(*) FROM sections s WHERE s.report_id = r.id AND s.position >= 0) AS n"
                f" FROM reports r WHERE {where} ORDER BY r.updated DESC, r.id"
            ).fetchall()
            out = [
                ReportInfo(
                    id=r["id"],
                    title=r["title"],
                    organisation=r["organisation"],
                    year=r["year"],
                    sections=r["n"],
                    created=r["created"],
                    updated=r["updated"],
                    deleted_at=r["deleted_at"],
                )
                for r in rows
            ]
        return out

    def rename(self, report_id: str, title: str) -> None:
        """A new title for the report and its outline. The outline keeps the topic the old title
        gave it, so a rename changes what the report is called, not what a redraft writes."""
        with self._write() as conn:
            row = self._report_row(conn, report_id)
            spec = ReportSpec.model_validate_json(row["spec_json"])
            spec = spec.model_copy(update={"title": title, "topic": spec.resolved_topic})
            conn.execute(
                "UPDATE reports SET title = ?, spec_json = ?, updated = ? WHERE id = ?",
                (title, spec.model_dump_json(), self._clock(), report_id),
            )
            self._audit(conn, "rename", report_id, detail=f"{row['title']} → {title}")

    def set_notes(self, report_id: str, section_id: str, notes: str, *, expected: str) -> None:
        """Replace one section's notes in the stored outline, in one transaction; refused when
        the notes saved meanwhile differ from `expected` (another window changed them)."""
        with self._write() as conn:
            row = self._report_row(conn, report_id)
            spec = ReportSpec.model_validate_json(row["spec_json"])
            section = next((s for s in spec.walk() if s.id == section_id), None)
            if section is None:
                raise StoreError(f"汇报“{report_id}”中没有章节“{section_id}”。")
            if section.notes != expected:
                raise StoreError(f"章节 {section_id} 的要点刚被修改过，请刷新页面后再试；本次未保存。")
            section.notes = notes  # spec is this transaction's own copy
            conn.execute(
                "UPDATE reports SET spec_json = ?, updated = ? WHERE id = ?",
                (spec.model_dump_json(), self._clock(), report_id),
            )
            self._audit(conn, "notes", report_id, section_id, detail=f"要点 {len(expected)} → {len(notes)} 字")

    def save_outline(
        self,
        report_id: str,
        spec: ReportSpec,
        *,
        base: ReportSpec,
        frozen: Collection[str] = (),
        section_id: str | None = None,
        detail: str = "",
    ) -> None:
        """Write a changed outline (the service builds it: a section added, removed, moved,
        retitled, its notes or figures changed) and place every section, in one transaction.

        Refused, with nothing written, when the outline saved meanwhile is not ``base`` (another
        window changed it), when the outline is out of bounds (``check_outline``), or when a
        section in ``frozen`` (one whose title or place in the report the change touches) is
        locked, checked under the write lock. No version is written or deleted: a removed
        section keeps its row and versions at position ``REMOVED``.
        """
        check_outline(spec)
        with self._write() as conn:
            row = self._report_row(conn, report_id)
            saved = ReportSpec.model_validate_json(row["spec_json"])
            if saved.model_dump_json() != base.model_dump_json():
                raise StoreError("提纲刚被修改过（可能在另一个窗口），请刷新页面后再试；本次未保存。")
            for section_id in frozen:
                sec = conn.execute(
                    "SELECT * FROM sections WHERE report_id = ? AND section_id = ?", (report_id, section_id)
                ).fetchone()
                if sec is not None and sec["locked"]:
                    raise StoreError(
                        f"章节“{section_id}”（{sec['title'] or '无标题'}）已锁定，提纲中的这项修改未保存；"
                        "请先在“章节”页解锁。"
                    )
            self._place_sections(conn, report_id, spec)
            conn.execute(
                "UPDATE reports SET spec_json = ?, updated = ? WHERE id = ?",
                (spec.model_dump_json(), self._clock(), report_id),
            )
            self._audit(conn, "outline", report_id, section_id, detail=detail)

    def _place_sections(self, conn: Connection, report_id: str, spec: ReportSpec) -> None:
        """Each outline section at its place (a new one gets its row); a removed one at REMOVED;
        a row the outline never listed stays after the others, as ``_insert_version`` put it."""
        rows = conn.execute(
            "SELECT section_id, position FROM sections WHERE report_id = ? ORDER BY position", (report_id,)
        ).fetchall()
        known = {r["section_id"] for r in rows}
        live = list(_walk_levels(spec.sections))
        removed = {s.id for r in spec.removed for s in _subtree(r.section)}
        for position, (sec, level) in enumerate(live):
            if sec.id in known:
                conn.execute(
                    "UPDATE sections SET position = ?, level = ?, title = COALESCE(NULLIF(?, ''), title)"
                    " WHERE report_id = ? AND section_id = ?",
                    (position, level, sec.title or "", report_id, sec.id),
                )
            else:
                conn.execute(
                    "INSERT INTO sections(report_id, section_id, title, level, position) VALUES (?, ?, ?, ?, ?)",
                    (report_id, sec.id, sec.title or "", level, position),
                )
        live_ids = {sec.id for sec, _ in live}
        position = len(live)
        for r in rows:
            if r["section_id"] in live_ids:
                continue
            place = REMOVED if r["section_id"] in removed else position
            position += place != REMOVED
            conn.execute(
                "UPDATE sections SET position = ? WHERE report_id = ? AND section_id = ?",
                (place, report_id, r["section_id"]),
            )

    def delete(self, report_id: str) -> None:
        """Move the report to the 回收站: it stays in the file, with every version, until restored."""
        with self._write() as conn:
            row = self._report_row(conn, report_id)
            conn.execute("UPDATE reports SET deleted_at = ? WHERE id = ?", (self._clock(), report_id))
            self._audit(conn, "delete", report_id, detail=row["title"])

    def restore(self, report_id: str) -> None:
        """Bring a report back from the 回收站."""
        with self._write() as conn:
            row = self._report_row(conn, report_id, deleted=True)
            if row["deleted_at"] is None:
                raise StoreError(f"汇报“{report_id}”（{row['title']}）不在回收站中，无需恢复。")
            conn.execute("UPDATE reports SET deleted_at = NULL WHERE id = ?", (report_id,))
            self._audit(conn, "restore", report_id, detail=row["title"])

    def spec(self, report_id: str) -> ReportSpec:
        with self._read() as conn:
            row = self._report_row(conn, report_id)
        return ReportSpec.model_validate_json(row["spec_json"])

    def section_spec(self, report_id: str, section_id: str) -> SectionSpec:
        spec = self.spec(report_id)
        for sec in spec.walk():
            if sec.id == section_id:
                return sec
        with self._read() as conn:
            self._section_row(conn, report_id, section_id)  # raises for an unknown id
        raise StoreError(f"章节“{section_id}”不在汇报“{report_id}”的提纲中，无法重新生成。")

    def sections(self, report_id: str) -> list[SectionInfo]:
        with self._read() as conn:
            self._report_row(conn, report_id)
            rows = conn.execute(
                "SELECT s.*, (SELECT COUNT(*) FROM versions v WHERE v.report_id = s.report_id"
                " AND v.section_id = s.section_id) AS n FROM sections s WHERE s.report_id = ?"
                " AND s.position >= 0 ORDER BY s.position",
                (report_id,),
            ).fetchall()
        return [
            SectionInfo(
                section_id=r["section_id"],
                title=r["title"],
                level=r["level"],
                position=r["position"],
                locked=bool(r["locked"]),
                current_version=r["current_version"],
                versions=r["n"],
            )
            for r in rows
        ]

    # --- figures --------------------------------------------------------------------------

    def figures(self, report_id: str) -> list[Figure]:
        return self.figures_snapshot(report_id)[1]

    def figures_snapshot(self, report_id: str) -> tuple[int, list[Figure]]:
        """(snapshot id, figures) of the newest snapshot: what a new draft is made against."""
        with self._read() as conn:
            self._report_row(conn, report_id)
            row = conn.execute(
                "SELECT id, figures_json FROM figure_snapshots WHERE report_id = ? ORDER BY id DESC LIMIT 1",
                (report_id,),
            ).fetchone()
        return row["id"], _figures_from_json(row["figures_json"])

    def update_figures(self, report_id: str, figures: list[Figure]) -> int:
        """Record a new figures snapshot (unless identical to the newest); returns its id."""
        limits = input_limits()
        for fig in figures:
            check_figure(fig, limits=limits)  # before anything is written
        data = _figures_json(figures)
        with self._write() as conn:
            self._report_row(conn, report_id)
            last = conn.execute(
                "SELECT id, figures_json FROM figure_snapshots WHERE report_id = ? ORDER BY id DESC LIMIT 1",
                (report_id,),
            ).fetchone()
            if last is not None and last["figures_json"] == data:
                return last["id"]
            now = self._clock()
            cur = conn.execute(
                "INSERT INTO figure_snapshots(report_id, figures_json, created) VALUES (?, ?, ?)",
                (report_id, data, now),
            )
            conn.execute("UPDATE reports SET updated = ? WHERE id = ?", (now, report_id))
            assert cur.lastrowid is not None  # set by every INSERT
            self._audit(conn, "figures", report_id, detail=f"数据快照 {cur.lastrowid}，{len(figures)} 项")
            return cur.lastrowid

    # --- versions -------------------------------------------------------------------------

    def save_draft(
        self,
        report_id: str,
        draft: ReportDraft,
        *,
        author: Author | None = None,
        settings: Any = None,
        snapshot_id: int | None = None,
        skip_locked: bool = True,
        only: Collection[str] | None = None,
        unlock: Collection[str] = (),
        batch: BatchKind | None = None,
    ) -> dict[str, int]:
        """Add a version of every section of a drafted report, all in one transaction.

        ``author`` defaults to each section's engine. A locked section keeps its current
        version (that is what locking is for); with ``skip_locked=False`` it refuses the whole
        save instead. ``only`` limits the save to those sections; ``unlock`` unlocks sections
        first (the user chose to redraft them). With ``batch`` the versions are recorded as one
        whole-report action (``undo_batch``); its id is ``last_batch``'s. Returns section id ->
        new version number for the sections saved.
        """
        saved: dict[str, int] = {}
        with self._write() as conn:
            self._report_row(conn, report_id)
            batch_id = self._new_batch(conn, report_id, batch, unlock) if batch is not None else None
            for sec in draft.sections:
                if only is not None and sec.section_id not in only:
                    continue
                row = conn.execute(
                    "SELECT * FROM sections WHERE report_id = ? AND section_id = ?", (report_id, sec.section_id)
                ).fetchone()
                if row is not None and row["position"] == REMOVED:
                    continue  # drafted from an outline that still had it; it stays removed
                if row is not None and row["locked"]:
                    if skip_locked:
                        continue
                    self._refuse_locked(row)
                saved[sec.section_id] = self._insert_version(
                    conn,
                    report_id,
                    sec,
                    author=author or sec.provenance.engine,
                    instruction=sec.provenance.instruction,
                    settings=settings,
                    snapshot_id=snapshot_id,
                    batch_id=batch_id,
                )
        return saved

    # --- whole-report actions ---------------------------------------------------------------

    def _new_batch(self, conn: Connection, report_id: str, kind: str, unlock: Collection[str] = ()) -> int:
        if kind not in _BATCH_KINDS:
            raise StoreError(f"未知的操作类型“{kind}”（应为 {'、'.join(_BATCH_KINDS)}）。")
        unlocked = []
        for section_id in unlock:
            sec = self._section_row(conn, report_id, section_id)
            if sec["locked"]:
                conn.execute(
                    "UPDATE sections SET locked = 0, locked_by = NULL WHERE report_id = ? AND section_id = ?",
                    (report_id, section_id),
                )
                unlocked.append(section_id)
                self._audit(conn, "unlock", report_id, section_id, detail=f"{BATCH_ZH.get(kind, kind)}前解锁")
        cur = conn.execute(
            "INSERT INTO batches(report_id, kind, created, unlocked_json) VALUES (?, ?, ?, ?)",
            (report_id, kind, self._clock(), json.dumps(unlocked, ensure_ascii=False)),
        )
        assert cur.lastrowid is not None  # set by every INSERT
        return cur.lastrowid

    def new_batch(self, report_id: str, kind: BatchKind, unlock: Collection[str] = ()) -> int:
        """Start a whole-report action whose sections are saved one by one (``add_version``
        with ``batch_id``); ``unlock`` unlocks the locked sections the user chose to include."""
        with self._write() as conn:
            self._report_row(conn, report_id)
            return self._new_batch(conn, report_id, kind, unlock)

    def _batch_info(self, conn: Connection, row: Row) -> BatchInfo:
        versions = conn.execute(
            "SELECT section_id, version FROM versions WHERE batch_id = ? ORDER BY id", (row["id"],)
        ).fetchall()
        return BatchInfo(
            id=row["id"],
            report_id=row["report_id"],
            kind=row["kind"],
            created=row["created"],
            versions={v["section_id"]: v["version"] for v in versions},
            unlocked=json.loads(row["unlocked_json"]),
            undone_by=row["undone_by"],
        )

    def last_batch(self, report_id: str) -> BatchInfo | None:
        """The newest whole-report action that saved something, if it is not undone yet."""
        with self._read() as conn:
            self._report_row(conn, report_id)
            row = conn.execute(
                "SELECT * FROM batches b WHERE report_id = ? AND kind != 'undo'"
                " AND EXISTS (SELECT 1 FROM versions v WHERE v.batch_id = b.id) ORDER BY id DESC LIMIT 1",
                (report_id,),
            ).fetchone()
            if row is None or row["undone_by"] is not None:
                return None
            return self._batch_info(conn, row)

    def undo_batch(self, report_id: str, batch_id: int) -> UndoResult:
        """Undo a whole-report action in one transaction: each section it changed gets its
        earlier text back as a new version (author "revert"); nothing is deleted.

        A section saved again since the action, or locked since, keeps its text and is named in
        ``skipped``; so is one the action drafted for the first time (there is nothing earlier).
        Sections the action unlocked are locked again.
        """
        with self._write() as conn:
            self._report_row(conn, report_id)
            row = conn.execute("SELECT * FROM batches WHERE id = ? AND report_id = ?", (batch_id, report_id)).fetchone()
            if row is None:
                raise StoreError(f"汇报“{report_id}”没有编号为 {batch_id} 的整篇操作。")
            if row["undone_by"] is not None:
                raise StoreError(f"这次{BATCH_ZH.get(row['kind'], '操作')}（{row['created'][:16]}）已经撤销过了。")
            info = self._batch_info(conn, row)
            undo_id = self._new_batch(conn, report_id, "undo")
            reverted: dict[str, int] = {}
            skipped: dict[str, str] = {}
            for section_id, version in info.versions.items():
                sec = self._section_row(conn, report_id, section_id)
                if sec["position"] == REMOVED:
                    skipped[section_id] = "已从提纲中移除，保持不变"
                    continue
                if sec["current_version"] != version:
                    skipped[section_id] = f"之后又保存了第 {sec['current_version']} 版，保持不变"
                    continue
                if sec["locked"] and section_id not in info.unlocked:
                    skipped[section_id] = "之后已锁定，保持不变"
                    continue
                earlier = conn.execute(
                    "SELECT * FROM versions WHERE report_id = ? AND section_id = ? AND version < ?"
                    " ORDER BY version DESC LIMIT 1",
                    (report_id, section_id, version),
                ).fetchone()
                if earlier is None:
                    skipped[section_id] = "此前没有正文，保持不变"
                    continue
                reverted[section_id] = self._insert_version(
                    conn,
                    report_id,
                    SectionDraft.model_validate_json(earlier["draft_json"]),
                    author="revert",
                    instruction=None,
                    settings=json.loads(earlier["model_settings_json"] or "{}"),
                    snapshot_id=earlier["snapshot_id"],
                    reverted_from=earlier["version"],
                    batch_id=undo_id,
                )
            for section_id in info.unlocked:  # locked again, as before the action
                if section_id in reverted:
                    conn.execute(
                        "UPDATE sections SET locked = 1 WHERE report_id = ? AND section_id = ?", (report_id, section_id)
                    )
            conn.execute("UPDATE batches SET undone_by = ? WHERE id = ?", (undo_id, batch_id))
        return UndoResult(batch_id=undo_id, reverted=reverted, skipped=skipped)

    def version_origins(self, report_id: str) -> dict[str, tuple[int, dict[int, tuple[str, int | None]]]]:
        """Per section: (current version, {version: (author, reverted_from)}): what the service
        needs to tell a hand-edited text from a drafted one."""
        with self._read() as conn:
            self._report_row(conn, report_id)
            out: dict[str, tuple[int, dict[int, tuple[str, int | None]]]] = {
                r["section_id"]: (r["current_version"], {})
                for r in conn.execute(
                    "SELECT section_id, current_version FROM sections WHERE report_id = ?", (report_id,)
                )
            }
            for r in conn.execute(
                "SELECT section_id, version, author, reverted_from FROM versions WHERE report_id = ?", (report_id,)
            ):
                if r["section_id"] in out:
                    out[r["section_id"]][1][r["version"]] = (r["author"], r["reverted_from"])
        return out

    def add_version(
        self,
        report_id: str,
        draft: SectionDraft,
        *,
        author: Author,
        instruction: str | None,
        settings: Any = None,
        snapshot_id: int | None = None,
        reverted_from: int | None = None,
        batch_id: int | None = None,
        expected_current: int | None = None,
    ) -> int:
        """Add one version of one section and make it current; returns its version number.

        ``instruction`` is stored as given (a revert records none). ``snapshot_id`` is the
        figures snapshot the draft was made from (read it with ``figures_snapshot`` before
        drafting); it defaults to the newest one. A locked section is refused here, under the
        write lock. With ``expected_current`` (the version an edit was made on) a section whose
        current version is another one is refused with ``VersionConflict``, under the same lock.
        """
        with self._write() as conn:
            sec = self._section_row(conn, report_id, draft.section_id)
            self._refuse_locked(sec)
            if expected_current is not None and sec["current_version"] != expected_current:
                raise VersionConflict(report_id, draft.section_id, expected_current, sec["current_version"])
            return self._insert_version(
                conn,
                report_id,
                draft,
                author=author,
                instruction=instruction,
                settings=settings,
                snapshot_id=snapshot_id,
                reverted_from=reverted_from,
                batch_id=batch_id,
            )

    def _insert_version(
        self,
        conn: Connection,
        report_id: str,
        draft: SectionDraft,
        *,
        author: str,
        instruction: str | None,
        settings: Any,
        snapshot_id: int | None,
        reverted_from: int | None = None,
        batch_id: int | None = None,
    ) -> int:
        if author not in _AUTHORS:
            raise StoreError(f"未知的版本来源“{author}”（应为 {'、'.join(_AUTHORS)}）。")
        if snapshot_id is None:
            snapshot_id = conn.execute(
                "SELECT MAX(id) FROM figure_snapshots WHERE report_id = ?", (report_id,)
            ).fetchone()[0]
        elif not conn.execute(
            "SELECT 1 FROM figure_snapshots WHERE id = ? AND report_id = ?", (snapshot_id, report_id)
        ).fetchone():
            raise StoreError(f"汇报“{report_id}”没有编号为 {snapshot_id} 的数据快照。")
        row = conn.execute(
            "SELECT * FROM sections WHERE report_id = ? AND section_id = ?", (report_id, draft.section_id)
        ).fetchone()
        if row is None:  # a section the outline did not list: keep it, after the others
            position = conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM sections WHERE report_id = ?", (report_id,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO sections(report_id, section_id, title, level, position) VALUES (?, ?, ?, ?, ?)",
                (report_id, draft.section_id, draft.title, draft.level, position),
            )
        # Computed under the write lock taken by BEGIN IMMEDIATE: no other writer can interleave.
        number = conn.execute(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE report_id = ? AND section_id = ?",
            (report_id, draft.section_id),
        ).fetchone()[0]
        prov = draft.provenance
        now = self._clock()
        conn.execute(
            "INSERT INTO versions(report_id, section_id, version, text, title, level, author, model,"
            " model_settings_json, instruction, prompt_version, passages_json, figures_json, check_json,"
            " snapshot_id, reverted_from, created, draft_json, batch_id, user) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                report_id,
                draft.section_id,
                number,
                draft.text,
                draft.title,
                draft.level,
                author,
                prov.model,
                json.dumps(model_settings_of(settings), ensure_ascii=False),
                instruction,
                prov.prompt_version,
                json.dumps([p.model_dump(mode="json") for p in prov.passages], ensure_ascii=False),
                json.dumps([f.model_dump(mode="json") for f in prov.figures], ensure_ascii=False),
                draft.check.model_dump_json(),
                snapshot_id,
                reverted_from,
                now,
                draft.model_dump_json(),
                batch_id,
                self.user or None,
            ),
        )
        conn.execute(
            "UPDATE sections SET current_version = ?, title = ?, level = ? WHERE report_id = ? AND section_id = ?",
            (number, draft.title, draft.level, report_id, draft.section_id),
        )
        conn.execute("UPDATE reports SET updated = ? WHERE id = ?", (now, report_id))
        detail = instruction or ""
        if reverted_from is not None:
            detail = f"自第 {reverted_from} 版"
        self._audit(conn, _VERSION_ACTION.get(author, author), report_id, draft.section_id, int(number), detail)
        self._reopen(conn, report_id, draft.section_id, int(number))
        return int(number)

    def _reopen(self, conn: Connection, report_id: str, section_id: str, version: int) -> None:
        """A new version of a section under review or approved puts it back to 草稿: what was
        approved (or is being reviewed) is no longer the text. A returned one stays 退回 (its
        comment is what the drafter is answering) until it is submitted again."""
        row = conn.execute(
            "SELECT review_state FROM sections WHERE report_id = ? AND section_id = ?", (report_id, section_id)
        ).fetchone()
        if row is None or row["review_state"] not in ("submitted", "approved"):
            return
        previous = row["review_state"]
        conn.execute(
            "UPDATE sections SET review_state = 'draft', review_version = NULL WHERE report_id = ? AND section_id = ?",
            (report_id, section_id),
        )
        comment = f"保存第 {version} 版后，由“{REVIEW_ZH[previous]}”回到草稿，需重新提交审核"
        conn.execute(
            "INSERT INTO reviews(report_id, section_id, version, state, previous, user, comment, created)"
            " VALUES (?, ?, ?, 'draft', ?, ?, ?, ?)",
            (report_id, section_id, version, previous, self.user, comment, self._clock()),
        )
        self._audit(conn, "reopen", report_id, section_id, version, comment)

    def current(self, report_id: str) -> ReportDraft:
        """The report as it stands: the current version of each section, in outline order."""
        with self._read() as conn:
            rep = self._report_row(conn, report_id)
            rows = conn.execute(
                "SELECT v.draft_json FROM sections s JOIN versions v ON v.report_id = s.report_id"
                " AND v.section_id = s.section_id AND v.version = s.current_version"
                " WHERE s.report_id = ? AND s.position >= 0 ORDER BY s.position",
                (report_id,),
            ).fetchall()
        sections = [SectionDraft.model_validate_json(r[0]) for r in rows]
        # As draft_report names it: one engine throughout, or "mixed".
        engines = {s.provenance.engine for s in sections}
        engine = engines.pop() if len(engines) == 1 else ("mixed" if engines else "offline")
        return ReportDraft(
            title=rep["title"], organisation=rep["organisation"], year=rep["year"], engine=engine, sections=sections
        )

    def section(self, report_id: str, section_id: str) -> SectionDraft:
        """The current version of one section."""
        with self._read() as conn:
            sec = self._section_row(conn, report_id, section_id)
            if not sec["current_version"]:
                raise StoreError(f"汇报“{report_id}”章节“{section_id}”还没有任何版本。")
            row = self._version_row(conn, report_id, section_id, sec["current_version"])
        return SectionDraft.model_validate_json(row["draft_json"])

    def get_version(self, report_id: str, section_id: str, version: int) -> SectionDraft:
        with self._read() as conn:
            row = self._version_row(conn, report_id, section_id, version)
        return SectionDraft.model_validate_json(row["draft_json"])

    def history(self, report_id: str, section_id: str) -> list[VersionInfo]:
        with self._read() as conn:
            sec = self._section_row(conn, report_id, section_id)
            rows = conn.execute(
                "SELECT version, author, user, model, instruction, created, check_json, reverted_from,"
                " snapshot_id, length(text) AS chars FROM versions WHERE report_id = ?"
                " AND section_id = ? ORDER BY version",
                (report_id, section_id),
            ).fetchall()
        out = []
        for r in rows:
            summary = CheckResult.model_validate_json(r["check_json"]).summary
            out.append(
                VersionInfo(
                    version=r["version"],
                    author=r["author"],
                    user=r["user"],
                    model=r["model"],
                    instruction=r["instruction"],
                    created=r["created"],
                    check=summary,
                    check_summary=check_summary_zh(summary),
                    is_current=r["version"] == sec["current_version"],
                    reverted_from=r["reverted_from"],
                    snapshot_id=r["snapshot_id"],
                    chars=r["chars"],
                )
            )
        return out

    def version_record(self, report_id: str, section_id: str, version: int) -> StoredVersion:
        """One version with what was stored beside it (settings, figures snapshot)."""
        with self._read() as conn:
            row = self._version_row(conn, report_id, section_id, version)
        return StoredVersion(
            draft=SectionDraft.model_validate_json(row["draft_json"]),
            settings=json.loads(row["model_settings_json"] or "{}"),
            snapshot_id=row["snapshot_id"],
        )

    def spec_year(self, report_id: str) -> int:
        with self._read() as conn:
            return int(self._report_row(conn, report_id)["year"])

    def lock(self, report_id: str, section_id: str, locked: bool = True) -> None:
        with self._write() as conn:
            sec = self._section_row(conn, report_id, section_id)
            self._refuse_removed(sec)
            conn.execute(
                "UPDATE sections SET locked = ?, locked_by = ? WHERE report_id = ? AND section_id = ?",
                (int(locked), self.user if locked else None, report_id, section_id),
            )
            if bool(sec["locked"]) != locked:
                self._audit(conn, "lock" if locked else "unlock", report_id, section_id, sec["current_version"] or None)

    def unlock(self, report_id: str, section_id: str) -> None:
        self.lock(report_id, section_id, locked=False)

    def ensure_unlocked(self, report_id: str, section_id: str) -> None:
        """StoreError when the report or section is unknown or the section is locked."""
        with self._read() as conn:
            self._refuse_locked(self._section_row(conn, report_id, section_id))

    def locked(self, report_id: str) -> list[str]:
        """Ids of the locked sections, in outline order."""
        return [s.section_id for s in self.sections(report_id) if s.locked]

    # --- what the current versions rest on -----------------------------------------------

    def figure_basis(self, report_id: str) -> FigureBasis:
        """The outline, the newest figures and the snapshot each current version was drafted
        from, read in one transaction: the input of the staleness rules (service.py)."""
        with self._read() as conn:
            rep = self._report_row(conn, report_id)
            snaps = {
                r["id"]: r["figures_json"]
                for r in conn.execute("SELECT id, figures_json FROM figure_snapshots WHERE report_id = ?", (report_id,))
            }
            rows = conn.execute(
                "SELECT s.section_id, s.title, s.locked, v.snapshot_id, v.figures_json"
                " FROM sections s JOIN versions v ON v.report_id = s.report_id"
                " AND v.section_id = s.section_id AND v.version = s.current_version"
                " WHERE s.report_id = ? AND s.position >= 0 ORDER BY s.position",
                (report_id,),
            ).fetchall()
        newest_id = max(snaps)
        # Only the snapshots something rests on are parsed: a report keeps every old snapshot.
        wanted = {newest_id} | {r["snapshot_id"] for r in rows if r["snapshot_id"] is not None}
        return FigureBasis(
            spec=ReportSpec.model_validate_json(rep["spec_json"]),
            newest_snapshot_id=newest_id,
            snapshots={sid: _figures_from_json(snaps[sid]) for sid in sorted(wanted)},
            sections=[
                SectionBasis(
                    section_id=r["section_id"],
                    title=r["title"],
                    locked=bool(r["locked"]),
                    snapshot_id=r["snapshot_id"],
                    figures_used=frozenset(u["figure_id"] for u in json.loads(r["figures_json"] or "[]")),
                )
                for r in rows
            ],
        )

    # --- chat -------------------------------------------------------------------------------

    def add_chat(self, report_id: str, role: str, text: str) -> None:
        if role not in ("user", "assistant", "system"):
            raise StoreError(f"未知的对话角色“{role}”（应为 user、assistant 或 system）。")
        with self._write() as conn:
            self._report_row(conn, report_id)
            conn.execute(
                "INSERT INTO chat_messages(report_id, role, text, created) VALUES (?, ?, ?, ?)",
                (report_id, role, text, self._clock()),
            )

    def add_imported(
        self,
        report_id: str,
        drafts: list[SectionDraft],
        comments: list[CommentEntry],
        *,
        source: str,
        snapshot_id: int | None,
    ) -> list[tuple[str, int]]:
        """One marked-up Word file, saved in one transaction: a version per changed section (a
        locked section too: the leader's edit is kept, and the caller says so) and its comments,
        less those already kept (same section, author, text and anchor). Returns (section_id,
        version) per draft."""
        out = []
        with self._write() as conn:
            self._report_row(conn, report_id)
            for draft in drafts:
                self._section_row(conn, report_id, draft.section_id)
                number = self._insert_version(
                    conn, report_id, draft, author="import", instruction=source, settings=None, snapshot_id=snapshot_id
                )
                out.append((draft.section_id, number))
            now = self._clock()
            # A comment already kept (the same file imported again, or two imports at once) is not
            # stored twice: compared here, under the write lock.
            seen = {
                (r["section_id"], r["author"], r["text"], r["anchor"])
                for r in conn.execute(
                    "SELECT section_id, author, text, anchor FROM comments WHERE report_id = ?", (report_id,)
                ).fetchall()
            }
            for c in comments:
                key = (c.section_id, c.author, c.text, c.anchor)
                if key in seen:
                    continue
                seen.add(key)
                conn.execute(
                    "INSERT INTO comments(report_id, section_id, author, text, anchor, source, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (report_id, c.section_id, c.author, c.text, c.anchor, source, now),
                )
        return out

    def comments(self, report_id: str, section_id: str | None = None) -> list[CommentEntry]:
        with self._read() as conn:
            self._report_row(conn, report_id)
            if section_id is None:
                rows = conn.execute("SELECT * FROM comments WHERE report_id = ? ORDER BY id", (report_id,)).fetchall()
            else:
                rows = conn.execute(
                    "SELECT * FROM comments WHERE report_id = ? AND section_id = ? ORDER BY id", (report_id, section_id)
                ).fetchall()
        return [
            CommentEntry(
                section_id=r["section_id"],
                author=r["author"],
                text=r["text"],
                anchor=r["anchor"],
                source=r["source"],
                created=r["created"],
            )
            for r in rows
        ]

    def chat_history(self, report_id: str) -> list[ChatEntry]:
        with self._read() as conn:
            self._report_row(conn, report_id)
            rows = conn.execute(
                "SELECT role, text, created FROM chat_messages WHERE report_id = ? ORDER BY id", (report_id,)
            ).fetchall()
        return [ChatEntry(role=r["role"], text=r["text"], created=r["created"]) for r in rows]

    # --- chat proposals (JSON written and read by workspace.chat) ----------------------------

    def add_proposals(self, report_id: str, proposals_json: list[str]) -> list[int]:
        """Keep proposals waiting for 确认 / 取消; returns their ids."""
        with self._write() as conn:
            self._report_row(conn, report_id)
            now = self._clock()
            return [
                int(
                    conn.execute(
                        "INSERT INTO chat_proposals(report_id, proposal_json, created) VALUES (?, ?, ?)",
                        (report_id, data, now),
                    ).lastrowid
                    or 0
                )
                for data in proposals_json
            ]

    def pending_proposals(self, report_id: str) -> list[tuple[int, str]]:
        """(id, proposal JSON) of the proposals still waiting, oldest first."""
        with self._read() as conn:
            self._report_row(conn, report_id)
            rows = conn.execute(
                "SELECT id, proposal_json FROM chat_proposals WHERE report_id = ? AND status = 'pending' ORDER BY id",
                (report_id,),
            ).fetchall()
        return [(int(r["id"]), r["proposal_json"]) for r in rows]

    def settle_proposal(self, report_id: str, proposal_id: int, status: Literal["confirmed", "cancelled"]) -> bool:
        """Mark a waiting proposal confirmed or cancelled; False when it no longer waits (settled
        in another tab, or a double click), so that it is applied at most once."""
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE chat_proposals SET status = ?, settled = ? WHERE id = ? AND report_id = ? AND status = 'pending'",
                (status, self._clock(), proposal_id, report_id),
            )
            return cur.rowcount == 1

    def proposal_log(self, report_id: str) -> list[tuple[int, str, str]]:
        """(id, proposal JSON, status) of every proposal the chat made for this report, oldest first."""
        with self._read() as conn:
            self._report_row(conn, report_id)
            rows = conn.execute(
                "SELECT id, proposal_json, status FROM chat_proposals WHERE report_id = ? ORDER BY id", (report_id,)
            ).fetchall()
        return [(int(r["id"]), r["proposal_json"], r["status"]) for r in rows]

    # --- review states ----------------------------------------------------------------------

    def set_review(
        self,
        report_id: str,
        section_id: str,
        state: ReviewState,
        *,
        allowed_from: Collection[str],
        comment: str = "",
    ) -> int:
        """Move a section's review state, under the write lock; returns the version it applies to
        (the current one). Refused (StoreError, Chinese) from any state not in ``allowed_from``."""
        if state not in REVIEW_STATES:
            raise StoreError(f"未知的审核状态“{state}”。")
        with self._write() as conn:
            sec = self._section_row(conn, report_id, section_id)
            self._refuse_removed(sec)
            version = sec["current_version"]
            if not version:
                raise StoreError(f"章节 {section_id} 还没有正文，不能{_REVIEW_VERB[state]}。")
            previous = sec["review_state"]
            if previous not in allowed_from:
                raise StoreError(
                    f"章节 {section_id}（{sec['title'] or '无标题'}）当前为“{REVIEW_ZH.get(previous, previous)}”，"
                    f"不能{_REVIEW_VERB[state]}（只有“{'、'.join(REVIEW_ZH[s] for s in allowed_from)}”的章节可以）。"
                )
            conn.execute(
                "UPDATE sections SET review_state = ?, review_version = ? WHERE report_id = ? AND section_id = ?",
                (state, version, report_id, section_id),
            )
            conn.execute(
                "INSERT INTO reviews(report_id, section_id, version, state, previous, user, comment, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (report_id, section_id, version, state, previous, self.user, comment, self._clock()),
            )
            action = {"submitted": "submit", "approved": "approve", "returned": "return"}.get(state, "reopen")
            self._audit(conn, action, report_id, section_id, version, comment)
            return int(version)

    def review_states(self, report_id: str) -> list[ReviewInfo]:
        """Every section's review state with its last decision, in outline order."""
        with self._read() as conn:
            self._report_row(conn, report_id)
            rows = conn.execute(
                "SELECT s.section_id, s.title, s.review_state, s.review_version, s.current_version,"
                " (SELECT r.user || char(31) || r.comment || char(31) || r.created FROM reviews r"
                "  WHERE r.report_id = s.report_id AND r.section_id = s.section_id ORDER BY r.id DESC LIMIT 1) AS last"
                " FROM sections s WHERE s.report_id = ? AND s.position >= 0 ORDER BY s.position",
                (report_id,),
            ).fetchall()
        out = []
        for r in rows:
            by, comment, at = (r["last"].split("\x1f") + ["", "", ""])[:3] if r["last"] else ("", "", "")
            out.append(
                ReviewInfo(
                    section_id=r["section_id"],
                    title=r["title"],
                    state=r["review_state"],
                    version=r["review_version"],
                    current_version=r["current_version"],
                    by=by,
                    comment=comment,
                    at=at,
                )
            )
        return out

    def review_events(self, report_id: str, section_id: str | None = None) -> list[ReviewEvent]:
        with self._read() as conn:
            self._report_row(conn, report_id)
            sql = "SELECT * FROM reviews WHERE report_id = ?" + (" AND section_id = ?" if section_id else "")
            args: tuple = (report_id, section_id) if section_id else (report_id,)
            rows = conn.execute(sql + " ORDER BY id", args).fetchall()
        return [
            ReviewEvent(
                section_id=r["section_id"],
                version=r["version"],
                state=r["state"],
                previous=r["previous"],
                user=r["user"],
                comment=r["comment"],
                created=r["created"],
            )
            for r in rows
        ]

    def section_owner(self, report_id: str, section_id: str) -> tuple[str | None, str | None]:
        """(who saved the current version, who locked the section): what a drafter's lock rights look at."""
        with self._read() as conn:
            sec = self._section_row(conn, report_id, section_id)
            row = conn.execute(
                "SELECT user FROM versions WHERE report_id = ? AND section_id = ? AND version = ?",
                (report_id, section_id, sec["current_version"]),
            ).fetchone()
        return (row["user"] if row else None), sec["locked_by"]

    # --- audit ------------------------------------------------------------------------------

    def audit(
        self,
        action: str,
        report_id: str | None = None,
        section_id: str | None = None,
        version: int | None = None,
        detail: str = "",
    ) -> None:
        """Record an action that changes nothing else in this file (an export, a knowledge-base
        upload, a sign-in), in its own transaction."""
        with self._write() as conn:
            self._audit(conn, action, report_id, section_id, version, detail)

    def audit_log(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        user: str | None = None,
        actions: Collection[str] | None = None,
        report_id: str | None = None,
    ) -> list[AuditEntry]:
        """Audit lines, oldest first; ``since``/``until`` compare ISO times as text (a date works)."""
        where, args = [], []
        if since:
            where.append("time >= ?")
            args.append(since)
        if until:
            where.append("time < ?")
            args.append(until)
        if user:
            where.append("user = ?")
            args.append(user)
        if report_id:
            where.append("report_id = ?")
            args.append(report_id)
        if actions:
            where.append(f"action IN ({','.join('?' * len(actions))})")
            args.extend(actions)
        sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with self._read() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [
            AuditEntry(
                time=r["time"],
                user=r["user"],
                action=r["action"],
                report_id=r["report_id"],
                section_id=r["section_id"],
                version=r["version"],
                detail=r["detail"],
            )
            for r in rows
        ]

    # --- users, memberships, sessions (rules in workspace.accounts) ------------------------------

    def add_user(self, name: str, role: str, password_hash: str) -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"已有名为“{name}”的用户，未作改动。")
            conn.execute(
                "INSERT INTO users(name, role, password_hash, created) VALUES (?, ?, ?, ?)",
                (name, role, password_hash, self._clock()),
            )
            self._audit(conn, "user_add", detail=f"{name}（{role}）")

    def find_user(self, name: str) -> UserRecord | None:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        return _user_record(row) if row else None

    def users(self) -> list[UserRecord]:
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM users ORDER BY created, name").fetchall()
        return [_user_record(r) for r in rows]

    def has_admin(self) -> bool:
        with self._read() as conn:
            return conn.execute("SELECT 1 FROM users WHERE role = 'admin' AND enabled = 1").fetchone() is not None

    def _user_row(self, conn: Connection, name: str) -> Row:
        row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            names = [r[0] for r in conn.execute("SELECT name FROM users ORDER BY name")]
            raise StoreError(f"没有名为“{name}”的用户。已有用户：{_brief(names)}。")
        return row

    def set_password(self, name: str, password_hash: str) -> None:
        with self._write() as conn:
            self._user_row(conn, name)
            conn.execute("UPDATE users SET password_hash = ?, failed_logins = 0 WHERE name = ?", (password_hash, name))
            conn.execute("DELETE FROM sessions WHERE user = ?", (name,))  # signed in elsewhere: out
            self._audit(conn, "user_passwd", detail=name)

    def set_enabled(self, name: str, enabled: bool) -> None:
        with self._write() as conn:
            self._user_row(conn, name)
            conn.execute("UPDATE users SET enabled = ? WHERE name = ?", (int(enabled), name))
            if not enabled:
                conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
            self._audit(conn, "user_enable" if enabled else "user_disable", detail=name)

    def record_sign_in(self, name: str, ok: bool) -> int:
        """Count a sign-in attempt on an existing account; returns its consecutive failures."""
        with self._write() as conn:
            row = self._user_row(conn, name)
            if ok:
                conn.execute("UPDATE users SET failed_logins = 0, last_login = ? WHERE name = ?", (self._clock(), name))
                failures = 0
            else:
                failures = int(row["failed_logins"]) + 1
                conn.execute("UPDATE users SET failed_logins = ? WHERE name = ?", (failures, name))
            view = self.as_user(name)
            view._audit(conn, "signin" if ok else "signin_failed", detail="" if ok else f"连续第 {failures} 次")
            return failures

    def add_session(self, token_hash: str, name: str, now: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sessions(token_hash, user, created, last_seen) VALUES (?, ?, ?, ?)",
                (token_hash, name, now, now),
            )

    def session(self, token_hash: str) -> tuple[str, str] | None:
        """(user, last seen) of a signed-in browser, or None."""
        with self._read() as conn:
            row = conn.execute("SELECT user, last_seen FROM sessions WHERE token_hash = ?", (token_hash,)).fetchone()
        return (row["user"], row["last_seen"]) if row else None

    def touch_session(self, token_hash: str, when: str) -> None:
        with self._write() as conn:
            conn.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (when, token_hash))

    def end_session(self, token_hash: str) -> str | None:
        """Sign a browser out; returns whose session it was."""
        with self._write() as conn:
            row = conn.execute("SELECT user FROM sessions WHERE token_hash = ?", (token_hash,)).fetchone()
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
            if row is not None:
                self.as_user(row["user"])._audit(conn, "signout")
            return row["user"] if row else None

    def add_member(self, report_id: str, name: str) -> None:
        with self._write() as conn:
            self._report_row(conn, report_id, deleted=True)
            self._user_row(conn, name)
            cur = conn.execute(
                "INSERT OR IGNORE INTO memberships(report_id, user, added) VALUES (?, ?, ?)",
                (report_id, name, self._clock()),
            )
            if cur.rowcount:
                self._audit(conn, "member_add", report_id, detail=name)

    def remove_member(self, report_id: str, name: str) -> None:
        with self._write() as conn:
            self._report_row(conn, report_id, deleted=True)
            cur = conn.execute("DELETE FROM memberships WHERE report_id = ? AND user = ?", (report_id, name))
            if not cur.rowcount:
                raise StoreError(f"用户“{name}”不是汇报“{report_id}”的成员，未作改动。")
            self._audit(conn, "member_remove", report_id, detail=name)

    def members(self, report_id: str) -> list[str]:
        with self._read() as conn:
            self._report_row(conn, report_id, deleted=True)
            return [
                r[0]
                for r in conn.execute(
                    "SELECT user FROM memberships WHERE report_id = ? ORDER BY added, user", (report_id,)
                )
            ]

    def is_member(self, report_id: str, name: str) -> bool:
        with self._read() as conn:
            return (
                conn.execute("SELECT 1 FROM memberships WHERE report_id = ? AND user = ?", (report_id, name)).fetchone()
                is not None
            )

    def member_reports(self, name: str) -> set[str]:
        with self._read() as conn:
            return {r[0] for r in conn.execute("SELECT report_id FROM memberships WHERE user = ?", (name,))}


# --- module helpers ----------------------------------------------------------------------

_REVIEW_VERB = {"draft": "改回草稿", "submitted": "提交审核", "approved": "审核通过", "returned": "退回"}


def _user_record(row: Row) -> UserRecord:
    return UserRecord(
        name=row["name"],
        role=row["role"],
        enabled=bool(row["enabled"]),
        created=row["created"],
        last_login=row["last_login"],
        failed_logins=row["failed_logins"],
        password_hash=row["password_hash"],
    )


def refuse_unusable(path: Path, *, hint: str = "请换一个路径（HUIBAO_DATA_DIR）") -> None:
    """Read the schema version of a SQLite file without writing anything, not even a -wal/-shm file.

    ``immutable=1`` reads the main file without locks. A concurrent writer could make this
    read stale; that only matters for the version check, which the migration repeats under
    the write lock.
    """
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            found = schema.read_state(_ProbeConnection(probe)).version
        finally:
            probe.close()
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{path} 不是有效的工作区文件（{reason_zh(err)}）。") from None
    if found == -1:
        raise StoreError(f"{path} 是 SQLite 文件，但不是 huibao 工作区；{hint}。")
    if found > SCHEMA_VERSION:
        raise StoreError(f"{schema.newer_message(found, '工作区文件')}文件 {path} 未作任何改动。")


class _ProbeConnection(SQLiteConnection):
    """A read-only sqlite3 connection seen through the store's connection interface."""

    def __init__(self, raw: sqlite3.Connection) -> None:  # no PRAGMAs: they would write
        self.raw = raw


def _migrate(conn: Connection, target: str | Path) -> None:
    """Bring the workspace to the current schema (Alembic), a SQLite file copied first."""
    state = schema.read_state(conn)
    if state.current:
        return
    if state.version == -1:
        raise StoreError(
            f"{masked_database_url(str(target)) if is_database_url(target) else target} 中已有其他数据表，不是 huibao 工作区。"
        )
    if state.version > SCHEMA_VERSION:
        raise StoreError(schema.newer_message(state.version))
    if isinstance(conn, SQLiteConnection) and state.version > 0:
        # A copy of the old file first: a migration must never cost the user their drafts.
        backup = Path(target).with_name(f"{Path(target).name}.v{state.version}.bak")
        if not backup.exists():
            copy_target = sqlite3.connect(backup)
            try:
                conn.raw.backup(copy_target)
            finally:
                copy_target.close()
    schema.upgrade(target)


def _figures_json(figures: list[Figure]) -> str:
    return json.dumps([json.loads(f.model_dump_json()) for f in figures], ensure_ascii=False, sort_keys=True)


def _figures_from_json(data: str) -> list[Figure]:
    return [_stored_figure(d) for d in json.loads(data)]


def _stored_figure(data: dict) -> Figure:
    """A stored figure. A value that is not a number (null, written by versions that did not bound
    values) reads as NaN, shown as 无效数值, so the workspace opens and new figures can repair it."""
    try:
        return Figure.model_validate(data)
    except ValidationError:
        fixed = dict(data)
        for key, fallback in (("value", math.nan), ("base_value", math.nan), ("last_year", None)):
            if not isinstance(fixed.get(key), (int, float)) or isinstance(fixed.get(key), bool):
                fixed[key] = fallback
        fixed.pop("base_last_year", None)
        return Figure.model_validate(fixed)


def _subtree(section: SectionSpec) -> Iterator[SectionSpec]:
    yield section
    for child in section.children:
        yield from _subtree(child)


def _walk_levels(sections: list[SectionSpec], depth: int = 0) -> Iterator[tuple[SectionSpec, int]]:
    """Outline order with the heading level a section will have: 0 intro/closing, 1 一、, 2 （一）."""
    for sec in sections:
        level = 0 if depth == 0 and sec.part in ("intro", "closing") else depth + 1
        yield sec, level
        yield from _walk_levels(sec.children, depth + 1)
