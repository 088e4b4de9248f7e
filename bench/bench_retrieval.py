"""Retrieval benchmark: quality (recall@5, MRR per arm), latency, ingest throughput, re-ingest time.

    .venv/bin/python -m bench.bench_retrieval [--embedding use|e5] [--synthetic 10000]

Ingests knowledge/ into a temporary data dir, scores every evals/retrieval/queries-*.yaml file,
measures query latency (model loading excluded) on the sample KB and on a generated KB of
--synthetic chunks (sentences of the corpus recombined), and writes the tables to
bench/results/retrieval.md as well as printing them. Medians throughout.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.core.segment import search_terms
from assistant.core.settings import Settings
from assistant.kb import chunking, retrieve
from assistant.kb.ingest import ingest
from assistant.kb.retrieve import KnowledgeBase
from assistant.llm.embeddings import make_embedder
from evals.retrieval.scoring import load_queries, score, unreachable_labels

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p)) if values else float("nan")


def table(headers: list[str], rows: list[list]) -> str:
    def fmt(x):
        return f"{x:.3f}" if isinstance(x, float) else str(x)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)


def latency(
    kb: KnowledgeBase, queries: list[str], mode: str, filters: list[dict] | None = None, repeats: int = 3
) -> list[float]:
    times = []
    for _ in range(repeats):
        for i, q in enumerate(queries):
            f = filters[i % len(filters)] if filters else {}
            t = time.perf_counter()
            kb.search(q, 5, mode=mode, **f)
            times.append((time.perf_counter() - t) * 1000)
    return times


def synthetic_kb(
    base: KnowledgeBase, n: int, data_dir: Path, embedder, seed: int = 7, fast_vectors: bool = False
) -> tuple[KnowledgeBase, float]:
    """A KB of n generated chunks: corpus sentences recombined into 300–450 character passages."""
    index = base.index()
    sentences = []
    for text in (index.record(row)["text"] for row in index.live_rows()):
        sentences += [text[s:e] for s, e in chunking.split_sentences(text, 0, len(text)) if 8 <= e - s <= 200]
    rng = random.Random(seed)
    kinds, years = ["report", "policy", "other"], [2021, 2022, 2023, 2024, 2025]
    orgs = ["禾川市人大常委会办公室", "禾川市政协办公室", "禾川市文化广电和旅游局", "青石县人大常委会办公室"]
    ids, texts, metas, chunk_parts = [], [], [], []
    for i in range(n):
        target = rng.randint(300, 450)
        parts, size = [], 0
        while size < target:
            s = rng.choice(sentences)
            parts.append(s)
            size += len(s)
        text = "".join(parts)
        chunk_parts.append(parts)
        doc = i // 20
        meta = {
            "source": f"synthetic/doc{doc:04d}.md",
            "sha256": f"{doc:064d}",
            "kind": kinds[doc % 3],
            "year": years[doc % 5],
            "organisation": orgs[doc % 4],
            "heading_path": "一、工作做法及成效",
            "start": 0,
            "end": len(text),
            "ord": i % 20,
            "origin": "knowledge",
        }
        ids.append(f"synthetic/doc{doc:04d}.md#{i % 20:03d}")
        texts.append(text)
        metas.append(meta)
    settings = Settings(
        data_dir=data_dir, knowledge_dir=data_dir / "none", embedding=base.settings.embedding, collection="synthetic"
    )
    kb = KnowledgeBase.open(settings, embedder=embedder)
    t = time.perf_counter()
    if fast_vectors:
        # each chunk's vector = normalised mean of its sentences' vectors (USE pools by averaging, so
        # the vectors are realistic; search cost does not depend on their content). Minutes faster.
        uniq = sorted({x for parts in chunk_parts for x in parts})
        sv = dict(zip(uniq, embedder.embed_documents_array(uniq)))
        vecs = np.vstack([np.mean([sv[x] for x in parts], axis=0) for parts in chunk_parts])
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    else:
        vecs = embedder.embed_documents_array(texts)  # batches by the embedder's own batch_size
    embed_s = time.perf_counter() - t
    kb.add_chunks(ids, texts, metas, vecs)
    return kb, embed_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedding", choices=["use", "e5"], default="use")
    ap.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    ap.add_argument("--queries", type=Path, default=ROOT / "evals" / "retrieval")
    ap.add_argument("--synthetic", type=int, default=10000, help="chunks in the generated KB (0: skip)")
    ap.add_argument(
        "--fast-vectors",
        action="store_true",
        help="generated KB: mean of sentence vectors instead of embedding every chunk",
    )
    ap.add_argument("--max-chars", type=int, default=None, help="override the chunk size target")
    ap.add_argument("--rrf-k", type=int, default=None)
    ap.add_argument("--bm25-weight", type=float, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "retrieval.md")
    args = ap.parse_args()
    if args.max_chars:
        chunking.TARGET_MAX = args.max_chars
    if args.rrf_k:
        retrieve.RRF_K = args.rrf_k
    if args.bm25_weight:
        retrieve.BM25_WEIGHT = args.bm25_weight

    report: list[str] = [
        f"# Retrieval benchmark ({args.embedding})",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, chunk max {chunking.TARGET_MAX} "
        f"chars, RRF k {retrieve.RRF_K}, BM25 weight {retrieve.BM25_WEIGHT}",
        "",
    ]

    def emit(title: str, text: str) -> None:
        print(f"\n## {title}\n{text}")
        report.extend([f"## {title}", "", text, ""])

    tmp = Path(tempfile.mkdtemp(prefix="huibao-bench-"))
    # a snapshot: the corpus may be edited while the benchmark runs
    knowledge = Path(shutil.copytree(args.knowledge, tmp / "knowledge"))
    settings = Settings(data_dir=tmp / "data", knowledge_dir=knowledge, embedding=args.embedding)
    t = time.perf_counter()
    embedder = make_embedder(settings)
    embedder.embed_query("预热")  # loads the model
    load_s = time.perf_counter() - t
    search_terms("预热")

    kb = KnowledgeBase.open(settings, embedder=embedder)
    t = time.perf_counter()
    first = ingest(None, settings, kb=kb)
    ingest_s = time.perf_counter() - t
    reingest = []
    for _ in range(5):
        t = time.perf_counter()
        again = ingest(None, settings, kb=kb)
        reingest.append(time.perf_counter() - t)
        assert again.chunks == 0, "re-ingest of an unchanged KB wrote chunks"
    cli = []
    env = dict(
        os.environ,
        HUIBAO_DATA_DIR=str(settings.data_dir),
        HUIBAO_KNOWLEDGE_DIR=str(knowledge),
        HUIBAO_EMBEDDING=args.embedding,
    )
    huibao = Path(sys.executable).parent / "huibao"
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([str(huibao), "ingest"], env=env, capture_output=True, check=False)
        cli.append(time.perf_counter() - t)
    emit(
        "Ingest",
        table(
            [
                "files",
                "skipped",
                "chunks",
                "model load s",
                "cold ingest s",
                "chunks/s",
                "re-ingest unchanged s (in process)",
                "re-ingest unchanged s (`huibao ingest`, whole process)",
            ],
            [
                [
                    len(first.added),
                    len(first.skipped),
                    first.total_chunks,
                    load_s,
                    ingest_s,
                    first.total_chunks / ingest_s,
                    statistics.median(reingest),
                    statistics.median(cli),
                ]
            ],
        ),
    )
    if first.skipped:
        print("skipped:", first.skipped)

    # ---- quality
    files = sorted(args.queries.glob("queries-*.yaml"))
    queries = load_queries(files)
    index = kb.index()
    by_source: dict[str, list[str]] = {}
    for row in index.live_rows():
        rec = index.record(row)
        by_source.setdefault(rec["meta"]["source"], []).append(rec["text"])
    bad = unreachable_labels(queries, by_source)
    rows, scores = [], {}
    for mode in ("dense", "bm25", "hybrid"):
        s = score(queries, lambda q, k, mode=mode, **f: kb.search(q, k, mode=mode, **f))
        scores[mode] = s
        rows.append([mode, s.queries, s.recall_at_5, s.mrr, len(s.misses)])
    emit(
        f"Quality ({', '.join(f.name for f in files)})",
        table(["retriever", "queries", "recall@5", "MRR", "queries with no hit in top 5"], rows),
    )
    if bad:
        emit("Unreachable labels", "\n".join(f"- {b}" for b in bad))
    if scores["hybrid"].misses:
        emit("Hybrid misses", "\n".join(f"- {m}" for m in scores["hybrid"].misses))

    # ---- latency on the sample KB
    qtexts = [q.query for q in queries]
    filters = [{}, {"kind": "report"}, {"year": 2025}, {"organisation": "人大"}]
    lat_rows = []
    for mode in ("dense", "bm25", "hybrid"):
        kb.search(qtexts[0], 5, mode=mode)  # warm-up
        ms = latency(kb, qtexts, mode)
        lat_rows.append([f"sample ({index.live} chunks)", mode, "none", pct(ms, 50), pct(ms, 95)])
    ms = latency(kb, qtexts, "hybrid", filters)
    lat_rows.append([f"sample ({index.live} chunks)", "hybrid", "mixed", pct(ms, 50), pct(ms, 95)])

    # ---- latency on a generated large KB
    if args.synthetic:
        big, embed_s = synthetic_kb(kb, args.synthetic, tmp / "synthetic", embedder, fast_vectors=args.fast_vectors)
        t = time.perf_counter()
        big._invalidate()
        big.search(qtexts[0], 5)  # loads the chunk texts and builds the BM25 index
        build_s = time.perf_counter() - t
        # what a user sees after `huibao ingest`: the tokens are cached, only the chunk store loads
        t = time.perf_counter()
        reopened = KnowledgeBase.open(big.settings, embedder=embedder)
        reopened.search(qtexts[0], 5)
        reopen_s = time.perf_counter() - t
        for mode in ("dense", "bm25", "hybrid"):
            ms = latency(big, qtexts, mode, repeats=2)
            lat_rows.append([f"generated ({args.synthetic} chunks)", mode, "none", pct(ms, 50), pct(ms, 95)])
        ms = latency(big, qtexts, "hybrid", filters, repeats=2)
        lat_rows.append([f"generated ({args.synthetic} chunks)", "hybrid", "mixed", pct(ms, 50), pct(ms, 95)])
        emit(
            "Generated KB",
            table(
                [
                    "chunks",
                    "vectors",
                    "embed s",
                    "chunks/s",
                    "first search, tokens not cached (load + jieba + BM25 build) s",
                    "open + first search, tokens cached s",
                ],
                [
                    [
                        args.synthetic,
                        "sentence means" if args.fast_vectors else "embedded",
                        embed_s,
                        args.synthetic / embed_s,
                        build_s,
                        reopen_s,
                    ]
                ],
            ),
        )
    emit(
        "Query latency (ms, model loading excluded, k=5)",
        table(["knowledge base", "retriever", "filters", "p50 ms", "p95 ms"], lat_rows),
    )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    out = (
        args.out
        if args.embedding == "use"
        else args.out.with_name(f"{args.out.stem}-{args.embedding}{args.out.suffix}")
    )
    out.write_text("\n".join(report), encoding="utf-8")
    print(f"\nwritten: {out}  (temp data: {tmp})")


if __name__ == "__main__":
    main()
