"""Issue 11, one validation boundary for figures and outlines: values out of range, values as people
type them, control characters and size limits are refused (or normalised) with a Chinese message
naming file, row and field, nothing written; a workspace that already holds a bad value opens and
can be repaired."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from assistant.commands.main import app
from assistant.core.errors import InputError
from assistant.core.figures import Figure, load_figures, write_figures
from assistant.core.settings import get_settings
from assistant.drafting.spec import load_spec
from assistant.workspace.service import Workspace
from tests.test_store import make_figures, make_report_draft, make_spec

BIG = "9" * 400
HEAD = "title: 禾川市人大常委会办公室2026年度宣传工作汇报\norganisation: 禾川市人大常委会办公室\nyear: 2026\n"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    from assistant.commands import main as cli

    monkeypatch.setattr(cli.console, "_width", 200)


@pytest.fixture()
def ws_report(monkeypatch):
    from assistant.commands import workspace

    monkeypatch.setattr(workspace, "_open_kb", lambda settings: None)
    ws = Workspace.open(get_settings().workspace_path)
    rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    yield ws, rid
    ws.close()


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def refused(path) -> InputError:
    with pytest.raises(InputError) as info:
        load_figures(path)
    return info.value


# ---------------------------------------------------------------- values out of range


def test_400_digit_csv_via_set_is_refused_and_nothing_written(ws_report, tmp_path):
    ws, rid = ws_report
    before = ws.figures_snapshot(rid)
    path = tmp_path / "big.csv"
    path.write_text(f"id,item,value,unit\nbig,总投入,{BIG},元\n", encoding="utf-8")
    result = run("figures", rid, "--set", str(path))
    assert isinstance(result.exception, InputError)  # the entry point maps it to exit code 2
    err = result.exception
    assert err.file == str(path) and err.line == 2 and err.field == "数值" and "过大" in str(err)
    assert "已更新" not in result.output
    assert ws.figures_snapshot(rid) == before
    assert run("reports").exit_code == 0


def test_yaml_huge_float_with_scale_and_huge_integer_are_refused(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("figures:\n  - {id: a, item: 总投入, value: 1.0e+308, unit: 万亿元}\n", encoding="utf-8")
    err = refused(path)
    assert (err.line, err.field) == (2, "数值") and "过大" in str(err) and str(path) in str(err)
    path.write_text(f"figures:\n  - {{id: a, item: 总投入, value: {BIG}, unit: 元}}\n", encoding="utf-8")
    err = refused(path)
    assert (err.line, err.field) == (2, "数值") and "过大" in str(err)


def test_bound_applies_after_scaling_and_to_last_year(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("item,value,unit\n总投入,1000000000000,元\n总投入2,1000000,万亿元\n", encoding="utf-8")
    err = refused(path)  # 1e12 元 is fine, 1e6 万亿元 = 1e18 is not
    assert (err.line, err.field) == (3, "数值")
    path.write_text("item,value,unit,last_year\n总投入,12,亿元,1e300\n", encoding="utf-8")
    assert refused(path).field == "上年"
    path.write_text("item,value,unit,last_year\n总投入,12,亿元,100000000000\n", encoding="utf-8")
    err = refused(path)
    assert (err.line, err.field) == (2, "上年")
    path.write_text("item,value,unit\n总投入,inf,元\n总投入,nan,元\n", encoding="utf-8")
    assert refused(path).field == "数值"


def test_store_refuses_an_out_of_range_figure(ws_report):
    ws, rid = ws_report
    before = ws.figures_snapshot(rid)
    with pytest.raises(InputError):
        ws.update_figures(rid, [Figure(id="x", item="总投入", value=1e20, unit="元")])
    with pytest.raises(InputError):
        ws.update_figures(rid, [Figure(id="x", item="总投入", value=float("inf"), unit="元")])
    assert ws.figures_snapshot(rid) == before


# ---------------------------------------------------------------- values as people type them


def test_percent_typed_with_the_value_and_units_without_spaces(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("id,item,value,unit\na,满意度,98%,\nb,满意度2,９８％,%\nc,观看,44.1,万 人次\n", encoding="utf-8")
    figs = {f.id: f for f in load_figures(path)}
    assert (figs["a"].value, figs["a"].unit) == (98, "%")
    assert (figs["b"].value, figs["b"].unit) == (98, "%")
    assert (figs["c"].unit, figs["c"].base_value, figs["c"].base_unit) == ("万人次", 441000, "人次")
    path.write_text("id,item,value,unit\na,满意度,98%,人\n", encoding="utf-8")
    assert refused(path).field == "单位"
    yaml_path = tmp_path / "f.yaml"
    yaml_path.write_text("- {item: 满意度, value: 98%}\n", encoding="utf-8")
    assert [(f.value, f.unit) for f in load_figures(yaml_path)] == [(98, "%")]


def test_control_characters_removed_and_nul_refused(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("id,item,value,unit,note\na,新闻\x0b发布会\x1b[31m,1\x07,次,备注\x1b[0m\n", encoding="utf-8")
    (fig,) = load_figures(path)
    assert (fig.item, fig.unit, fig.note, fig.value) == ("新闻发布会", "次", "备注", 1)
    path.write_text("id,item,value,unit\na,新闻\x00发布会,1,次\n", encoding="utf-8")
    err = refused(path)
    assert (err.line, err.field) == (2, "项目") and "NUL" in str(err)
    path.write_text("id,item,value,unit\na,新闻发布会,1\x00,次\n", encoding="utf-8")
    assert refused(path).field == "数值"


def test_figures_roundtrip_after_cleaning_exports_to_word(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("id,item,value,unit\na,新闻\x0c发布会,11,次\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    write_figures(load_figures(path), out)
    assert [f.item for f in load_figures(out)] == ["新闻发布会"]


# ---------------------------------------------------------------- size limits


def test_too_many_rows_refused_with_row(tmp_path):
    path = tmp_path / "f.csv"
    rows = "".join(f"F{i},项目{i},{i},次\n" for i in range(2001))
    path.write_text("id,item,value,unit\n" + rows, encoding="utf-8")
    err = refused(path)
    assert err.line == 2002 and "2000" in str(err)
    path.write_text("id,item,value,unit\n" + rows.rsplit("F2000", 1)[0], encoding="utf-8")
    assert len(load_figures(path)) == 2000


def test_figures_file_over_5_mb_refused(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"id,item,value,unit\n" + b" " * (5 * 1024 * 1024))
    assert "过大" in str(refused(path))


def test_deep_yaml_figures_refused_without_recursion_error(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("figures: " + "[" * 300 + "]" * 300 + "\n", encoding="utf-8")
    assert "嵌套过深" in str(refused(path))


def test_limits_come_from_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HUIBAO_MAX_FIGURE_ROWS", "2")
    monkeypatch.setenv("HUIBAO_MAX_FIGURE_VALUE", "1000")
    path = tmp_path / "f.csv"
    path.write_text("item,value,unit\na,1,次\nb,2,次\nc,3,次\n", encoding="utf-8")
    assert refused(path).line == 4
    path.write_text("item,value,unit\na,1,万次\n", encoding="utf-8")
    assert refused(path).field == "数值"
    monkeypatch.setenv("HUIBAO_MAX_SIBLING_SECTIONS", "2")
    spec = tmp_path / "spec.yaml"
    spec.write_text(HEAD + "sections:\n  - id: a\n  - id: b\n  - id: c\n", encoding="utf-8")
    with pytest.raises(InputError, match="最多 2 个"):
        load_spec(spec)


# ---------------------------------------------------------------- a workspace holding a bad value


def test_workspace_with_a_stored_null_value_opens_and_is_repaired(ws_report, tmp_path):
    ws, rid = ws_report
    db = sqlite3.connect(get_settings().workspace_path)
    with db:
        (snap_id, data) = db.execute(
            "SELECT id, figures_json FROM figure_snapshots WHERE report_id = ? ORDER BY id DESC LIMIT 1", (rid,)
        ).fetchone()
        figures = json.loads(data)
        figures[1]["value"] = None  # what the old code stored for 9…9 (400 digits)
        figures[1]["base_value"] = None
        db.execute("UPDATE figure_snapshots SET figures_json = ? WHERE id = ?", (json.dumps(figures), snap_id))
    db.close()

    for args in (
        ("reports",),
        ("show", rid),
        ("figures", rid),
        ("stale", rid),
        ("history", rid, "1.1"),
        ("export", rid, "--format", "docx", "--out", str(tmp_path / "broken.docx")),
    ):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
    listing = run("figures", rid).output
    assert "无效数值" in listing and "F02" in listing and "--set" in listing  # says what is wrong and how to fix it

    path = tmp_path / "good.csv"
    write_figures(make_figures(), path)
    result = run("figures", rid, "--set", str(path))
    assert result.exit_code == 0, result.output
    listing = run("figures", rid).output
    assert "无效数值" not in listing and "44.1" in listing
    result = run("refresh", rid, "--offline")
    assert result.exit_code == 0, result.output
    assert ws.stale_sections(rid) == []
    assert run("export", rid, "--format", "md", "--out", str(tmp_path / "r.md")).exit_code == 0


# ---------------------------------------------------------------- outlines


def spec_refused(tmp_path, text: str) -> InputError:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert str(path) in str(info.value)
    return info.value


def test_110_sibling_sections_refused_before_drafting(tmp_path):
    text = HEAD + "sections:\n" + "".join(f"  - id: s{i}\n    title: 第{i}项工作\n" for i in range(110))
    err = spec_refused(tmp_path, text)
    assert "同一层的章节过多" in str(err) and "30" in str(err)
    assert err.line == 5 + 2 * 30 and err.field == "sections"
    figures = tmp_path / "f.csv"
    write_figures(make_figures(), figures)
    out = tmp_path / "out"
    result = run(
        "draft", "--spec", str(tmp_path / "spec.yaml"), "--figures", str(figures), "--offline", "--out", str(out)
    )
    assert isinstance(result.exception, InputError) and "同一层的章节过多" in str(result.exception)
    assert not out.exists()


def test_30_siblings_and_200_sections_are_the_bounds(tmp_path):
    text = HEAD + "sections:\n" + "".join(f"  - id: s{i}\n" for i in range(30))
    path = tmp_path / "ok.yaml"
    path.write_text(text, encoding="utf-8")
    assert len(load_spec(path).sections) == 30
    text = (
        HEAD
        + "sections:\n"
        + "".join(
            f"  - id: s{i}\n    children:\n" + "".join(f"      - id: s{i}.{j}\n" for j in range(7)) for i in range(30)
        )
    )
    assert "章节总数过多" in str(spec_refused(tmp_path, text))


def test_outline_nesting_beyond_four_levels_refused(tmp_path):
    def level(depth: int, indent: str) -> str:
        out = f"{indent}- id: l{depth}\n"
        if depth < 5:
            out += f"{indent}  children:\n" + level(depth + 1, indent + "    ")
        return out

    err = spec_refused(tmp_path, HEAD + "sections:\n" + level(1, "  "))
    assert "层级过深" in str(err) and err.field == "children"


def test_300_level_yaml_refused_without_recursion_error(tmp_path):
    err = spec_refused(tmp_path, HEAD + "sections: " + "[" * 300 + "]" * 300 + "\n")
    assert "嵌套过深" in str(err) and err.line == 4
    nested = HEAD + "notes:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(300))
    assert "嵌套过深" in str(spec_refused(tmp_path, nested))


def test_outline_text_control_characters_removed_and_nul_refused(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(HEAD + 'sections:\n  - id: "1"\n    title: "工作\\e[31m做法\\v及成效"\n', encoding="utf-8")
    assert load_spec(path).get("1").title == "工作做法及成效"
    err = spec_refused(tmp_path, HEAD + 'sections:\n  - id: "1"\n    title: "工作\\0做法"\n')
    assert "NUL" in str(err) and err.field == "title"


def test_outline_file_over_5_mb_refused(tmp_path):
    assert "过大" in str(spec_refused(tmp_path, HEAD + "#" + " " * (5 * 1024 * 1024) + "\n"))


def test_every_page_opens_on_a_workspace_holding_a_null_value():
    from tests.test_app import PAGES, drafted_app, ui

    at = drafted_app()
    rid = ui(at).report_id
    db = sqlite3.connect(get_settings().workspace_path)
    with db:
        (snap_id, data) = db.execute(
            "SELECT id, figures_json FROM figure_snapshots WHERE report_id = ? ORDER BY id DESC LIMIT 1", (rid,)
        ).fetchone()
        figures = json.loads(data)
        figures[0]["value"] = figures[0]["base_value"] = None
        db.execute("UPDATE figure_snapshots SET figures_json = ? WHERE id = ?", (json.dumps(figures), snap_id))
    db.close()
    for page in ("reports", "sections", "figures", "export", "chat"):
        at.switch_page(f"{PAGES}/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])


def test_outline_built_in_code_is_bounded_before_it_is_stored(ws_report, tmp_path):
    from assistant.drafting.spec import template_spec

    ws, _ = ws_report
    before = len(ws.reports())
    notes = {"achievements": [f"第{i}项工作" for i in range(110)]}
    with pytest.raises(InputError, match="同一层的章节过多"):
        ws.create_report(template_spec("某局2026年度工作汇报", "某局", 2026, notes), [])
    assert len(ws.reports()) == before
    text = HEAD + "notes:\n  achievements:\n" + "".join(f"    - 第{i}项工作\n" for i in range(31))
    err = spec_refused(tmp_path, text)  # the template form of a file: one subsection per achievements note
    assert "成效要点过多" in str(err) and err.field == "notes.achievements"
