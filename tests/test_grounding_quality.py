"""Issue 10's targets for item-aware grounding, measured on published paragraphs
(evals/grounding_quality.py over evals/grounding/paragraphs.yaml)."""

from __future__ import annotations

import re

import pytest

from evals import grounding_quality as quality


@pytest.fixture(scope="module")
def measured() -> quality.Measurement:
    return quality.measure()


def _misses(outcomes: list[quality.Outcome], limit: int = 15) -> str:
    bad = [o for o in outcomes if not o.ok]
    lines = [f"{o.pid} “{o.mention}”: expected {o.expected}, got {o.status} {o.message or ''}" for o in bad[:limit]]
    return f"{len(bad)} misses, first {min(limit, len(bad))}:\n" + "\n".join(lines)


def test_sets_are_large_enough(measured):
    h = measured.headline()
    assert h["swapped_mentions"] >= 100
    assert h["fenbie_mentions"] >= 12
    assert h["derived_right_n"] >= 60 and h["derived_wrong_n"] >= 60
    assert h["originals_plain_n"] >= 500


def test_variants_are_deterministic():
    paragraphs = quality.load()
    first, _ = quality.build_swaps(paragraphs)
    again, _ = quality.build_swaps(paragraphs)
    assert [(s.pid, s.text) for s in first] == [(s.pid, s.text) for s in again]
    wrong, _ = quality.build_wrong(paragraphs)
    assert [w.text for w in wrong] == [w.text for w in quality.build_wrong(paragraphs)[0]]


def test_a_swap_changes_one_number_to_another_figure_in_the_same_form():
    paragraphs = {p.pid: p for p in quality.load()}
    swaps, _ = quality.build_swaps(tuple(paragraphs.values()))
    for sw in swaps:
        if sw.in_list:
            continue
        p = paragraphs[sw.pid]
        ((idx, new_text, other),) = sw.changed
        lab = p.labels[idx]
        s, e = sw.spans[idx]
        assert sw.text[:s] == p.text[: lab.num_start] and sw.text[e:] == p.text[lab.num_end :]
        a, b = quality._figure(p, lab.figure), quality._figure(p, other)
        scale = a.base_value / a.value if a.value else 1.0
        written = float(sw.text[s:e].replace("·", "."))
        assert abs(written * scale - b.base_value) <= 1e-6 * max(1.0, b.base_value), (sw.pid, new_text)
        assert quality._decimals(sw.text[s:e]) >= quality._decimals(lab.written)


def test_a_wrong_derived_number_keeps_its_form_and_leaves_the_rounding():
    for w in quality.build_wrong(quality.load())[0]:
        old, new = w.label.written, w.number
        assert quality._decimals(new) == quality._decimals(old)
        unit = 10.0 ** -quality._decimals(old)
        assert abs(float(new.replace("·", ".")) - float(old.replace("·", "."))) >= 3 * unit - 1e-9
        assert float(new.replace("·", ".")) > 0
        assert re.sub(r"[\d.·]", "", w.mention) == re.sub(r"[\d.·]", "", w.label.text)  # same words, sign


def test_misattributed_caught(measured):
    caught, n = measured.caught()
    assert caught / n >= quality.TARGET_CAUGHT, _misses(measured.of("swapped") + measured.of("分别"))
    lc, ln = measured.caught(("分别",))
    assert lc / ln >= quality.TARGET_CAUGHT, _misses(measured.of("分别"))


def test_derived_judged_right_on_right_and_wrong(measured):
    for set_ in ("derived-right", "derived-wrong"):
        right, n = measured.derived_right(set_)
        assert right == n, f"{set_}: " + _misses(measured.of(set_))


def test_no_misattributed_or_wrongly_derived_on_originals(measured):
    originals = measured.of("originals")
    assert measured.originals_misattributed() == 0, _misses([o for o in originals if o.status == "misattributed"])
    assert measured.wrongly_derived() == 0, _misses(
        [o for o in originals if o.label_kind != "plain" and o.status in ("invented", "misattributed")]
    )


def test_held_out_set_no_false_misattribution():
    # evals/grounding/heldout.yaml: 29 paragraphs from 16 documents the checker was never tuned on.
    # Recall there is reported in the README (below target so far); a misattribution the checker
    # claims must still be right, and untouched published text must never be called misattributed.
    h = quality.measure(quality.HERE / "grounding" / "heldout.yaml").headline()
    assert h["swapped_mentions"] >= 100
    assert h["misattributed_precision"] == 1.0
    assert h["originals_misattributed"] == 0


@pytest.mark.parametrize("name", ["heldout2.yaml", "heldout3.yaml", "heldout4.yaml", "heldout5.yaml"])
def test_blind_held_out_sets_are_large_enough(name):
    # evals/grounding/heldout2.yaml (42 paragraphs, 24 documents), heldout3.yaml (39 paragraphs, 20
    # documents), heldout4.yaml (56 paragraphs, 22 documents) and heldout5.yaml (53 paragraphs, 23
    # documents), each labelled blind (README, "Second" to "Fifth held-out set"). Only their size is asserted here; what
    # the checker scores on them is the lead's call.
    paragraphs = quality.load(quality.HERE / "grounding" / name)
    swaps, _ = quality.build_swaps(paragraphs)
    wrong, _ = quality.build_wrong(paragraphs)
    assert len(paragraphs) >= 35
    assert sum(len(s.changed) for s in swaps) >= 100
    assert sum(len(s.changed) for s in swaps if s.in_list) >= 15
    assert sum(1 for p in paragraphs for lab in p.labels if lab.derived and not lab.scope) >= 60
    assert len(wrong) >= 60
