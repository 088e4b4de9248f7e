"""Number grounding: forms, masking, intervals, coverage and mark_unverified."""

from __future__ import annotations

import pytest

from assistant.check import check_numbers, check_text, mark_unverified
from assistant.core.figures import Figure


def fig(value, unit, fid="F01"):
    return Figure(id=fid, item="数据", value=value, unit=unit)


def one(text, figures):
    mentions = [m for m in check_numbers(text, figures)]
    assert len(mentions) == 1, [m.text for m in mentions]
    return mentions[0]


@pytest.mark.parametrize(
    "text,figure,mention,status",
    [
        ("召开会议20余次。", (23, "次"), "20余次", "grounded"),
        ("召开会议20余次。", (19, "次"), "20余次", "invented"),
        ("接待1.2万人次。", (12000, "人次"), "1.2万人次", "grounded"),
        ("阅读量44.1万人次。", (44.1, "万人次"), "44.1万人次", "grounded"),
        ("阅读量40余万人次。", (44.1, "万人次"), "40余万人次", "grounded"),
        ("培训两千人。", (2000, "人"), "两千人", "grounded"),
        ("推进两三个项目。", (3, "个"), "两三个", "grounded"),
        ("开展十几场。", (14, "场"), "十几场", "grounded"),
        ("开展十几场。", (20, "场"), "十几场", "invented"),
        ("走访三四十家。", (35, "家"), "三四十家", "grounded"),
        ("组织近百场。", (95, "场"), "近百场", "grounded"),
        ("组织近百场。", (100, "场"), "近百场", "invented"),
        ("争取资金1 300万元。", (0.13, "亿元"), "1 300万元", "grounded"),
        ("增长3.5％。", (3.5, "%"), "3.5％", "grounded"),
        ("增长３.５％。", (3.54, "%"), "３.５％", "grounded"),
        ("增长百分之三点五。", (3.5, "%"), "百分之三点五", "grounded"),
        ("提高2.3个百分点。", (2.3, "%"), "2.3个百分点", "invented"),
        ("约300人参加。", (320, "人"), "约300人", "grounded"),
        ("参会300人左右。", (340, "人"), "300人左右", "invented"),
        ("总阅读量突破120万人次。", (118, "万人次"), "突破120万人次", "invented"),
        ("每期20～30人。", (26, "名"), "20～30人", "grounded"),
        ("每期3至5天。", (6, "天"), "3至5天", "invented"),
        ("效率提高2倍。", (2, "倍"), "2倍", "grounded"),
        ("共有120。", (120, "个"), "120", "grounded"),
        ("收发文件1,300件。", (1300, "件"), "1,300件", "grounded"),
    ],
)
def test_forms_and_intervals(text, figure, mention, status):
    m = one(text, [fig(*figure)])
    assert (m.text, m.status) == (mention, status)
    assert text[m.start : m.end] == mention
    assert (m.figure_id == "F01") == (status == "grounded")


def test_unit_classes_decided():
    # 次/场/场次 one class; 人/名 one class; 人次 is not 人.
    assert one("举办讲座12场。", [fig(12, "次")]).status == "grounded"
    assert one("培训96名。", [fig(96, "人")]).status == "grounded"
    assert one("培训96人次。", [fig(96, "人")]).status == "invented"


@pytest.mark.parametrize(
    "text",
    [
        "深入学习贯彻党的二十大精神，立足“四个机关”定位，落实“第一议题”制度。",
        "一是抓学习，二是抓落实，三是抓督查。一方面加强学习，另一方面狠抓落实。",
        "2025年3月5日，召开2024年度总结会，编制“十五五”规划。",
        "印发《关于2025年度12项重点工作的通知》（县委发〔2025〕12号）。",
        "县人大常委会第32次会议召开，推进5G建设，从三个方面推进，这是一次实践。",
        "一、工作做法及成效\n（一）着眼培根铸魂\n1.抓住关键少数\n（1）制定计划",
        "贯彻二十届三中全会精神，严格执行三会一课和中央八项规定，推动一系列改革。",
    ],
)
def test_masked_numerals_are_not_figures(text):
    assert check_numbers(text, []) == []


def test_office_fixed_numerals(tmp_path, monkeypatch):
    text = "打好八场硬仗。"
    assert [m.text for m in check_numbers(text, [])] == ["八场"]
    terms = tmp_path / "terms.yaml"
    terms.write_text("fixed_numerals: [八场硬仗]\n", encoding="utf-8")
    monkeypatch.setenv("HUIBAO_TERMS", str(terms))
    assert check_numbers(text, []) == []


@pytest.mark.parametrize(
    "text,span",
    [
        ("召开会议XX次。", "XX次"),
        ("阅读量xx万人次。", "xx万人次"),
        ("现场教学X次。", "X次"),
        ("培训××人。", "××人"),
        ("培训【待补充：培训人数】。", "【待补充：培训人数】"),
        ("请于年月日前报送。", "年月日"),  # a date left blank
        ("新建**县乡镇中心幼儿园。", "**"),  # where a name goes
        ("（******同志统计）", "******"),
        ("市人大常委会办公室\n\u3000\u3000年\u3000月\u3000日\n", "年\u3000月\u3000日"),
        ("涉及资金x万余元。", "x万余元"),  # the scale before 余
        ("3月 日，市政协召开会议。", "3月 日"),  # a day left blank after a month
        # after blind8 (seen): circles or o's where a name or a figure goes, 某 for a name or a year
        ("依法选举了ooo乡人大主席。", "ooo"),
        ("○○县完成投资。", "○○"),
        ("完成投资OO万元。", "OO万元"),
        ("副主席某同志带队。", "某"),
        ("在某年大会收到的提案中。", "某"),
        # after blind9 (seen): before a kind of institution, a weekday, a form's field name in brackets
        ("××公司完成技改投资。", "××"),
        ("会议于当天（星期X）召开。", "X"),
        ("听取了（负责人姓名）的汇报。", "（负责人姓名）"),
        # after blind10 (seen): a space before the unit, capitals for a place's or a person's name
        ("新发展茶园 x.x 万亩。", "x.x"),
        ("新增E社区等绿化面积。", "E"),
        ("LK主任带队调研。", "LK"),
    ],
)
def test_placeholders(text, span):
    m = one(text, [fig(30, "次")])
    assert m.status == "placeholder" and m.text == span and m.value is None


def test_markdown_bold_around_words_is_not_a_placeholder():
    assert check_numbers("**县级融媒体中心**建设加快，**个人先进**评选完成。", []) == []
    gaps = check_numbers("**个单位、**个个人受到表彰。", [])
    assert [m.status for m in gaps] == ["placeholder", "placeholder"]


def test_written_out_zeros_and_anonymised_names_are_not_placeholders():
    # 〇/○ as the zero of a written-out numeral, a Latin word with oo, 某 in 某些/某项 and an anonymised 张某某
    text = "到二○○○年，一○○部队，Yahoo网站，某些项目、某项工作，被告人张某某，某年度预算。"
    assert check_numbers(text, []) == []


def test_a_forms_date_label_is_not_a_blank_date():
    assert check_numbers("表中填写出生年月日和参加工作年月。", []) == []


def test_institutions_weekdays_and_brackets_that_are_not_placeholders():
    # a Latin name before 公司, a filled weekday, a bracket that names what follows, an amendment year
    text = (
        "与IBM公司合作，会议于星期三召开，填报单位（盖章）和联系人，法（2023年修改）施行。"
        "园区A区投用，5A级景区，3 x 5 米展板，B超、CT室主任。\n* 人才引进和 _ 个别事项。"
    )
    assert check_numbers(text, []) == []


def test_unverified_mark_is_its_own_status_and_count():
    # a 【待核实】 mark is a number kept but unchecked, not data to be supplied (issue 10, item 6)
    m = one("召开会议【待核实：30次】。", [fig(30, "次")])
    assert (m.status, m.text, m.value, m.flagged) == ("unverified", "【待核实：30次】", None, False)
    r = check_text("召开会议【待核实：30次】，培训××人。", [fig(30, "次")], scope="section")
    assert (r.summary.unverified, r.summary.placeholders, r.summary.invented) == (1, 1, 0)
    assert not r.clean


def test_offsets_are_into_original_text_with_fullwidth_and_wide_chars():
    text = "面积１２０㎡，…召开会议１２次，增长３.５％。"
    ms = check_numbers(text, [fig(12, "次")])
    by_text = {m.text: m for m in ms}
    assert "１２次" in by_text and by_text["１２次"].status == "grounded"
    for m in ms:
        assert text[m.start : m.end] == m.text


def test_coverage_used_and_unused():
    figs = [fig(8, "次", "A"), fig(23, "次", "B"), fig(96, "人", "C")]
    r = check_text("召开会议8次、座谈会20余次。", figs, scope="section")
    assert r.coverage.used == ["A", "B"] and r.coverage.unused == ["C"]
    assert r.summary.grounded == 2 and r.summary.invented == 0


def test_mark_unverified_round_trip():
    text = "召开会议30次，座谈会20余次，培训96人。"
    figs = [fig(23, "次")]
    ms = check_numbers(text, figs)
    marked = mark_unverified(text, ms)
    assert marked == "召开会议【待核实：30次】，座谈会20余次，培训【待核实：96人】。"
    again = check_numbers(marked, figs)
    assert [m.status for m in again] == ["unverified", "grounded", "unverified"]
    assert not any(m.status == "invented" for m in again)


def test_cn2an_is_not_run_on_running_text():
    # cn2an.transform would turn 一是 into 1是 and 两个维护 into 2个维护.
    ms = check_numbers("一是坚决做到“两个维护”，两个维护不动摇。", [])
    assert ms == []


def test_wan_yi_scale_grounds_one_mention():
    figures = [Figure(id="output", item="产值", value=1.2, unit="万亿元")]
    [m] = check_numbers("全年实现产值1.2万亿元。", figures)
    assert (m.text, m.status, m.figure_id, m.value) == ("1.2万亿元", "grounded", "output", 1.2e12)


def test_check_text_scans_the_text_once(monkeypatch):
    # check_text hands one extraction to both the number check and the style lint's N-rules
    # (it used to rely on a hidden cache of recent texts for that).
    import assistant.check.numbers as numbers
    from assistant.check import check_text

    calls = []
    real = numbers._extract
    monkeypatch.setattr(numbers, "_extract", lambda *a: calls.append(1) or real(*a))
    result = check_text("全年召开会议12次，发布稿件三十篇，另有15篇。", [], scope="section")
    assert len(calls) == 1
    assert [m.text for m in result.numbers] == ["12次", "三十篇", "15篇"]
    assert any(f.rule == "N5" for f in result.style)
