"""The checker-quality gate: the same scoring as evals/checker_quality.py, on the labelled fixtures."""

from __future__ import annotations

from pathlib import Path

import yaml

from assistant.check import check_numbers
from assistant.core.figures import load_figures
from evals import checker_quality as quality

ROOT = Path(__file__).resolve().parent.parent


def test_fixture_sizes():
    fx = ROOT / "evals" / "fixtures"
    assert len(yaml.safe_load((fx / "numbers.yaml").read_text(encoding="utf-8"))["cases"]) >= 80
    assert len(yaml.safe_load((fx / "style.yaml").read_text(encoding="utf-8"))["cases"]) >= 50
    chars, *_ = quality.score_clean()
    assert chars >= 5000


def test_invented_numbers_recall_and_precision():
    overall, _, right, total = quality.score_numbers()
    assert overall.recall == 1.0, overall.failures
    assert overall.precision >= 0.98, overall.failures


def test_clean_prose_false_alarms():
    chars, errors, _, notes = quality.score_clean()
    assert errors * 5000 / chars <= 1.0, notes


def test_clean_prose_numbers_all_grounded():
    fx = ROOT / "evals" / "fixtures"
    text = (fx / "clean_prose.md").read_text(encoding="utf-8")
    ms = check_numbers(text, load_figures(fx / "clean_prose_figures.yaml"))
    assert len(ms) > 50 and [m.text for m in ms if m.status != "grounded"] == []


def test_item_aware_grounding_on_published_paragraphs():
    g = quality.score_grounding()
    assert g is not None, "evals/grounding/paragraphs.yaml is missing"
    assert g.plain_misattributed == 0, [f for f in g.failures if "misattributed:" in f]
    assert g.swap_recall >= quality.TARGET_SWAP_RECALL, g.swap_recall
    assert g.wrong_derived_flagged == g.wrong_derived, [f for f in g.failures if f.startswith("wrong")]
    assert g.derived_accuracy >= 0.99, [f for f in g.failures if ") got" in f and not f.startswith(("swap", "wrong"))]
    assert g.respectively_caught >= 8 and g.inconsistent_flagged == g.inconsistent
