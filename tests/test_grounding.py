"""Item-aware grounding (issue 10): every number belongs to the item its clause names.

What a user checks: the status, the item, the message, and for a derived number its formula.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.check import check_numbers, check_text, derived_values, mark_unverified
from assistant.check.attribution import figure_names
from assistant.core.figures import Figure, load_figures
from assistant.gongwen import clauses

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample():
    """The sample report's figures: 新闻发布会 = 11次, 涉人大网络舆情研判 = 12次, 基层立法联系点 = 10个."""
    return load_figures(ROOT / "examples" / "figures.csv")


def only(text, figures, **kw):
    ms = check_numbers(text, figures, **kw)
    assert len(ms) == 1, [(m.text, m.status) for m in ms]
    return ms[0]


def by_text(text, figures, **kw):
    return {m.text: m for m in check_numbers(text, figures, **kw)}


# ---------------------------------------------------------------- the two repros of the issue


def test_repro_press_conferences_swapped_with_sentiment_reviews(sample):
    m = only("全年召开12次新闻发布会。", sample)
    assert m.status == "misattributed" and m.flagged
    assert m.item == "新闻发布会" and m.attribution == "item" and m.figure_id is None
    assert m.message.startswith("“12次”所在句子说的是“新闻发布会”，数据为11次")
    assert "涉人大网络舆情研判" in m.message  # the message names both items
    assert only("全年召开新闻发布会12次。", sample).status == "misattributed"
    ok = only("全年召开新闻发布会11次。", sample)
    assert (ok.status, ok.figure_id, ok.item, ok.attribution) == ("grounded", "press_conf", "新闻发布会", "item")


def test_repro_constitution_week_counted_as_legislative_points(sample):
    m = only("开展宪法宣传周活动10个。", sample)
    assert m.status == "misattributed" and m.item == "宪法宣传周活动"
    assert m.message.startswith("“10个”所在句子说的是“宪法宣传周活动”，数据为16场")
    assert "基层立法联系点" in m.message
    right = only("设立基层立法联系点10个。", sample)
    assert (right.status, right.figure_id) == ("grounded", "legislative_points")


def test_misattributed_counts_like_invented_everywhere(sample):
    text = "全年召开12次新闻发布会，发布短视频188条。"
    r = check_text(text, sample, scope="section")
    assert (r.summary.misattributed, r.summary.invented, r.summary.grounded) == (1, 0, 1)
    assert not r.clean
    assert mark_unverified(text, r.numbers) == "全年召开【待核实：12次】新闻发布会，发布短视频188条。"
    assert "sentiment_reviews" not in r.coverage.used  # a misattributed number grounds nothing
    first = r.to_json_dict()["numbers"][0]
    assert first["status"] == "misattributed" and first["item"] == "新闻发布会"
    assert first["attribution"] == "item" and first["derivation"] is None
    json.dumps(r.to_json_dict(), ensure_ascii=False)


def test_a_clause_that_names_no_item_falls_back_to_the_value(sample):
    m = only("全年召开各类会议12次。", sample)
    assert (m.status, m.attribution, m.item, m.figure_id) == ("grounded", "value", None, "sentiment_reviews")


def test_a_shortened_item_still_names_the_figure(sample):
    # 涉人大网络舆情研判 written 网络舆情研判: a long enough piece of the item names it
    m = only("按月开展网络舆情研判11次。", sample)
    assert (m.status, m.item) == ("misattributed", "涉人大网络舆情研判")


def test_a_person_count_is_not_about_an_event_item(sample):
    # 132人次 in a clause naming 宪法宣传周活动 (counted in 场) is about people, not the events
    m = only("参加宪法宣传周活动的群众达132人次。", sample)
    assert (m.status, m.figure_id, m.attribution) == ("grounded", "training_participants", "value")


def test_two_items_in_one_clause_each_take_their_own_number(sample):
    ms = by_text("召开新闻发布会11次、开展网络舆情研判12次。", sample)
    assert ms["11次"].figure_id == "press_conf" and ms["12次"].figure_id == "sentiment_reviews"
    swapped = by_text("召开新闻发布会12次、开展网络舆情研判11次。", sample)
    assert {m.status for m in swapped.values()} == {"misattributed"}


def test_respectively_pairs_in_order(sample):
    ms = check_numbers("新闻发布会、网络舆情研判分别为11次、12次。", sample)
    assert [(m.status, m.item) for m in ms] == [("grounded", "新闻发布会"), ("grounded", "涉人大网络舆情研判")]
    ms = check_numbers("新闻发布会、网络舆情研判分别为12次、11次。", sample)
    assert [m.status for m in ms] == ["misattributed", "misattributed"]


def test_aliases_and_notes_name_a_figure():
    figs = [
        Figure(id="P", item="新闻发布会", value=11, unit="次", aliases=["发布会"]),
        Figure(id="S", item="涉人大网络舆情研判", value=12, unit="次"),
    ]
    assert only("全年召开发布会12次。", figs).status == "misattributed"
    plain = [f.model_copy(update={"aliases": []}) for f in figs]
    assert only("全年召开发布会12次。", plain).status == "grounded"  # names nothing: value match
    m = only("全年召开发布会12次。", plain, notes="发布会11次（含人代会期间）。")
    assert (m.status, m.item) == ("misattributed", "新闻发布会")


# ---------------------------------------------------------------- derived figures


@pytest.fixture
def yearly():
    return [
        Figure(id="press", item="新闻发布会", value=11, unit="次", last_year=8),
        Figure(id="news", item="编发新闻稿件", value=418, unit="篇", last_year=380),
        Figure(id="prov", item="省级以上媒体刊发稿件", value=68, unit="篇", part_of="news"),
        Figure(id="reads", item="微信公众号总阅读量", value=52.6, unit="万人次", last_year=41.2),
        Figure(id="rate", item="网民留言按时回复率", value=98, unit="%", last_year=95.5),
        Figure(id="points", item="基层立法联系点", value=10, unit="个", last_year=5),
        Figure(id="gdp", item="地区生产总值", value=1234, unit="亿元", last_year=1150),
    ]


@pytest.mark.parametrize(
    "text, mention, kind, formula",
    [
        ("全年召开新闻发布会11次，同比增长37.5%。", "37.5%", "growth", "(11−8)/8 = 37.5%"),
        ("全年召开新闻发布会11次，同比增长38%。", "38%", "growth", "(11−8)/8 = 37.5%"),
        ("完成地区生产总值1234亿元，增长7.3%。", "7.3%", "growth", "(1234−1150)/1150 = 7.3%"),
        ("微信公众号总阅读量52.6万人次，较上年增长27.7%。", "27.7%", "growth", "(52.6−41.2)/41.2 = 27.7%"),
        ("新闻发布会11次，比上年增加3次。", "3次", "difference", "11−8 = 3次"),
        ("网民留言按时回复率98%，比上年提高2.5个百分点。", "2.5个百分点", "points", "98−95.5 = 2.5个百分点"),
        ("基层立法联系点10个，是上年的2倍。", "2倍", "multiple", "10/5 = 2倍"),
        ("基层立法联系点数量翻了一番。", "翻了一番", "multiple", "10/5 = 2倍"),
        ("基层立法联系点比上年增加一倍。", "一倍", "multiple", "10/5 = 2倍"),
        ("省级以上媒体刊发稿件68篇，占编发新闻稿件的16.3%。", "16.3%", "share", "68/418 = 16.3%"),
    ],
)
def test_derived_numbers_are_grounded_with_their_formula(yearly, text, mention, kind, formula):
    m = by_text(text, yearly)[mention]
    assert m.status == "grounded" and m.attribution == "item"
    assert m.derivation is not None and (m.derivation.kind, m.derivation.formula) == (kind, formula)
    assert formula in m.message


def test_a_wrong_growth_rate_is_invented_with_the_computed_value(yearly):
    m = by_text("全年召开新闻发布会11次，同比增长40%。", yearly)["40%"]
    assert (m.status, m.item) == ("invented", "新闻发布会")
    assert "37.5%" in m.message and m.derivation.formula == "(11−8)/8 = 37.5%"
    down = by_text("全年召开新闻发布会11次，比上年下降37.5%。", yearly)["37.5%"]
    assert down.status == "invented" and "增长37.5%" in down.message


def test_growth_without_last_year_says_so(sample):
    m = by_text("全年召开新闻发布会11次，同比增长37.5%。", sample)["37.5%"]
    assert (m.status, m.item) == ("invented", "新闻发布会")
    assert "缺少上年数据" in m.message


def test_respectively_growth_rates_pair_with_their_items(yearly):
    ms = check_numbers("编发新闻稿件和召开新闻发布会分别增长10%、37.5%。", yearly)
    assert [(m.status, m.item, m.derivation.formula) for m in ms] == [
        ("grounded", "编发新闻稿件", "(418−380)/380 = 10%"),
        ("grounded", "新闻发布会", "(11−8)/8 = 37.5%"),
    ]
    # swapped: each rate is wrong for its own item and right for the other item of the list
    swapped = check_numbers("编发新闻稿件和召开新闻发布会分别增长37.5%、10%。", yearly)
    assert [(m.status, m.item) for m in swapped] == [
        ("misattributed", "编发新闻稿件"),
        ("misattributed", "新闻发布会"),
    ]
    assert "应为增长10%" in swapped[0].message and "“新闻发布会”" in swapped[0].message
    assert "(11−8)/8 = 37.5%" in swapped[1].message and "“编发新闻稿件”" in swapped[1].message
    # a rate that fits no item of the list stays invented
    wrong = check_numbers("编发新闻稿件和召开新闻发布会分别增长12%、37.5%。", yearly)
    assert [m.status for m in wrong] == ["invented", "grounded"]


def test_sum_of_named_parts(sample):
    m = by_text("召开新闻发布会11次、开展网络舆情研判12次，共计23次。", sample)["共计23次"]
    assert m.status == "grounded" and m.derivation.kind == "sum"
    assert m.derivation.formula == "11+12 = 23次" and m.derivation.figure_ids == ["press_conf", "sentiment_reviews"]
    assert by_text("召开新闻发布会11次、开展网络舆情研判12次，共计25次。", sample)["共计25次"].status == "invented"


def test_a_supplied_growth_rate_still_grounds_by_value():
    figs = [
        Figure(id="reads", item="微信公众号总阅读量", value=52.6, unit="万人次"),
        Figure(id="growth", item="微信公众号阅读量增长率", value=27.7, unit="%"),
    ]
    m = only("微信公众号阅读量同比增长27.7%。", figs)
    assert (m.status, m.figure_id) == ("grounded", "growth")


def test_derived_values_for_the_prompt(yearly):
    values = {(d.kind, d.figure_ids[0]): d for d in derived_values(yearly)}
    growth = values[("growth", "press")]
    assert (growth.value, growth.unit, growth.formula, growth.text) == (
        37.5,
        "%",
        "(11−8)/8 = 37.5%",
        "比上年增长37.5%",
    )
    assert values[("difference", "press")].text == "比上年增加3次"
    assert values[("points", "rate")].text == "比上年提高2.5个百分点"
    assert ("growth", "rate") not in values  # a rate changes in points, not in per cent
    assert values[("multiple", "points")].text == "是上年的2倍"
    share = values[("share", "prov")]
    assert (share.figure_ids, share.formula, share.text) == (
        ["prov", "news"],
        "68/418 = 16.3%",
        "占编发新闻稿件的16.3%",
    )
    # every value the prompt lists is one the checker grounds when written as listed
    for d in derived_values(yearly):
        if d.kind in ("growth", "difference", "points", "multiple"):
            text = f"{d.item}{d.text}。"
            m = [x for x in check_numbers(text, yearly) if x.derivation]
            assert m and m[0].status == "grounded", (text, [(x.text, x.status, x.message) for x in m])


# ---------------------------------------------------------------- word forms and known misses


def test_the_model_answer_of_the_issue_is_flagged(sample):
    text = "宣传影响力翻了一番，其中近四成来自基层，总阅读量突破十万大关，互动量提升两成。"
    ms = check_numbers(text, sample)
    assert [m.text for m in ms] == ["翻了一番", "近四成", "突破十万", "两成"]
    assert all(m.flagged for m in ms)


@pytest.mark.parametrize(
    "text, mention, value, low, high",
    [
        ("占两成。", "两成", 20, 15, 25),
        ("占近四成。", "近四成", 40, 30, 40),
        ("约三分之一的建议。", "约三分之一", 33.333333, 28.333333, 38.333333),
        ("百分之百完成。", "百分之百", 100, 99.95, 100.05),
        ("突破十万大关。", "突破十万", 100000, 100000, 200000),
        ("服务数十家企业。", "数十家", 59.5, 20, 99),
        ("组织上百场活动。", "上百场", 149.5, 100, 199),
    ],
)
def test_word_forms_are_numbers(text, mention, value, low, high):
    m = only(text, [])
    assert (m.text, m.status) == (mention, "invented")
    assert (round(m.value, 4), round(m.low, 4), round(m.high, 4)) == (round(value, 4), round(low, 4), round(high, 4))


def test_quoted_numbers_are_checked_unless_fixed_or_titles():
    m = only("开展“百场宣讲进基层”活动。", [Figure(id="A", item="宣讲", value=100, unit="场")])
    assert (m.text, m.status) == ("百场", "grounded")
    assert check_numbers("推进“两重”建设，编制“十五五”规划，印发《关于2025年12项重点工作的通知》。", []) == []


def test_project_phases_are_not_figures():
    assert check_numbers("青禾古镇二期、云岭湿地公园建成开放，项目一期、二期工程全部完工。", []) == []
    assert only("举办读书分享会三期。", [Figure(id="A", item="读书分享会", value=3, unit="期")]).status == "grounded"


def test_negative_figures_ground_like_positive_ones():
    m = only("年度结余-35.5万元。", [Figure(id="A", item="结余", value=-35.5, unit="万元")])
    assert (m.status, m.value, m.item) == ("grounded", -355000, "结余")
    assert only("每次会议3-5天。", []).text == "3-5天"  # a range, not a negative number


# ---------------------------------------------------------------- speed


def test_names_are_compiled_once_per_set_of_figures(sample):
    assert figure_names(sample) is figure_names(list(sample))


# ---------------------------------------------------------------- classes of text found in published reports


def test_a_derived_number_is_about_the_item_the_number_before_it_counts():
    # the clause "增长2.7%" names nothing: it is about what 37.90亿元 is the figure of
    figs = [
        Figure(id="gross", item="农林牧渔业总产值", value=69.93, unit="亿元", last_year=68.22),
        Figure(id="added", item="农林牧渔业增加值", value=37.90, unit="亿元", last_year=36.9),
    ]
    ms = by_text("全市实现农林牧渔业总产值69.93亿元,比上年增长2.5%,增加值37.90亿元,增长2.7%。", figs)
    assert ms["2.7%"].status == "grounded" and ms["2.7%"].derivation.figure_ids == ["added"]
    assert ms["2.5%"].derivation.figure_ids == ["gross"]


def test_growth_before_the_value_it_reached():
    figs = [
        Figure(id="gdp", item="地区生产总值", value=92.9, unit="亿元", last_year=82.5),
        Figure(id="first", item="第一产业增加值", value=21.2, unit="亿元", last_year=19.43),
    ]
    ms = by_text("全县地区生产总值增长12.6%达92.9亿元,第一产业增长9.1%达21.2亿元。", figs)
    assert ms["9.1%"].derivation.figure_ids == ["first"] and ms["达92.9亿元"].figure_id == "gdp"


def test_respectively_after_the_numbers_it_refers_to():
    figs = [
        Figure(id="male", item="户籍男性人口", value=45.01, unit="万人", part_of="total"),
        Figure(id="female", item="户籍女性人口", value=41.91, unit="万人", part_of="total"),
        Figure(id="total", item="户籍总人口", value=86.92, unit="万人"),
    ]
    ms = check_numbers("总人口86.92万人,男性人口45.01万人,女性人口41.91万人,分别占总人口的51.8%和48.2%。", figs)
    shares = [m for m in ms if m.derivation]
    assert [(m.text, m.derivation.figure_ids) for m in shares] == [
        ("51.8%", ["male", "total"]),
        ("48.2%", ["female", "total"]),
    ]


def test_an_enumeration_orders_a_shared_name():
    figs = [
        Figure(id="hlj", item="黑龙江粮食总产量", value=5571, unit="万吨"),
        Figure(id="hn", item="河南粮食总产量", value=5543, unit="万吨"),
    ]
    text = "黑龙江、河南粮食生产更上一层楼,粮食总产量分别达到{}万吨和{}万吨,双双登上5500万吨新台阶。"
    assert [m.status for m in check_numbers(text.format(5571, 5543), figs)] == ["grounded"] * 3
    swapped = check_numbers(text.format(5543, 5571), figs)
    assert [m.status for m in swapped[:2]] == ["misattributed", "misattributed"]


def test_an_ambiguous_clause_is_not_misattributed():
    # 个体工商户 is a piece of both items: the clause may be about either
    figs = [
        Figure(id="new", item="新设个体工商户", value=24992, unit="户"),
        Figure(id="all", item="年末在册个体工商户", value=131382, unit="户"),
    ]
    ms = by_text("其中企业49010户,个体工商户131382户。", figs + [Figure(id="e", item="企业", value=49010, unit="户")])
    assert ms["131382户"].status == "grounded" and ms["131382户"].figure_id == "all"


def test_rates_and_ratio_lists_are_shares():
    figs = [
        Figure(id="gdp", item="地区生产总值", value=875.14, unit="亿元"),
        Figure(id="p1", item="第一产业增加值", value=23.70, unit="亿元", part_of="gdp"),
        Figure(id="p2", item="第二产业增加值", value=353.96, unit="亿元", part_of="gdp"),
        Figure(id="p3", item="第三产业增加值", value=497.48, unit="亿元", part_of="gdp"),
        Figure(id="filed", item="提交提案原件", value=187, unit="件"),
        Figure(id="accepted", item="立案提案", value=175, unit="件", part_of="filed"),
    ]
    ratio = [m for m in check_numbers("三次产业结构为2.7:40.4:56.8。", figs)]
    assert [(m.text, m.status, m.derivation.kind) for m in ratio] == [
        ("2.7", "grounded", "share"),
        ("40.4", "grounded", "share"),
        ("56.8", "grounded", "share"),
    ]
    rate = by_text("共提交提案原件187件,经审查立案175件,立案率93.6%。", figs)["93.6%"]
    assert rate.status == "grounded" and rate.derivation.formula == "175/187 = 93.6%"


def test_a_supplied_rate_named_in_the_clause_is_its_item():
    # rate-only figures (统计公报): a rate equal to another item's rate is misattributed
    figs = [
        Figure(id="cpi", item="居民消费价格总水平", value=1.4, unit="%"),
        Figure(id="food", item="食品烟酒类价格", value=1.1, unit="%"),
    ]
    assert by_text("食品烟酒类价格上涨1.1%。", figs)["1.1%"].status == "grounded"
    assert by_text("食品烟酒类价格上涨1.4%。", figs)["1.4%"].status == "misattributed"


def test_a_percentage_agrees_at_the_digits_written():
    figs = [Figure(id="r", item="规上工业增加值增速", value=0.62, unit="%")]
    assert only("增速0.62%。", figs).status == "grounded"
    assert only("增速0.65%。", figs).status == "invented"  # within ±0.05, but not 0.62 written to 2 decimals
    assert only("较上年增长18.04%。", [Figure(id="g", item="增长", value=18, unit="%")]).status == "grounded"


def test_published_typography():
    figs = [Figure(id="v", item="蔬菜播种面积", value=3938, unit="公顷", last_year=3884)]
    ms = by_text("全年蔬菜播种面积3938公顷,比上年增长1.4 %,增加 54公顷。", figs)
    assert ms["1.4 %"].status == "grounded" and ms["54公顷"].derivation.kind == "difference"
    assert only("交通通信类价格上涨2·9%。", [Figure(id="t", item="交通通信类价格", value=2.9, unit="%")]).value == 2.9
    assert (
        check_numbers("全年生产总值[2]875亿元,漳电2×100万千瓦、资源二期、县卫健局负责的第17、18件。", [])[0].text
        == "875亿元"
    )


def test_clauses_end_at_the_clause_marks_not_at_the_enumeration_comma():
    text = "A、B分别增长10%、20%，收发文件1,300件；完成1234亿元。增长7.3%"
    spans = [text[s:e] for s, e in clauses(text)]
    assert spans == ["A、B分别增长10%、20%", "收发文件1,300件", "完成1234亿元", "增长7.3%"]


# ---------------------------------------------------------------- classes found on the held-out set


def _figs(*rows):
    return [Figure(id=r[0], item=r[1], value=r[2], unit=r[3], **(r[4] if len(r) > 4 else {})) for r in rows]


def test_a_unit_written_once_for_a_list_belongs_to_each_number():
    figures = _figs(
        ("a", "工业用地占比", 30.0, "%", {"last_year": 32.5}),
        ("b", "住宅用地占比", 40.0, "%", {"last_year": 41.2}),
    )
    ms = check_numbers("工业用地占比、住宅用地占比分别下降2.5和1.2个百分点。", figures)
    assert [(m.text, m.status, m.unit) for m in ms] == [
        ("2.5", "grounded", "个百分点"),
        ("1.2个百分点", "grounded", "个百分点"),
    ]
    # the verb before the list gives the second number its sign too
    assert ms[1].derivation is not None and ms[1].derivation.kind == "points"
    swapped = check_numbers("工业用地占比、住宅用地占比分别下降1.2和2.5个百分点。", figures)
    assert [m.status for m in swapped] != ["grounded", "grounded"]


def test_a_shortened_item_before_its_number_names_the_item_it_begins():
    """立案 is the head of 立案提案; 不予立案提案 has 不予 before it, which the text does not say."""
    figures = _figs(
        ("recv", "收到建议", 300, "件"),
        ("filed", "立案建议", 280, "件"),
        ("merged", "并案建议", 9, "件"),
        ("rejected", "不予立案建议", 11, "件"),
    )
    m = only("经审查立案9件。", figures)
    assert m.status == "misattributed" and m.item == "立案建议"
    assert only("经审查立案280件。", figures).figure_id == "filed"
    assert only("不予立案11件。", figures).figure_id == "rejected"


def test_an_item_without_its_qualifier_is_named_in_full():
    figures = _figs(("week", "受理来电(周)", 5000, "件"), ("daily", "日均受理来电", 714, "件"))
    m = only("热线共受理来电714件。", figures)
    assert m.status == "misattributed" and m.item == "受理来电(周)"


def test_a_supplied_percentage_point_figure_is_checked_as_that_figure():
    figures = _figs(
        ("p1", "消费拉动经济增长", 1.8, "个百分点"),
        ("p2", "投资拉动经济增长", 2.6, "个百分点"),
    )
    assert only("消费拉动经济增长1.8个百分点。", figures).figure_id == "p1"
    m = only("消费拉动经济增长2.6个百分点。", figures)
    assert m.status == "misattributed" and m.item == "消费拉动经济增长"


def test_one_name_for_a_list_pairs_in_table_order():
    figures = _figs(
        ("s1", "第一产业对增长的贡献率", 8.1, "%"),
        ("s2", "第二产业对增长的贡献率", 41.5, "%"),
        ("s3", "第三产业对增长的贡献率", 50.4, "%"),
    )
    ok = check_numbers("三次产业对增长的贡献率分别为8.1%、41.5%和50.4%。", figures)
    assert [m.figure_id for m in ok] == ["s1", "s2", "s3"]
    bad = check_numbers("三次产业对增长的贡献率分别为41.5%、8.1%和50.4%。", figures)
    assert [m.status for m in bad] == ["misattributed", "misattributed", "grounded"]


def test_an_ordinal_list_writing_di_once_names_each_item():
    figures = _figs(
        ("p1", "第一产业拉动增长", 0.4, "个百分点"),
        ("p2", "第二产业拉动增长", 1.9, "个百分点"),
        ("p3", "第三产业拉动增长", 3.0, "个百分点"),
    )
    ok = check_numbers("第二、三产业分别拉动增长1.9和3.0个百分点。", figures)
    assert [(m.status, m.figure_id) for m in ok] == [("grounded", "p2"), ("grounded", "p3")]
    bad = check_numbers("第二、三产业分别拉动增长3.0和1.9个百分点。", figures)
    assert [m.status for m in bad] == ["misattributed", "misattributed"]
    assert bad[0].item == "第二产业拉动增长"


# ---------------------------------------------------------------- classes found on the second held-out set


def test_a_permille_rate_changes_in_thousandth_points():
    figures = _figs(("birth", "出生率", 7.21, "‰", {"last_year": 7.9}))
    m = check_numbers("出生率为7.21‰，比上年下降0.69个千分点。", figures)[1]
    assert (m.status, m.derivation.kind) == ("grounded", "points")
    assert "个千分点" in m.message
    wrong = check_numbers("出生率为7.21‰，比上年下降0.96个千分点。", figures)[1]
    assert wrong.status == "invented" and "0.69个千分点" in wrong.message


def test_an_item_written_around_its_number():
    figures = _figs(("res", "作出决议", 2, "项"), ("insp", "执法检查", 6, "项"))
    assert only("作出2项决议。", figures).figure_id == "res"
    m = only("作出6项决议。", figures)
    assert m.status == "misattributed" and m.item == "作出决议"
    assert only("开展6项执法检查。", figures).figure_id == "insp"


def test_listed_heads_share_the_words_written_after_the_last():
    figures = _figs(
        ("a", "0-14岁常住人口", 210, "万人"),
        ("b", "15-59岁常住人口", 640, "万人"),
        ("c", "60岁及以上常住人口", 230, "万人"),
    )
    ok = check_numbers("0-14岁、15-59岁、60岁及以上常住人口分别为210万人、640万人和230万人。", figures)
    assert [(m.text, m.status, m.figure_id) for m in ok] == [
        ("210万人", "grounded", "a"),
        ("640万人", "grounded", "b"),
        ("230万人", "grounded", "c"),
    ]
    bad = check_numbers("0-14岁、15-59岁、60岁及以上常住人口分别为640万人、210万人和230万人。", figures)
    assert [m.status for m in bad] == ["misattributed", "misattributed", "grounded"]
    two = _figs(("u", "城镇居民人均可支配收入", 52000, "元"), ("r", "农村居民人均可支配收入", 26000, "元"))
    swapped = check_numbers("城镇和农村居民人均可支配收入分别为26000元和52000元。", two)
    assert [m.status for m in swapped] == ["misattributed", "misattributed"]


def test_a_target_met_is_a_share_of_the_target():
    figures = _figs(
        ("goal", "新增就业年度目标", 8000, "人"),
        ("jobs", "新增就业", 8240, "人", {"part_of": "goal"}),
    )
    ms = check_numbers("实现新增就业8240人，完成年度目标8000人的103%。", figures)
    assert (ms[2].status, ms[2].derivation.kind) == ("grounded", "share")
    wrong = check_numbers("实现新增就业8240人，完成年度目标8000人的97%。", figures)[2]
    assert wrong.status == "invented" and "103%" in wrong.message


def test_a_bracketed_comparison_is_an_aside():
    figures = _figs(
        ("city", "本市居民人均可支配收入", 41200, "元", {"last_year": 39000}),
        ("prov", "全省居民人均可支配收入", 45800, "元", {"last_year": 43700}),
    )
    ms = check_numbers("本市居民人均可支配收入41200元（全省45800元），同比增长5.6%（全省增长4.8%）。", figures)
    assert [(m.text, m.status, m.figure_id) for m in ms] == [
        ("41200元", "grounded", "city"),
        ("45800元", "grounded", "prov"),
        ("5.6%", "grounded", "city"),
        ("4.8%", "grounded", "prov"),
    ]


def test_a_piece_of_an_item_that_leaves_out_what_the_clause_contradicts():
    figures = _figs(
        ("city", "本市居民人均可支配收入", 41200, "元", {"last_year": 39000}),
        ("prov_rate", "全省居民人均可支配收入增速", 4.8, "%"),
    )
    m = check_numbers("本市居民人均可支配收入增速5.6%。", figures)[0]
    assert (m.status, m.figure_id) == ("grounded", "city")


# ---------------------------------------------------------------- classes found on the third held-out set


def test_an_average_growth_rate_is_a_figure_of_its_own():
    figures = _figs(
        ("gdp", "地区生产总值", 120.0, "亿元", {"last_year": 111.0}),
        ("avg", "地区生产总值三年平均增速", 6.4, "%"),
    )
    ms = check_numbers("实现地区生产总值120亿元，比上年增长8.1%，三年平均增长6.4%。", figures)
    assert [(m.text, m.status) for m in ms] == [("120亿元", "grounded"), ("8.1%", "grounded"), ("6.4%", "grounded")]
    assert ms[2].figure_id == "avg" and ms[2].derivation is None  # not checked as this year's growth
    typed = check_numbers("地区生产总值年均增长6.4%。", _figs(("avg", "地区生产总值年均增速", 6.4, "%")))
    assert typed[0].attribution == "item"  # a rate typed as …增速 is named by …增长


def test_a_signed_rate_after_the_comparison_is_a_growth_rate():
    figures = _figs(
        ("a", "地区生产总值", 58.0, "亿元", {"last_year": 61.8}),
        ("b", "一般公共预算收入", 2.1, "亿元", {"last_year": 2.6}),
    )
    ms = check_numbers("地区生产总值58亿元、一般公共预算收入2.1亿元，同比分别-6.1%、-19.2%。", figures)
    assert [(m.text, m.status) for m in ms[2:]] == [("-6.1%", "grounded"), ("-19.2%", "grounded")]
    wrong = check_numbers("地区生产总值58亿元、一般公共预算收入2.1亿元，同比分别-6.1%、-9.2%。", figures)
    assert wrong[3].status == "invented"


def test_from_last_year_to_this_year():
    figures = _figs(("std", "城市低保月标准", 820, "元", {"last_year": 760}))
    ms = check_numbers("城市低保标准从每月760元提高到820元。", figures)
    assert [(m.text, m.status, m.figure_id) for m in ms] == [("760元", "grounded", "std"), ("820元", "grounded", "std")]
    assert "上年为760元" in ms[0].message
    assert check_numbers("城市低保标准从每月700元提高到820元。", figures)[0].status != "grounded"


def test_a_list_of_changes_mixes_multiples_and_percentages():
    figures = _figs(
        ("civil", "民事案件", 30.0, "万件", {"last_year": 12.0}),
        ("admin", "行政案件", 8.0, "万件", {"last_year": 2.0}),
        ("public", "公益诉讼案件", 18.0, "万件", {"last_year": 10.0}),
    )
    ms = check_numbers("办理民事案件30万件、行政案件8万件、公益诉讼案件18万件，分别上升1.5倍、3倍和80%。", figures)
    assert [(m.text, m.status) for m in ms[3:]] == [("1.5倍", "grounded"), ("3倍", "grounded"), ("80%", "grounded")]
    swapped = check_numbers("办理民事案件30万件、行政案件8万件、公益诉讼案件18万件，分别上升3倍、1.5倍和80%。", figures)
    assert [m.status for m in swapped[3:5]] != ["grounded", "grounded"]


def test_listed_items_sharing_the_head_written_once():
    figures = _figs(("safe", "群众安全感", 98.1, "%"), ("sat", "群众满意度", 96.4, "%"))
    ok = check_numbers("群众安全感、满意度分别为98.1%、96.4%。", figures)
    assert [(m.status, m.figure_id) for m in ok] == [("grounded", "safe"), ("grounded", "sat")]
    bad = check_numbers("群众安全感、满意度分别为96.4%、98.1%。", figures)
    assert [m.status for m in bad] == ["misattributed", "misattributed"]


# ---- classes found on the fourth and third held-out sets (evals/grounding/heldout3/4-misses.md)


def _fig(fid: str, item: str, value: float, unit: str, **kw) -> Figure:
    return Figure(id=fid, item=item, value=value, unit=unit, **kw)


def _status(text: str, figures: list[Figure]) -> list[tuple[str, str]]:
    return [(m.text, m.status) for m in check_numbers(text, figures)]


SHARES = [
    _fig("f5", "第一产业比重", 6.7, "%", last_year=6.9),
    _fig("f6", "第二产业比重", 24.9, "%", last_year=24.2),
    _fig("f7", "第三产业比重", 68.4, "%", last_year=68.9),
]


@pytest.mark.parametrize("colon", [":", "∶", "："])
def test_a_ratio_list_of_last_years_values_is_read_against_last_year(colon):
    text = f"三次产业结构由上年的6.9{colon}24.2{colon}68.9调整为6.7{colon}24.9{colon}68.4。"
    assert all(status == "grounded" for _, status in _status(text, SHARES))
    swapped = f"三次产业结构由上年的24.2{colon}6.9{colon}68.9调整为6.7{colon}24.9{colon}68.4。"
    got = dict(_status(swapped, SHARES))
    assert got["24.2"] == got["6.9"] == "misattributed"


def test_a_list_writes_ge_for_ge_bai_fen_dian():
    figures = [
        _fig("f10", "第一产业拉动GDP增长", 0.63, "个百分点"),
        _fig("f11", "第二产业拉动GDP增长", 2.34, "个百分点"),
        _fig("f12", "第三产业拉动GDP增长", 3.73, "个百分点"),
    ]
    text = "三次产业分别拉动GDP增长{}个、{}个、{}个百分点。"
    assert {s for _, s in _status(text.format(0.63, 2.34, 3.73), figures)} == {"grounded"}
    got = _status(text.format(2.34, 0.63, 3.73), figures)
    assert [s for _, s in got] == ["misattributed", "misattributed", "grounded"]


def test_an_ordinal_list_pairs_each_share_in_order():
    figures = [
        _fig("f7", "第一产业对经济增长的贡献率", 9.5, "%"),
        _fig("f8", "第二产业对经济增长的贡献率", 34.9, "%"),
        _fig("f9", "第三产业对经济增长的贡献率", 55.6, "%"),
    ]
    text = "第一、二、三产业对经济增长的贡献率分别为34.9%、9.5%和55.6%。"
    assert [s for _, s in _status(text, figures)] == ["misattributed", "misattributed", "grounded"]


@pytest.mark.parametrize(
    "figures, text",
    [
        (
            [_fig("f2", "到位资金", 246.9, "亿元"), _fig("f3", "省际到位资金", 233.5, "亿元", part_of="f2")],
            "完成到位资金246.9亿元，其中：省际到位资金246.9亿元。",
        ),
        (
            [_fig("f2", "立案", 544, "件"), _fig("f3", "不立案", 23, "件")],
            "确定立案544件，不立案544件。",
        ),
    ],
)
def test_a_longer_name_written_is_not_the_shorter_item_inside_it(figures, text):
    assert [s for _, s in _status(text, figures)] == ["grounded", "misattributed"]


def test_a_plan_word_opening_the_sentence_holds_for_the_clauses_after_it():
    figures = [
        _fig("f1", "计划开工改造危旧房棚户区", 1250, "套"),
        _fig("f2", "计划发放租赁补贴", 1095, "户"),
        _fig("f4", "发放租赁补贴", 1430, "户", part_of="f2"),
    ]
    text = "我市计划开工改造危旧房棚户区1250套，发放租赁补贴1095户。截至7月底，发放租赁补贴1430户。"
    assert {s for _, s in _status(text, figures)} == {"grounded"}
    assert _status("截至7月底，发放租赁补贴1095户。", figures)[0][1] == "misattributed"


def test_xin_zeng_is_an_increase():
    figures = [_fig("f1", "户籍人口", 273393, "人", last_year=271846)]
    got = check_numbers("年末户籍人口273393人，比上年新增1547人。", figures)
    assert got[1].status == "grounded" and got[1].derivation is not None


LOW_INCOME = [
    _fig("f4", "城市低保户数", 6195, "户"),
    _fig("f5", "城市低保人数", 12533, "人"),
    _fig("f10", "城市低保新增户数", 276, "户"),
    _fig("f11", "城市低保新增人数", 462, "人"),
    _fig("f12", "城市低保退出户数", 374, "户"),
    _fig("f13", "城市低保退出人数", 714, "人"),
    _fig("f16", "农村低保退出户数", 1029, "户"),
]


def test_counts_of_a_subject_in_two_units_and_an_elliptical_clause():
    text = "城市低保6195户12533人。城市低保新增276户462人，退出374户714人。"
    assert {s for _, s in _status(text, LOW_INCOME)} == {"grounded"}
    swapped = "城市低保新增276户462人，退出6195户714人。"
    assert dict(_status(swapped, LOW_INCOME))["6195户"] == "misattributed"


def test_a_year_written_in_a_clause_does_not_name_an_item_with_another_year():
    figures = [
        _fig("f9", "居民健康素养水平", 38.2, "%"),
        _fig("f11", "健康广州行动2030年居民健康素养目标值", 37, "%"),
    ]
    text = "辖区居民健康素养水平稳步提升，2022年达38.2%，提前实现了2030年的目标值（37%）。"
    assert {s for _, s in _status(text, figures)} == {"grounded"}


def test_a_clause_named_by_the_end_of_one_items_name():
    figures = [_fig("f2", "人大代表反馈满意率", 90, "%"), _fig("f3", "人大代表反馈基本满意率", 10, "%")]
    assert {s for _, s in _status("人大代表反馈满意率为90%，基本满意率为10%。", figures)} == {"grounded"}
    assert _status("人大代表反馈满意率为90%，基本满意率为90%。", figures)[1][1] == "misattributed"


DISASTERS = [
    _fig("f1", "生产安全事故总量同比降幅", 27.0, "%"),
    _fig("f2", "生产安全事故死亡人数同比降幅", 23.6, "%"),
    _fig("f3", "自然灾害受灾人次较近5年均值降幅", 15.0, "%"),
    _fig("f4", "因灾死亡失踪人数较近5年均值降幅", 30.8, "%"),
    _fig("f5", "倒塌房屋数量较近5年均值降幅", 63.3, "%"),
    _fig("f6", "自然灾害直接经济损失较近5年均值降幅", 25.3, "%"),
]


def test_conjuncts_before_fen_bie_pair_in_order_and_a_period_is_no_figure():
    text = (
        "全国自然灾害受灾人次、因灾死亡失踪人数、倒塌房屋数量和直接经济损失与近5年均值相比分别下降{}%、{}%、{}%、{}%。"
    )
    assert [s for _, s in _status(text.format(15.0, 30.8, 63.3, 25.3), DISASTERS)] == ["grounded"] * 4
    got = _status(text.format(63.3, 30.8, 15.0, 25.3), DISASTERS)
    assert [s for _, s in got] == ["misattributed", "grounded", "misattributed", "grounded"]


def test_a_swap_in_a_list_of_multiples_and_rates_names_the_other_item():
    figures = [
        _fig("f4", "办理民事案件", 31.6, "万件", last_year=12.5),
        _fig("f5", "办理行政案件", 7.8, "万件", last_year=1.8),
        _fig("f6", "办理公益诉讼案件", 19.5, "万件", last_year=11.3),
    ]
    text = "办理民事案件31.6万件、行政案件7.8万件、公益诉讼案件19.5万件，比上年分别上升{}倍、{}倍和72.6%。"
    assert {s for _, s in _status(text.format(1.5, 3.3), figures)} == {"grounded"}
    got = check_numbers(text.format(3.3, 1.5), figures)
    assert [m.status for m in got[3:5]] == ["misattributed", "misattributed"]
    assert "办理行政案件" in (got[3].message or "")


def test_an_elliptical_clause_whose_missing_word_stands_earlier_in_the_sentence():
    figures = [
        _fig("f7", "立公益诉讼案", 2267, "件"),
        _fig("f8", "发出诉前检察建议", 2021, "件"),
        _fig("f9", "提起公益诉讼", 154, "件"),
    ]
    text = "立公益诉讼案2267件，发出诉前检察建议2021件，提起诉讼{}件。"
    assert {s for _, s in _status(text.format(154), figures)} == {"grounded"}
    assert _status(text.format(2267), figures)[2][1] == "misattributed"


def test_a_list_goes_on_with_the_subjects_of_the_fen_bie_list_before_it():
    figures = [
        _fig("f6", "消费税收入", 5262, "万元"),
        _fig("f7", "车辆购置税收入", 6339, "万元"),
        _fig("f12", "消费税增速", 19, "%"),
        _fig("f13", "车辆购置税增速", 12, "%"),
    ]
    text = "消费税和车辆购置税分别收入5262万元和6339万元，同比增长{}%和{}%。"
    assert {s for _, s in _status(text.format(19, 12), figures)} == {"grounded"}
    assert [s for _, s in _status(text.format(12, 19), figures)][2:] == ["misattributed", "misattributed"]


def test_counts_in_bi_and_qi_are_read_with_their_unit_and_yi_qi_is_no_count():
    figures = [_fig("f12", "创业担保贷款笔数", 797, "笔"), _fig("f13", "创业担保贷款金额", 9389, "万元")]
    got = check_numbers("累计发放创业担保贷款797笔9389万元。", figures)
    assert [(m.text, m.status) for m in got] == [("797笔", "grounded"), ("9389万元", "grounded")]
    assert check_numbers("各部门一起发力，一笔一笔核对。", figures) == []
