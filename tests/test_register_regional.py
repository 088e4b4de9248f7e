"""The regional/internet register glossary: well-formed, sourced, clean of formal prose."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_register_regional.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("check_register_regional", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _load_script()
HAN = re.compile(r"^[\u4e00-\u9fff]{2,}$")


@pytest.fixture(scope="module")
def glossary() -> dict:
    return check.load_glossary()


def test_loads(glossary: dict) -> None:
    assert isinstance(glossary["sources"], dict) and glossary["sources"]
    assert isinstance(glossary["words"], list) and glossary["words"]


def test_entries_have_fields_and_class(glossary: dict) -> None:
    for entry in glossary["words"]:
        assert set(entry) >= {"word", "class", "region", "source", "suggestion"}, entry
        assert entry["class"] in ("R1", "R2"), entry
        assert isinstance(entry["suggestion"], str), entry
        assert entry["region"], entry


def test_sources_defined_and_used(glossary: dict) -> None:
    sources = glossary["sources"]
    used = {entry["source"] for entry in glossary["words"]}
    assert used <= set(sources), used - set(sources)
    assert set(sources) <= used, set(sources) - used
    for key, source in sources.items():
        assert source["url"].startswith(("http://", "https://")), key
        assert source["what"], key


def test_words_are_chinese_and_unique(glossary: dict) -> None:
    words = [entry["word"] for entry in glossary["words"]]
    for word in words:
        assert HAN.match(word), word
    assert len(words) == len(set(words))


def test_source_pages_are_not_evaluation_data(glossary: dict) -> None:
    # The blind sets and their miss lists stay unread here; their sources are listed in
    # evals/register/sources.md, which is read.
    evals = "\n".join(
        path.read_text(encoding="utf-8", errors="ignore")
        for path in (ROOT / "evals").rglob("*")
        if path.is_file()
        and path.suffix in {".yaml", ".md", ".txt", ".py", ".json"}
        and "blind" not in path.name
        and "misses" not in path.name
    )
    # only the page keys are reported: a failure must not print evaluation text
    shared = [
        key
        for key, source in glossary["sources"].items()
        if re.sub(r"^https?://(www\.|m\.)?", "", source["url"]) in evals
    ]
    assert not shared, f"glossary pages that evaluation data also uses: {', '.join(shared)}"


def test_no_word_in_repository_formal_prose() -> None:
    words = check.load_words()
    texts = check.repo_formal_texts(ROOT)
    assert len(texts) > 20  # the corpus, grounding/published text fields and knowledge are read
    found = {word: hits for word, hits in check.occurrences(words, texts).items() if hits}
    assert not found, found


def test_a_regional_word_is_a_warning_naming_its_region_and_an_office_can_accept_it(tmp_path, monkeypatch):
    from assistant.check import lint_style
    from assistant.check.register import lint_register

    text = "城区道路不再埋汰，群众觉得巴适。"
    found = {(f.rule, f.severity, text[f.start : f.end]): f.message for f in lint_register(text)}
    assert ("R1", "warning", "埋汰") in found and "东北方言" in found[("R1", "warning", "埋汰")]
    assert ("R1", "warning", "巴适") in found
    terms = tmp_path / "terms.yaml"
    terms.write_text("允许用语:\n  - 巴适\n", encoding="utf-8")
    monkeypatch.setenv("HUIBAO_TERMS", str(terms))
    kept = [text[f.start : f.end] for f in lint_style(text, scope="section") if f.rule.startswith("R")]
    assert kept == ["埋汰"]


def test_a_regional_word_jieba_does_not_know_is_found_but_never_inside_a_dictionary_word() -> None:
    # jieba merges an unknown dialect word with its neighbour (嘎哈呢): the word is still reported;
    # a dictionary word that contains a glossary word (突破防线 holds 破防) is never cut
    from assistant.check.register import lint_register

    def found(text: str) -> list[tuple[str, str]]:
        return [(text[f.start : f.end], f.severity) for f in lint_register(text) if f.rule in ("R1", "R2")]

    assert ("嘎哈", "warning") in found("群众说嘎哈呢。")
    assert found("这个结果让人破防。") == [("破防", "warning")]
    assert found("公安机关接连突破防线，打掉团伙。") == []
