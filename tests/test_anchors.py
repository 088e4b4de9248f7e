"""Anchored scanning (check/anchors.py): the register rules, tried only where a match can start,
find exactly what re.finditer finds, on real prose, on every planted eval text and on seeded random
text dense in the rules' own characters."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import yaml

from assistant.check.anchors import AnchoredPattern, CharIndex, anchors_of
from assistant.check.register import _anchored_rules, register_rules
from assistant.core.settings import PROJECT_ROOT


def _eval_texts() -> list[str]:
    """Published paragraphs and every planted sentence of evals/register, and the fixture prose."""
    texts = [(PROJECT_ROOT / "evals" / "fixtures" / "clean_prose.md").read_text(encoding="utf-8")]
    for path in sorted((PROJECT_ROOT / "evals" / "register").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("items") or []:
            if isinstance(item, dict) and isinstance(item.get("replace"), str):
                texts.append(item["replace"])
        texts += [p["text"] for p in data.get("paragraphs") or [] if isinstance(p, dict) and "text" in p]
    return texts


def _random_texts(chars: frozenset[str], n: int = 1500) -> list[str]:
    """Short texts drawn from the anchor characters, common words, numerals and punctuation: the
    places where an anchor's offset or a lookbehind before the start would go wrong."""
    rng = random.Random(20261203)
    alphabet = sorted(chars) + list("的了是们老小一二三十百来不吗吧，。？！（）() 0123456789\n")
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(n)]


def _spans(matches) -> list[tuple[int, int]]:
    return [m.span() for m in matches]


def test_every_register_rule_finds_what_re_finds():
    patterns, chars = _anchored_rules()
    assert len(patterns) == len(register_rules())
    texts = _eval_texts() + _random_texts(chars)
    assert len(texts) > 2000
    for text in texts:
        index = CharIndex(text, chars)
        for rule, pattern in zip(register_rules(), patterns):
            got = _spans(pattern.finditer(text, index))
            assert got == _spans(rule.pattern.finditer(text)), (rule.pattern.pattern[:60], text[:60])
    anchored = sum(p.anchors is not None for p in patterns)
    # the point of it: most rules re cannot scan by a literal prefix are anchored
    assert anchored >= 30


def test_a_long_report_with_the_rules_characters_everywhere():
    patterns, chars = _anchored_rules()
    body = (PROJECT_ROOT / "evals" / "fixtures" / "clean_prose.md").read_text(encoding="utf-8")
    text = "\n".join([body] * 4 + _random_texts(chars, 200))
    index = CharIndex(text, chars)
    for rule, pattern in zip(register_rules(), patterns):
        assert _spans(pattern.finditer(text, index)) == _spans(rule.pattern.finditer(text))


@pytest.mark.parametrize(
    ("pattern", "anchors"),
    [
        # a wide class before the word: the word is the anchor, one or two characters in
        (r"[一-鿿]{1,2}(?<!同志)们", [("们", 1, 2)]),
        # a lookbehind first (re cannot scan it by a prefix): the class after it
        (r"(?<![一-鿿])[老小](?:王|李)", [("老小", 0, 0)]),
        # alternatives each give their own anchor, an optional prefix widens the offset
        (r"(?:还得|要)?再改|改改", [("再", 0, 2), ("改", 0, 0)]),
    ],
)
def test_anchors_are_read_from_the_pattern(pattern, anchors):
    got = anchors_of(re.compile(pattern))
    assert got is not None
    assert [("".join(sorted(c, reverse=True)), lo, hi) for c, lo, hi in got] == anchors


@pytest.mark.parametrize(
    "pattern",
    [
        r"老[王李]",  # a literal first: re scans it as fast
        r"([一-鿿]{2})\1",  # nothing but a wide class and a back-reference
        r"好?",  # can match the empty string
        r"[一-鿿]{1,6}们",  # the anchor may stand too far from the start
        r"(?<=[一-鿿])[^，。]{1,3}",  # only negated classes
        r"(?i)(?<![a-z])todo",  # a literal that stands for its other cases too
        r"(?<![a-z])(?i:todo)",  # the same, in a group
    ],
)
def test_patterns_without_a_usable_anchor_fall_back_to_re(pattern):
    rx = re.compile(pattern)
    assert anchors_of(rx) is None
    text = "老王和小李说：好好好，大家们都来了。TODO"
    assert _spans(AnchoredPattern(rx).finditer(text, CharIndex(text, "们老t"))) == _spans(rx.finditer(text))


def test_a_lookbehind_still_sees_the_text_before_the_start():
    rx = AnchoredPattern(re.compile(r"(?<=甲)(?<!丙甲)乙"))
    assert rx.anchors is not None
    text = "甲乙丙甲乙乙甲乙"
    assert _spans(rx.finditer(text, CharIndex(text, rx.chars))) == [(1, 2), (7, 8)]


def test_an_index_of_another_text_is_not_used():
    rx = AnchoredPattern(re.compile(r"(?<![一-鿿])[老小]王"))
    text, other = "，老王来", "小王"
    assert _spans(rx.finditer(text, CharIndex(other, rx.chars))) == [(1, 3)]


def test_the_register_findings_of_a_report_are_unchanged(monkeypatch):
    """lint_register with anchors and with every rule scanned by re alone: the same findings."""
    from assistant.check import register

    text = Path(PROJECT_ROOT / "evals" / "fixtures" / "clean_prose.md").read_text(encoding="utf-8")
    text += "\n俺们这边数还没统计，估摸着有二百来件，哥几个年底再定，大家们辛苦了。老王说这活儿咋整？"
    with_anchors = register.lint_register(text)
    patterns, _ = _anchored_rules()
    plain = tuple(AnchoredPattern.__new__(AnchoredPattern) for _ in patterns)
    for p, q in zip(plain, patterns):
        p.pattern, p.anchors, p.chars = q.pattern, None, frozenset()
    monkeypatch.setattr(register, "_anchored_rules", lambda: (plain, frozenset()))
    assert register.lint_register(text) == with_anchors
    assert len(with_anchors) >= 5
