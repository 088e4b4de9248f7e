"""jieba, loaded once and quietly: the one word segmenter of the project (BM25 terms, title line
breaks, the offline engine's verbs, the register check's spoken lexicon)."""

from __future__ import annotations

import logging
import threading
import warnings
from types import ModuleType

_jieba_lock = threading.Lock()
_jieba: ModuleType | None = None


def get_jieba() -> ModuleType:
    """jieba, initialised once and quietly (it logs its dictionary loading to stderr)."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # jieba imports the deprecated pkg_resources
                import jieba  # heavy: loads its dictionary machinery, only when first needed

            jieba.setLogLevel(logging.WARNING)
            logging.getLogger("jieba").setLevel(logging.WARNING)
            jieba.initialize()
            _jieba = jieba
    return _jieba
