"""Offline tiktoken: the cl100k_base / o200k_base BPE files are rebuilt from the vocabularies
that ship inside the `quicktok-v1` wheel, checked against tiktoken's own sha256 values, and put
where tiktoken (and so langchain-openai's token counting) looks before it would download.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import threading
from functools import lru_cache
from pathlib import Path

from assistant.core.errors import HuibaoError

# tiktoken caches a download under sha1(url); these are the sha1 names and the sha256 of the
# content tiktoken expects (docs/offline.md).
ENCODINGS = {
    "cl100k_base": (
        "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        "cl100k.vocab",
    ),
    "o200k_base": (
        "fb374d419588a4632f3f557e76b4b70aebbca790",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "o200k.vocab",
    ),
}

_lock = threading.Lock()


class TokenizerError(HuibaoError):
    pass


def _vocab_to_tiktoken(vocab: bytes) -> bytes:
    """quicktok layout: u32 count, then per entry u16 length, token bytes, u32 rank (little-endian)."""
    (count,) = struct.unpack_from("<I", vocab, 0)
    pos, entries = 4, []
    for _ in range(count):
        (length,) = struct.unpack_from("<H", vocab, pos)
        pos += 2
        token = vocab[pos : pos + length]
        pos += length
        (rank,) = struct.unpack_from("<I", vocab, pos)
        pos += 4
        entries.append((rank, token))
    entries.sort()
    return b"".join(base64.b64encode(tok) + b" " + str(rank).encode() + b"\n" for rank, tok in entries)


def default_cache_dir() -> Path:
    # Inside the package's own environment, next to the data it is derived from, so every
    # process (CLI, Streamlit, tests) finds it without a data-dir setting.
    import quicktok  # heavy: its vocabularies load only when a tokenizer is first needed

    return Path(quicktok.__file__).resolve().parent.parent / "_huibao_tiktoken_cache"


def ensure_offline_tiktoken(cache_dir: Path | None = None) -> Path:
    """Write both BPE files into tiktoken's cache and point TIKTOKEN_CACHE_DIR at it.

    Idempotent and cheap after the first call. Raises TokenizerError on a checksum mismatch
    rather than letting tiktoken fall back to a download.
    """
    import quicktok  # heavy: as above

    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    data = Path(quicktok.__file__).resolve().parent / "data"
    with _lock:
        for name, (sha1_name, sha256, vocab_file) in ENCODINGS.items():
            target = cache / sha1_name
            if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
                continue
            blob = _vocab_to_tiktoken((data / vocab_file).read_bytes())
            digest = hashlib.sha256(blob).hexdigest()
            if digest != sha256:
                raise TokenizerError(
                    f"离线分词表 {name} 校验失败：sha256 应为 {sha256}，实际为 {digest}。"
                    "请检查 quicktok-v1 的版本（应为 0.4.0）。"
                )
            cache.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(blob)
            os.replace(tmp, target)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return cache


@lru_cache(maxsize=4)
def get_encoding(name: str = "o200k_base"):
    if name not in ENCODINGS:
        raise TokenizerError(f"不支持的分词方案：{name}（可选 {'、'.join(ENCODINGS)}）")
    ensure_offline_tiktoken()
    import tiktoken  # heavy: only after its offline files are in place (it would download otherwise)

    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = "o200k_base") -> int:
    return len(get_encoding(encoding).encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, max_tokens: int, encoding: str = "o200k_base") -> str:
    enc = get_encoding(encoding)
    ids = enc.encode(text, disallowed_special=())
    return text if len(ids) <= max_tokens else enc.decode(ids[:max_tokens])
