"""公文 style lint: one or more cases per rule family, scope handling and the office terms file."""

from __future__ import annotations

import pytest

from assistant.check import lint_style
from assistant.core.errors import InputError

GOOD_REPORT = (
    "2025年，在县委的坚强领导下，办公室各项工作取得新进展。现将有关情况汇报如下：\n"
    "一、工作做法及成效\n"
    "（一）坚持政治引领，筑牢思想根基\n"
    "一是严格落实“第一议题”制度。二是扎实开展专题学习。\n"
    "（二）坚持服务大局，保障依法履职\n"
    "一方面，做好会务服务。另一方面，加强综合协调。\n"
    "二、存在的问题及改进措施\n"
    "调查研究还不够深入。\n"
    "三、2026年工作打算\n"
    "持续加强理论武装，为全县高质量发展作出新的更大贡献。"
)


def rules(text, **kw):
    return {f.rule for f in lint_style(text, **kw)}


def test_a_starred_placeholder_is_a_placeholder_not_markdown_bold():
    # not bold: the year is the style check's N1 (年份未填写), the count the number check's placeholder
    found = {(f.rule, f.severity) for f in lint_style("新增就业***人，20**年继续推进。", scope="section")}
    assert found == {("N1", "error")}
    # a real bold pair still is, also around a figure
    assert "L4" in rules("全年**增长20%**。", scope="section")
    # a year with its last digit starred (200*年, after blind8) is unfilled too; a written year is not
    years = [f for f in lint_style("《清水县200*年国民经济计划》，2005年完成。", scope="section") if f.rule == "N1"]
    assert [f.message for f in years] == ["年份未填写（“200*”）"]


def test_letters_standing_for_a_name_are_a_placeholder_not_a_foreign_word():
    # E社区 and LK主任 are the number check's placeholders (待补充), reported once: no L4 beside them;
    # a Latin word elsewhere still is L4
    found = lint_style("新增E社区等绿化面积，LK主任带队调研，XX次。", scope="section")
    assert not [f for f in found if f.rule == "L4"]
    assert [f.rule for f in lint_style("推广OKR管理。", scope="section")] == ["L4"]


def test_good_report_is_clean():
    assert lint_style(GOOD_REPORT, scope="report", year=2025) == []


@pytest.mark.parametrize(
    "text,rule",
    [
        ("1、加强理论学习", "S1"),
        ("(一)加强学习", "S1"),
        ("（一）、加强学习", "S1"),
        ("一.工作做法", "S1"),
        ("一、工作做法\n三、存在问题", "S1"),
        ("一是抓学习。三是抓落实。", "S4"),
        ("一方面，加强理论学习。", "S4"),
        ("全年召开会议8次,发布稿件58篇。", "L1"),
        ('落实"第一议题"制度。', "L2"),
        ("落实“第一议题制度。", "L2"),
        ("印发关于加强作风建设的通知。", "L3"),
        ("制定《学习计划》、《工作方案》。", "L3"),
        ("成效显著！", "L4"),
        ("## 一、工作做法", "L4"),
        ("召开**发布会**。", "L4"),
        ("- 加强学习", "L4"),
        ("召开weekly例会。", "L4"),
        ("我认为成效明显。", "L5"),
        ("咱们单位成效明显。", "L5"),
        ("请您审阅。", "L5"),
        ("这项工作已经搞定。", "L7"),
        ("以下是年度工作汇报。", "L7"),
        ("总之，成效明显。", "L7"),
        ("深入学习习近平新时代特色社会主义思想。", "P-习近平新时代中国特色社会主义思想"),
        ("团结在以习近平总书记为核心的党中央周围。", "P-党中央"),
        ("坚决维护习近平总书记的核心地位。", "P-两个维护"),
        ("增强政治意识、核心意识、大局意识、看齐意识。", "P-四个意识"),
        ("增强“四个自信”。", "P-四个意识"),
        ("保障人民当家做主。", "P-当家作主"),
        ("25年召开会议8次。", "N1"),
        ("202x年工作有序推进。", "N1"),
        ("争取资金1千3百万元。", "N2"),
        ("组织活动约20余次。", "N3"),
        ("每月开展3、4次调研。", "N4"),
        ("召开座谈会十二次，召开论证会12次。", "N5"),
    ],
)
def test_rule_fires(text, rule):
    assert rule in rules(text, scope="section")


@pytest.mark.parametrize(
    "text",
    [
        "我们坚持自我革命，我局全年工作有序推进。",
        "群众说“你们办事真贴心”。",
        "全力以赴，尽可能压缩办理时限。",
        "主要领导挂帅，坚决反对残酷斗争。",
        "推动GDP稳步增长，建成5G基站。",
        "制定《学习计划》《工作方案》。",
        "增强“四个意识”、坚定“四个自信”、做到“两个维护”。",
        "近10年来工作持续推进。",
        "团结在以习近平同志为核心的党中央周围。",
        # from the national 政府工作报告 of 1992–2016 (evals/register/national/): an idiom with 我, a
        # decade, 当然 conceding a point, 一方面……一方面, 超级杂交水稻
        "机不可失，时不我待，坚持以我为主。",
        "90年代是推进祖国统一大业的关键时期。",
        "当然，靠扩大财政赤字搞建设是可以承受的。",
        "我们一方面坚持宏观调控，一方面适时适度预调微调。",
        "超级杂交水稻等一批重大成果相继问世，反对超级大国的军备竞赛。",
    ],
)
def test_rule_stays_quiet(text):
    assert lint_style(text, scope="section") == []


def test_heading_fix_is_suggested():
    f = next(f for f in lint_style("(二)加强学习", scope="section") if f.rule == "S1")
    assert f.suggestion == "（二）" and (f.start, f.end) == (0, 3)


def test_l1_suggests_fullwidth_and_offsets():
    text = "召开会议8次,发布稿件。"
    f = next(f for f in lint_style(text, scope="section") if f.rule == "L1")
    assert text[f.start : f.end] == "," and f.suggestion == "，"


def test_report_scope_structure_rules():
    no_intro_end = GOOD_REPORT.replace("现将有关情况汇报如下：", "")
    assert "S2" in rules(no_intro_end, scope="report")
    assert "S2" not in rules(no_intro_end, scope="section")
    swapped = GOOD_REPORT.replace("一、工作做法及成效", "一、存在的问题").replace(
        "二、存在的问题及改进措施", "二、工作做法及成效"
    )
    assert any(f.rule == "S2" and f.severity == "error" for f in lint_style(swapped, scope="report"))
    no_closing = GOOD_REPORT.replace("为全县高质量发展作出新的更大贡献", "推动工作落实")
    assert any(f.rule == "S2" and f.severity == "warning" for f in lint_style(no_closing, scope="report"))


def test_parallel_headings_warning():
    text = "一、工作做法\n（一）着眼培根铸魂，筑牢理想信念之基\n（二）加强宣传"
    assert any(f.rule == "S3" and f.severity == "warning" for f in lint_style(text, scope="section"))


def test_le_in_outlook_is_warning():
    text = GOOD_REPORT.replace("持续加强理论武装", "深入学习了党的创新理论")
    found = [f for f in lint_style(text, scope="report") if f.rule == "S5"]
    assert found and found[0].severity == "warning" and text[found[0].start] == "了"


def test_sentence_length_thresholds():
    long_warn = "围绕中心工作" + "，统筹做好会议组织工作" * 12 + "。"
    long_err = "围绕中心工作" + "，统筹做好会议组织工作" * 18 + "。"
    assert [f.severity for f in lint_style(long_warn, scope="section")] == ["warning"]
    assert [f.severity for f in lint_style(long_err, scope="section")] == ["error"]


def test_time_bound_campaign_depends_on_year():
    text = "扎实开展“不忘初心、牢记使命”主题教育。"
    assert "P-时效" in rules(text, scope="section", year=2025)
    assert "P-时效" not in rules(text, scope="section", year=2019)


def test_section_scope_allows_first_heading_number():
    assert lint_style("（三）坚持守正创新，讲好人大故事", scope="section") == []


def test_office_terms_file(tmp_path, monkeypatch):
    terms = tmp_path / "terms.yaml"
    terms.write_text(
        "banned:\n  - 一把抓\n  - {word: 领导小组办, severity: warning, suggestion: 领导小组办公室}\n"
        "formulations:\n  - {canonical: 清河县人大常委会办公室, wrong: [清河县人大办]}\n"
        "latin_whitelist: [OA2]\n",
        encoding="utf-8",
    )
    text = "清河县人大办坚持一把抓，领导小组办统筹，使用OA2系统。"
    assert lint_style(text, scope="section") != [] and "P-本单位" not in rules(text, scope="section")
    monkeypatch.setenv("HUIBAO_TERMS", str(terms))
    found = {(f.rule, f.severity, text[f.start : f.end]) for f in lint_style(text, scope="section")}
    assert ("P-本单位", "error", "清河县人大办") in found
    assert ("L7", "error", "一把抓") in found and ("L7", "warning", "领导小组办") in found
    assert not any(r == "L4" for r, _, _ in found)


def test_bad_office_terms_file(tmp_path):
    bad = tmp_path / "terms.yaml"
    bad.write_text("banned:\n  - {severity: error}\n", encoding="utf-8")
    with pytest.raises(InputError, match="banned"):
        lint_style("正文。", terms=bad)


def test_closing_found_above_signature_lines():
    signed = GOOD_REPORT + "\n\n清河县人大常委会办公室\n2025年12月20日"
    assert lint_style(signed, scope="report", year=2025) == []


def test_a_speakers_i_in_a_report_delivered_to_a_congress_is_a_warning():
    """各位代表！ opens a report delivered as a speech: there the speaker's 我 (这里我要强调) is the
    genre's (national 政府工作报告), a warning; in a written 汇报 it stays an error. A chat model's
    当然！ still is an artefact."""
    speech = "各位代表：\n这里，我要强调一下减轻农民负担问题。\n"
    assert [(f.rule, f.severity) for f in lint_style(speech, scope="section") if f.rule == "L5"] == [("L5", "warning")]
    written = "这里，我要强调一下减轻农民负担问题。"
    assert [(f.rule, f.severity) for f in lint_style(written, scope="section") if f.rule == "L5"] == [("L5", "error")]
    assert [(f.rule, f.severity) for f in lint_style("当然！以下是汇报稿。", scope="section") if f.rule == "L7"][0] == (
        "L7",
        "error",
    )
