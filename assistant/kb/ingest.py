"""Ingest: read .txt/.md/.docx/.pdf, chunk along the 公文 structure, embed, write to the knowledge base.

Incremental by content hash: the sha256 of each file's bytes is stored with its chunks, so an
unchanged file is skipped without being parsed, a changed one is replaced, and a file gone from
an ingested folder is removed. Embeddings are cached by the hash of the embedded text, so
re-ingesting an edited file embeds only the chunks that actually changed.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from assistant.core.errors import InputError
from assistant.core.scan import pdf_page_texts
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
from assistant.kb.embeddings import EmbedderFactory, get_embedder
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
_OS_REASONS = {
    errno.EACCES: "没有读取权限",
    errno.EPERM: "没有读取权限",
    errno.ENOENT: "文件不存在（可能已被移走或删除）",
    errno.ELOOP: "符号链接形成循环，无法读取",
    errno.EISDIR: "这是一个目录，不是文件",
}


def _os_reason(err: OSError) -> str:
    return _OS_REASONS.get(err.errno or 0, f"系统错误，错误码 {err.errno}")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise SkipFile(f"无法读取文件（{_os_reason(err)}）") from err


def _refuse_too_large(path: Path, limit: int) -> None:
    try:
        reason = too_large(path, limit)
    except OSError as err:
        raise SkipFile(f"无法读取文件（{_os_reason(err)}）") from err
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


def ingest(
    paths: list[Path] | None,
    settings: Settings,
    *,
    kb: KnowledgeBase | None = None,
    make_embedder: EmbedderFactory = get_embedder,
    progress: Progress | None = None,
    max_file_bytes: int | None = None,
    meta: DocumentMeta | Mapping[Path, DocumentMeta] | None = None,
) -> IngestReport:
    """Bring the knowledge base in line with the given files/folders (default: settings.knowledge_dir).

    `kb`: the open knowledge base to write to; without one it is opened here with `make_embedder`
    (see KnowledgeBase.open). progress(label, done, total) is called with label "file:<source>"
    while files are read and "chunks" while chunks are embedded. A file over `max_file_bytes`
    (default settings.max_kb_file_bytes; a .docx by its unpacked size) is skipped with the reason,
    before it is read; the rest are ingested. `meta`: the kind / year / organisation a person
    gave, for every file or per file (keyed by resolved path); an unchanged file is re-tagged
    with it instead of being skipped.
    """
    import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

    t0 = time.perf_counter()
    paths = [Path(p) for p in (paths or [settings.knowledge_dir])]
    report = IngestReport()
    files, scopes, report.ignored, report.skipped = _collect(paths, settings.knowledge_dir)
    kb = kb or KnowledgeBase.open(settings, make_embedder=make_embedder)
    manifest = kb.manifest()
    tick = progress or (lambda label, done, total: None)
    limit = max_file_bytes if max_file_bytes is not None else settings.max_kb_file_bytes

    pending: list[tuple[Document, list[Chunk], _File]] = []
    seen: set[str] = {source for source, _ in report.skipped}  # refused entries keep what is indexed
    for i, f in enumerate(files, start=1):
        tick(f"file:{f.source}", i - 1, len(files))
        seen.add(f.source)
        try:
            _refuse_too_large(f.path, limit)
            data = _read_bytes(f.path)
            sha = hashlib.sha256(data).hexdigest()
            old = manifest.get(f.source)
            given = meta if isinstance(meta, DocumentMeta) else (meta or {}).get(f.path.resolve())
            if old and old["sha256"] == sha:  # unchanged: not even parsed
                if given is not None and retag(kb, f.source, given):
                    report.retagged.append(f.source)
                else:
                    report.unchanged.append(f.source)
                continue
            doc = read_document(f.path, source=f.source, data=data, sha256=sha, meta=given)
            chunks = chunks_for(doc)
            if not chunks:
                raise SkipFile("文件中没有可提取的文字")
            report.warnings.extend((f.source, note) for note in doc.warnings or [])
        except SkipFile as skip:
            report.skipped.append((f.source, skip.reason))
            continue
        pending.append((doc, chunks, f))
    tick("file:", len(files), len(files))

    # embed every new chunk (cache first), then write file by file
    if pending:
        embedder = kb.embedder
        texts = [
            search_text(c.text, {"title": d.title, "heading_path": c.heading_path}) for d, cs, _ in pending for c in cs
        ]
        keys = [text_key(t) for t in texts]
        with EmbeddingCache(settings.data_dir) as cache:
            vectors = cache.get_many(embedder.name, list(set(keys)))
            todo = sorted({k: t for k, t in zip(keys, texts) if k not in vectors}.items())
            total = len(todo)
            tick("chunks", 0, total)
            step = embedder.batch_size  # one request / forward pass per step, progress ticks between
            for j in range(0, total, step):
                batch = todo[j : j + step]
                vecs = embedder.embed_documents_array([t for _, t in batch])
                new = {k: v for (k, _), v in zip(batch, vecs)}
                cache.put_many(embedder.name, new)
                vectors.update(new)
                tick("chunks", min(j + step, total), total)
            report.embedded = total
        # tokenise for BM25 now, so that the first search after an ingest does not wait for jieba
        with TokenCache(settings.data_dir) as tokens:
            tokens.tokens_for(texts, keys)
        pos = 0
        for doc, chunks, f in pending:
            vecs = np.vstack([vectors[keys[pos + n]] for n in range(len(chunks))])
            pos += len(chunks)
            if doc.source in manifest:
                kb.delete_document(doc.source)
                report.updated.append(doc.source)
            else:
                report.added.append(doc.source)
            kb.add_chunks(
                [f"{doc.source}#{c.ord:03d}" for c in chunks],
                [c.text for c in chunks],
                [chunk_metadata(doc, c, f.origin) for c in chunks],
                vecs,
            )
            report.chunks += len(chunks)

    for source, entry in sorted(manifest.items()):
        if source not in seen and _in_scope(source, entry.get("origin", "knowledge"), scopes):
            kb.delete_document(source)
            report.removed.append(source)
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
