"""Knowledge base at scale: ingest, cold and warm search, memory, index size, recall with the
sample mixed into 10,000 / 50,000 / 200,000 chunks of generated 公文 (bench/kb_corpus.py).

    .venv/bin/python -m bench.bench_kb_scale [--sizes 10000,50000,200000] [--embed-upto 10000]
                                             [--work DIR] [--http]

One data folder grows through the sizes (each ingest is incremental, as in an office). Chunks up
to --embed-upto are embedded by the model during the ingest, beside a measurement of the
embedder's own batched throughput on the same texts. Beyond it (CPU time: 200,000 chunks take
~30 min of both cores to embed), vectors are put in the embedding cache before the ingest
(kb/cache.py): each is the real vector of one of 300 embedded generated chunks plus noise,
so the ingest measures everything but the model. The table says which. Not part of the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
QUERY = "新闻发布会 次数"


def _env(data: Path, knowledge: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HUIBAO_DATA_DIR=str(data), HUIBAO_KNOWLEDGE_DIR=str(knowledge))
    env.update(extra)
    return env


# runs a module as __main__ and reports its own peak memory: VmHWM belongs to the process's own
# address space, whereas ru_maxrss of a forked child carries the parent's peak over the exec
_WRAP = (
    "import runpy, sys\n"
    "try:\n"
    "    sys.argv = sys.argv[1:]\n"
    "    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
    "except SystemExit:\n"
    "    pass\n"
    "finally:\n"
    "    hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM')][0].split()[1]\n"
    "    sys.stderr.write(f'\\nPEAK_KB {hwm}\\n')\n"
)


def run_measured(module_args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of a whole process running `python -m <module_args>`."""
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAP, *module_args], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t
    peak = [line for line in proc.stderr.splitlines() if line.startswith("PEAK_KB ")]
    if proc.returncode != 0 or not peak:
        raise RuntimeError(f"{module_args} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, int(peak[-1].split()[1]) / 1024, proc.stdout


def cold_search(data: Path, knowledge: Path, runs: int = 3, **extra: str) -> dict:
    """Whole `huibao search` processes (median wall, max peak RSS) and the split from a probe process."""
    env = _env(data, knowledge, **extra)
    walls, rss = [], []
    for _ in range(runs):
        wall, peak, _ = run_measured(["assistant.commands.main", "search", QUERY, "--json"], env)
        walls.append(wall)
        rss.append(peak)
    splits = []
    for _ in range(2):
        _, peak, out = run_measured(["bench.bench_kb_scale", "--probe"], env)
        splits.append(json.loads(out.strip().splitlines()[-1]))
    split = {k: statistics.median(s[k] for s in splits) for k in splits[0]}
    return {"wall": statistics.median(walls), "rss": max(rss), **split}


def probe() -> None:
    """One cold search, timed in parts (run as its own process)."""
    t0 = time.perf_counter()
    from assistant.commands import kb as _cli  # noqa: F401  the CLI's imports, as `huibao search` has them
    from assistant.core.segment import search_terms
    from assistant.core.settings import get_settings
    from assistant.kb.retrieve import KnowledgeBase
    from assistant.llm.embeddings import make_embedder

    t1 = time.perf_counter()
    kb = KnowledgeBase.open(get_settings(), make_embedder=make_embedder)
    kb.index()
    t2 = time.perf_counter()
    kb.embedder.embed_query_array("预热")
    search_terms("预热")
    t3 = time.perf_counter()
    kb.search(QUERY, 5)
    t4 = time.perf_counter()
    print(json.dumps({"imports": t1 - t0, "index": t2 - t1, "model": t3 - t2, "query": t4 - t3}))


def pct(values: list[float], p: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), p))


def warm_and_recall(data: Path, knowledge: Path, embedder, **settings_extra) -> dict:
    """Warm query latency (hybrid, k=5) and recall@5 with and without drafting's filters."""
    from assistant.core.settings import Settings
    from assistant.drafting.context import retrieve
    from assistant.kb import blas
    from assistant.kb import embeddings as embeddings_module
    from assistant.kb import index as index_module
    from assistant.kb.retrieve import KnowledgeBase
    from evals.retrieval.scoring import load_queries, score

    settings = Settings(data_dir=data, knowledge_dir=knowledge, embedding="use", **settings_extra)
    kb = KnowledgeBase.open(settings, embedder=embedder)
    queries = load_queries(sorted((ROOT / "evals" / "retrieval").glob("queries-*.yaml")))
    # drafting's filter: the office whose report is drafted, i.e. the labelled source's office
    org_of: dict[str, str | None] = {}
    for q in queries:
        src = q.relevant[0].source
        org_of[q.query] = _organisation(knowledge / src)
    kb.search(queries[0].query, 5)  # warm-up
    # the query product with one BLAS thread (as searched now) and with OpenBLAS's own threads
    # (as before kb/blas.py): whole passes over the queries in turn, two of each, so both see the
    # same load (query by query, OpenBLAS's threads still spinning after an "own" query slow the
    # next one)
    one: list[float] = []
    own: list[float] = []
    for threads in ("one", "own", "one", "own"):
        patch = contextlib.nullcontext if threads == "own" else blas.one_blas_thread
        with (
            mock.patch.object(index_module, "one_blas_thread", patch),
            mock.patch.object(embeddings_module, "one_blas_thread", patch),
        ):
            for q in queries:
                t = time.perf_counter()
                kb.search(q.query, 10, **q.filters)
                (own if threads == "own" else one).append((time.perf_counter() - t) * 1000)
    plain: list[float] = []
    drafting: list[float] = []

    def timed(times: list[float], fn):
        def run(q, k, **f):
            t = time.perf_counter()
            out = fn(q, k, **f)
            times.append((time.perf_counter() - t) * 1000)
            return out

        return run

    # one pass each, timed while scored (k=10: the scorer's MRR depth)
    r_plain = score(queries, timed(plain, lambda q, k, **f: kb.search(q, k, **f))).recall_at_5
    r_draft = score(
        queries,
        timed(drafting, lambda q, k, **f: retrieve(kb, q, k, kind=f.get("kind"), organisation=org_of[q])),
    ).recall_at_5
    return {
        "p50": pct(plain, 50),
        "p95": pct(plain, 95),
        "one_p50": pct(one, 50),
        "one_p95": pct(one, 95),
        "own_p50": pct(own, 50),
        "own_p95": pct(own, 95),
        "load": os.getloadavg()[0],
        "draft_p50": pct(drafting, 50),
        "draft_p95": pct(drafting, 95),
        "recall": r_plain,
        "recall_draft": r_draft,
        "chunks": kb.count(),
    }


def _organisation(path: Path) -> str | None:
    from assistant.kb.ingest import read_document

    try:
        return read_document(path).organisation
    except Exception:  # noqa: BLE001 - a label on an unreadable file: no filter
        return None


def du(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.exists() else 0.0


def prefill_vectors(knowledge: Path, data: Path, embedder, sources: list[Path], seed: int = 11) -> int:
    """Cached vectors for the chunks of `sources`: one of 300 real vectors of generated chunks
    plus noise (cosine ~0.9 to it), so the ingest that follows does not run the model."""
    import numpy as np

    from assistant.kb.cache import EmbeddingCache, text_key
    from assistant.kb.ingest import chunks_for, read_document
    from assistant.kb.search_text import search_text

    texts: list[str] = []
    for path in sources:
        doc = read_document(path, source=path.relative_to(knowledge).as_posix())
        texts += [search_text(c.text, {"title": doc.title, "heading_path": c.heading_path}) for c in chunks_for(doc)]
    rng = np.random.default_rng(seed)
    with EmbeddingCache(data) as cache:
        keys = [text_key(t) for t in texts]
        have = cache.get_many(embedder.name, keys)
        todo = [(k, t) for k, t in zip(keys, texts) if k not in have]
        if not todo:
            return 0
        base_path = data / "bench-base-vectors.npy"
        if base_path.exists():
            base = np.load(base_path)
        else:
            pick = rng.choice(len(todo), size=min(300, len(todo)), replace=False)
            base = embedder.embed_documents_array([todo[i][1] for i in pick])
            np.save(base_path, base)
        for j in range(0, len(todo), 20000):
            part = todo[j : j + 20000]
            vecs = base[rng.integers(0, len(base), len(part))] + rng.normal(0, 0.02, (len(part), base.shape[1]))
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            cache.put_many(embedder.name, {k: v.astype(np.float32) for (k, _), v in zip(part, vecs)})
    return len(todo)


CPU_MS: list[float] = []  # CPU ms per chunk of each embedder_throughput() call, in order


def embedder_throughput(embedder, texts: list[str]) -> float:
    t = time.perf_counter()
    c = time.process_time()
    embedder.embed_documents_array(texts)
    CPU_MS.append((time.process_time() - c) / len(texts) * 1000)
    return len(texts) / (time.perf_counter() - t)


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (the ingest's parser process)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def http_search(data: Path, knowledge: Path, embedder=None) -> dict:
    """Cold searches with chroma_mode = "http" against `chroma run` on the same collection."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(data / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, ANONYMIZED_TELEMETRY="False"),
    )
    try:
        for _ in range(300):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        extra = {"HUIBAO_CHROMA_MODE": "http", "HUIBAO_CHROMA_PORT": str(port), "HUIBAO_CHROMA_HOST": "127.0.0.1"}
        t = time.perf_counter()
        run_measured(["assistant.commands.main", "search", QUERY, "--json"], _env(data, knowledge, **extra))
        build = time.perf_counter() - t  # this workstation's index built from the server
        out = cold_search(data, knowledge, **extra)
        out["build"] = build
        if embedder is not None:  # warm queries and recall through the server
            out["warm"] = warm_and_recall(data, knowledge, embedder, chroma_mode="http", chroma_port=port)
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def replicate(src: Path, dst: Path, times: int) -> int:
    """An index of `times` x the generated rows of src's (embedded) index: the copies get new
    ids, the sample's rows live once. For the search side at a size whose ingest does not fit the
    machine's time: the embedded search path reads only the index, never Chroma."""
    import numpy as np

    shutil.rmtree(dst, ignore_errors=True)
    (dst / "data" / "chroma").mkdir(parents=True)
    for stamp in (src / "data" / "chroma").glob("huibao-*.stamp"):
        shutil.copy(stamp, dst / "data" / "chroma" / stamp.name)
    (dst / "knowledge").symlink_to(src / "knowledge")
    [folder] = [p for p in (src / "data" / "index").iterdir() if p.is_dir() and "@" not in p.name]
    out = dst / "data" / "index" / folder.name
    shutil.copytree(folder, out)
    state = json.loads((out / "state.json").read_text(encoding="utf-8"))
    dead = [np.load(out / state["dead"])]
    segments = list(state["segments"])
    for rep in range(1, times):
        for seg in state["segments"]:
            name = f"{seg['name']}-copy{rep}"
            shutil.copytree(out / seg["name"], out / name)
            ids = np.load(out / name / "ids.npy")
            np.save(out / name / "ids.npy", np.char.add(ids, f"~copy{rep}"))
            generated = np.char.startswith(ids, "generated/")
            start = sum(s["rows"] for s in state["segments"][: state["segments"].index(seg)])
            dead.append(dead[0][start : start + seg["rows"]] | ~generated)
            segments.append({"name": name, "rows": seg["rows"]})
    all_dead = np.concatenate(dead)
    np.save(out / "dead-replicated.npy", all_dead)
    state.update(segments=segments, dead="dead-replicated.npy")
    (out / "state.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    return int((~all_dead).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,50000,200000")
    ap.add_argument("--embed-upto", type=int, default=0, help="chunks embedded by the model during ingest")
    ap.add_argument(
        "--throughput-docs",
        type=int,
        default=30,
        help="generated documents ingested with the model, for the throughput row",
    )
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a new temporary one)")
    ap.add_argument("--http", action="store_true", help="also measure search with a Chroma server at the largest size")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "kb-scale.md")
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument(
        "--cold-only", type=Path, default=None, help="only cold searches on DIR/data with DIR/knowledge (and --http)"
    )
    ap.add_argument("--replicate", type=Path, nargs=2, default=None, help="SRC DST: see replicate()")
    ap.add_argument("--times", type=int, default=4)
    ap.add_argument("--measure", type=Path, default=None, help="cold and warm search on DIR/data, DIR/knowledge")
    args = ap.parse_args()
    if args.probe:
        probe()
        return
    if args.replicate or args.measure:
        folder = args.measure or args.replicate[1]
        if args.replicate:
            live = replicate(args.replicate[0], args.replicate[1], args.times)
            print(f"replicated: {live:,} live rows in {args.replicate[1]}")
        from assistant.core.settings import Settings as _S
        from assistant.kb.embeddings import get_embedder as _get

        emb = _get(_S(embedding="use"))
        cold = cold_search(folder / "data", folder / "knowledge")
        warm = warm_and_recall(folder / "data", folder / "knowledge", emb)
        print(json.dumps({"cold": cold, "warm": warm, "index_mib": du(folder / "data" / "index")}, indent=1))
        return
    if args.cold_only:
        out = {"embedded": cold_search(args.cold_only / "data", args.cold_only / "knowledge")}
        if args.http:
            from assistant.core.settings import Settings as _S
            from assistant.kb.embeddings import get_embedder as _get

            emb = _get(_S(embedding="use"))
            out["http"] = http_search(args.cold_only / "data", args.cold_only / "knowledge", emb)
        print(json.dumps(out, indent=1))
        return

    from assistant.core.settings import Settings
    from assistant.kb.embeddings import get_embedder
    from assistant.kb.ingest import chunks_for, ingest, read_document
    from assistant.kb.search_text import search_text
    from bench.kb_corpus import CHUNKS_PER_DOC, write_corpus

    work = args.work or Path(tempfile.mkdtemp(prefix="huibao-kbscale-"))
    work.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Knowledge base at scale",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; work folder {work}",
        "",
    ]

    def emit(text: str) -> None:
        print(text, flush=True)
        lines.append(text)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")

    embedder = get_embedder(Settings(embedding="use"))
    embedder.embed_query("预热")

    # ---- the sample alone
    sample_k = work / "sample" / "knowledge"
    sample_d = work / "sample" / "data"
    if not sample_k.exists():
        shutil.copytree(ROOT / "knowledge", sample_k)
    s_settings = Settings(data_dir=sample_d, knowledge_dir=sample_k, embedding="use")
    ingest(None, s_settings, make_embedder=lambda s: embedder)
    sample_cold = cold_search(sample_d, sample_k)
    sample_warm = warm_and_recall(sample_d, sample_k, embedder)
    header = (
        "| knowledge base | chunks | vectors | ingest chunks/s | embedder alone chunks/s | ingest / embedder "
        "| cold search s (imports / model / index open / query) | peak RSS MiB | warm p50 / p95 ms "
        "| drafting p50 / p95 ms | index MiB (Chroma MiB) | recall@5 | recall@5, drafting's filters |"
    )
    emit(header)
    emit("|" + "---|" * header.count(" | ") + "---|")

    def row(name: str, vectors: str, ingest_rate: str, embed_rate: str, ratio: str, cold: dict, warm: dict, data: Path):
        emit(
            f"| {name} | {warm['chunks']:,} | {vectors} | {ingest_rate} | {embed_rate} | {ratio} "
            f"| {cold['wall']:.2f} ({cold['imports']:.2f} / {cold['model']:.2f} / {cold['index']:.2f} / {cold['query']:.3f}) "
            f"| {cold['rss']:.0f} | {warm['p50']:.1f} / {warm['p95']:.1f} | {warm['draft_p50']:.1f} / {warm['draft_p95']:.1f} "
            f"| {du(data / 'index'):.0f} ({du(data / 'chroma'):.0f}) | {warm['recall']:.3f} | {warm['recall_draft']:.3f} |"
        )

    row("sample alone", "model", "—", "—", "—", sample_cold, sample_warm, sample_d)

    # ---- ingest throughput with the model, against the embedder alone, in this run
    if args.throughput_docs:
        tk = work / "throughput" / "knowledge"
        td = work / "throughput" / "data"
        shutil.rmtree(work / "throughput", ignore_errors=True)
        n = args.throughput_docs
        write_corpus(tk, 0, n)
        write_corpus(work / "throughput" / "other", n, n + 40)  # 2 x 400 chunks: load varies by the second
        texts: list[str] = []
        for p in sorted((work / "throughput" / "other").rglob("*.md")):
            doc = read_document(p, source=p.name)
            texts += [
                search_text(c.text, {"title": doc.title, "heading_path": c.heading_path}) for c in chunks_for(doc)
            ]
        load = os.getloadavg()[0]
        before = embedder_throughput(embedder, texts[:400])
        t = time.perf_counter()
        c = cpu_seconds()
        rep = ingest(None, Settings(data_dir=td, knowledge_dir=tk, embedding="use"), make_embedder=lambda s: embedder)
        secs = time.perf_counter() - t
        cpu = (cpu_seconds() - c) / rep.chunks * 1000
        after = embedder_throughput(embedder, texts[400:800])
        emb = statistics.median([before, after])
        emit(
            f"| ingest with the model: {n} generated files | {rep.chunks:,} | model | {rep.chunks / secs:.1f} ({secs:.0f} s; "
            f"CPU {cpu:.1f} ms/chunk) | {emb:.1f} (before {before:.1f}, after {after:.1f}; CPU {CPU_MS[-2]:.1f} / "
            f"{CPU_MS[-1]:.1f} ms/chunk) | {rep.chunks / secs / emb:.0%} (load {load:.1f} → {os.getloadavg()[0]:.1f}) "
            "| | | | | | | |"
        )

    # ---- the sample among generated documents, growing
    knowledge = work / "big" / "knowledge"
    data = work / "big" / "data"
    if not knowledge.exists():
        shutil.copytree(ROOT / "knowledge", knowledge)
    settings = Settings(data_dir=data, knowledge_dir=knowledge, embedding="use")
    written = len(list((knowledge / "generated").rglob("*.md"))) if (knowledge / "generated").exists() else 0
    sizes = [int(x) for x in args.sizes.split(",") if x]
    for size in sizes:
        docs = size // (CHUNKS_PER_DOC + 1)
        start = written
        write_corpus(knowledge, written, docs)
        written = max(written, docs)
        new_paths = sorted(p for p in (knowledge / "generated").rglob("*.md") if int(p.stem) >= start)
        vectors = "model"
        embed_rate = ratio = "—"
        if size > args.embed_upto:
            prefill_vectors(knowledge, data, embedder, new_paths)
            vectors = "cached (real + noise)"
        else:
            sample_texts: list[str] = []
            for p in new_paths[:20]:
                doc = read_document(p, source=p.relative_to(knowledge).as_posix())
                sample_texts += [
                    search_text(c.text, {"title": doc.title, "heading_path": c.heading_path}) for c in chunks_for(doc)
                ]
            rate = embedder_throughput(embedder, sample_texts[:400])
        t = time.perf_counter()
        report = ingest(None, settings, make_embedder=lambda s: embedder)
        secs = time.perf_counter() - t
        ingest_rate = report.chunks / secs
        if vectors == "model":
            rate_after = embedder_throughput(embedder, sample_texts[400:800] or sample_texts[:400])
            emb = statistics.median([rate, rate_after])
            embed_rate, ratio = f"{emb:.1f}", f"{ingest_rate / emb:.0%}"
        cold = cold_search(data, knowledge)
        warm = warm_and_recall(data, knowledge, embedder)
        row(
            f"sample + generated, {size:,}",
            vectors,
            f"{ingest_rate:.1f} ({report.chunks:,} new chunks, {secs:.0f} s)",
            embed_rate,
            ratio,
            cold,
            warm,
            data,
        )
    if args.http:
        cold = http_search(data, knowledge)
        emit("")
        emit(
            f'With chroma_mode = "http" (`chroma run` on the same folder, largest size): this workstation\'s index '
            f"built from the server in {cold['build']:.1f} s (first search); then cold `huibao search` "
            f"{cold['wall']:.2f} s (imports {cold['imports']:.2f} / model {cold['model']:.2f} / index {cold['index']:.2f} "
            f"/ query {cold['query']:.3f}), peak RSS {cold['rss']:.0f} MiB."
        )
    emit("")
    emit(
        f"Sample alone: recall@5 {sample_warm['recall']:.3f}, with drafting's filters {sample_warm['recall_draft']:.3f}."
    )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
