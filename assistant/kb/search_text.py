"""What a chunk is searched by: its search text (embedded and BM25-indexed) and the BM25 terms.

Ingest and retrieval must agree on both, byte for byte: the caches are keyed by the search text.
"""

from __future__ import annotations

import re

from assistant.core.segment import search_terms

# Function words, enumeration markers, question words and the verbs every 公文 sentence uses: they
# match everything and only add noise (measured: BM25 recall@5 0.858 -> 0.867 on evals/retrieval).
_STOP = set(
    "的 了 和 与 及 等 在 是 对 把 为 以 并 将 于 也 而 或 其 之 中 上 下 年 有 由 从 被 向 着 个 这 那 "
    "我们 进一步 一步 不断 一是 二是 三是 四是 五是 一方面 另一方面 工作 方面 进行 开展 持续 加强 推进 "
    "情况 如何 怎么 怎样 多少 哪些 什么 次数 有关 相关 主要 做好 提升 提高 坚持 围绕 全年 组织".split()
)
_KEEP = re.compile(r"[\w]", re.UNICODE)


def search_text(text: str, meta: dict) -> str:
    """What is embedded and BM25-indexed: the title and heading path give a chunk its context."""
    head = " ".join(x for x in (meta.get("title"), meta.get("heading_path")) if x)
    return f"{head}\n{text}" if head else text


_FORMS: dict[str, str] = {}  # a segmenter token -> its search form ("" = dropped); see tokenize
# distinct tokens remembered: ~160 bytes each, so at most ~30 MB; an archive's words fit, and
# tokens beyond it (rare numbers, names) are worked out each time
_FORMS_MAX = 200_000


def _form(tok: str) -> str:
    form = tok.strip().lower()
    if not (form and _KEEP.search(form) and form not in _STOP):
        form = ""
    elif form == tok:
        form = tok  # the token itself, not a copy
    if len(_FORMS) < _FORMS_MAX:
        _FORMS[tok] = form
    return form


def tokenize(text: str) -> list[str]:
    """Search-mode tokens (core.segment.search_terms), lower-cased, without punctuation, whitespace
    and stop words. A token's form is worked out once per process and then looked up: a chunk has
    ~280 tokens, nearly all seen before, and the per-token string work was most of an ingest's
    tokenising time (0.27 of 0.43 ms a chunk)."""
    get = _FORMS.get
    out = []
    for tok in search_terms(text):
        form = get(tok)
        if form is None:
            form = _form(tok)
        if form:
            out.append(form)
    return out
