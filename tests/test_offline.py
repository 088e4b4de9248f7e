"""The offline engine: grounded numbers only, every assigned figure used, zero style errors."""

from __future__ import annotations

import re

import pytest

from assistant.check import check_numbers, check_text
from assistant.core.figures import format_value
from assistant.core.settings import PROJECT_ROOT, Settings
from assistant.drafting.context import DraftContext, SectionRequest
from assistant.drafting.draft import draft_report, draft_section
from assistant.drafting.engines import OfflineEngine
from assistant.drafting.offline import compose_section, derive_titles, ground_clause, split_clauses, to_register
from assistant.drafting.spec import figures_for, load_spec
from tests.drafting_helpers import FakeKB, passage, small_figures, small_spec

EXAMPLES = PROJECT_ROOT / "examples"


def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def assert_clean_report(report, figures):
    text = report.to_markdown()
    result = check_text(text, figures, scope="report", year=report.year)
    errors = [(f.rule, text[f.start : f.end], f.message) for f in result.style if f.severity == "error"]
    assert errors == []
    assert result.summary.invented == 0
    assigned = {f.id for s in report.sections for f in figures if f.section == s.section_id}
    assert assigned <= set(result.coverage.used), f"unused: {assigned - set(result.coverage.used)}"
    for s in report.sections:
        if s.text:
            assert s.check.summary.style_errors == 0, (s.section_id, s.check.style)
            assert s.check.summary.invented == 0 and s.provenance.engine == "offline"
    return text


def test_small_report_offline_is_grounded_complete_and_clean(tmp_path):
    spec, figures = small_spec(), small_figures()
    report = draft_report(DraftContext.create(spec, figures, None, settings(tmp_path)), OfflineEngine())
    text = assert_clean_report(report, figures)
    assert report.engine == "offline"
    # every figure assigned through the spec's `figures:` list is used too
    for fid in ("study", "lectures"):
        assert fid in report.section("1.1").check.coverage.used
    assert "52.6万人次" in text and "418篇" in text and "现将2026年宣传思想文化工作汇报如下：" in text
    assert text.rstrip().endswith("作出新的更大贡献。")
    assert "离线" not in text and "模型" not in text  # provenance says so, not the report itself
    # a number of the notes that matches no figure is never copied: 30场 → 【待补充：…】
    assert "30场" not in text and re.search(r"【待补充：[^】]*直播[^】]*】|【待补充：[^】]*（场）】", text)


def test_sections_are_clean_one_by_one(tmp_path):
    spec, figures = small_spec(), small_figures()
    for s in spec.walk():
        if s.is_leaf:
            d = draft_section(
                DraftContext.create(spec, figures, None, settings(tmp_path)), SectionRequest(s), OfflineEngine()
            )
            assert d.check.summary.style_errors == 0 and d.check.summary.invented == 0, (s.id, d.text)
            assert set(d.check.coverage.unused) == set(), (s.id, d.check.coverage)
            assert {u.figure_id for u in d.provenance.figures} >= {f.id for f in figures_for(s, figures)}
            for use in d.provenance.figures:
                assert d.text[use.start : use.end] == use.text


def test_deterministic(tmp_path):
    spec, figures = small_spec(), small_figures()
    a = draft_report(DraftContext.create(spec, figures, None, settings(tmp_path)), OfflineEngine()).to_markdown()
    b = draft_report(DraftContext.create(spec, figures, None, settings(tmp_path)), OfflineEngine()).to_markdown()
    assert a == b


def test_register_rewrite():
    assert to_register("搞了理论学习，开了3场会!") == "开展理论学习，召开3场会"
    assert (
        to_register("咱们要把舆情研判接着抓了", part="plans") == "要把舆情研判持续抓好"
    )  # the subject goes: 一是要把…
    assert to_register("- 1. 机关文化这块，读书会办了12期") == "读书会举办12期"
    assert to_register("今年是开局之年，明年换届", year=2026) == "2026年是开局之年，2027年换届"
    assert "我" not in to_register("我觉得挺好").replace("我们", "")


def test_clauses_split_and_drop_notes_to_the_writer():
    assert split_clauses("一是精品少；二是手段少\n三是不平衡。") == ["一是精品少", "二是手段少", "三是不平衡"]
    assert split_clauses("代表宣传放在一起写。代表风采52期") == ["代表风采52期"]
    assert split_clauses("理论学习中心组，每周一学坚持，党课讲授") == ["理论学习中心组", "每周一学坚持", "党课讲授"]


def test_numbers_in_notes_become_figures_or_placeholders():
    figures = small_figures()
    g = ground_clause("发稿418篇，抖音直播30场，一共132人次参加", figures)
    assert "418篇" in g.text and "共132人次" in g.text and "30场" not in g.text
    assert "【待补充：抖音直播（场）】" in g.text
    assert set(g.used) == {"articles", "trained"}
    assert [m.status for m in check_numbers(g.text, figures) if m.status == "invented"] == []


def test_values_render_as_supplied():
    assert [format_value(v) for v in (12.0, 52.6, 1300000.0, 0.5)] == ["12", "52.6", "1300000", "0.5"]


def test_derived_titles_follow_sibling_pattern():
    spec = small_spec()
    titles = derive_titles(spec, small_figures())
    for sid in ("1.3", "1.4"):
        t = titles[sid]
        assert t.startswith("紧扣“") and "，" in t and not t.endswith("。"), t
        assert abs(len(t) - 19) <= 2, t  # siblings are 19 characters
    assert titles["1.3"] != titles["1.4"]
    assert "intro" not in titles and "1.1" not in titles


def test_lead_follows_matching_past_section_and_records_it(tmp_path):
    spec, figures = small_spec(), small_figures()
    kb = FakeKB(
        [
            passage(
                "p1",
                "（一）坚持“铸魂强基”，夯实理论武装根基\n始终把党的创新理论武装作为首要政治任务，推动学习走深走实。"
                "一是严格落实“第一议题”制度，全年学习23次。",
            ),
            passage("p2", "2024年，将继续深化理论武装。", heading="三、2024年工作打算"),
        ]
    )
    d = draft_section(
        DraftContext.create(spec, figures, kb, settings(tmp_path)), SectionRequest(spec.get("1.1")), OfflineEngine()
    )
    assert d.text.startswith("始终把党的创新理论武装作为首要政治任务，")
    assert "23次" not in d.text and [p.passage_id for p in d.provenance.passages] == ["p1"]
    assert kb.queries and kb.queries[0][1] == "report"
    assert d.check.summary.style_errors == 0


def test_sibling_sections_do_not_open_with_the_same_past_clause(tmp_path):
    # Every section retrieves the same past subsection: only the first may reuse its opening.
    spec, figures = small_spec(), small_figures()
    kb = FakeKB(
        [
            passage(
                "p1",
                "始终把党的创新理论武装作为首要政治任务，推动学习走深走实。一是严格落实“第一议题”制度，全年学习23次。",
            ),
            passage("p2", "坚持把新闻宣传作为展示人大工作的重要窗口，推动宣传提质增效。一是办好新闻发布会。"),
        ]
    )
    report = draft_report(DraftContext.create(spec, figures, kb, settings(tmp_path)), OfflineEngine())
    leads = [re.split("[，。]", s.text)[0] for s in report.sections if s.text and s.section_id.startswith("1.")]
    assert len(leads) == 4 and len(set(leads)) == 4, leads
    assert (
        leads[0] == "始终把党的创新理论武装作为首要政治任务" and leads[1] == "坚持把新闻宣传作为展示人大工作的重要窗口"
    )
    assert_clean_report(report, figures)
    assert (
        draft_report(DraftContext.create(spec, figures, kb, settings(tmp_path)), OfflineEngine()).to_markdown()
        == report.to_markdown()
    )


def test_offline_follows_concise_and_stress_instructions(tmp_path):
    spec, figures = small_spec(), small_figures()
    section = spec.get("1.2")
    before = draft_section(
        DraftContext.create(spec, figures, None, settings(tmp_path)), SectionRequest(section), OfflineEngine()
    )
    after = draft_section(
        DraftContext.create(spec, figures, None, settings(tmp_path)),
        SectionRequest(section, instruction="更精炼，突出新媒体数据"),
        OfflineEngine(),
    )
    assert len(after.text) < len(before.text)
    first_item = re.search(r"一是(.*?)(?:二是|$)", after.text).group(1)  # its lead and its facts
    assert "公众号" in first_item or "抖音" in first_item, after.text
    assert not re.search(r"一是(?:(?!二是).)*(?:公众号|抖音)", before.text)  # without the instruction: notes order
    # Same facts, nothing invented, nothing dropped, still clean.
    assert sorted(m.text for m in after.check.numbers) == sorted(m.text for m in before.check.numbers)
    assert after.check.summary.invented == 0 and after.check.summary.style_errors == 0
    assert after.provenance.instruction == "更精炼，突出新媒体数据"


def test_instruction_the_offline_engine_cannot_follow_changes_nothing(tmp_path):
    spec, figures = small_spec(), small_figures()
    section = spec.get("1.2")
    before = draft_section(
        DraftContext.create(spec, figures, None, settings(tmp_path)), SectionRequest(section), OfflineEngine()
    )
    after = draft_section(
        DraftContext.create(spec, figures, None, settings(tmp_path)),
        SectionRequest(section, instruction="换一种说法"),
        OfflineEngine(),
    )
    assert after.text == before.text


def test_one_side_other_side_when_the_past_section_used_it(tmp_path):
    spec, figures = small_spec(), small_figures()
    kb = FakeKB(
        [
            passage(
                "p1",
                "围绕重要节点做好宣传。一方面，抓好集中宣传。另一方面，拓展新媒体阵地。",
                heading="一、工作做法及成效 > （二）坚持“守正出新”，唱响人大主流声音",
            )
        ]
    )
    section = spec.get("1.2").model_copy(update={"notes": "开了新闻发布会，发稿418篇；公众号阅读量52.6万"})
    d = compose_section(section, spec, figures, kb.search("x"))
    assert "一方面，" in d.text and "另一方面，" in d.text and "一是" not in d.text


@pytest.mark.skipif(not (EXAMPLES / "report-spec.yaml").exists(), reason="examples/ not landed")
def test_sample_report_offline(tmp_path):
    from assistant.core.figures import load_figures

    figures = load_figures(EXAMPLES / "figures.csv")
    spec = load_spec(EXAMPLES / "report-spec.yaml", figures)
    report = draft_report(DraftContext.create(spec, figures, None, settings(tmp_path)), OfflineEngine())
    assert_clean_report(report, figures)
    assert report.report_check.coverage.unused == []
    assert report.report_check.summary.invented == 0 and report.report_check.summary.style_errors == 0


def test_template_spec_with_colloquial_notes_and_a_parent_figure(tmp_path):
    from assistant.core.figures import Figure
    from assistant.drafting.spec import template_spec

    spec = template_spec(
        "禾川市文化和旅游局2026年度工作总结",
        "禾川市文化和旅游局",
        2026,
        {
            "intro": "我们局今年干得挺好!",
            "achievements": [
                "## 搞了**文旅融合**, 接待游客1200万人次(同比增长12.5%)",
                "- 办了3场招商会; 签约项目20个",
                "我觉得服务质量还行吧?",
            ],
            "problems": "人手不够,经费紧张",
            "plans": "明年搞好全域旅游,要建了5个景区",
            "closing": "继续努力",
        },
    )
    figures = [
        Figure(id="visitors", item="接待游客", value=1200, unit="万人次", section="1.1"),
        Figure(id="growth", item="游客同比增长", value=12.5, unit="%", section="1.1"),
        Figure(id="projects", item="签约项目", value=20, unit="个", section="1.2"),
        Figure(id="invest", item="重点项目投资", value=8, unit="亿元", section="1"),
    ]
    report = draft_report(DraftContext.create(spec, figures, None, settings(tmp_path)), OfflineEngine())
    text = assert_clean_report(report, figures)
    assert report.section("1").text and "8亿元" in report.section("1").text  # a parent with a figure is drafted
    assert "3场" not in text and "5个" not in text and text.count("【待补充：") == 2
    assert not re.search(r"[#*!?,;()]|搞|我(?!们)|吧", text)
    assert "现将2026年工作汇报如下：" in text and "三、2027年工作打算" in text
    titles = [s.title for s in report.sections if s.level == 2]
    assert len(set(titles)) == len(titles) == 3


def test_register_uses_the_checkers_suggestions():
    # Regression: the engine wrote 大概→基本, 挺好→良好, 咋→如何 where the checker suggests
    # 约, 较好, 怎么; rules/words.yaml's suggestions are now the one source.
    from assistant.check import lint_style
    from assistant.check.numbers import load_rules

    swaps = {
        e["word"]: e["suggestion"]
        for e in load_rules("words.yaml")["colloquial"]
        if e.get("word") and e.get("suggestion") is not None
    }
    assert {"大概", "挺好", "咋"} <= set(swaps)
    for word, suggestion in swaps.items():
        out = to_register(f"各项工作{word}推进")
        assert word not in out and suggestion in out, (word, out)
        assert not [f for f in lint_style(out, scope="section") if f.rule == "L7"], (word, out)


@pytest.mark.parametrize(
    "notes, formal",
    [
        ("开了3场会", "召开3场会"),
        ("读书会办了12期", "读书会举办12期"),
        ("公众号发了972条信息", "公众号发布972条信息"),
        ("代表风采出了52期", "代表风采推出52期"),
        ("全年学了28次", "全年学习28次"),
        # a verb that is part of a word stays as written (召开 is not 召+开了)
        ("召开了座谈会", "召开了座谈会"),
        ("举办了培训班", "举办了培训班"),
        ("督办了代表建议", "督办了代表建议"),
        ("下发了通知", "下发了通知"),
        ("公开了政务信息", "公开了政务信息"),
        ("组建了宣讲队伍", "组建了宣讲队伍"),
        ("收到了来信", "收到了来信"),
        ("提出了建议", "提出了建议"),
        ("运用了新手段", "运用了新手段"),
    ],
)
def test_spoken_verbs_are_told_apart_by_segmentation(notes, formal):
    assert to_register(notes) == formal


# ---------------------------------------------------------------- a notes number the figures overrule


def _one_section(notes: str, figures, tmp_path, *, org="禾川市人大常委会办公室", kb=None, figure_ids=()):
    """The drafted text of section 1.1 of a minimal outline (title, organisation, year, notes)."""
    listed = f"\n    figures: [{', '.join(figure_ids)}]" if figure_ids else ""
    path = tmp_path / "c.yaml"
    path.write_text(
        f'title: {org}2026年度工作汇报\norganisation: {org}\nyear: 2026\nsections:\n  - id: "1.1"\n'
        f"    notes: {notes}{listed}\n",
        encoding="utf-8",
    )
    spec = load_spec(path, figures)
    ctx = DraftContext.create(spec, figures, kb, settings(tmp_path))
    return draft_section(ctx, SectionRequest(spec.get("1.1")), OfflineEngine())


def test_a_stale_number_in_the_notes_gives_way_to_the_supplied_figure(tmp_path):
    # The notes say 12期, the figures table (the authority) says 15期: one sentence with 15期,
    # not "读书分享会15期举办【待补充：读书分享会举办（期）】".
    from assistant.core.figures import Figure

    figures = [Figure(id="reading_sessions", item="“书香人大”读书分享会", value=15, unit="期")]
    d = _one_section("“书香人大”读书分享会办了12期。", figures, tmp_path, figure_ids=["reading_sessions"])
    assert d.text.endswith("“书香人大”读书分享会举办15期。"), d.text
    assert "12期" not in d.text and "【待补充" not in d.text and d.text.count("15期") == 1
    assert d.check.coverage.used == ["reading_sessions"] and d.check.summary.invented == 0


@pytest.mark.parametrize(
    "notes, figure, sentence",
    [
        # huibao figures --set press_conf=13, then refresh: the notes still say 11场
        ("全年开了11场新闻发布会。", ("press_conf", "新闻发布会", 13, "次"), "全年召开13次新闻发布会。"),
        # the notes count 场, the table 期: still the table's number, in the notes' place
        ("“书香人大”读书分享会办了12场。", ("reading", "“书香人大”读书分享会", 15, "期"), "读书分享会举办15期。"),
        # 14 against 1400: the figure exists, so no 【待补充】 and the row is used (not assigned here)
        ("宣传业务培训参训14人次。", ("trained", "宣传业务培训参训", 1400, "人次"), "宣传业务培训参训1400人次。"),
    ],
)
def test_the_figure_replaces_the_notes_number_in_one_clause(tmp_path, notes, figure, sentence):
    from assistant.core.figures import Figure

    fid, item, value, unit = figure
    figures = [Figure(id=fid, item=item, value=value, unit=unit)]
    d = _one_section(notes, figures, tmp_path, figure_ids=[fid] if fid != "trained" else [])
    assert d.text.endswith(sentence), d.text
    assert "【待补充" not in d.text and d.text.count(f"{value}{unit}") == 1
    assert [m.figure_id for m in d.check.numbers] == [fid] and d.check.summary.invented == 0


def test_a_stale_number_is_replaced_only_by_the_items_own_count():
    from assistant.core.figures import Figure

    figures = [
        Figure(id="press", item="新闻发布会", value=13, unit="次"),
        Figure(id="rate", item="网民留言按时回复率", value=98, unit="%"),
        Figure(id="gdp", item="地区生产总值", value=1234, unit="亿元", last_year=1100),
    ]
    # a second count of the same item is a part of it, not the item: still to be supplied
    g = ground_clause("新闻发布会召开13次，其中省级3次", figures)
    assert g.text == "新闻发布会召开13次，其中省级【待补充：其中省级（次）】" and g.used == ["press"]
    # a change is not the item's value: 98% never stands for 提高5%
    assert "98%" not in ground_clause("网民留言按时回复率比上年提高5%", figures).text
    # the stale level takes the figure; the growth the figures compute stays as the check verified it
    g = ground_clause("地区生产总值1300亿元，增长12%", figures)
    assert g.text == "地区生产总值1234亿元，增长12%" and g.used == ["gdp"]


# ---------------------------------------------------------------- whose lead sentence


def test_a_lead_from_another_office_or_another_topic_is_not_borrowed(tmp_path):
    # The 人大办's past report opens its 代表联络站 subsection with a stance sentence: a 交通运输局
    # section on rural roads must not open with it, nor with the 政协's, nor with its own office's
    # lead on work safety.
    from assistant.core.figures import Figure

    def past(pid, text, org, heading):
        return passage(pid, text, heading=f"一、工作做法及成效 > {heading}").model_copy(update={"organisation": org})

    kb = FakeKB(
        [
            past(  # the office's own, on another topic
                "p0",
                "坚持把安全生产作为交通运输工作的生命线，推动行业安全形势稳定。\n一是开展隐患排查。",
                "禾川市交通运输局",
                "（三）守牢安全底线，筑牢行业安全防线",
            ),
            past(
                "p1",
                "坚持把代表联络站建设作为落实实施意见的重点任务，推动站点提质增效。\n一是完善联络站阵地。",
                "禾川市人大常委会办公室",
                "（一）夯实联络阵地，密切代表群众联系",
            ),
            past(
                "p2",
                "始终把农村公路建设作为政协宣传工作的首要政治任务，推动宣传走深走实。\n一是讲好委员故事。",
                "禾川市政协办公室",
                "（一）突出农村公路宣传，讲好委员故事",
            ),
        ]
    )
    figures = [Figure(id="roads", item="新建农村公路", value=126, unit="公里")]
    d = _one_section("新建农村公路126公里", figures, tmp_path, org="禾川市交通运输局", kb=kb)
    assert "代表联络站" not in d.text and "政协" not in d.text and "安全生产" not in d.text, d.text
    assert d.text.startswith("坚持守正创新，") and d.text.endswith("新建农村公路126公里。"), d.text
    assert d.provenance.passages == []
    # the office's own past report on the section's topic is still followed
    own = past(
        "p3",
        "坚持把农村公路建设作为交通强市的基础工程，推动城乡交通一体化。\n一是加快农村公路建设。",
        "禾川市交通运输局",
        "（一）加快“四好农村路”建设，畅通城乡交通",
    )
    d = _one_section("新建农村公路126公里", figures, tmp_path, org="禾川市交通运输局", kb=FakeKB([*kb.passages, own]))
    assert d.text.startswith("坚持把农村公路建设作为交通强市的基础工程，"), d.text
    assert [p.passage_id for p in d.provenance.passages] == ["p3"]
