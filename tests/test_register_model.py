"""The statistical register model (check/register_model.py, rule R5 of check/register.py): formal
prose is not flagged, spoken wording no rule lists is, loading is deterministic, and an office's
accepted wordings (允许用语) silence it like any other register finding."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from assistant.check import register_model
from assistant.check.register import lint_register
from assistant.check.style import lint_style
from assistant.check.terms import OfficeTerms
from assistant.core.errors import InputError

ON = OfficeTerms(spoken_model=True)  # an office that turned R5 on (口语统计核对: true)

# Written for this test (not from the corpora or the eval sets): 忙完了 is in no rule and no lexicon.
SPOKEN = "年底的材料总算忙完了，下一步抓好整改。"
FORMAL = "全年共召开常委会会议12次，审议议题48项，听取和审议专项工作报告9个，开展执法检查4次。"


def r5(text: str, terms=ON) -> list[str]:
    return [text[f.start : f.end] for f in lint_register(text, terms) if f.rule == "R5"]


def test_a_formal_sentence_is_not_flagged():
    assert register_model.informal_spans(FORMAL) == []
    assert lint_register(FORMAL, ON) == []


def test_unseen_spoken_wording_is_a_warning_on_the_spoken_words():
    found = [f for f in lint_register(SPOKEN, ON) if f.rule == "R5"]
    assert [SPOKEN[f.start : f.end] for f in found] == ["忙完了"]
    assert found[0].severity == "warning" and "书面" in found[0].message


def test_loading_is_deterministic():
    first = register_model.load_model()
    spans = register_model.informal_spans(SPOKEN + FORMAL)
    register_model.load_model.cache_clear()
    second = register_model.load_model()
    assert first is not second
    assert (first.width, first.bias, first.threshold) == (second.width, second.bias, second.threshold)
    for a, b in zip(first.keys + first.weights, second.keys + second.weights, strict=True):
        assert np.array_equal(a, b)
    assert register_model.informal_spans(SPOKEN + FORMAL) == spans
    # keys are sorted (binary search) and the threshold is the YAML's
    assert all(bool(np.all(k[1:] > k[:-1])) for k in second.keys)
    meta = yaml.safe_load(register_model.META.read_text(encoding="utf-8"))
    assert second.threshold == meta["threshold"]


def test_scores_are_the_sum_of_the_ngram_weights_in_a_window():
    m = register_model.load_model()
    text = "总算忙完了"
    s = "|" + text + "|"
    weight = {}
    for keys, weights in zip(m.keys, m.weights, strict=True):
        weight.update({int(k): float(w) for k, w in zip(keys, weights, strict=True)})
    expected = []
    for i in range(len(s) - m.width + 1 if len(s) >= m.width else 1):
        window = (s + "|" * m.width)[i : i + m.width]
        grams = [window[j : j + n] for n in (1, 2, 3) for j in range(len(window) - n + 1)]
        expected.append(m.bias + sum(weight.get(register_model.gram_key(g), 0.0) for g in grams))
    assert np.allclose(register_model.window_scores(text), expected)


def test_quoted_words_and_accepted_wordings_are_not_flagged(tmp_path, monkeypatch):
    assert r5(SPOKEN) == ["忙完了"]
    assert r5("材料员说“年底的材料总算忙完了”，下一步抓好整改。") == []
    terms = tmp_path / "terms.yaml"
    terms.write_text("口语统计核对: true\n", encoding="utf-8")
    monkeypatch.setenv("HUIBAO_TERMS", str(terms))
    assert [f.rule for f in lint_style(SPOKEN, scope="section") if f.rule == "R5"] == ["R5"]
    terms.write_text("口语统计核对: true\n允许用语:\n  - 忙完了\n", encoding="utf-8")
    assert [f for f in lint_style(SPOKEN, scope="section") if f.rule == "R5"] == []


def test_the_model_is_off_unless_the_office_turns_it_on(tmp_path, monkeypatch):
    """R5 still warns on ~0.7 formal stretches per 5,000 characters of real reports: an office opts in."""
    assert r5(SPOKEN, None) == [] and r5(SPOKEN, OfficeTerms()) == []
    assert [f for f in lint_style(SPOKEN, scope="section") if f.rule == "R5"] == []
    terms = tmp_path / "terms.yaml"
    terms.write_text("口语统计核对: 是\n", encoding="utf-8")
    monkeypatch.setenv("HUIBAO_TERMS", str(terms))
    with pytest.raises(InputError, match="口语统计核对只能是 true 或 false"):
        lint_style(SPOKEN, scope="section")


def test_the_model_ships_small():
    assert register_model.MODEL.stat().st_size <= 2 * 1024 * 1024


def test_wording_published_official_prose_uses_is_not_flagged(monkeypatch):
    # Written for this test: the model reads 还有很多 and 房子是用来住的 as spoken (its formal side is
    # news), but the State Council's and the CPC congress's reports use them word for word
    # (rules/official_prose.txt.gz), so R5 leaves them; 忙完了 they never use
    text = "困难还有很多，坚持房子是用来住的、不是用来炒的定位。" + SPOKEN
    monkeypatch.setattr("assistant.check.register.official_prose", lambda: "")
    assert r5(text) == ["还有很多", "房子是用来住的", "忙完了"]
    monkeypatch.undo()
    assert r5(text) == ["忙完了"]
    prose = register_model.official_prose()
    assert len(prose) > 800_000 and "忙完了" not in prose


def test_the_official_prose_is_not_evaluation_data():
    # rules/official_prose.yaml: 1954–1991 State Council reports and the CPC congress reports. No
    # document under evals/ may be one of them, or R5's false alarms would be measured on text it was
    # silenced with. Official texts share stock formulas and quote each other (the 2013 report quotes
    # the 十八大 report: 8% of it in runs of 24+ characters), so the check is that no evaluation file
    # has a quarter of its text in runs the official prose also has (a copy would have nearly all).
    from pathlib import Path

    width = 24
    prose = register_model.official_prose()
    runs = {hash(prose[i : i + width]) for i in range(len(prose) - width + 1)}
    root = Path(__file__).resolve().parent.parent / "evals"
    copies = []
    for path in sorted(p for p in root.rglob("*") if p.suffix in {".txt", ".md", ".yaml", ".json"}):
        text = path.read_text(encoding="utf-8")
        covered = bytearray(len(text))
        for i in range(len(text) - width + 1):
            if hash(text[i : i + width]) in runs and text[i : i + width] in prose:
                covered[i : i + width] = b"\x01" * width
        if len(text) >= 500 and sum(covered) > len(text) / 4:
            copies.append(f"{path.relative_to(root)}: {sum(covered) / len(text):.0%}")
    assert not copies, copies
    sources = yaml.safe_load((register_model.RULES / "official_prose.yaml").read_text(encoding="utf-8"))
    assert sources["characters"] == len(prose)
    assert all("2026" not in d["title"] and "省" not in d["title"] for d in sources["documents"])


def test_a_spoken_remark_in_brackets_is_a_warning_even_where_r5_is_off():
    # Written for this test: a drafter's aside in brackets that no rule lists. 公文's own brackets
    # (a short name, a scope, a basis, a period) score far below the model's threshold and pass.
    remark = "全年走访代表86人次（腿都跑细了），召开座谈会12次（开完会都快半夜了）。"
    found = [f for f in lint_register(remark) if f.rule == "R5"]
    assert [remark[f.start : f.end] for f in found] == ["腿都跑细了", "开完会都快半夜了"]
    assert all(f.severity == "warning" and "括号" in f.message and f.suggestion for f in found)
    formal = (
        "全年共召开座谈会12次（以下简称“座谈会”），编印《代表工作简报》24期（含增刊2期），"
        "地区生产总值增长5.2%（按可比价格计算），落实“十四五”规划（2021—2025年）。"
    )
    assert lint_register(formal) == []
    # outside brackets the same words wait for the office to turn R5 on
    assert r5("全年走访代表86人次，腿都跑细了。", None) == []
    # a bracket some rule already reports in is reported once, by that rule
    noted = "全年共召开座谈会12次（这回总算赶上趟了）。"
    assert [f.rule for f in lint_register(noted)] == ["R1"]
