"""Speed of the 素材库 listing over a large knowledge base. Prints a table; asserts nothing.

    .venv/bin/python -m bench.bench_kb_listing [--documents 10000] [--chunks 5] [--runs 5]

A generated knowledge base of N documents (each `--chunks` chunks, random vectors: listing never
reads vectors or texts) in past-reports/<year>/, policies/ and uploads (no folder), 2017–2026.
Measured, median of `--runs`: KnowledgeBase.documents() (chunk metadata only), filtering and
paging it, one document's metadata, re-tagging one document, the 素材库 page's script run
(AppTest: first run, and a rerun after choosing a year); once, removing one year's documents.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
YEARS = list(range(2017, 2027))


def build(kb, documents: int, chunks: int) -> float:
    import numpy as np  # heavy: only the generator needs it

    rng = np.random.default_rng(7)
    ids, texts, metas = [], [], []
    for d in range(documents):
        year = YEARS[d % len(YEARS)]
        kind = ("report", "policy", "other")[d % 3]
        folder = {"report": f"past-reports/{year}/", "policy": "policies/", "other": ""}[kind]
        source = f"{folder}文档{d:05d}.md"
        for c in range(chunks):
            ids.append(f"{source}#{c:03d}")
            texts.append(f"第{d}号文档第{c}段。")
            metas.append(
                {
                    "source": source,
                    "sha256": f"{d:064d}",
                    "kind": kind,
                    "year": year,
                    "organisation": f"禾川市第{d % 40}单位",
                    "title": f"禾川市第{d % 40}单位{year}年度工作汇报",
                    "heading_path": "",
                    "start": 0,
                    "end": 10,
                    "ord": c,
                    "origin": "knowledge",
                }
            )
    vecs = rng.standard_normal((len(ids), 64)).astype(np.float32)
    t = time.perf_counter()
    kb.add_chunks(ids, texts, metas, vecs)
    return time.perf_counter() - t


def median_s(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), max(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--documents", type=int, default=10000)
    ap.add_argument("--chunks", type=int, default=5, help="chunks per document")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="huibao-listing-") as tmp:
        os.environ["HUIBAO_DATA_DIR"] = tmp  # the page (AppTest) opens the same knowledge base
        os.environ["ANONYMIZED_TELEMETRY"] = "False"
        from assistant.core.settings import get_settings
        from assistant.kb.metadata import DocumentFilter, DocumentMeta, filter_documents, page_of, retag
        from assistant.kb.retrieve import KnowledgeBase

        settings = get_settings()
        kb = KnowledgeBase.open(settings)
        write_s = build(kb, args.documents, args.chunks)
        docs = kb.documents()
        assert len(docs) == args.documents
        rows: list[tuple[str, float, float]] = []

        def listing() -> None:
            page_of(filter_documents(kb.documents(), DocumentFilter(year=2019, folder="past-reports")), 2, 20)

        rows.append(
            (
                "documents()，首次读取（新打开的知识库）",
                *median_s(lambda: KnowledgeBase.open(settings).documents(), args.runs),
            )
        )
        rows.append(("documents()，再次读取（未变）", *median_s(kb.documents, args.runs)))
        rows.append(
            (
                "筛选 + 分页（已有文档列表）",
                *median_s(lambda: page_of(filter_documents(docs, DocumentFilter(year=2019)), 3, 20), args.runs),
            )
        )
        rows.append(("documents() + 筛选 + 分页", *median_s(listing, args.runs)))
        source = docs[len(docs) // 2].source
        rows.append(("一份文档的元数据 document()", *median_s(lambda: kb.document(source), args.runs)))
        flip = iter([DocumentMeta(year=2020), DocumentMeta(year=2021)] * args.runs)
        rows.append(("改标注 retag（一份文档）", *median_s(lambda: retag(kb, source, next(flip)), args.runs)))

        from streamlit.testing.v1 import AppTest  # heavy: only the page measurement needs it

        page = ROOT / "assistant" / "ui" / "pages" / "knowledge.py"
        first, rerun = [], []
        for _ in range(args.runs):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
            t = time.perf_counter()
            at.switch_page(str(page.relative_to(ROOT))).run()
            first.append(time.perf_counter() - t)
            assert not at.exception, [e.value for e in at.exception]
            t = time.perf_counter()
            at.selectbox(key="kb.filter.year").set_value(2019).run()
            rerun.append(time.perf_counter() - t)
        rows.append(("素材库页：打开（AppTest 脚本运行）", statistics.median(first), max(first)))
        rows.append(("素材库页：选定年度后重跑", statistics.median(rerun), max(rerun)))

        year_docs = [d.source for d in kb.documents() if d.year == 2018]
        t = time.perf_counter()
        kb.delete_documents(year_docs)
        remove_s = time.perf_counter() - t
        assert not [d for d in kb.documents() if d.year == 2018]

    chunks = args.documents * args.chunks
    print(f"\n素材库列表：{args.documents:,} 个文档、{chunks:,} 个分块；{args.runs} 次的中位数\n")
    print("| 操作 | 中位数 | 最大 |")
    print("|---|---|---|")
    for name, med, worst in rows:
        print(f"| {name} | {med * 1000:.0f} ms | {worst * 1000:.0f} ms |")
    print(f"| 删除一个年度（{len(year_docs):,} 个文档，一次） | {remove_s * 1000:.0f} ms | — |")
    print(f"\n（生成：写入 {chunks:,} 个分块 {write_s:.1f} s）")


if __name__ == "__main__":
    main()
