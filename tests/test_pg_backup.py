"""`huibao backup` / `huibao restore-backup` on a workspace in PostgreSQL (HUIBAO_DATABASE_URL),
against a real server (tests/pg_server.py): pg_dump's snapshot, a restore in one transaction, an
older backup migrated, a bad file changing nothing.

The SQLite side is tests/test_backup.py; ``fill`` (3 reports with history) is shared."""

from __future__ import annotations

import psycopg
import pytest

from assistant.core.errors import InputError
from assistant.core.settings import get_settings
from assistant.workspace import pgbackup, schema, store
from assistant.workspace.backup import backup_workspace, check_backup, restore_workspace
from assistant.workspace.service import Workspace
from assistant.workspace.store import SCHEMA_VERSION
from tests.test_backup import fill, run  # noqa: F401  (run: the CLI fixture)
from tests.test_store import make_figures, make_spec


def pg_dump_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every workspace table, in a fixed order: "everything as at backup time"."""
    out = {}
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        for t in sorted(tables):
            out[t] = sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
    return out


@pytest.fixture()
def database(postgres, monkeypatch) -> str:
    """A new database, set as the workspace (HUIBAO_DATABASE_URL) for the commands the test runs."""
    url = postgres.new_database()
    monkeypatch.setenv("HUIBAO_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def test_workspace_tables_are_every_table_of_a_new_workspace(database):
    Workspace.open(database).close()
    with psycopg.connect(database) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == set(pgbackup.WORKSPACE_TABLES)  # a new table must be added to the backup's list


def test_round_trip_on_postgresql_restores_everything_as_at_backup_time(run, database, tmp_path):  # noqa: F811
    rids = fill(database)
    at_backup = pg_dump_rows(database)
    assert len(at_backup["reports"]) == 3 and len(at_backup["versions"]) == 27 and at_backup["audit"]

    code, out = run("backup", str(tmp_path / "b.dump"))
    assert code == 0, out
    assert "已备份工作区" in out and "汇报 3 份，版本 27 个" in out
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("b.", ".b."))) == ["b.dump"]

    # Another process keeps the workspace open through all of this, as the app does.
    page = Workspace.open(database)
    ws = Workspace.open(database)
    ws.edit(rids[0], "1.1", "备份之后的修改。")
    ws.delete(rids[1])
    ws.update_figures(rids[2], make_figures())
    ws.close()
    assert pg_dump_rows(database) != at_backup

    code, out = run("restore-backup", str(tmp_path / "b.dump"), "--yes")
    assert code == 0, out
    assert "已恢复工作区：汇报 3 份，版本 27 个" in out
    assert pg_dump_rows(database) == at_backup
    # the open connection reads the restored workspace and can write on it: ids continue, none reused
    assert page.section(rids[0], "1.1").text == "第 0 份汇报的第二次修改稿。"
    assert [h.version for h in page.history(rids[0], "1.1")] == [1, 2, 3]
    assert page.edit(rids[0], "1.1", "恢复之后的修改。") == 4
    page.close()

    # the workspace as it was before the restore was dumped into the data folder's backups/
    safety = list((get_settings().data_dir / "backups").glob("workspace-before-restore-*.dump"))
    assert len(safety) == 1 and str(safety[0]) in out
    kept = check_backup(safety[0], database)
    assert kept.reports == 3 and kept.versions == 28


def test_restore_on_postgresql_refuses_bad_files_and_changes_nothing(run, database, tmp_path):  # noqa: F811
    fill(database)
    before = pg_dump_rows(database)
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"PGDMP" + b"\x00garbage" * 100)
    other = tmp_path / "other.dump"
    with psycopg.connect(database.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE not_a_workspace")
    other_url = database.rsplit("/", 1)[0] + "/not_a_workspace"
    with psycopg.connect(other_url) as conn:
        conn.execute("CREATE TABLE t (x int)")
    pgbackup._run([pgbackup.tool("pg_dump"), "--format=custom", f"--file={other}", other_url], what="test")
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    text_file = tmp_path / "notes.dump"
    text_file.write_text("不是备份", encoding="utf-8")
    for bad, message in (
        (broken, "不是有效的工作区文件"),
        (text_file, "既不是 PostgreSQL 工作区的备份"),
        (junk, "不是有效的 PostgreSQL 备份文件"),
        (other, "不是 huibao 工作区（缺少数据表"),
        (tmp_path / "missing.dump", "不存在"),
    ):
        code, out = run("restore-backup", str(bad), "--yes")
        assert code == 2 and message in out and "工作区未作改动" in out, out
        assert pg_dump_rows(database) == before
    assert not (get_settings().data_dir / "backups").exists()  # nothing was even backed up


def test_restore_on_postgresql_migrates_an_older_backup(database, postgres, tmp_path):
    old_url = postgres.new_database()
    schema.upgrade(old_url, revision="0005")
    with psycopg.connect(old_url) as conn:
        conn.execute("DROP TABLE alembic_version")  # as a v5 workspace was: written before Alembic
        conn.execute(
            "INSERT INTO reports(id, title, organisation, year, spec_json, created, updated)"
            " VALUES ('old-1', '旧汇报', '某局', 2025, %s, '2025-01-01', '2025-01-01')",
            (make_spec().model_dump_json(),),
        )
        conn.execute(
            "INSERT INTO figure_snapshots(report_id, figures_json, created) VALUES ('old-1', %s, '2025-01-01')",
            (store._figures_json(make_figures()),),
        )
    old_dump = tmp_path / "v5.dump"
    pgbackup.dump(old_url, old_dump)
    assert check_backup(old_dump, database).schema_version == 5

    fill(database)
    result = restore_workspace(database, old_dump, safety_dir=tmp_path / "safety")
    assert result.safety_copy is not None and result.safety_copy.reports == 3
    assert result.restored.reports == 1 and result.restored.schema_version == SCHEMA_VERSION
    ws = Workspace.open(database)
    assert ws.schema_version == SCHEMA_VERSION and [r.id for r in ws.reports()] == ["old-1"]
    # the v6 tables were replaced too: no account or audit line of the workspace restored over
    assert ws.store.users() == [] and ws.audit_log() == []
    ws.close()


def test_a_newer_workspace_is_backed_up_but_not_restored(database, tmp_path):
    fill(database)
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    summary = backup_workspace(database, tmp_path / "newer.dump")  # a copy is always possible
    assert summary.reports == 3 and summary.schema_version == SCHEMA_VERSION + 1
    with pytest.raises(InputError, match="高于本程序支持的版本"):
        check_backup(tmp_path / "newer.dump", database)


def test_a_sqlite_workspace_moves_onto_postgresql(run, database, tmp_path):  # noqa: F811
    """An office that worked on one server (SQLite) restores its backup into the new database:
    every report, version, audit line and account comes along, and new ids continue after them."""
    local = tmp_path / "local" / "workspace.sqlite3"
    local.parent.mkdir()
    rids = fill(local)
    before = Workspace.open(local)
    histories = {rid: [(h.version, h.author) for h in before.history(rid, "1.1")] for rid in rids}
    texts = {rid: before.section(rid, "1.1").text for rid in rids}
    audit = len(before.audit_log())
    before.close()
    backup_workspace(local, tmp_path / "local-backup.sqlite3")
    Workspace.open(database).close()  # the server's workspace exists (empty) before the move

    code, out = run("restore-backup", str(tmp_path / "local-backup.sqlite3"), "--yes")
    assert code == 0, out
    assert "已恢复工作区：汇报 3 份，版本 27 个" in out
    ws = Workspace.open(database)
    assert sorted(r.id for r in ws.reports()) == sorted(rids)
    assert {rid: [(h.version, h.author) for h in ws.history(rid, "1.1")] for rid in rids} == histories
    assert {rid: ws.section(rid, "1.1").text for rid in rids} == texts
    assert len(ws.audit_log()) == audit
    assert ws.edit(rids[0], "1.1", "搬到服务器之后的修改。") == 4  # the id counters continue
    ws.close()


def test_the_database_password_is_never_shown(run, monkeypatch, postgres):  # noqa: F811
    """`huibao config`, and the message when the server cannot be reached, name the database without
    its password."""
    url = f"postgresql://huibao:s3cret-pw@127.0.0.1:{postgres.port + 1}/huibao"  # nothing listens there
    monkeypatch.setenv("HUIBAO_DATABASE_URL", url)
    get_settings.cache_clear()
    code, out = run("config")
    assert code == 0 and "127.0.0.1" in out and "s3cret-pw" not in out
    code, out = run("reports")
    assert code != 0 and "无法连接工作区数据库 postgresql://huibao@127.0.0.1" in out and "s3cret-pw" not in out
