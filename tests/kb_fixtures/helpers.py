"""Shared helpers for the knowledge-base tests (test_ingest.py, test_retrieve.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent
CORPUS_DIRS = ("past-reports", "policies", "other")


def copy_corpus(dest: Path) -> Path:
    """The fixture corpus (without the binary files/) as a fresh knowledge folder."""
    dest.mkdir(parents=True, exist_ok=True)
    for d in CORPUS_DIRS:
        shutil.copytree(FIXTURES / d, dest / d)
    return dest


def make_settings(tmp_path: Path, knowledge: Path | None = None, **extra):
    from assistant.settings import Settings
    return Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge or tmp_path / "knowledge", **extra)
