"""`huibao backup` / `huibao restore-backup`: a consistent copy of the SQLite workspace and putting it back.

A round trip keeps every table as it was at backup time; a bad backup file changes nothing."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

import pytest

from assistant.core.errors import InputError
from assistant.core.settings import get_settings
from assistant.workspace import schema, store
from assistant.workspace.backup import backup_workspace, check_backup, restore_workspace
from assistant.workspace.service import Workspace
from assistant.workspace.store import SCHEMA_VERSION
from tests.test_store import make_figures, make_report_draft, make_spec


@pytest.fixture()
def run(monkeypatch, capsys):
    """Run `huibao ARGS` through main() as a user would: (exit code, everything printed, unwrapped)."""
    from assistant.commands import main as cli

    monkeypatch.setattr(cli.console, "_width", 400)
    monkeypatch.setattr(cli.err_console, "_width", 400)

    def huibao(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["huibao", *args])
        with pytest.raises(SystemExit) as exit_:
            cli.main()
        captured = capsys.readouterr()
        code = exit_.value.code
        return (0 if code is None else int(code)), (captured.out + captured.err).replace("\n", "")

    return huibao


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in order: what "everything as at backup time" means."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
    finally:
        conn.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill(path: Path) -> list[str]:
    """Three reports, each with several versions of a section and a second figures snapshot."""
    ws = Workspace.open(path)
    rids = []
    for n in range(3):
        rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
        ws.edit(rid, "1.1", f"第 {n} 份汇报的手工修改稿。")
        ws.edit(rid, "1.1", f"第 {n} 份汇报的第二次修改稿。")
        figures = make_figures()
        figures[0] = figures[0].model_copy(update={"value": 20.0 + n})
        ws.update_figures(rid, figures)
        rids.append(rid)
    ws.close()
    return rids


@pytest.fixture()
def workspace_path() -> Path:
    return get_settings().workspace_path


def test_round_trip_restores_everything_as_at_backup_time(run, workspace_path, tmp_path):
    rids = fill(workspace_path)
    at_backup = dump(workspace_path)
    assert len(at_backup["reports"]) == 3 and len(at_backup["versions"]) == 3 * 9
    assert at_backup["audit"] and at_backup["figure_snapshots"]

    code, out = run("backup", str(tmp_path / "b.sqlite3"))
    assert code == 0, out
    assert "已备份工作区" in out and "汇报 3 份，版本 27 个" in out
    # one self-contained file: nothing left beside it
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("b.")) == ["b.sqlite3"]

    ws = Workspace.open(workspace_path)
    ws.edit(rids[0], "1.1", "备份之后的修改。")
    ws.delete(rids[1])
    ws.update_figures(rids[2], make_figures())
    ws.close()
    assert dump(workspace_path) != at_backup

    code, out = run("restore-backup", str(tmp_path / "b.sqlite3"), "--yes")
    assert code == 0, out
    assert "已恢复工作区：汇报 3 份，版本 27 个" in out
    assert dump(workspace_path) == at_backup
    ws = Workspace.open(workspace_path)
    assert ws.section(rids[0], "1.1").text == "第 0 份汇报的第二次修改稿。"
    assert [h.version for h in ws.history(rids[0], "1.1")] == [1, 2, 3]
    ws.close()

    # the workspace as it was before the restore was kept beside it, and the output says where
    safety = list(workspace_path.parent.glob(f"{workspace_path.name}.before-restore-*.bak"))
    assert len(safety) == 1 and str(safety[0]) in out
    kept = dump(safety[0])
    assert len(kept["versions"]) == 28 and any(r[-1] for r in kept["reports"] if r[0] == rids[1])


def test_backup_while_another_connection_holds_a_write_transaction(workspace_path, tmp_path):
    rids = fill(workspace_path)
    committed = dump(workspace_path)
    writer = sqlite3.connect(workspace_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM versions WHERE report_id = ?", (rids[0],))
        summary = backup_workspace(workspace_path, tmp_path / "during.sqlite3")
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert summary.reports == 3 and summary.versions == 27
    assert dump(tmp_path / "during.sqlite3") == committed  # the committed state, not the open transaction
    assert check_backup(tmp_path / "during.sqlite3").versions == 27


def test_backup_refuses_to_overwrite_unless_forced(run, workspace_path, tmp_path):
    fill(workspace_path)
    target = tmp_path / "b.sqlite3"
    target.write_bytes(b"keep me")
    code, out = run("backup", str(target))
    assert code == 2 and "已存在" in out and "--force" in out
    assert target.read_bytes() == b"keep me"
    code, out = run("backup", str(target), "--force")
    assert code == 0, out
    assert len(dump(target)["reports"]) == 3


def _other_app(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes(body) VALUES ('hello')")
    conn.commit()
    conn.close()


def _newer(path: Path) -> None:
    fill(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        # the reason in Chinese, not SQLite's "file is not a database"
        (lambda p: p.write_bytes(b"not a database at all " * 200), "不是有效的工作区文件（不是 SQLite 数据库文件）"),
        (_other_app, "不是 huibao 工作区"),
        (_newer, f"高于本程序支持的版本（{SCHEMA_VERSION}）"),
        (lambda p: sqlite3.connect(p).close() or p.write_bytes(b""), "不是 huibao 工作区"),
    ],
    ids=["not-sqlite", "other-app", "newer-schema", "empty"],
)
def test_restore_refuses_a_bad_file_and_changes_nothing(run, workspace_path, tmp_path, make, message):
    fill(workspace_path)
    bad = tmp_path / "bad.sqlite3"
    make(bad)
    before_ws, before_bad = sha(workspace_path), sha(bad)
    listing = sorted(p.name for p in workspace_path.parent.iterdir())
    code, out = run("restore-backup", str(bad), "--yes")
    assert code == 2, out
    assert message in out and "工作区未作改动" in out
    assert sha(workspace_path) == before_ws and sha(bad) == before_bad
    assert sorted(p.name for p in workspace_path.parent.iterdir()) == listing


def test_restore_refuses_a_corrupt_workspace_file(workspace_path, tmp_path):
    fill(workspace_path)
    backup_workspace(workspace_path, tmp_path / "b.sqlite3")
    data = bytearray((tmp_path / "b.sqlite3").read_bytes())
    page = 4096
    data[-page:] = b"\x0d" + b"\xff" * (page - 1)  # a page of garbage inside a table
    (tmp_path / "b.sqlite3").write_bytes(bytes(data))
    with pytest.raises(InputError, match="已损坏（完整性检查：.*工作区未作改动"):
        check_backup(tmp_path / "b.sqlite3")


def test_restore_off_a_terminal_without_yes_changes_nothing(run, workspace_path, tmp_path):
    fill(workspace_path)
    backup_workspace(workspace_path, tmp_path / "b.sqlite3")
    ws = Workspace.open(workspace_path)
    ws.delete(ws.reports()[0].id)
    ws.close()
    before = dump(workspace_path)
    code, out = run("restore-backup", str(tmp_path / "b.sqlite3"))
    assert code == 1 and "--yes" in out and "汇报 3 份" in out
    assert dump(workspace_path) == before
    assert not list(workspace_path.parent.glob("*.before-restore-*"))


def test_restore_migrates_an_older_schema(workspace_path, tmp_path):
    old = tmp_path / "v5.sqlite3"
    schema.upgrade(old, revision="0005")
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("DROP TABLE alembic_version")  # as a v5 file was: written before Alembic
    conn.execute(
        "INSERT INTO figure_snapshots(report_id, figures_json, created) VALUES ('old-1', ?, '2025-01-01')",
        (store._figures_json(make_figures()),),
    )
    conn.execute(
        "INSERT INTO reports(id, title, organisation, year, spec_json, created, updated)"
        " VALUES ('old-1', '旧汇报', '某局', 2025, ?, '2025-01-01', '2025-01-01')",
        (make_spec().model_dump_json(),),
    )
    conn.close()
    fill(workspace_path)
    result = restore_workspace(workspace_path, old)
    assert result.safety_copy is not None and result.safety_copy.reports == 3
    assert result.restored.reports == 1 and result.restored.schema_version == SCHEMA_VERSION
    ws = Workspace.open(workspace_path)
    assert ws.schema_version == SCHEMA_VERSION and [r.id for r in ws.reports()] == ["old-1"]
    ws.close()
    assert not list(workspace_path.parent.glob(".*.tmp*"))  # no temporary file left behind


def test_restore_into_an_empty_data_folder(workspace_path, tmp_path):
    fill(workspace_path)
    backup_workspace(workspace_path, tmp_path / "b.sqlite3")
    for p in workspace_path.parent.glob(workspace_path.name + "*"):
        p.unlink()
    result = restore_workspace(workspace_path, tmp_path / "b.sqlite3")
    assert result.safety_copy is None and result.restored.reports == 3


def test_restore_while_another_process_has_the_workspace_open(workspace_path, tmp_path):
    """The restore writes into the live file: an open connection (the web page's) sees the restored
    reports on its next read and its next save lands in the workspace, not in a renamed-away file."""
    rids = fill(workspace_path)
    backup_workspace(workspace_path, tmp_path / "b.sqlite3")
    page = Workspace.open(workspace_path)
    page.delete(rids[0])
    assert len(page.reports()) == 2
    restore_workspace(workspace_path, tmp_path / "b.sqlite3")
    assert sorted(r.id for r in page.reports()) == sorted(rids)
    page.edit(rids[0], "1.1", "恢复之后在网页上的修改。")
    page.close()
    ws = Workspace.open(workspace_path)
    assert ws.section(rids[0], "1.1").text == "恢复之后在网页上的修改。"
    ws.close()


def test_restore_of_a_file_points_to_restore_backup(run, workspace_path, tmp_path, monkeypatch):
    fill(workspace_path)
    backup_workspace(workspace_path, tmp_path / "b.sqlite3")
    monkeypatch.chdir(tmp_path)
    code, out = run("restore", "b.sqlite3")  # `restore` takes a report from the 回收站
    assert code == 1 and "huibao restore-backup b.sqlite3" in out
