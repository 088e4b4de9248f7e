"""Ingest under hostile or broken input: links, unreadable files, NUL bytes, one-line documents, progress."""

from __future__ import annotations

import errno
import io
import logging
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from assistant.core.errors import InputError
from assistant.kb.ingest import chunks_for, ingest, read_document
from assistant.kb.retrieve import KnowledgeBase
from assistant.ui.actions import safe_upload_name, save_uploads
from tests.kb_fixtures.helpers import FIXTURES, copy_corpus, make_settings, run_cli
from tests.test_app import no_errors, open_app, texts


@pytest.fixture()
def kb_env(tmp_path, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    settings = make_settings(tmp_path, knowledge)
    return settings, knowledge, KnowledgeBase.open(settings, embedder=embedder)


def test_symlink_leading_outside_the_folder_is_refused_and_the_rest_ingested(kb_env, tmp_path):
    settings, knowledge, kb = kb_env
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("机密材料\n\n不应进入知识库的内容。\n", encoding="utf-8")
    (knowledge / "other" / "link.txt").symlink_to(secret)
    (knowledge / "other" / "dirlink").symlink_to(secret.parent, target_is_directory=True)
    report = ingest(None, settings, kb=kb)
    skipped = dict(report.skipped)
    assert "目录之外" in skipped["other/link.txt"] and "目录之外" in skipped["other/dirlink"]
    assert len(report.added) == 4
    assert not any("机密" in p.text for p in kb.search("机密材料", 5))


def test_symlink_inside_the_folder_is_read(kb_env):
    settings, knowledge, kb = kb_env
    (knowledge / "other" / "same.md").symlink_to(knowledge / "other" / os.listdir(knowledge / "other")[0])
    report = ingest(None, settings, kb=kb)
    assert report.ok and "other/same.md" in report.added


def test_symlink_loop_is_reported_not_silently_skipped(kb_env):
    settings, knowledge, kb = kb_env
    (knowledge / "other" / "a.txt").symlink_to(knowledge / "other" / "b.txt")
    (knowledge / "other" / "b.txt").symlink_to(knowledge / "other" / "a.txt")
    report = ingest(None, settings, kb=kb)
    skipped = dict(report.skipped)
    assert "循环" in skipped["other/a.txt"] and "循环" in skipped["other/b.txt"]
    assert len(report.added) == 4


def test_permission_denied_is_a_chinese_reason(kb_env, monkeypatch):
    settings, knowledge, kb = kb_env
    locked = knowledge / "other" / "locked.txt"
    locked.write_text("内容\n", encoding="utf-8")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:  # chmod 0 does not stop root, who runs CI here
        if self.name == "locked.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = ingest(None, settings, kb=kb)
    reason = dict(report.skipped)["other/locked.txt"]
    assert "没有读取权限" in reason and "Permission" not in reason
    assert len(report.added) == 4


def test_unreadable_folder_is_reported(kb_env, monkeypatch):
    settings, knowledge, kb = kb_env
    (knowledge / "other" / "closed").mkdir()
    (knowledge / "other" / "closed" / "a.txt").write_text("内容\n", encoding="utf-8")
    real = os.access
    # chmod does not stop root, who runs CI here; the folder is made to look unreadable
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p).name != "closed" and real(p, mode))
    monkeypatch.setattr(Path, "rglob", _rglob_without(Path.rglob, "closed"))
    report = ingest(None, settings, kb=kb)
    assert "没有读取权限" in dict(report.skipped)["other/closed"]
    assert len(report.added) == 4


def _rglob_without(rglob, name):
    def without(self, pattern):
        return [p for p in rglob(self, pattern) if name not in p.parent.parts]

    return without


def test_pdf_warnings_do_not_reach_the_user(tmp_path, capsys):
    data = (FIXTURES / "files" / "archive-rules.pdf").read_bytes()
    path = tmp_path / "odd.pdf"
    path.write_bytes(data)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logging.getLogger("pypdf").addHandler(handler)
    try:
        import pypdf._reader as reader_module

        real = reader_module.PdfReader.__init__

        def noisy(self, *args, **kwargs):  # what pypdf logs for a file with a wrong xref offset
            logging.getLogger("pypdf._reader").warning("incorrect startxref pointer(1)")
            real(self, *args, **kwargs)

        reader_module.PdfReader.__init__ = noisy
        try:
            doc = read_document(path)
        finally:
            reader_module.PdfReader.__init__ = real
    finally:
        logging.getLogger("pypdf").removeHandler(handler)
    assert doc.text.strip()
    assert not records
    out = capsys.readouterr()
    assert "startxref" not in out.err + out.out


def test_nul_bytes_are_stripped_with_a_warning(kb_env):
    settings, knowledge, kb = kb_env
    (knowledge / "other" / "nul.txt").write_bytes("档案工作\n\n全年整理档案\x00三百卷。\x00\n".encode())
    report = ingest(None, settings, kb=kb)
    assert "other/nul.txt" in report.added
    assert dict(report.warnings)["other/nul.txt"].startswith("已删除文中的 2 个空字符")
    assert not any("\x00" in p.text for p in kb.search("整理档案", 10))


def test_one_line_document_is_ingested(kb_env, tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("关于做好年度档案移交工作的通知\n", encoding="utf-8")
    doc = read_document(path)
    assert [c.text for c in chunks_for(doc)] == ["关于做好年度档案移交工作的通知"]
    settings, knowledge, kb = kb_env
    shutil.copy(path, knowledge / "other" / "note.txt")
    report = ingest(None, settings, kb=kb)
    assert report.ok and "other/note.txt" in report.added


def test_cli_progress_is_plain_lines_when_not_a_terminal(tmp_path, monkeypatch, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    (knowledge / "other" / "nul.txt").write_bytes("档案工作\n\n全年整理档案\x00三百卷。\n".encode())
    res = run_cli(["ingest"], monkeypatch, knowledge, tmp_path / "data")
    assert res.exit_code == 0, res.output
    assert "读取文件 0/5" in res.output and "读取文件 5/5" in res.output
    assert "向量化分块 0/" in res.output and "\x1b" not in res.output
    assert "注意 other/nul.txt：已删除文中的 1 个空字符" in res.output


# ---------------------------------------------------------------- uploads (the knowledge page)


def test_upload_matching_a_stored_document_is_refused_naming_it(tmp_path):
    settings = make_settings(tmp_path, tmp_path / "knowledge")
    save_uploads([("总结.md", "工作总结\n\n全年完成任务。\n".encode())], settings)
    # same text, another name and encoding: refused, the stored one named, nothing written
    with pytest.raises(InputError, match="总结.md"):
        save_uploads([("副本.txt", "工作总结\r\n\r\n全年完成任务。\r\n".encode("gb18030"))], settings)
    assert sorted(p.name for p in (settings.data_dir / "uploads").iterdir()) == ["总结.md"]


def test_a_different_file_under_a_name_in_use_gets_a_unique_name(tmp_path):
    settings = make_settings(tmp_path, tmp_path / "knowledge")
    first = save_uploads([("总结.md", "今年的总结\n\n完成任务。\n".encode())], settings)
    second = save_uploads(
        [("总结.md", "去年的总结\n\n也完成了任务。\n".encode()), ("总结.md", "前年的总结\n\n任务。\n".encode())],
        settings,
    )
    assert [p.name for p in first + second] == ["总结.md", "总结（2）.md", "总结（3）.md"]
    assert "今年" in first[0].read_text(encoding="utf-8")


def test_long_upload_names_keep_their_extension():
    name = "很长的文件名" * 30 + ".docx"
    safe = safe_upload_name(name)
    assert safe.endswith(".docx") and len(safe) == 120


def test_the_knowledge_page_shows_ingest_warnings():
    at = open_app("knowledge")
    doc = "# 某局工作总结\n\n全年运营政务新媒体矩阵，\x00留言回复及时。\n".encode()
    at.file_uploader(key="kb.upload.0").upload("总结.md", doc, "text/markdown")
    at.run()
    at.button(key="kb.import").click().run()
    no_errors(at)
    assert any("总结.md 已导入，但已删除文中的 1 个空字符" in t for t in texts(at.warning))


# ---------------------------------------------------------------- size limits (zip bombs included)


def _docx(text: str) -> bytes:
    import docx  # heavy: python-docx

    document = docx.Document()
    for _ in range(40):
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


BOMB_TEXT = "全年整理档案三百卷。" * 400  # 40 paragraphs: ~480 KB of XML that deflates to a few KB


def test_files_over_the_limit_are_skipped_naming_file_and_limit_the_rest_ingested(tmp_path, monkeypatch, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    (knowledge / "other" / "大文件.txt").write_text("工作总结\n\n" + "全年完成任务。" * 5000, encoding="utf-8")
    bomb = _docx(BOMB_TEXT)
    assert len(bomb) < 64 * 1024  # small on disk: only its unpacked size is over the limit
    (knowledge / "other" / "压缩包.docx").write_bytes(bomb)
    monkeypatch.setenv("HUIBAO_MAX_KB_FILE_BYTES", str(64 * 1024))
    res = run_cli(["ingest"], monkeypatch, knowledge, tmp_path / "data")
    assert res.exit_code == 1, res.output  # something was skipped
    out = " ".join(res.output.split())
    assert "已跳过 other/大文件.txt：文件过大（" in out and "最多 64 KB" in out
    assert "已跳过 other/压缩包.docx：文件解压后过大（.docx 按解压后的大小计" in out
    assert "HUIBAO_MAX_KB_FILE_BYTES" in out
    kb = KnowledgeBase.open(make_settings(tmp_path, knowledge), embedder=embedder)
    assert {d.source for d in kb.documents()} == {
        "other/办公室例会记录.txt",
        "past-reports/2021-zhengxie.md",
        "past-reports/青石县人大常委会办公室2022年度宣传工作汇报.md",
        "policies/青石县政务新媒体管理办法.md",
    }


def test_the_cli_limit_defaults_to_100_mb_and_the_page_to_20_mb(tmp_path):
    settings = make_settings(tmp_path)
    assert (settings.max_kb_file_bytes, settings.max_upload_bytes) == (100 * 2**20, 20 * 2**20)


def test_an_upload_over_the_limit_unpacked_is_refused_and_nothing_written(tmp_path):
    settings = make_settings(tmp_path, max_upload_bytes=64 * 1024)
    bomb = _docx(BOMB_TEXT)
    with pytest.raises(InputError, match=r"压缩包\.docx.*解压后过大.*64 KB"):
        save_uploads([("小文件.md", "工作总结\n\n完成任务。\n".encode()), ("压缩包.docx", bomb)], settings)
    assert not (settings.data_dir / "uploads").exists()
    # the same package under the CLI's larger limit is read
    assert "全年整理档案" in read_document(Path("压缩包.docx"), data=bomb).text


def test_a_figures_xlsx_counts_unpacked(tmp_path, monkeypatch):
    from assistant.core.figures import load_figures

    path = tmp_path / "figures.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/worksheets/sheet1.xml", "<x/>" * 200_000)  # 800 KB unpacked
    assert path.stat().st_size < 64 * 1024
    monkeypatch.setenv("HUIBAO_MAX_INPUT_FILE_BYTES", str(64 * 1024))
    with pytest.raises(InputError, match=r"figures\.xlsx.*解压后过大"):
        load_figures(path)


def test_upload_matching_any_stored_document_is_refused_naming_it(kb_env):
    # the knowledge folder's documents count too, not only earlier uploads
    settings, knowledge, kb = kb_env
    ingest(None, settings, kb=kb)
    stored = (knowledge / "policies" / "青石县政务新媒体管理办法.md").read_text(encoding="utf-8")
    copy = stored.replace("\n", "\r\n").encode("gb18030")  # another name, encoding and line ends
    with pytest.raises(InputError, match=r"管理办法副本\.txt.*policies/青石县政务新媒体管理办法\.md"):
        save_uploads([("管理办法副本.txt", copy)], settings, kb)
    assert not (settings.data_dir / "uploads").exists()
    edited = stored.replace("。", "。\n新增一句说明。\n", 1).encode()
    assert [p.name for p in save_uploads([("管理办法修订稿.md", edited)], settings, kb)] == ["管理办法修订稿.md"]


def test_the_knowledge_page_refuses_an_upload_repeating_an_indexed_document():
    at = open_app("knowledge")
    doc = "# 某局工作总结\n\n全年运营政务新媒体矩阵，留言回复及时。\n".encode()
    at.file_uploader(key="kb.upload.0").upload("总结.md", doc, "text/markdown")
    at.run()
    at.button(key="kb.import").click().run()
    no_errors(at)
    at.file_uploader(key="kb.upload.1").upload("副本.txt", doc.replace(b"\n", b"\r\n"), "text/plain")
    at.run()
    at.button(key="kb.import").click().run()
    assert any("副本.txt" in t and "“总结.md”内容相同" in t for t in texts(at.error))
