"""The workspace commands through typer's CliRunner: regenerate, history, revert, diff, lock,
edit, figures/stale/refresh, export. Drafting uses the real offline engine (no model), and a
fake streaming model for the on_delta path."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assistant.commands.main import app
from assistant.core.errors import InputError, StoreError
from assistant.core.figures import write_figures
from assistant.core.settings import get_settings
from assistant.workspace.service import Workspace
from tests.test_store import make_figures, make_report_draft, make_spec, snapshot_state


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    # CliRunner is not a terminal: rich would wrap at 80 columns and cut table cells.
    from assistant.commands import main as cli

    monkeypatch.setattr(cli.console, "_width", 200)


@pytest.fixture()
def ws_report(monkeypatch):
    from assistant.commands import workspace

    monkeypatch.setattr(workspace, "_open_kb", lambda settings: None)  # no vector index in these tests
    ws = Workspace.open(get_settings().workspace_path)
    rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    yield ws, rid
    ws.close()


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


def test_reports_lists_saved_reports(ws_report):
    ws, rid = ws_report
    result = run("reports")
    assert result.exit_code == 0, result.output
    assert rid in result.output and "宣传工作汇报" in result.output and "2026" in result.output


def test_reports_on_empty_workspace():
    result = run("reports")
    assert result.exit_code == 0 and "还没有汇报" in result.output


def test_regenerate_offline_changes_only_that_section(ws_report):
    ws, rid = ws_report
    before = snapshot_state(ws, rid)
    result = run("regenerate", rid, "1.2", "--offline", "--instruction", "更精炼，突出新媒体数据")
    assert result.exit_code == 0, result.output
    assert "已保存为第 2 版" in result.output and "其他章节未改动" in result.output
    after = snapshot_state(ws, rid)
    assert after["1.2"][0] == 2
    assert {k: v for k, v in after.items() if k != "1.2"} == {k: v for k, v in before.items() if k != "1.2"}
    new = ws.section(rid, "1.2")
    assert new.provenance.engine == "offline" and "860篇" in new.text  # the real offline engine used F03
    hist = ws.history(rid, "1.2")
    assert hist[-1].author == "offline" and hist[-1].instruction == "更精炼，突出新媒体数据"


class FakeModel:
    name = "fake-model"

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.calls = 0

    def stream(self, messages):
        self.calls += 1
        for i in range(0, len(self.answer), 5):
            yield self.answer[i : i + 5]

    def complete(self, messages):
        self.calls += 1
        return self.answer


def test_regenerate_with_model_streams_and_records_model(ws_report, monkeypatch):
    from assistant.commands import workspace

    ws, rid = ws_report
    fake = FakeModel("新媒体发稿860篇，传播力持续增强。")
    monkeypatch.setattr(workspace, "_make_model", lambda settings, offline, name: fake)
    before = snapshot_state(ws, rid)
    result = run("regenerate", rid, "1.2", "-i", "更精炼")
    assert result.exit_code == 0, result.output
    assert "新媒体发稿860篇，传播力持续增强。" in result.output and fake.calls >= 1
    assert ws.section(rid, "1.2").text == "新媒体发稿860篇，传播力持续增强。"
    hist = ws.history(rid, "1.2")[-1]
    assert hist.author == "model" and hist.model == "fake-model" and hist.instruction == "更精炼"
    after = snapshot_state(ws, rid)
    assert {k: v for k, v in after.items() if k != "1.2"} == {k: v for k, v in before.items() if k != "1.2"}


def test_regenerate_saves_an_overlong_answer_with_a_warning(ws_report, monkeypatch):
    from assistant.commands import workspace

    ws, rid = ws_report
    monkeypatch.setenv("HUIBAO_ANSWER_TOKENS", "10")  # bound: 40 characters
    get_settings.cache_clear()
    answer = "新媒体发稿860篇，传播力持续增强。" * 4
    monkeypatch.setattr(workspace, "_make_model", lambda settings, offline, name: FakeModel(answer))
    result = run("regenerate", rid, "1.2")
    assert result.exit_code == 0, result.output
    assert ws.section(rid, "1.2").text == answer  # saved as written, not cut
    assert "模型回答过长" in result.output
    latest = ws.history(rid, "1.2")[-1].version
    assert "模型回答过长" in ws.get_version(rid, "1.2", latest).provenance.warnings[0]


def test_regenerate_with_a_failing_model_saves_nothing(ws_report, monkeypatch):
    # Issue 11: the command used to save the offline stand-in (exit 0); now nothing is saved
    # and the ModelError (exit code 4) names the failure.
    from assistant.commands import workspace
    from assistant.core.errors import ModelError
    from assistant.testing.fakes import FakeChatModel

    ws, rid = ws_report
    failing = FakeChatModel(
        name="fake-model", responder=lambda messages: (_ for _ in ()).throw(ModelError("无法连接模型服务。"))
    )
    monkeypatch.setattr(workspace, "_make_model", lambda settings, offline, name: failing)
    result = run("regenerate", rid, "1.2")
    assert isinstance(result.exception, ModelError) and result.exception.exit_code == 4
    assert "无法连接模型服务" in str(result.exception) and "未保存" in str(result.exception)
    assert [h.version for h in ws.history(rid, "1.2")] == [1]
    row = next(line for line in run("history", rid, "1.2").output.splitlines() if "▶" in line)
    assert "1" in row.split()[:3]  # version 1 is still current


def test_locked_section_refuses_regenerate(ws_report, monkeypatch):
    from assistant.commands import workspace

    ws, rid = ws_report
    assert run("lock", rid, "2").exit_code == 0
    made = []
    monkeypatch.setattr(workspace, "_make_model", lambda *a: made.append(a))
    result = run("regenerate", rid, "2", "--offline")
    assert not made  # refused before any model was set up
    assert result.exit_code == 1 and isinstance(result.exception, StoreError)
    assert "已锁定" in str(result.exception) and f"huibao unlock {rid} 2" in str(result.exception)
    assert [h.version for h in ws.history(rid, "2")] == [1]
    assert run("unlock", rid, "2").exit_code == 0
    assert run("regenerate", rid, "2", "--offline").exit_code == 0
    assert ws.section(rid, "2").section_id == "2" and len(ws.history(rid, "2")) == 2


def test_history_revert_diff_and_edit(ws_report, tmp_path):
    ws, rid = ws_report
    edited = tmp_path / "1.1.txt"
    edited.write_text(
        "全年召开新闻发布会12次，网络直播观看44.1万人次。我们坚持每周一学；强化理论武装。\n", encoding="utf-8"
    )
    result = run("edit", rid, "1.1", "--file", str(edited))
    assert result.exit_code == 0, result.output
    assert "已保存手工修改为第 2 版" in result.output and "有据 2" in result.output

    result = run("history", rid, "1.1")
    assert result.exit_code == 0 and "手工修改" in result.output and "离线" in result.output

    result = run("diff", rid, "1.1", "1", "2")
    assert result.exit_code == 0 and "-深化理论武装。" in result.output and "+强化理论武装。" in result.output

    result = run("revert", rid, "1.1", "1")
    assert result.exit_code == 0 and "保存为第 3 版" in result.output
    assert ws.section(rid, "1.1").text == ws.get_version(rid, "1.1", 1).text

    result = run("revert", rid, "1.1", "9")
    assert isinstance(result.exception, StoreError) and "有效版本为 1–3" in str(result.exception)
    result = run("edit", rid, "1.1", "--file", str(tmp_path / "missing.txt"))
    assert isinstance(result.exception, InputError)


def test_figures_stale_refresh(ws_report, tmp_path):
    ws, rid = ws_report
    ws.lock(rid, "3")
    path = tmp_path / "new.yaml"
    write_figures(make_figures(F02=(45.2, "万人次"), F04=(320, "人次")), path)
    result = run("figures", rid, "--set", str(path))
    assert result.exit_code == 0, result.output
    assert "2 个章节用到的数据已变" in result.output and "44.1万人次 改为 45.2万人次" in result.output
    assert "已锁定" in result.output
    assert ws.stale_sections(rid) == ["1.1", "3"]
    assert "1.1" in run("stale", rid).output

    result = run("refresh", rid, "--offline")
    assert result.exit_code == 0, result.output
    assert "章节 3 已锁定，跳过" in result.output and "仍需更新的章节：3" in result.output
    assert ws.stale_sections(rid) == ["3"]
    assert "45.2万人次" in ws.section(rid, "1.1").text
    assert len(ws.history(rid, "3")) == 1 and len(ws.history(rid, "1.2")) == 1

    listing = run("figures", rid).output
    assert "45.2" in listing and "F04" in listing


def test_export_docx_and_md(ws_report, tmp_path):
    ws, rid = ws_report
    result = run("export", rid, "--format", "docx", "--out", str(tmp_path / "r.docx"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.docx").stat().st_size > 5000 and "黄色标出" in result.output
    result = run("export", rid, "--format", "md", "--out", str(tmp_path / "r.md"))
    assert result.exit_code == 0 and (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# ")
    result = run("export", rid, "--format", "pdf")
    assert isinstance(result.exception, InputError) and "不支持的导出格式" in str(result.exception)


def test_export_counts_every_placeholder_form(ws_report, tmp_path):
    # Regression: the command counted only 【待补充/【待核实 while the export highlights XX and
    # ×× too; it now uses the check summaries, which know every form.
    ws, rid = ws_report
    ws.edit(rid, "2", "一是宣传形式还不够丰富，全年仅开展XX次；二是基层宣传力量相对薄弱。")
    expected = sum(s.check.summary.placeholders for s in ws.current(rid).sections)
    assert expected == 2  # 【待补充：阅读量】 in 1.2 and XX in 2
    result = run("export", rid, "--format", "md", "--out", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.output
    assert f"稿中还有 {expected} 处待补充的占位" in result.output


def test_unknown_report_message(ws_report):
    ws, rid = ws_report
    result = run("history", "nope", "1")
    assert isinstance(result.exception, StoreError)
    assert "没有编号为“nope”的汇报" in str(result.exception) and rid in str(result.exception)
    result = run("show", rid)
    assert result.exit_code == 0 and "1.2" in result.output
    result = run("show", rid, "closing")
    assert "推动宣传工作再上新台阶" in result.output


def test_errors_reach_the_user_as_chinese_messages(ws_report, monkeypatch, capsys):
    import sys

    from assistant.commands import main as cli

    monkeypatch.setattr(sys, "argv", ["huibao", "revert", "nope", "1", "1"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 1
    assert "错误：" in capsys.readouterr().err


def test_counts_show_misattributed_as_invented_and_unverified_apart(ws_report, tmp_path):
    from assistant.check.result import Summary
    from assistant.commands.base import NUMBER_COUNTS_HEADER, number_counts, number_line

    s = Summary(grounded=5, invented=1, misattributed=2, unverified=3, placeholders=4)
    assert (NUMBER_COUNTS_HEADER, number_counts(s)) == ("数字 有据/编造/待核实/待补", "5/3/3/4")
    assert number_line(s) == "有据 5 / 编造 3 / 待核实 3 / 待补 4"

    ws, rid = ws_report
    edited = tmp_path / "1.1.txt"
    edited.write_text("全年召开新闻发布会12次，开展调研【待核实：30次】，网络直播观看50万人次。\n", encoding="utf-8")
    result = run("edit", rid, "1.1", "--file", str(edited))
    assert result.exit_code == 0 and "数字 有据 1 / 编造 1 / 待核实 1 / 待补 0" in result.output
    result = run("history", rid, "1.1")
    assert "有据/编造/待核实/待补" in result.output and "1/1/1/0" in result.output
    result = run("export", rid, "--format", "md", "--out", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.output
    assert "稿中还有 1 处待核实的数字（【待核实】） 和 1 处待补充的占位" in result.output
    assert "另有 1 个数字无依据或与所说事项不符" in result.output


def _two_edits(ws, rid):
    base = ws.section(rid, "1.1").text
    ws.edit(rid, "1.1", base.replace("深化理论武装", "强化理论武装"))
    ws.edit(rid, "1.1", base.replace("深化理论武装", "加强理论武装"))  # v3 is current


def test_diff_without_versions_compares_the_previous_with_the_current(ws_report):
    ws, rid = ws_report
    result = run("diff", rid, "1.1")
    assert isinstance(result.exception, InputError) and "只有当前这一个版本" in str(result.exception)
    _two_edits(ws, rid)
    result = run("diff", rid, "1.1")
    assert result.exit_code == 0, result.output
    assert "--- 第 2 版" in result.output and "+++ 第 3 版" in result.output
    assert "-强化理论武装。" in result.output and "+加强理论武装。" in result.output


def test_diff_with_one_version_compares_it_with_the_current(ws_report):
    ws, rid = ws_report
    _two_edits(ws, rid)
    result = run("diff", rid, "1.1", "1")
    assert result.exit_code == 0, result.output
    assert "--- 第 1 版" in result.output and "+++ 第 3 版" in result.output
    assert "-深化理论武装。" in result.output and "+加强理论武装。" in result.output


def test_piped_diff_is_a_unified_diff_that_never_wraps(ws_report):
    ws, rid = ws_report
    long_sentence = "加强" + "理论武装和宣传阵地建设" * 12 + "。"
    ws.edit(rid, "1.1", ws.section(rid, "1.1").text + long_sentence)
    result = run("diff", rid, "1.1", "1", "2")
    assert result.exit_code == 0, result.output
    added = [line for line in result.output.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == ["+" + long_sentence]  # one line, longer than 80 columns
    assert len(added[0]) > 80 and "\x1b[" not in result.output


def test_diff_on_a_terminal_colours_the_changes(ws_report, monkeypatch):
    from assistant.commands import main as cli

    ws, rid = ws_report
    _two_edits(ws, rid)
    monkeypatch.setattr(cli.console, "_force_terminal", True)
    result = run("diff", rid, "1.1", "1", "2")
    assert result.exit_code == 0 and "第 1 版 → 第 2 版" in result.output


def test_a_heading_only_section_cannot_be_regenerated(ws_report):
    ws, rid = ws_report
    before = snapshot_state(ws, rid)
    result = run("regenerate", rid, "1", "--offline")
    assert isinstance(result.exception, InputError)
    assert "只有标题" in str(result.exception) and "1.1、1.2" in str(result.exception)
    assert snapshot_state(ws, rid) == before  # nothing saved


def test_piped_show_round_trips_through_edit(ws_report, tmp_path):
    # QA: `show R S > s.txt` wrapped the text at the console width and put the title line first;
    # `edit R S --file s.txt` then saved both, with line breaks inside words.
    ws, rid = ws_report
    long_sentence = "加强" + "理论武装和宣传阵地建设" * 12 + "。"  # wider than the 200-column test console
    ws.edit(rid, "1.1", ws.section(rid, "1.1").text + "\n" + long_sentence)
    stored = ws.section(rid, "1.1").text
    result = run("show", rid, "1.1")
    assert result.exit_code == 0, result.output
    assert result.output == stored + "\n"  # the stored text exactly: no title line, no wrapping
    shown = tmp_path / "s.txt"
    shown.write_text(result.output, encoding="utf-8")
    versions = len(ws.history(rid, "1.1"))
    result = run("edit", rid, "1.1", "--file", str(shown))
    assert result.exit_code == 0, result.output
    assert "未保存新版本" in result.output
    assert len(ws.history(rid, "1.1")) == versions and ws.section(rid, "1.1").text == stored

    # A file that starts with the title line (what `show` prints on a terminal): the line is not stored.
    titled = tmp_path / "titled.txt"
    titled.write_text(ws.section(rid, "1.1").title + "\n" + stored.replace("每周一学", "每周一课") + "\n", "utf-8")
    result = run("edit", rid, "1.1", "--file", str(titled))
    assert result.exit_code == 0, result.output
    assert "不作为正文保存" in result.output and "已保存手工修改" in result.output
    assert ws.section(rid, "1.1").text == stored.replace("每周一学", "每周一课")


def test_regenerate_drafts_a_section_added_to_the_outline_and_export_names_undrafted_ones(ws_report, tmp_path):
    # QA: a section added with `outline add` could not be drafted (“还没有任何版本”), and export
    # left it out without a word.
    ws, rid = ws_report
    result = run("outline", "add", rid, "--parent", "1", "--title", "机关文化", "--notes", "读书分享会办了12期")
    assert result.exit_code == 0, result.output
    assert f"huibao regenerate {rid} 1.3" in result.output
    out = tmp_path / "r.md"
    result = run("export", rid, "--format", "md", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "还没有正文的章节（1 个），未导出" in result.output and "1.3 机关文化" in result.output
    assert f"huibao regenerate {rid} 1.3" in result.output
    result = run("refresh", rid)
    assert result.exit_code == 0 and "1.3 机关文化" in result.output

    result = run("regenerate", rid, "1.3")  # no endpoint configured: the offline engine
    assert result.exit_code == 0, result.output
    assert "已保存为第 1 版" in result.output
    assert "读书分享会" in ws.section(rid, "1.3").text and len(ws.history(rid, "1.3")) == 1
    result = run("export", rid, "--format", "md", "--out", str(out))
    assert result.exit_code == 0 and "还没有正文" not in result.output
    assert "机关文化" in out.read_text(encoding="utf-8")


def test_edit_reads_a_gbk_file_and_refuses_a_version_that_does_not_exist(ws_report, tmp_path):
    # QA: `edit --file` refused a GBK .txt that check and ingest read; `--base 9` claimed a conflict
    ws, rid = ws_report
    changed = ws.section(rid, "1.1").text.replace("每周一学", "每周一课")
    gbk = tmp_path / "改稿.txt"
    gbk.write_bytes(changed.encode("gbk"))
    result = run("edit", rid, "1.1", "--file", str(gbk))
    assert result.exit_code == 0, result.output
    assert ws.section(rid, "1.1").text == changed
    versions = len(ws.history(rid, "1.1"))
    result = run("edit", rid, "1.1", "--file", str(gbk), "--base", "9")
    assert isinstance(result.exception, InputError) and "没有第 9 版" in str(result.exception)
    assert len(ws.history(rid, "1.1")) == versions
