"""Scorer for the labelled retrieval queries (format: evals/retrieval/README.md).

Used by bench/bench_retrieval.py and by the tests; needs only a search function, so it scores
any retriever that returns objects with `.source` and `.text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_WS = re.compile(r"\s+")


@dataclass
class Label:
    source: str
    contains: str


@dataclass
class Query:
    query: str
    relevant: list[Label]
    filters: dict = field(default_factory=dict)
    file: str = ""


class QueryFileError(ValueError):
    pass


def load_queries(paths: Sequence[Path]) -> list[Query]:
    out: list[Query] = []
    for path in paths:
        items = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
        if not isinstance(items, list):
            raise QueryFileError(f"{path}: expected a YAML list of queries")
        for n, item in enumerate(items, start=1):
            if not isinstance(item, dict) or not item.get("query") or not item.get("relevant"):
                raise QueryFileError(f"{path}: item {n} needs 'query' and a non-empty 'relevant' list")
            labels = []
            for rel in item["relevant"]:
                if not isinstance(rel, dict) or not rel.get("source") or not rel.get("contains"):
                    raise QueryFileError(f"{path}: item {n}: each relevant entry needs 'source' and 'contains'")
                labels.append(Label(str(rel["source"]).strip(), str(rel["contains"])))
            filters = {k: item[k] for k in ("kind", "year", "organisation") if item.get(k) is not None}
            out.append(Query(str(item["query"]), labels, filters, Path(path).name))
    return out


def matches(passage, label: Label) -> bool:
    return passage.source == label.source and _WS.sub("", label.contains) in _WS.sub("", passage.text)


@dataclass
class Score:
    recall_at_5: float
    mrr: float
    queries: int
    misses: list[str]  # queries with no relevant passage in the top 5


def score(queries: Sequence[Query], search: Callable[..., list], *, k: int = 5, mrr_depth: int = 10) -> Score:
    """search(query, k, **filters) -> passages, best first."""
    recalls, rrs, misses = [], [], []
    for q in queries:
        hits = search(q.query, max(k, mrr_depth), **q.filters)
        top = hits[:k]
        found = sum(1 for lab in q.relevant if any(matches(p, lab) for p in top))
        recalls.append(found / len(q.relevant))
        rank = next(
            (i for i, p in enumerate(hits[:mrr_depth], start=1) if any(matches(p, lab) for lab in q.relevant)), None
        )
        rrs.append(1.0 / rank if rank else 0.0)
        if found == 0:
            misses.append(q.query)
    n = max(1, len(queries))
    return Score(sum(recalls) / n, sum(rrs) / n, len(queries), misses)


def unreachable_labels(queries: Sequence[Query], chunks_by_source: dict[str, list[str]]) -> list[str]:
    """Labels whose phrase is in no single chunk of their source (typo, or straddles a chunk boundary)."""
    bad = []
    for q in queries:
        for lab in q.relevant:
            texts = chunks_by_source.get(lab.source)
            phrase = _WS.sub("", lab.contains)
            if texts is None:
                bad.append(f"{q.file}: {q.query!r}: source not in the index: {lab.source}")
            elif not any(phrase in _WS.sub("", t) for t in texts):
                bad.append(f"{q.file}: {q.query!r}: phrase not in one chunk of {lab.source}: {lab.contains!r}")
    return bad
