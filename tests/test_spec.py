"""Report spec: parsing, the built-in template, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.errors import InputError
from assistant.core.figures import Figure
from assistant.core.settings import PROJECT_ROOT
from assistant.drafting.spec import infer_part, load_spec, parse_spec, template_spec, validate
from assistant.gongwen import part_of_title

EXAMPLE = PROJECT_ROOT / "examples" / "report-spec.yaml"

GOOD = """\
title: 禾川市人大常委会办公室2026年度宣传思想文化工作汇报
organisation: 禾川市人大常委会办公室
year: 2026
sections:
  - id: intro
    notes: 围绕中心
  - id: 1
    title: 工作做法及成效
    children:
      - id: 1.1
        title: 紧扣“理论武装”，筑牢思想根基
        notes: 学了28次
        figures: [F01]
      - id: 1.2
        notes: 新闻发布会
  - id: 2
    title: 存在的问题及改进措施
  - id: 3
    title: 2027年工作打算
  - id: closing
"""


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fig(fid: str, section: str | None = None) -> Figure:
    return Figure(id=fid, item="新闻发布会", value=11, unit="次", section=section)


def test_parses_tree_ids_parts_and_labels(tmp_path):
    spec = load_spec(write(tmp_path, GOOD), [fig("F01")])
    assert [s.id for s in spec.walk()] == ["intro", "1", "1.1", "1.2", "2", "3", "closing"]  # 1.1 not a float
    parts = {s.id: s.part for s in spec.walk()}
    assert parts == {
        "intro": "intro",
        "1": "achievements",
        "1.1": "achievements",
        "1.2": "achievements",
        "2": "problems",
        "3": "plans",
        "closing": "closing",
    }
    assert [spec.label(i) for i in ("intro", "1", "1.1", "1.2", "2", "3", "closing")] == [
        "",
        "一、",
        "（一）",
        "（二）",
        "二、",
        "三、",
        "",
    ]
    assert spec.get("1.2").title is None and spec.get("1.1").figures == ["F01"]
    assert spec.resolved_topic == "宣传思想文化工作"


def test_template_spec_shape():
    spec = template_spec(
        "某办2026年度工作汇报",
        "禾川市人大常委会办公室",
        2026,
        {"achievements": ["理论学习", "新闻宣传", "代表宣传"], "problems": "创新不够"},
    )
    assert [s.id for s in spec.walk()] == ["intro", "1", "1.1", "1.2", "1.3", "2", "3", "closing"]
    assert spec.get("3").title == "2027年工作打算"
    assert spec.get("1").title == "工作做法及成效" and spec.get("1.2").notes == "新闻宣传"
    assert spec.get("1.1").title is None


def test_spec_without_sections_uses_template(tmp_path):
    text = (
        "title: 2026年度工作汇报\norganisation: 禾川市人大常委会办公室\nyear: 2026\n"
        "notes:\n  intro: 围绕中心\n  achievements:\n    - 理论学习\n    - 新闻宣传\n  plans: 继续抓学习\n"
    )
    spec = load_spec(write(tmp_path, text))
    assert [s.id for s in spec.walk()] == ["intro", "1", "1.1", "1.2", "2", "3", "closing"]
    assert spec.get("3").notes == "继续抓学习"


@pytest.mark.skipif(not EXAMPLE.exists(), reason="examples/ not landed")
def test_example_spec_loads_with_its_figures():
    from assistant.core.figures import load_figures

    figures = load_figures(PROJECT_ROOT / "examples" / "figures.csv")
    spec = load_spec(EXAMPLE, figures)
    assert len([s for s in spec.walk() if s.is_leaf]) >= 8


BAD = [
    ("organisation: 某办\nyear: 2026\nsections: [{id: intro}]\n", "title", "缺少标题"),
    ("title: 汇报\nyear: 2026\nsections: [{id: intro}]\n", "organisation", "缺少单位名称"),
    ("title: 汇报\norganisation: 某办\nsections: [{id: intro}]\n", "year", "缺少年度"),
    ("title: 汇报\norganisation: 某办\nyear: 二〇二六\nsections: [{id: intro}]\n", "year", "四位整数"),
    ("title: 汇报\norganisation: 某办\nyear: 2026.5\nsections: [{id: intro}]\n", "year", "四位整数"),
]


@pytest.mark.parametrize("text,field,words", BAD)
def test_missing_or_bad_top_fields(tmp_path, text, field, words):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert err.value.field == field and err.value.file == str(path)
    assert words in str(err.value) and str(path) in str(err.value)


def test_non_integer_year_names_its_line(tmp_path):
    path = write(tmp_path, "title: 汇报\norganisation: 某办\nyear: 明年\nsections: [{id: intro}]\n")
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert err.value.line == 3 and "第 3 行" in str(err.value) and "字段“year”" in str(err.value)


def test_duplicate_section_id_names_line(tmp_path):
    text = (
        "title: 汇报\norganisation: 某办\nyear: 2026\nsections:\n  - id: intro\n  - id: '1'\n"
        "    children:\n      - id: '1.1'\n      - id: '1.1'\n"
    )
    with pytest.raises(InputError) as err:
        load_spec(write(tmp_path, text))
    assert err.value.line == 9 and err.value.field == "id" and "“1.1”重复" in str(err.value)
    assert "第 8 行已使用" in str(err.value)


def test_section_pointing_to_missing_figure(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(InputError) as err:
        load_spec(path, [fig("F02")])
    assert err.value.field == "figures" and err.value.line == 13 and "“F01”" in str(err.value)
    assert "不存在" in str(err.value)


def test_figure_pointing_to_missing_section(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(InputError) as err:
        load_spec(path, [fig("F01"), fig("F09", section="1.9")])
    assert "F09" in str(err.value) and "“1.9”" in str(err.value) and err.value.field == "章节"


def test_validate_alone_accepts_good_pairs():
    spec, _ = parse_spec(GOOD)
    validate(spec, [fig("F01"), fig("F02", section="1.2")])


def test_unknown_file_type(tmp_path):
    path = write(tmp_path, GOOD, "spec.docx")
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert "不支持的提纲文件类型" in str(err.value) and ".docx" in str(err.value)


@pytest.mark.parametrize("text", ["", "   \n\n", "# 只有注释\n"])
def test_empty_file(tmp_path, text):
    with pytest.raises(InputError) as err:
        load_spec(write(tmp_path, text))
    assert "文件为空" in str(err.value)


def test_yaml_syntax_error_has_line(tmp_path):
    text = "title: 汇报\norganisation: 某办\nyear: 2026\nsections:\n  - id: intro\n    notes: [未闭合\n"
    with pytest.raises(InputError) as err:
        load_spec(write(tmp_path, text))
    assert "YAML 格式错误" in str(err.value) and err.value.line is not None and err.value.line >= 6


def test_unknown_part_and_field(tmp_path):
    with pytest.raises(InputError) as err:
        load_spec(write(tmp_path, "title: 汇报\norganisation: 某办\nyear: 2026\nsections:\n  - id: x\n    part: foo\n"))
    assert err.value.field == "part" and err.value.line == 6
    with pytest.raises(InputError) as err:
        load_spec(write(tmp_path, "title: 汇报\norganisation: 某办\nyear: 2026\nsections:\n  - id: x\n    titel: 错\n"))
    assert err.value.field == "titel" and err.value.line == 6


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="找不到提纲文件"):
        load_spec(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "title, part",
    [
        ("2027年工作思路和主要工作安排", "plans"),  # regression: 主要工作 used to win (achievements)
        ("2027年目标任务", "plans"),  # regression: was "other"
        ("存在的问题及改进措施", "problems"),
        ("工作做法及成效", "achievements"),
        ("其他事项", None),
    ],
)
def test_part_of_title_is_the_checkers_reading(title, part):
    from assistant.check.style import lint_style

    assert part_of_title(title) == part
    assert infer_part("3", title, None) == (part or "other")
    # the checker reads the heading the same way: a plans heading before an achievements one is out of order
    if part == "plans":
        text = f"现将有关情况汇报如下：\n一、{title}\n二、工作做法及成效\n为发展作出新的更大贡献。"
        assert any(f.rule == "S2" and "位置靠后" in f.message for f in lint_style(text))


# ---------------------------------------------------------------- a minimal outline

MINIMAL = """\
title: 禾川市人大常委会办公室2026年度宣传思想文化工作汇报
organisation: 禾川市人大常委会办公室
year: 2026
sections:
  - id: intro
    notes: 在市委和常委会党组领导下，围绕中心抓宣传
  - id: "1.1"
    notes: 理论学习抓得紧，第一议题学习28次，中心组学习14次
  - id: "1.2"
    notes: 新闻宣传，发稿418篇，公众号发了1462条
  - id: "2"
    notes: 精品少，县区不平衡
  - id: "3"
    notes: 抓好换届宣传，新媒体直播常态化
"""


def test_minimal_outline_yields_intro_parts_subsections_and_closing():
    spec, _ = parse_spec(MINIMAL, "minimal.yaml")
    assert [(s.id, s.part) for s in spec.sections] == [
        ("intro", "intro"),
        ("1", "achievements"),
        ("2", "problems"),
        ("3", "plans"),
        ("closing", "closing"),
    ]
    assert [c.id for c in spec.get("1").children] == ["1.1", "1.2"]
    assert [spec.label(i) for i in ("1", "1.1", "1.2", "2", "3")] == ["一、", "（一）", "（二）", "二、", "三、"]
    assert spec.level("intro") == spec.level("closing") == 0


def test_minimal_outline_keeps_what_it_was_given():
    spec, _ = parse_spec(MINIMAL, "minimal.yaml")
    assert spec.get("1.2").notes == "新闻宣传，发稿418篇，公众号发了1462条"
    assert spec.get("intro").notes.startswith("在市委")
    assert spec.get("1").notes == "" and spec.get("closing").notes == ""


def test_a_missing_part_is_added_without_notes_and_an_existing_empty_parent_adopts_its_children():
    text = MINIMAL.split('  - id: "2"')[0].replace('  - id: "1.1"', '  - id: "1"\n  - id: "1.1"')
    spec, _ = parse_spec(text, "minimal.yaml")
    assert [(s.id, s.part) for s in spec.sections] == [
        ("intro", "intro"),
        ("1", "achievements"),
        ("2", "problems"),
        ("3", "plans"),
        ("closing", "closing"),
    ]
    assert [c.id for c in spec.get("1").children] == ["1.1", "1.2"]
    assert spec.get("2").notes == spec.get("3").notes == ""


def test_an_outline_of_another_shape_is_left_as_written():
    # no part of a 年度工作汇报 (a list of topics): no 导语 or 结束语 is forced on it
    text = (
        GOOD.split("sections:")[0]
        + "sections:\n  - id: a\n    title: 专题一\n    notes: x\n  - id: b\n    title: 专题二\n"
    )
    spec, _ = parse_spec(text, "x.yaml")
    assert [(s.id, s.part) for s in spec.sections] == [("a", "other"), ("b", "other")]


@pytest.mark.parametrize(
    "sid, title, part",
    [("1", None, "achievements"), ("2", None, "problems"), ("3", None, "plans"), ("1.2", None, "achievements")]
    + [("2", "坚持党建引领", "other"), ("4", None, "other"), ("a", None, "other")],
)
def test_untitled_ids_1_2_3_are_the_parts_of_the_template(sid, title, part):
    assert infer_part(sid, title, None) == part


def test_a_parent_written_after_its_children_takes_them_and_no_id_repeats():
    text = MINIMAL.replace('  - id: "1.2"', '  - id: "1"\n  - id: "1.2"')
    spec, _ = parse_spec(text, "minimal.yaml")
    ids = [s.id for s in spec.walk()]
    assert len(ids) == len(set(ids))
    assert [c.id for c in spec.get("1").children] == ["1.1", "1.2"]


def test_a_misspelt_top_level_key_is_refused_not_dropped(tmp_path):
    # section: for sections: used to draft the built-in template with every part 【待补充】
    text = GOOD.replace("sections:", "section:")
    with pytest.raises(InputError) as err:
        load_spec(write(tmp_path, text), [fig("F01")])
    assert err.value.field == "section" and "未知字段“section”" in str(err.value) and err.value.line == 4
