"""Shared fixtures for the drafting tests: a small spec of our own, figures, a fake knowledge base."""

from __future__ import annotations

from functools import cache

import pytest

from assistant.check import check_numbers
from assistant.core.figures import Figure
from assistant.drafting.spec import parse_spec
from assistant.kb.retrieve import Passage

SMALL_SPEC = """\
title: 禾川市人大常委会办公室2026年度宣传思想文化工作汇报
organisation: 禾川市人大常委会办公室
year: 2026
topic: 宣传思想文化工作
sections:
  - id: intro
    notes: 今年是“十五五”开局之年。在市委领导下，办公室围绕中心抓宣传，几块工作都往前推了一步。
  - id: "1"
    title: 工作做法及成效
    children:
      - id: "1.1"
        title: 紧扣“理论武装”，筑牢团结奋斗思想根基
        notes: 党组会坚持“第一议题”，全年学了28次。中心组集中学习14次。领导班子讲党课。
        figures: [study, lectures]
      - id: "1.2"
        title: 紧扣“守正创新”，壮大人大主流舆论声势
        notes: 开了新闻发布会，发稿418篇；公众号阅读量52.6万，抖音搞了30场直播
      - id: "1.3"
        notes: 代表风采出了52期，宪法宣传周搞了活动
      - id: "1.4"
        notes: 机关文化这块，书香人大读书会办了12期，通讯员培训
  - id: "2"
    title: 存在的问题及改进措施
    notes: 问题：一是精品少；二是新手段用得还不够。改进：搞精品创作计划；直播常态化。
  - id: "3"
    title: 2027年工作打算
    notes: 明年是换届之年。继续抓学习；新媒体直播常态化；咱们要把舆情研判接着抓。
  - id: closing
    notes: 表态：做好2027年工作，为禾川高质量发展作贡献。
"""


def small_spec():
    return parse_spec(SMALL_SPEC, "small.yaml")[0]


def small_figures() -> list[Figure]:
    return [
        Figure(id="study", item="“第一议题”学习", value=28, unit="次"),
        Figure(id="lectures", item="专题党课", value=9, unit="次"),
        Figure(id="press", item="新闻发布会", value=11, unit="次", section="1.2"),
        Figure(id="articles", item="编发新闻稿件", value=418, unit="篇", section="1.2"),
        Figure(id="reads", item="微信公众号总阅读量", value=52.6, unit="万人次", section="1.2"),
        Figure(id="profiles", item="“代表风采”栏目", value=52, unit="期", section="1.3"),
        Figure(id="events", item="宪法宣传周活动", value=16, unit="场", section="1.3"),
        Figure(id="reading", item="“书香人大”读书分享会", value=12, unit="期", section="1.4"),
        Figure(id="trained", item="宣传业务培训参训", value=132, unit="人次", section="1.4"),
    ]


def passage(
    pid: str,
    text: str,
    heading: str = "一、工作做法及成效 > （一）坚持“铸魂强基”，夯实理论武装根基",
    kind: str = "report",
) -> Passage:
    return Passage(
        id=pid,
        text=text,
        source="past-reports/2023.md",
        heading_path=heading,
        kind=kind,
        year=2023,
        organisation="禾川市人大常委会办公室",
        start=0,
        end=len(text),
    )


class FakeKB:
    """KnowledgeBase stand-in: returns its passages in order (filtered by kind), records queries."""

    def __init__(self, passages: list[Passage]):
        self.passages = passages
        self.queries: list[tuple[str, str | None]] = []

    def is_empty(self) -> bool:
        return not self.passages

    def search(self, query: str, k: int = 5, *, kind=None, year=None, organisation=None) -> list[Passage]:
        self.queries.append((query, kind))
        return [p for p in self.passages if kind is None or p.kind == kind][:k]


@cache
def checker_is_item_aware() -> bool:
    """Whether the checker reads which item a clause names and computes derived numbers (issue
    10). Both land on the checker's branch: the assertions that need them wait until it is merged."""
    figures = [
        Figure(id="a", item="新闻发布会", value=11, unit="次"),
        Figure(id="b", item="网络舆情研判", value=12, unit="次", last_year=8),
    ]
    swapped = check_numbers("全年召开新闻发布会12次。", figures)
    derived = check_numbers("开展网络舆情研判12次，比上年增加4次。", figures)
    return [m.status for m in swapped] == ["misattributed"] and [m.status for m in derived] == ["grounded"] * 2


needs_item_aware_checker = pytest.mark.skipif(
    not checker_is_item_aware(), reason="the item-aware checker (issue 10) is not on this branch yet"
)
