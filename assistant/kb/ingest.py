"""Ingest: read .txt/.md/.docx/.pdf, chunk along the 公文 structure, embed, write to the knowledge base.

Incremental by content hash: the sha256 of each file's bytes is stored with its chunks, so an
unchanged file is skipped without being parsed, a changed one is replaced, and a file gone from
an ingested folder is removed. Embeddings are cached by the hash of the embedded text, so
re-ingesting an edited file embeds only the chunks that actually changed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import multiprocessing
import os
import re
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from assistant.core.children import init_worker
from assistant.core.errors import InputError, os_reason
from assistant.core.scan import pdf_page_texts
from assistant.core.segment import search_terms
from assistant.core.settings import Settings
from assistant.core.textio import (
    TextReadError,
    decode_text,
    normalise_newlines,
    read_docx,
    split_front_matter,
    too_large,
)
from assistant.kb.cache import EmbeddingCache, TokenCache, text_key
from assistant.kb.chunking import Chunk, chunk_document, heading_level
from assistant.kb.embeddings import EmbedderFactory, Embedding, get_embedder
from assistant.kb.index import Row
from assistant.kb.metadata import DocumentMeta, infer_metadata, retag
from assistant.kb.retrieve import KnowledgeBase, indexed_key
from assistant.kb.search_text import search_text

__all__ = [
    "Document",
    "IngestReport",
    "SkipFile",
    "read_document",
    "same_document",
    "chunk_document",
    "decode_text",
    "ingest",
    "open_knowledge_base",
    "SUPPORTED_EXTENSIONS",
]

SUPPORTED_EXTENSIONS = {".txt", ".md", ".markdown", ".docx", ".pdf"}
Progress = Callable[[str, int, int], None]


class SkipFile(Exception):
    """A file that cannot be ingested; `reason` is a Chinese sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IngestReport(BaseModel):
    added: list[str] = []
    updated: list[str] = []
    removed: list[str] = []
    unchanged: list[str] = []
    retagged: list[str] = []  # unchanged files whose kind / year / organisation were set (no re-embedding)
    skipped: list[tuple[str, str]] = []  # (source, reason_zh)
    warnings: list[tuple[str, str]] = []  # (source, note_zh): ingested, but something was changed
    ignored: list[str] = []  # unsupported extensions, not errors
    chunks: int = 0  # chunks written in this run
    embedded: int = 0  # of those, chunks that needed the model (not cached)
    total_chunks: int = 0  # chunks in the knowledge base afterwards
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.skipped


@dataclass
class Document:
    source: str
    text: str  # body text; chunk offsets index into it (front matter removed)
    sha256: str
    kind: str = "other"
    year: int | None = None
    organisation: str | None = None
    title: str | None = None
    warnings: list[str] | None = None  # Chinese notes: what reading changed (NUL bytes removed)


# ---------------------------------------------------------------- reading


# the OS's own messages are English ("Permission denied"); the user reads Chinese
def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise SkipFile(f"无法读取文件（{os_reason(err)}）") from err


def _refuse_too_large(path: Path, limit: int) -> None:
    try:
        reason = too_large(path, limit)
    except OSError as err:
        raise SkipFile(f"无法读取文件（{os_reason(err)}）") from err
    if reason:
        raise SkipFile(f"{reason}，知识库单个文件的上限可用 HUIBAO_MAX_KB_FILE_BYTES 调整")


def _read_pdf(data: bytes) -> str:
    # pypdf reports oddities of a readable file as English log records and warnings, which would
    # reach the user's terminal; a file it cannot read raises, and that becomes a Chinese reason
    pypdf_log = logging.getLogger("pypdf")  # its modules log as pypdf.<module>, inheriting this level
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _read_pdf_quietly(data)
    finally:
        pypdf_log.setLevel(level)


def _read_pdf_quietly(data: bytes) -> str:
    try:
        from pypdf import PdfReader  # heavy: imported only when a PDF is read

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # owner-password-only PDFs open with an empty user password
            try:
                ok = bool(reader.decrypt(""))  # PasswordType.NOT_DECRYPTED is 0
            except Exception:
                ok = False
            if not ok:
                raise SkipFile("PDF 已加密（设有打开密码），无法读取；请提供未加密的文件")
        pages = [page.text for page in pdf_page_texts(reader)]  # image-only pages by OCR
    except SkipFile:
        raise
    except Exception as err:
        raise SkipFile(f"不是有效的 PDF 文件，或文件已损坏（{type(err).__name__}）") from err
    return "\n".join(p.strip("\n") for p in pages)


def _guess_title(text: str) -> str | None:
    for line in text.split("\n"):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            lvl = heading_level(s)
            return s.lstrip("#").strip() if lvl and lvl[0] == 0 else None
        if len(s) <= 60 and not re.search(r"[。；！？:：]$", s) and heading_level(s) is None:
            return s
        return None
    return None


def read_document(
    path: Path | str,
    *,
    source: str | None = None,
    data: bytes | None = None,
    sha256: str | None = None,
    meta: DocumentMeta | None = None,
) -> Document:
    """Read one file into a Document; raises SkipFile with a Chinese reason if it cannot be used.

    `data` (and its `sha256`) when the caller already has the file's bytes: ingest reads and
    hashes each file once, to compare with the manifest before parsing it. `meta`: the kind,
    year and organisation a person gave, over what the file says and what is guessed
    (metadata.infer_metadata).
    """
    path = Path(path)
    source = source or path.name
    if data is None:
        data = _read_bytes(path)
    if not data.strip():
        raise SkipFile("文件为空")
    sha = sha256 or hashlib.sha256(data).hexdigest()
    ext = path.suffix.lower()
    try:
        if ext == ".docx":
            raw = read_docx(data)
        elif ext == ".pdf":
            raw = _read_pdf(data)
        elif ext in (".txt", ".md", ".markdown"):
            raw = decode_text(data)
        else:
            raise SkipFile(f"不支持的文件类型 {ext}")
        raw = normalise_newlines(raw)
        front, body = split_front_matter(raw) if ext in (".md", ".markdown", ".txt") else ({}, raw)
    except TextReadError as err:
        raise SkipFile(err.reason) from err
    notes: list[str] = []
    if "\x00" in body:
        # NUL bytes (a stray binary tail, a UTF-16 file saved oddly) would be indexed and shown
        notes.append(f"已删除文中的 {body.count(chr(0))} 个空字符（NUL）")
        body = body.replace("\x00", "")
    if not body.strip():
        raise SkipFile("文件中没有可提取的文字" + ("（可能是扫描件，需要先做文字识别）" if ext == ".pdf" else ""))
    title = str(front["title"]).strip() if front.get("title") else _guess_title(body)
    tags = infer_metadata(source, body, title=title, front=front, given=meta)
    return Document(
        source=source,
        text=body,
        sha256=sha,
        kind=tags.kind or "other",
        year=tags.year,
        organisation=tags.organisation,
        title=title,
        warnings=notes or None,
    )


def chunks_for(doc: Document) -> list[Chunk]:
    # a title line opening the text is left out of the chunks: it is metadata, embedded as context;
    # a document that is only that line is chunked whole, so a one-line note is still found
    return chunk_document(doc.text, title=doc.title) or chunk_document(doc.text)


def same_document(kb: KnowledgeBase, path: Path | str, data: bytes) -> str | None:
    """The source of a stored document (anywhere in the knowledge base) whose indexed text this
    file repeats, whitespace and encoding aside; None when it repeats none or cannot be read
    (ingest then says why)."""
    try:
        doc = read_document(path, data=data)
    except SkipFile:
        return None
    key = indexed_key(doc.title, [c.text for c in chunks_for(doc)])
    return next((source for source, stored in kb.indexed_texts().items() if stored == key), None)


# ---------------------------------------------------------------- ingest


@dataclass
class _File:
    path: Path
    source: str
    origin: str  # "knowledge" (under the knowledge root) or "external"


def _symlink_problem(p: Path, folder: Path) -> str | None:
    """Why a symlink found in `folder` is not followed, or None when its target is inside the folder."""
    try:
        target = p.resolve(strict=True)
    except RuntimeError:  # Python 3.11 raises this for a loop
        return "符号链接形成循环，无法读取"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "符号链接形成循环，无法读取"
        return "符号链接指向的文件不存在"
    if not target.is_relative_to(folder):
        # a link can carry anything on the machine into the index: only the folder itself is read
        return "符号链接指向导入目录之外，已拒绝导入"
    return None


def _collect(
    paths: list[Path], knowledge_dir: Path
) -> tuple[list[_File], list[tuple[str, str]], list[str], list[tuple[str, str]]]:
    """Files to ingest, removal scopes (origin, source prefix), ignored files and refused entries."""
    root = knowledge_dir.resolve()
    files: dict[str, _File] = {}
    scopes: list[tuple[str, str]] = []
    ignored: list[str] = []
    refused: list[tuple[str, str]] = []

    def source_of(rp: Path, base: Path) -> tuple[str, str]:
        if rp.is_relative_to(root):
            return rp.relative_to(root).as_posix(), "knowledge"
        return rp.relative_to(base).as_posix(), "external"

    for arg in paths:
        arg = Path(arg)
        if not arg.exists():
            raise InputError("路径不存在", file=str(arg))
        if arg.is_dir():
            folder = arg.resolve()
            base = folder.parent
            prefix, origin = source_of(folder, base)
            scopes.append((origin, "" if prefix == "." else prefix))
            candidates = sorted(arg.rglob("*"))
        else:
            folder = None
            base = arg.resolve().parent
            candidates = [arg]
        for p in candidates:
            rel_parts = p.relative_to(arg).parts if folder else ()
            if any(part.startswith(".") for part in rel_parts) or p.name.startswith(("~$", ".")):
                continue  # hidden files, Office lock files
            if folder is not None:
                # the entry's own place in the folder names it, not where a link leads
                src, origin = source_of(folder.joinpath(*rel_parts), base)
                if p.is_symlink():
                    problem = _symlink_problem(p, folder)
                    if problem:
                        refused.append((src, problem))
                        continue
                if p.is_dir() and not p.is_symlink() and not os.access(p, os.R_OK | os.X_OK):
                    # rglob passes over a folder it cannot list; the user is told, as for a file
                    refused.append((src, "没有读取权限，此目录中的文件未导入"))
                    continue
                if not p.is_file():
                    continue  # folders; a link to a folder inside is read where it lies
            else:
                src, origin = source_of(p.resolve(), base)
            if p.suffix.lower() not in SUPPORTED_EXTENSIONS:
                ignored.append(src)
                continue
            files[src] = _File(p, src, origin)
    return list(files.values()), scopes, ignored, refused


def _in_scope(source: str, origin: str, scopes: list[tuple[str, str]]) -> bool:
    return any(
        o == origin and (not prefix or source == prefix or source.startswith(prefix + "/")) for o, prefix in scopes
    )


def chunk_metadata(doc: Document, chunk: Chunk, origin: str) -> dict:
    meta = {
        "source": doc.source,
        "sha256": doc.sha256,
        "kind": doc.kind,
        "heading_path": chunk.heading_path,
        "start": chunk.start,
        "end": chunk.end,
        "ord": chunk.ord,
        "origin": origin,
    }
    if doc.year is not None:
        meta["year"] = doc.year
    if doc.organisation:
        meta["organisation"] = doc.organisation
    if doc.title:
        meta["title"] = doc.title
    return meta


@dataclass
class _Prepared:
    """One file after reading: unchanged, skipped (with the reason), or parsed and chunked."""

    file: _File
    outcome: str  # "unchanged" | "skipped" | "parsed"
    reason: str = ""
    doc: Document | None = None
    chunks: list[Chunk] | None = None
    keys: list[str] | None = None  # text_key of each chunk's search text
    texts: list[str] | None = None  # each chunk's search text


def _prepare(
    files: list[_File],
    known: dict[str, str],
    limit: int,
    data_dir: Path,
    given: dict[str, DocumentMeta],
    tokenize: bool = True,
) -> list[_Prepared]:
    """Read, hash, parse and chunk files, and tokenise their chunks for BM25 (into the token
    cache): the CPU work of an ingest besides embedding. Runs in a separate process for large
    ingests, so it overlaps the embedding loop."""
    out: list[_Prepared] = []
    parsed: list[_Prepared] = []
    for f in files:
        try:
            _refuse_too_large(f.path, limit)
            data = _read_bytes(f.path)
            sha = hashlib.sha256(data).hexdigest()
            if known.get(f.source) == sha:  # unchanged: not even parsed
                out.append(_Prepared(f, "unchanged"))
                continue
            doc = read_document(f.path, source=f.source, data=data, sha256=sha, meta=given.get(f.source))
            chunks = chunks_for(doc)
            if not chunks:
                raise SkipFile("文件中没有可提取的文字")
        except SkipFile as skip:
            out.append(_Prepared(f, "skipped", reason=skip.reason))
            continue
        texts = [search_text(c.text, {"title": doc.title, "heading_path": c.heading_path}) for c in chunks]
        item = _Prepared(f, "parsed", doc=doc, chunks=chunks, keys=[text_key(t) for t in texts], texts=texts)
        out.append(item)
        parsed.append(item)
    if parsed and tokenize:
        # tokenised now, so that building the search index after the ingest does not wait for the segmenter
        _tokenize([t for p in parsed for t in p.texts or []], [k for p in parsed for k in p.keys or []], data_dir)
    return out


def _tokenize(texts: list[str], keys: list[str], data_dir: Path) -> None:
    with TokenCache(data_dir) as tokens:
        tokens.tokens_for(texts, keys)


PARALLEL_MIN_FILES = 24  # from this many files on, reading and chunking run in a separate process
FILES_PER_TASK = 8  # files per task sent to that process
TASKS_AHEAD = 4  # tasks prepared ahead of the embedding loop (bounds the memory they hold)
# chunks per Chroma add: files are written together once this many are ready (Chroma's CPU a chunk:
# ~1.0 ms at 500 and 1,000, 1.4 at 250, 2.3 at 100); the last ones, once every file is read, as
# each model call comes back, so that little is left to write after the last vector
WRITE_CHUNKS = 500
TAIL_WRITE_CHUNKS = 100
INDEX_ROWS = 50_000  # written rows kept for the search index (~4 KB each), not read back from Chroma
# with the model in a process of its own: texts per call (~1 s of work), and calls queued, so that
# it has work for the 0.5-1 s this process cannot hand it any (a Chroma add holds the GIL)
PROCESS_BATCHES = 4  # embedder batches per call
CALLS_AHEAD = 3


def _warm_up() -> None:
    """Build the segmenter's dictionary in the parser process while the main process opens Chroma."""
    search_terms("。")


def _prepared(
    files: list[_File],
    known: dict[str, str],
    limit: int,
    data_dir: Path,
    given: dict[str, DocumentMeta],
    pool: ProcessPoolExecutor | None,
) -> Iterator[_Prepared]:
    """The files prepared in order: in `pool`'s process when given, else here."""
    if pool is None:
        for f in files:
            yield from _prepare([f], known, limit, data_dir, given)
        return
    # the first file is read here, its BM25 tokens left to the process: the model starts on it
    # while that process is still starting (its imports, the segmenter's dictionary)
    first = _prepare(files[:1], known, limit, data_dir, given, tokenize=False)
    parsed = [p for p in first if p.outcome == "parsed"]
    tokens = pool.submit(
        _tokenize, [t for p in parsed for t in p.texts or []], [k for p in parsed for k in p.keys or []], data_dir
    )
    yield from first
    tasks = [files[i : i + FILES_PER_TASK] for i in range(1, len(files), FILES_PER_TASK)]
    ahead: deque = deque()
    for task in tasks:
        ahead.append(
            pool.submit(
                _prepare,
                task,
                {f.source: known[f.source] for f in task if f.source in known},
                limit,
                data_dir,
                {f.source: given[f.source] for f in task if f.source in given},
            )
        )
        if len(ahead) >= TASKS_AHEAD:
            yield from ahead.popleft().result()
    while ahead:
        yield from ahead.popleft().result()
    tokens.result()


def ingest(
    paths: list[Path] | None,
    settings: Settings,
    *,
    kb: KnowledgeBase | None = None,
    make_embedder: EmbedderFactory = get_embedder,
    progress: Progress | None = None,
    max_file_bytes: int | None = None,
    meta: DocumentMeta | Mapping[Path, DocumentMeta] | None = None,
    parallel: bool | None = None,
) -> IngestReport:
    """Bring the knowledge base in line with the given files/folders (default: settings.knowledge_dir).

    `kb`: the open knowledge base to write to; without one it is opened here with `make_embedder`
    (see KnowledgeBase.open). progress(label, done, total) is called with label "file:<source>"
    while files are read, "chunks" while chunks are embedded (total: the chunks known so far) and
    "index" while the search index is brought up to date. A file over `max_file_bytes` (default
    settings.max_kb_file_bytes; a .docx by its unpacked size) is skipped with the reason, before
    it is read; the rest are ingested. `meta`: the kind / year / organisation a person gave, for
    every file or per file (keyed by resolved path); an unchanged file is re-tagged with it
    instead of being skipped.

    Files are read and chunked ahead (in a separate process from PARALLEL_MIN_FILES files on, or
    when `parallel`) while the embedder works, chunks are embedded in the embedder's batches (then
    a bundled model also works in a process of its own, see Embedding), and files are written,
    WRITE_CHUNKS chunks at a time, as soon as their vectors are ready: an
    interrupted ingest keeps the files written so far (their sha256 is stored with them), and the
    next run skips them.
    """
    t0 = time.perf_counter()
    paths = [Path(p) for p in (paths or [settings.knowledge_dir])]
    report = IngestReport()
    files, scopes, report.ignored, report.skipped = _collect(paths, settings.knowledge_dir)
    use_process = parallel if parallel is not None else len(files) >= PARALLEL_MIN_FILES
    with contextlib.ExitStack() as stack:
        pool = None
        if use_process and files:
            # a separate process (spawned: nothing of this process's state is shared), started
            # first, so that its imports and the segmenter's dictionary load while Chroma opens here
            pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker
            )
            stack.callback(pool.shutdown, cancel_futures=True)  # an error or ^C: what is queued is dropped
            pool.submit(_warm_up)
        return _ingest(
            files, scopes, report, settings, kb, make_embedder, progress, max_file_bytes, meta, pool, use_process, t0
        )


def _ingest(
    files: list[_File],
    scopes: list[tuple[str, str]],
    report: IngestReport,
    settings: Settings,
    kb: KnowledgeBase | None,
    make_embedder: EmbedderFactory,
    progress: Progress | None,
    max_file_bytes: int | None,
    meta: DocumentMeta | Mapping[Path, DocumentMeta] | None,
    pool: ProcessPoolExecutor | None,
    model_process: bool,
    t0: float,
) -> IngestReport:
    import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

    kb = kb or KnowledgeBase.open(settings, make_embedder=make_embedder)
    manifest = kb.manifest()
    tick = progress or (lambda label, done, total: None)
    limit = max_file_bytes if max_file_bytes is not None else settings.max_kb_file_bytes
    known = {source: entry["sha256"] for source, entry in manifest.items()}
    given: dict[str, DocumentMeta] = {}  # source -> what a person gave for it
    for f in files:
        tags = meta if isinstance(meta, DocumentMeta) else (meta or {}).get(f.path.resolve())
        if tags is not None:
            given[f.source] = tags

    seen: set[str] = {source for source, _ in report.skipped}  # refused entries keep what is indexed
    waiting: deque[_Prepared] = deque()  # parsed files in order, written once all their vectors are in
    vectors: dict[str, np.ndarray] = {}  # key -> vector, for the waiting files' chunks
    uses: dict[str, int] = {}  # key -> how many waiting chunks need it
    todo: dict[str, str] = {}  # key -> search text, not cached: to embed, in order
    calls: deque[tuple[list[str], list[str], Future]] = deque()  # (keys, texts, vectors) submitted, in order
    in_flight: set[str] = set()  # the keys of those calls
    embedded = 0
    embedder = None
    model: Embedding | None = None
    cache: EmbeddingCache | None = None
    writes: deque = deque()

    def write(batch: list[tuple[_Prepared, np.ndarray]]) -> None:
        """One Chroma add for several files: Chroma spent ~7 ms of CPU a chunk on 20-chunk adds
        (one file) and ~1 ms on 1,000-chunk ones, most of it in its own threads."""
        stale = [item.file.source for item, _ in batch if item.file.source in manifest]
        if stale:
            kb.delete_documents(stale)
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict] = []
        for item, _ in batch:
            doc, chunks = item.doc, item.chunks or []
            assert doc is not None
            ids += [f"{doc.source}#{c.ord:03d}" for c in chunks]
            texts += [c.text for c in chunks]
            metas += [chunk_metadata(doc, c, item.file.origin) for c in chunks]
        matrix = np.vstack([vecs for _, vecs in batch])
        kb.add_chunks(ids, texts, metas, matrix)
        if len(fed) + len(ids) <= INDEX_ROWS:
            fed.update((i, Row(i, t, m, v)) for i, t, m, v in zip(ids, texts, metas, matrix))

    pending: list[tuple[_Prepared, np.ndarray]] = []  # ready files not yet handed to the writer
    fed: dict[str, Row] = {}  # chunk id -> what was written: the search index is built from these

    def submit(writer: ThreadPoolExecutor) -> None:
        nonlocal pending
        if not pending:
            return
        while len(writes) >= 2:  # at most one write queued behind the running one
            writes.popleft().result()
        writes.append(writer.submit(write, pending))
        pending = []

    def flush_ready(writer: ThreadPoolExecutor, final: bool = False, at: int = WRITE_CHUNKS) -> None:
        """Write, in order, the waiting files whose vectors are all in, `at` chunks at a time
        (Chroma works in the writer thread while the next batch is embedded)."""
        while waiting and all(k in vectors for k in waiting[0].keys or []):
            item = waiting.popleft()
            keys = item.keys or []
            pending.append((item, np.vstack([vectors[k] for k in keys])))
            if sum(len(v) for _, v in pending) >= at:
                submit(writer)
            for k in keys:
                uses[k] -= 1
                if not uses[k]:
                    del uses[k]
                    vectors.pop(k, None)
            doc = item.doc
            assert doc is not None
            (report.updated if doc.source in manifest else report.added).append(doc.source)
            report.chunks += len(keys)
        if final:
            submit(writer)

    def received(keys: list[str], texts: list[str], future: Future) -> None:
        nonlocal embedded
        assert model is not None and cache is not None and embedder is not None
        new = dict(zip(keys, model.result(future, texts)))
        in_flight.difference_update(keys)
        cache.put_many(embedder.name, new)
        vectors.update(new)
        embedded += len(keys)
        tick("chunks", embedded, embedded + len(in_flight) + len(todo))

    def embed_batch(final: bool) -> None:
        """Hand the model what is to embed, a step at a time (`final`: the rest too), taking in
        what it has done."""
        assert model is not None and embedder is not None
        # one request / forward pass per step here, progress ticks between; a model process is
        # handed several steps a call
        step = embedder.batch_size * (PROCESS_BATCHES if model.separate else 1)
        # a model process with nothing to do is handed what there is (the first file, at the start)
        while len(todo) >= step or (todo and (final or (model.separate and not calls))):
            keys = list(todo)[:step]
            texts = [todo.pop(k) for k in keys]
            in_flight.update(keys)
            calls.append((keys, texts, model.submit(texts)))
            while calls and (len(calls) > CALLS_AHEAD or calls[0][2].done()):
                received(*calls.popleft())

    with contextlib.ExitStack() as stack, ThreadPoolExecutor(max_workers=1) as writer:
        try:
            done_files = 0
            for item in _prepared(files, known, limit, settings.data_dir, given, pool):
                tick(f"file:{item.file.source}", done_files, len(files))
                done_files += 1
                seen.add(item.file.source)
                if item.outcome == "unchanged":
                    tags = given.get(item.file.source)
                    if tags is not None and retag(kb, item.file.source, tags):
                        report.retagged.append(item.file.source)
                    else:
                        report.unchanged.append(item.file.source)
                    continue
                if item.outcome == "skipped":
                    report.skipped.append((item.file.source, item.reason))
                    continue
                doc = item.doc
                assert doc is not None and item.keys is not None and item.texts is not None
                report.warnings.extend((doc.source, note) for note in doc.warnings or [])
                first = embedder is None
                if embedder is None:
                    embedder = kb.embedder
                    cache = EmbeddingCache(settings.data_dir)
                    # with a process for the model (see Embedding), started at the first file to embed:
                    # an ingest of unchanged files does not load the model at all
                    model = Embedding(embedder, separate_process=model_process)
                    # interrupted (^C, an error): its queued calls are of no use, it stops at once
                    stack.push(lambda kind, err, tb, model=model: model.close(abort=kind is not None))
                assert cache is not None
                fresh = [
                    k for k in dict.fromkeys(item.keys) if k not in vectors and k not in todo and k not in in_flight
                ]
                vectors.update(cache.get_many(embedder.name, fresh))
                for k, text in zip(item.keys, item.texts):
                    uses[k] = uses.get(k, 0) + 1
                    if k not in vectors and k not in in_flight:
                        todo.setdefault(k, text)
                item.texts = None  # the texts are in todo now; the chunks keep what is stored
                if first:
                    tick("chunks", 0, len(todo))
                waiting.append(item)
                embed_batch(final=False)
                flush_ready(writer)
            tick("file:", len(files), len(files))
            if embedder is not None:
                embed_batch(final=True)
                while calls:
                    received(*calls.popleft())
                    flush_ready(writer, at=TAIL_WRITE_CHUNKS)
                flush_ready(writer, final=True)
                tick("chunks", embedded, embedded)
        except BaseException:
            # interrupted (^C, a failed write): the files whose vectors are in are still written, so
            # that the next run skips them
            with contextlib.suppress(Exception):
                flush_ready(writer, final=True)
                while writes:
                    writes.popleft().result()
            raise
        while writes:
            writes.popleft().result()
    if cache is not None:
        cache.close()
    report.embedded = embedded

    for source, entry in sorted(manifest.items()):
        if source not in seen and _in_scope(source, entry.get("origin", "knowledge"), scopes):
            kb.delete_document(source)
            report.removed.append(source)
    kb.refresh_index(progress, known=fed)
    report.total_chunks = kb.count()
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


def open_knowledge_base(
    settings: Settings,
    *,
    make_embedder: EmbedderFactory = get_embedder,
    ingest_if_empty: bool = False,
    before_ingest: Callable[[], None] | None = None,
    progress: Progress | None = None,
) -> KnowledgeBase | None:
    """The knowledge base to draft with, or None when it holds nothing.

    With `ingest_if_empty` an empty index is first filled from settings.knowledge_dir, so a
    fresh checkout (CI, a new office) drafts with the same passages as a working one.
    `make_embedder` as for KnowledgeBase.open (assistant.llm.embeddings.make_embedder for any setting);
    `progress` as for ingest().
    Errors opening the index propagate: each caller decides whether drafting goes on without.
    """
    kb = KnowledgeBase.open(settings, make_embedder=make_embedder)
    if kb.is_empty() and ingest_if_empty and settings.knowledge_dir.is_dir():
        if before_ingest is not None:
            before_ingest()
        ingest([settings.knowledge_dir], settings, kb=kb, progress=progress)
    return None if kb.is_empty() else kb
