"""`huibao check`: JSON shape, readable report, exit codes 0/1/2 and the three input formats."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assistant.commands.main import app
from tests.drafting_helpers import needs_item_aware_checker

runner = CliRunner()

CLEAN = (
    "2025年，在县委的坚强领导下，办公室各项工作取得新进展。现将有关情况汇报如下：\n"
    "一、工作做法及成效\n全年召开新闻发布会20余次，总阅读量达到44.1万人次。\n"
    "二、存在的问题\n调查研究还不够深入。\n"
    "三、2026年工作打算\n持续加强理论武装，为全县高质量发展作出新的更大贡献。\n"
)


@pytest.fixture
def figures(tmp_path):
    p = tmp_path / "figures.yaml"
    p.write_text(
        "- {id: F01, item: 新闻发布会, value: 23, unit: 次}\n"
        "- {id: F02, item: 阅读量, value: 44.1, unit: 万人次}\n"
        "- {id: F03, item: 培训, value: 96, unit: 人}\n",
        encoding="utf-8",
    )
    return p


def _run(*args):
    return runner.invoke(app, ["check", *map(str, args)])


def test_clean_report_exits_0_with_exact_json(tmp_path, figures):
    draft = tmp_path / "d.md"
    draft.write_text(CLEAN, encoding="utf-8")
    r = _run(draft, "--figures", figures, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert set(data) == {"numbers", "style", "coverage", "summary"}
    assert set(data["numbers"][0]) == {
        *("text", "value", "unit", "start", "end", "status", "figure_id"),
        *("item", "attribution", "derivation", "message"),
    }
    assert [(n["text"], n["status"], n["figure_id"]) for n in data["numbers"]] == [
        ("20余次", "grounded", "F01"),
        ("达到44.1万人次", "grounded", "F02"),
    ]
    assert data["coverage"] == {"used": ["F01", "F02"], "unused": ["F03"]}
    assert data["summary"] == {
        "grounded": 2,
        "invented": 0,
        "misattributed": 0,
        "unverified": 0,
        "placeholders": 0,
        "style_errors": 0,
        "style_warnings": 0,
    }
    assert "20余次" in r.stdout  # ensure_ascii=False


def test_invented_number_exits_1_and_shows_context(tmp_path, figures):
    draft = tmp_path / "d.txt"
    draft.write_text(CLEAN.replace("20余次", "30次"), encoding="gbk")
    r = _run(draft, "--figures", figures, "--json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["summary"]["invented"] == 1
    style_keys = {"rule", "severity", "start", "end", "message", "suggestion"}
    r = _run(draft, "--figures", figures)
    assert r.exit_code == 1 and "无数据来源" in r.output and "30次" in r.output and "新闻发布会" in r.output
    assert all(set(s) == style_keys for s in data["style"])


def test_style_error_and_placeholder_exit_1(tmp_path, figures):
    draft = tmp_path / "d.md"
    draft.write_text(CLEAN.replace("调查研究还不够深入。", "调查研究还不够深入！培训XX人。"), encoding="utf-8")
    r = _run(draft, "--figures", figures, "--json")
    data = json.loads(r.stdout)
    assert r.exit_code == 1
    assert data["summary"]["placeholders"] == 1 and data["summary"]["style_errors"] >= 1
    assert any(s["rule"] == "L4" and s["suggestion"] == "。" for s in data["style"])


def test_docx_input(tmp_path, figures):
    import docx

    document = docx.Document()
    for line in CLEAN.strip().split("\n"):
        document.add_paragraph(line)
    document.save(tmp_path / "d.docx")
    r = _run(tmp_path / "d.docx", "--figures", figures, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["summary"]["grounded"] == 2


def test_unusable_input_exits_2(tmp_path, figures):
    draft = tmp_path / "d.md"
    draft.write_text(CLEAN, encoding="utf-8")
    r = _run(tmp_path / "missing.md", "--figures", figures, "--json")
    assert r.exit_code == 2 and r.stdout == "" and "不存在" in r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("项目,数值,单位\n会议,约30,次\n", encoding="utf-8")
    r = _run(draft, "--figures", bad)
    assert r.exit_code == 2 and "bad.csv" in r.stderr and "第 2 行" in r.stderr and "数值" in r.stderr
    r = _run(tmp_path / "d.pdf", "--figures", figures)
    assert r.exit_code == 2
    # QA: an empty file passed as clean (exit 0), a folder was called missing
    empty = tmp_path / "empty.md"
    empty.write_text("\n", encoding="utf-8")
    r = _run(empty, "--figures", figures)
    assert r.exit_code == 2 and "空的" in r.stderr
    r = _run(tmp_path, "--figures", figures)
    assert r.exit_code == 2 and "文件夹" in r.stderr


def test_terms_option(tmp_path, figures):
    draft = tmp_path / "d.md"
    draft.write_text(CLEAN.replace("调查研究还不够深入。", "清河县人大办打好八场硬仗。"), encoding="utf-8")
    terms = tmp_path / "terms.yaml"
    terms.write_text(
        "fixed_numerals: [八场硬仗]\nformulations:\n  - {canonical: 清河县人大常委会办公室, wrong: [清河县人大办]}\n",
        encoding="utf-8",
    )
    plain = json.loads(_run(draft, "--figures", figures, "--json").stdout)
    assert plain["summary"]["invented"] == 1  # 八场 counts as a figure without the office list
    r = _run(draft, "--figures", figures, "--json", "--terms", terms)
    data = json.loads(r.stdout)
    assert data["summary"]["invented"] == 0
    assert [s["rule"] for s in data["style"]] == ["P-本单位"] and r.exit_code == 1
    assert _run(draft, "--figures", figures, "--terms", tmp_path / "none.yaml").exit_code == 2


def test_front_matter_is_blanked_not_cut(tmp_path, figures):
    draft = tmp_path / "d.md"
    draft.write_text("---\ntitle: report\nyear: 2025\n---\n" + CLEAN, encoding="utf-8")
    data = json.loads(_run(draft, "--figures", figures, "--json").stdout)
    assert data["summary"]["style_warnings"] == 0 and data["summary"]["invented"] == 0
    text = draft.read_text(encoding="utf-8")
    first = data["numbers"][0]
    assert text[first["start"] : first["end"]] == "20余次"  # offsets still index the file


def test_gbk_draft_is_decoded_like_knowledge_files(tmp_path, figures):
    # a short GBK file: charset-normalizer alone read this line as Hangul, so 12次 lost its unit
    from assistant.commands.check import read_draft

    text = "全年召开新闻发布会12次。"
    draft = tmp_path / "d.txt"
    draft.write_bytes(text.encode("gbk"))
    assert read_draft(draft) == text
    figs = tmp_path / "f.yaml"
    figs.write_text("- {id: F01, item: 新闻发布会, value: 12, unit: 次}\n", encoding="utf-8")
    data = json.loads(_run(draft, "--figures", figs, "--json", "--scope", "section").stdout)
    assert [(n["text"], n["status"], n["figure_id"]) for n in data["numbers"]] == [("12次", "grounded", "F01")]
    # lone \r line ends read as Python's text mode reads them, so line numbers match an editor's
    draft.write_bytes("第一行。\r第二行召开新闻发布会30次。\r".encode("gbk"))
    assert read_draft(draft) == "第一行。\n第二行召开新闻发布会30次。\n"
    r = _run(draft, "--figures", figs, "--scope", "section")
    assert r.exit_code == 1 and "第 2 行" in r.output


def test_docx_table_numbers_are_checked(tmp_path, figures):
    import docx

    document = docx.Document()
    for line in CLEAN.strip().split("\n"):
        document.add_paragraph(line)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "数量"
    table.cell(1, 0).text, table.cell(1, 1).text = "培训", "96人"
    document.save(tmp_path / "d.docx")
    data = json.loads(_run(tmp_path / "d.docx", "--figures", figures, "--json").stdout)
    assert ("96人", "grounded", "F03") in [(n["text"], n["status"], n["figure_id"]) for n in data["numbers"]]
    assert data["coverage"]["unused"] == []


def test_front_matter_with_trailing_blanks_is_blanked(tmp_path, figures):
    # the same front-matter pattern as ingest: blanks after the --- lines are allowed
    draft = tmp_path / "d.md"
    draft.write_text("--- \ntitle: 报告\nyear: 2025\n---  \n" + CLEAN, encoding="utf-8")
    data = json.loads(_run(draft, "--figures", figures, "--json").stdout)
    assert data["summary"] == {
        "grounded": 2,
        "invented": 0,
        "misattributed": 0,
        "unverified": 0,
        "placeholders": 0,
        "style_errors": 0,
        "style_warnings": 0,
    }
    text = draft.read_text(encoding="utf-8")
    assert [text[n["start"] : n["end"]] for n in data["numbers"]] == ["20余次", "达到44.1万人次"]


def test_json_carries_item_attribution_derivation_and_misattributed_fails(tmp_path):
    figures = tmp_path / "figures.csv"
    figures.write_text(
        "编号,项目,数值,单位,上年\nP,新闻发布会,11,次,8\nS,涉人大网络舆情研判,12,次,\n",
        encoding="utf-8",
    )
    draft = tmp_path / "d.md"
    draft.write_text(
        CLEAN.replace("全年召开新闻发布会20余次", "全年召开新闻发布会11次，同比增长37.5%，网络舆情研判11次"),
        encoding="utf-8",
    )
    r = _run(draft, "--figures", figures, "--json")
    assert r.exit_code == 1, r.output
    data = json.loads(r.stdout)
    first, growth = data["numbers"][0], data["numbers"][1]
    assert (first["text"], first["status"], first["item"]) == ("11次", "grounded", "新闻发布会")
    assert (growth["status"], growth["attribution"]) == ("grounded", "item")
    assert growth["derivation"] == {"kind": "growth", "figure_ids": ["P"], "formula": "(11−8)/8 = 37.5%"}
    swapped = [n for n in data["numbers"] if n["status"] == "misattributed"]
    assert [(n["text"], n["item"]) for n in swapped] == [("11次", "涉人大网络舆情研判")]
    assert swapped[0]["message"].startswith("“11次”所在句子说的是“涉人大网络舆情研判”，数据为12次")
    assert data["summary"]["misattributed"] == 1 and data["summary"]["unverified"] == 0


# ---------------------------------------------------------------- issue 10: misattributed, unverified


@needs_item_aware_checker
def test_misattributed_number_exits_1_and_names_the_right_item(tmp_path):
    figs = tmp_path / "f.yaml"
    figs.write_text(
        "- {id: F01, item: 新闻发布会, value: 11, unit: 次}\n- {id: F02, item: 涉人大网络舆情研判, value: 12, unit: 次}\n",
        encoding="utf-8",
    )
    draft = tmp_path / "d.md"
    draft.write_text("全年召开新闻发布会12次，开展涉人大网络舆情研判12次。", encoding="utf-8")
    r = _run(draft, "--figures", figs, "--scope", "section", "--json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    first, second = data["numbers"]
    assert (first["status"], first["item"], first["attribution"]) == ("misattributed", "新闻发布会", "item")
    assert "数据为11次" in first["message"] and second["status"] == "grounded" and second["figure_id"] == "F02"
    assert data["summary"]["misattributed"] == 1 and data["summary"]["invented"] == 0
    r = _run(draft, "--figures", figs, "--scope", "section")
    assert r.exit_code == 1
    assert "错配 1 处" in r.output and "与所说事项不符 “12次”：“12次”所在句子说的是“新闻发布会”，数据为11次" in r.output
    assert "未通过" in r.output


def test_unverified_and_placeholder_are_listed_apart_and_exit_1(tmp_path, figures):
    draft = tmp_path / "d.md"
    draft.write_text(
        CLEAN.replace(
            "调查研究还不够深入。", "调查研究还不够深入，开展调研【待核实：30次】，培训【待补充：培训人数】。"
        ),
        encoding="utf-8",
    )
    data = json.loads(_run(draft, "--figures", figures, "--json").stdout)
    assert (data["summary"]["unverified"], data["summary"]["placeholders"]) == (1, 1)
    assert [n["status"] for n in data["numbers"] if n["text"].startswith("【")] == ["unverified", "placeholder"]
    r = _run(draft, "--figures", figures)
    assert r.exit_code == 1
    assert "待核实 1 处，待补充 1 处" in r.output
    listed = r.output.split("\n待核实\n")[1]
    waiting, to_fill = listed.split("\n待补充\n")
    assert "待核实 “【待核实：30次】”" in waiting and "待补充 “" not in waiting
    assert "待补充 “【待补充：培训人数】”" in to_fill


@needs_item_aware_checker
def test_wrong_growth_rate_is_listed_with_the_computed_value(tmp_path):
    figs = tmp_path / "f.yaml"
    figs.write_text("- {id: F01, item: 新闻发布会, value: 11, unit: 次, last_year: 8}\n", encoding="utf-8")
    draft = tmp_path / "d.md"
    draft.write_text("全年召开新闻发布会11次，比上年增长40%。", encoding="utf-8")
    data = json.loads(_run(draft, "--figures", figs, "--scope", "section", "--json").stdout)
    growth = data["numbers"][-1]
    assert growth["status"] == "invented" and growth["derivation"]["kind"] == "growth"
    assert growth["derivation"]["formula"] == "(11−8)/8 = 37.5%"
    r = _run(draft, "--figures", figs, "--scope", "section")
    assert r.exit_code == 1 and "推算不符 “40%”：" in r.output and "37.5%" in r.output
    draft.write_text("全年召开新闻发布会11次，比上年增长37.5%。", encoding="utf-8")
    assert _run(draft, "--figures", figs, "--scope", "section").exit_code == 0


def test_without_figures_only_the_style_is_checked(tmp_path):
    draft = tmp_path / "d.md"
    draft.write_text(CLEAN, encoding="utf-8")
    r = _run(draft, "--json")
    data = json.loads(r.stdout)
    assert data["numbers"] == []
    s = data["summary"]
    assert (s["grounded"], s["invented"], s["misattributed"], s["unverified"], s["placeholders"]) == (0, 0, 0, 0, 0)
    assert data["coverage"] == {"used": [], "unused": []}
    r = _run(draft)
    assert "数字：未核对" in r.output
    # the same numbers with a figures file that lacks them are flagged; without one they are not judged
    clean = tmp_path / "clean.md"
    clean.write_text(CLEAN, encoding="utf-8")
    r = _run(clean)
    assert r.exit_code == 0, r.output
    assert "通过：没有待补充、待核实的内容，也没有格式错误（数字未核对）" in r.output


def test_without_figures_the_gaps_to_fill_are_still_listed(tmp_path):
    """No figures file: the numbers are not judged, but a draft still holding 【待补充】, XX次 or a
    【待核实】 mark is not passed: those are gaps a person must fill whatever the figures say."""
    draft = tmp_path / "d.md"
    draft.write_text(
        CLEAN.replace("调查研究还不够深入。", "开展调研XX次，走访【待核实：30家】企业，培训【待补充：培训人数】。"),
        encoding="utf-8",
    )
    data = json.loads(_run(draft, "--json").stdout)
    assert [(n["text"], n["status"]) for n in data["numbers"]] == [
        ("XX次", "placeholder"),
        ("【待核实：30家】", "unverified"),
        ("【待补充：培训人数】", "placeholder"),
    ]
    s = data["summary"]
    assert (s["grounded"], s["invented"], s["unverified"], s["placeholders"]) == (0, 0, 1, 2)
    r = _run(draft)
    assert r.exit_code == 1
    assert "数字：未核对（没有提供 --figures 数据文件），待核实 1 处，待补充 2 处" in r.output
    listed = r.output.split("\n待核实\n")[1]
    assert "“【待核实：30家】”" in listed and "待补充 “XX次”" in listed.split("\n待补充\n")[1]
