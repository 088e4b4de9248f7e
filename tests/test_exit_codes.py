"""Honest exit codes (issue 11): 4 when the model failed; regenerate saves nothing then, and
never a version identical to the current one; draft and demo save and exit 4 on any fallback.

The model faults come from the local OpenAI-compatible server (500, a hang past the timeout)
and the in-process FakeChatModel."""

from __future__ import annotations

import io
import json
import sys

import pytest
from typer.testing import CliRunner

from assistant.commands.main import app, main
from assistant.core.errors import EXIT_MODEL, ModelError, Unchanged
from assistant.core.settings import get_settings
from assistant.testing.fakes import FakeChatModel
from assistant.ui import actions
from assistant.workspace.service import Workspace
from tests.test_store import make_figures, make_report_draft, make_spec


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def exit_code_of(monkeypatch, *args: str) -> int:
    """The exit status a shell sees: through the entry point, which maps HuibaoError.exit_code."""
    monkeypatch.setattr(sys, "argv", ["huibao", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    return stop.value.code


@pytest.fixture()
def ws_report(monkeypatch):
    from assistant.commands import main as cli
    from assistant.commands import workspace

    monkeypatch.setattr(cli.console, "_width", 200)
    monkeypatch.setattr(workspace, "_open_kb", lambda settings: None)  # no vector index in these tests
    ws = Workspace.open(get_settings().workspace_path)
    rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    yield ws, rid
    ws.close()


def use_server(monkeypatch, server, *, timeout: float = 5.0) -> None:
    """Point the settings at the local fake server, without retries (a fault fails at once)."""
    monkeypatch.setenv("HUIBAO_BASE_URL", server.url)
    monkeypatch.setenv("HUIBAO_API_KEY", "test-key")
    monkeypatch.setenv("HUIBAO_MODEL", "fake-model")
    monkeypatch.setenv("HUIBAO_MAX_RETRIES", "0")
    monkeypatch.setenv("HUIBAO_REQUEST_TIMEOUT_S", str(timeout))
    get_settings.cache_clear()


def test_model_error_is_exit_code_4():
    assert EXIT_MODEL == 4 and ModelError("x").exit_code == 4 and Unchanged("x").exit_code == 0


# ---- regenerate -------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [{"error": 500}, {"timeout": 3}], ids=["http500", "hang"])
def test_regenerate_with_a_failing_model_saves_nothing_and_exits_4(ws_report, monkeypatch, fake_openai, fault):
    # Old code: saved an offline stand-in as version 2 and exited 0.
    ws, rid = ws_report
    use_server(monkeypatch, fake_openai, timeout=0.5)
    fake_openai.responder = lambda body: fault
    before = ws.section(rid, "1.2")
    result = run("regenerate", rid, "1.2")
    assert isinstance(result.exception, ModelError), result.output
    assert "未保存" in str(result.exception) and "模型出错" in str(result.exception)
    assert fake_openai.chat_requests  # the model really was asked
    assert exit_code_of(monkeypatch, "regenerate", rid, "1.2") == EXIT_MODEL
    assert [h.version for h in ws.history(rid, "1.2")] == [1]
    assert ws.section(rid, "1.2") == before


def test_a_cut_stream_is_discarded_not_kept_on_screen(ws_report, monkeypatch, fake_openai):
    # Old code: the partial text stayed on screen above an offline stand-in saved as version 2.
    ws, rid = ws_report
    use_server(monkeypatch, fake_openai)
    fake_openai.enqueue_cut_stream("新媒体发稿860篇，传播力持续增强。", after_chars=6)
    result = run("regenerate", rid, "1.2")
    assert isinstance(result.exception, ModelError), result.output
    assert "以上部分输出作废，未保存" in result.output  # not a terminal: it cannot be erased
    assert [h.version for h in ws.history(rid, "1.2")] == [1]


def test_on_a_terminal_the_streamed_rows_are_erased(monkeypatch):
    from rich.console import Console

    from assistant.commands import workspace

    screen = io.StringIO()
    monkeypatch.setattr(workspace, "console", Console(file=screen, force_terminal=True, width=10))
    workspace._discard_streamed("一二三四五六七\n八")  # 14 cells on 10 columns: 2 rows, then 1
    assert screen.getvalue() == "\x1b[2F\x1b[J"
    screen.truncate(0)
    screen.seek(0)
    workspace._discard_streamed("一二")
    assert screen.getvalue() == "\r\x1b[J"


def test_offline_regenerate_still_saves(ws_report):
    ws, rid = ws_report
    result = run("regenerate", rid, "1.2", "--offline")
    assert result.exit_code == 0, result.output
    assert "已保存为第 2 版" in result.output
    assert [h.version for h in ws.history(rid, "1.2")] == [1, 2]


def test_regenerate_never_saves_a_version_identical_to_the_current_one(ws_report):
    # Old code: the second offline run saved version 3, word for word version 2.
    ws, rid = ws_report
    assert run("regenerate", rid, "1.2", "--offline").exit_code == 0
    result = run("regenerate", rid, "1.2", "--offline")
    assert result.exit_code == 0, result.output
    assert "与当前版本相同，未保存" in result.output
    assert [h.version for h in ws.history(rid, "1.2")] == [1, 2]


def test_identical_text_on_new_figures_is_still_saved(ws_report):
    # A version rests on the figures it was drafted from: the same words on a new figures
    # snapshot move the section onto it (else a stale section could never be refreshed).
    ws, rid = ws_report
    assert run("regenerate", rid, "1.2", "--offline").exit_code == 0
    ws.update_figures(rid, make_figures(F01=(13, "次")))  # a figure section 1.2 does not use
    result = run("regenerate", rid, "1.2", "--offline")
    assert result.exit_code == 0, result.output
    assert [h.version for h in ws.history(rid, "1.2")] == [1, 2, 3]


def test_regenerate_with_a_working_model_saves(ws_report, monkeypatch, fake_openai):
    ws, rid = ws_report
    use_server(monkeypatch, fake_openai)
    fake_openai.responder = lambda body: {"text": "新媒体发稿860篇，传播力持续增强。"}
    result = run("regenerate", rid, "1.2")
    assert result.exit_code == 0, result.output
    assert ws.history(rid, "1.2")[-1].author == "model"


def test_refresh_with_a_failing_model_saves_nothing_tries_every_section_and_exits_4(ws_report, monkeypatch):
    # Old code: saved offline stand-ins for the stale sections and exited 0.
    from assistant.commands import workspace

    ws, rid = ws_report
    failing = FakeChatModel(
        name="fake-model", responder=lambda messages: (_ for _ in ()).throw(ModelError("无法连接模型服务。"))
    )
    monkeypatch.setattr(workspace, "_make_model", lambda settings, offline, name: failing)
    ws.update_figures(rid, make_figures(F02=(45.2, "万人次"), F04=(320, "人次")))
    assert ws.stale_sections(rid) == ["1.1", "3"]
    result = run("refresh", rid)
    assert result.exit_code == EXIT_MODEL, result.output
    assert "章节 1.1、3 未更新" in result.output
    assert ws.stale_sections(rid) == ["1.1", "3"]
    assert [h.version for h in ws.history(rid, "1.1")] == [1] and [h.version for h in ws.history(rid, "3")] == [1]


# ---- the page's regenerate --------------------------------------------------------------------


def test_page_regenerate_with_a_failing_model_saves_nothing(ws_report):
    ws, rid = ws_report
    failing = FakeChatModel(responder=lambda messages: (_ for _ in ()).throw(ModelError("无法连接模型服务。")))
    with pytest.raises(ModelError, match="无法连接模型服务。") as err:
        actions.regenerate_section(ws, rid, "1.1", get_settings(), failing, instruction="更精炼")
    assert "未保存" in str(err.value)
    assert [h.version for h in ws.history(rid, "1.1")] == [1]


def test_page_regenerate_refuses_an_identical_version(ws_report):
    ws, rid = ws_report
    actions.regenerate_section(ws, rid, "1.1", get_settings(), None)
    with pytest.raises(Unchanged, match="与当前版本相同，未保存"):
        actions.regenerate_section(ws, rid, "1.1", get_settings(), None)
    assert len(ws.history(rid, "1.1")) == 2
    chat = actions.ReportActions(ws, rid, get_settings(), None)
    said = chat.regenerate("1.1", None)
    assert "与当前版本相同，未保存" in said.message and not said.changed
    assert len(ws.history(rid, "1.1")) == 2


# ---- draft and demo ---------------------------------------------------------------------------


def _no_kb(monkeypatch):
    from assistant.commands import draft as draft_cmd

    monkeypatch.setattr(draft_cmd, "_open_kb", lambda settings, ingest_if_empty: None)
    monkeypatch.setattr(draft_cmd.console, "_width", 200)  # CliRunner is no terminal: no cut cells


def _example_paths():
    from assistant.core.resources import resource_dir

    examples = resource_dir("examples")
    figures = examples / "figures.xlsx"
    return examples / "report-spec.yaml", figures if figures.is_file() else examples / "figures.csv"


def test_draft_with_a_failing_model_saves_marks_and_exits_4(monkeypatch, fake_openai, tmp_path):
    # Old code: exit 0 although every section was written by the offline stand-in.
    _no_kb(monkeypatch)
    use_server(monkeypatch, fake_openai)
    fake_openai.responder = lambda body: {"error": 500}
    spec, figures = _example_paths()
    out = tmp_path / "out"
    result = run("draft", "--spec", str(spec), "--figures", str(figures), "--out", str(out), "--json")
    assert result.exit_code == EXIT_MODEL, result.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    drafted = [s for s in data["sections"] if s["text"]]
    assert drafted and all(s["provenance"]["engine"] == "offline" and s["provenance"]["error"] for s in drafted)
    ws = Workspace.open(get_settings().workspace_path)
    try:
        assert ws.current(data["report_id"]).sections  # saved all the same
    finally:
        ws.close()


def test_draft_exits_4_when_only_some_sections_fell_back(monkeypatch, fake_openai, tmp_path):
    _no_kb(monkeypatch)
    use_server(monkeypatch, fake_openai)
    calls = []

    def once_failing(body):
        calls.append(1)
        return {"error": 500} if len(calls) == 1 else {"text": "各项工作稳步推进。"}

    fake_openai.responder = once_failing
    spec, figures = _example_paths()
    result = run("draft", "--spec", str(spec), "--figures", str(figures), "--out", str(tmp_path / "o"))
    assert result.exit_code == EXIT_MODEL, result.output
    assert "离线（模型出错）" in result.output  # the table marks the section that fell back
    data = json.loads((tmp_path / "o" / "report.json").read_text(encoding="utf-8"))
    engines = {s["provenance"]["engine"] for s in data["sections"] if s["text"]}
    assert engines == {"model", "offline"}


def test_draft_with_a_working_model_exits_0(monkeypatch, fake_openai, tmp_path):
    _no_kb(monkeypatch)
    use_server(monkeypatch, fake_openai)
    fake_openai.responder = lambda body: {"text": "各项工作稳步推进。"}
    spec, figures = _example_paths()
    result = run("draft", "--spec", str(spec), "--figures", str(figures), "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output


def test_offline_draft_exits_0(monkeypatch, tmp_path):
    _no_kb(monkeypatch)
    spec, figures = _example_paths()
    result = run("draft", "--spec", str(spec), "--figures", str(figures), "--out", str(tmp_path / "o"), "--offline")
    assert result.exit_code == 0, result.output


def test_demo_with_a_failing_model_exits_4(monkeypatch, fake_openai, tmp_path):
    _no_kb(monkeypatch)
    use_server(monkeypatch, fake_openai)
    fake_openai.responder = lambda body: {"error": 500}
    result = run("demo", "--out", str(tmp_path / "o"))
    assert result.exit_code == EXIT_MODEL, result.output
    assert (tmp_path / "o" / "report.json").is_file()


# ---- models, ingest, search: the model (or embedding) endpoint failing is exit 4 too -----------


def _refused_endpoint(monkeypatch) -> None:
    # a loopback port nothing listens on: the connection is refused at once
    monkeypatch.setenv("HUIBAO_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("HUIBAO_API_KEY", "test-key")
    monkeypatch.setenv("HUIBAO_MAX_RETRIES", "0")
    get_settings.cache_clear()


def test_models_with_an_unreachable_endpoint_exits_4(monkeypatch):
    _refused_endpoint(monkeypatch)
    assert exit_code_of(monkeypatch, "models") == EXIT_MODEL


def test_ingest_and_search_with_a_failing_embedding_endpoint_exit_4(monkeypatch, fake_openai, tmp_path):
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "总结.md").write_text("# 工作总结\n\n全年召开新闻发布会12次。\n", encoding="utf-8")
    monkeypatch.setenv("HUIBAO_KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("HUIBAO_EMBEDDING", "openai")
    use_server(monkeypatch, fake_openai)
    assert exit_code_of(monkeypatch, "ingest") == 0  # indexed through the working endpoint
    _refused_endpoint(monkeypatch)  # then the endpoint goes away
    assert exit_code_of(monkeypatch, "search", "新闻发布会") == EXIT_MODEL
    (knowledge / "新增.md").write_text("# 新增材料\n\n全年培训代表300人次。\n", encoding="utf-8")
    assert exit_code_of(monkeypatch, "ingest") == EXIT_MODEL
