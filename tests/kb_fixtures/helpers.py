"""Shared helpers for the knowledge-base tests (test_ingest.py, test_retrieve.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent
CORPUS_DIRS = ("past-reports", "policies", "other")


def copy_corpus(dest: Path) -> Path:
    """The fixture corpus (without the binary files/) as a fresh knowledge folder."""
    dest.mkdir(parents=True, exist_ok=True)
    for d in CORPUS_DIRS:
        shutil.copytree(FIXTURES / d, dest / d)
    return dest


def make_settings(tmp_path: Path, knowledge: Path | None = None, **extra):
    from assistant.core.settings import Settings

    return Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge or tmp_path / "knowledge", **extra)


@pytest.fixture(scope="session")
def embedder():
    """The bundled USE embedder (loaded once per process by get_embedder). Import it into a test
    module to use it as a fixture."""
    from assistant.core.settings import Settings
    from assistant.kb.embeddings import get_embedder

    return get_embedder(Settings(embedding="use"))


def run_cli(args: list[str], monkeypatch, knowledge: Path, data: Path):
    """`huibao <args>` in-process with the knowledge and data folders set through the environment."""
    from typer.testing import CliRunner

    from assistant.commands.main import app
    from assistant.core.settings import get_settings

    monkeypatch.setenv("HUIBAO_KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("HUIBAO_DATA_DIR", str(data))
    get_settings.cache_clear()
    return CliRunner().invoke(app, args)
