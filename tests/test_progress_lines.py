"""Long commands show progress as plain lines when their output is not a terminal (a log, a pipe,
CI): typer's CliRunner is no terminal. Old code printed nothing until a draft was done, and the
eval's spinner nothing at all. (ingest: tests/test_ingest_hygiene.py; eval: tests/test_evals.py.)"""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from assistant.commands import draft as draft_cmd
from assistant.commands.base import PlainProgress
from assistant.commands.main import app
from assistant.core.figures import write_figures
from assistant.core.resources import resource_dir
from assistant.core.settings import get_settings
from assistant.workspace.service import Workspace
from tests.kb_fixtures.helpers import copy_corpus, embedder, make_settings  # noqa: F401 - a fixture
from tests.test_store import make_figures, make_report_draft, make_spec

EXAMPLES = resource_dir("examples")


def _draft_args(tmp_path, *more: str) -> list[str]:
    figures = EXAMPLES / "figures.xlsx"
    figures = figures if figures.is_file() else EXAMPLES / "figures.csv"
    spec = EXAMPLES / "report-spec.yaml"
    return ["draft", "--spec", str(spec), "--figures", str(figures), "--out", str(tmp_path / "o"), "--offline", *more]


@pytest.fixture()
def no_kb(monkeypatch):
    monkeypatch.setattr(draft_cmd, "_open_kb", lambda settings, ingest_if_empty: None)


def test_plain_progress_prints_start_end_and_at_most_one_line_per_interval():
    console = Console(record=True, width=80)
    now = [0.0]
    lines = PlainProgress(console, every_s=2.0, clock=lambda: now[0])
    for done in range(0, 11):
        now[0] = done * 0.5  # a step every half second: 2 s is 4 steps
        lines("起草章节", done, 10)
    lines("起草章节", 10, 10)  # the same state twice is one line
    assert console.export_text().split() == [
        "起草章节",
        "0/10",
        "起草章节",
        "4/10",
        "起草章节",
        "8/10",
        "起草章节",
        "10/10",
    ]


def test_draft_prints_plain_progress_lines(no_kb, tmp_path):
    result = CliRunner().invoke(app, _draft_args(tmp_path))
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "o" / "report.json").read_text(encoding="utf-8"))
    n = sum(1 for s in data["sections"] if s["text"])
    assert f"起草章节 0/{n}" in result.output and f"起草章节 {n}/{n}" in result.output
    # no live bar drawn into a log (old code printed its final frame, once, at the end)
    assert "\x1b" not in result.output and "完成（离线）" not in result.output


def test_draft_json_keeps_stdout_for_the_json(no_kb, tmp_path):
    result = CliRunner().invoke(app, _draft_args(tmp_path, "--json"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["report_id"]
    assert "起草章节 0/" in result.stderr


def test_refresh_prints_plain_progress_lines(monkeypatch, tmp_path):
    from assistant.commands import workspace

    monkeypatch.setattr(workspace, "_open_kb", lambda settings: None)
    with Workspace.open(get_settings().workspace_path) as ws:
        rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    path = tmp_path / "new.yaml"
    write_figures(make_figures(F02=(45.2, "万人次"), F04=(320, "人次")), path)
    assert CliRunner().invoke(app, ["figures", rid, "--set", str(path)]).exit_code == 0
    result = CliRunner().invoke(app, ["refresh", rid, "--offline"])
    assert result.exit_code == 0, result.output
    assert "重新生成章节 0/2" in result.output and "重新生成章节 2/2" in result.output


def test_the_first_run_ingest_of_draft_and_demo_prints_plain_lines(tmp_path, capsys, embedder):  # noqa: F811
    # demo (and draft, eval) fill an empty knowledge base from the sample folder first
    settings = make_settings(tmp_path, copy_corpus(tmp_path / "knowledge"))
    kb = draft_cmd._open_kb(settings, ingest_if_empty=True)
    assert kb is not None and not kb.is_empty()
    err = capsys.readouterr().err
    assert "知识库为空，正在导入示例知识库" in err
    assert "读取文件 0/4" in err and "读取文件 4/4" in err and "向量化分块 0/" in err
