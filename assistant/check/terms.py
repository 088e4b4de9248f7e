"""An office's own terms, kept in a YAML file the office edits without touching code.

The file is named by the ``terms`` argument of the check functions, else the environment
variable ``HUIBAO_TERMS``, else a ``terms`` setting when Settings has one. Every key is optional::

    # 本单位术语表 (UTF-8 YAML)
    fixed_numerals:          # numerals that are names, not figures: masked before number checks
      - 两重
      - 八场硬仗
    banned:                  # words the office does not want; plain strings are errors
      - 老板
      - word: 亲自
        severity: warning    # error | warning
        suggestion: 删去“亲自”
        message: 对本级领导慎用“亲自”
    formulations:            # exact names: the office name, leaders' exact titles
      - canonical: 市人大常委会办公室
        wrong: [市人大办公室, 市人大常委办]
    latin_whitelist: [APP, PPT]
    允许用语:                # wordings the office accepts: no register (R1–R5) or L7 finding on them
      - 这边                 # e.g. an office on the 海峡两岸 beat
      - 基层代表里
    口语统计核对: true       # R5: also the statistical model's warnings (off by default)

A wrong file raises InputError naming the file and the entry.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel

from assistant.core.errors import InputError
from assistant.core.settings import get_settings
from assistant.core.textio import yaml_error_message


class BannedTerm(BaseModel):
    word: str
    severity: str = "error"
    message: str | None = None
    suggestion: str | None = None


class Formulation(BaseModel):
    canonical: str
    wrong: list[str] = []


class OfficeTerms(BaseModel):
    fixed_numerals: list[str] = []
    banned: list[BannedTerm] = []
    formulations: list[Formulation] = []
    latin_whitelist: list[str] = []
    allowed: list[str] = []  # 允许用语: accepted wordings (check/register.py)
    # 口语统计核对: R5, the statistical register model (check/register_model.py). Off unless the
    # office turns it on: it finds more spoken wording than the rules but warns on ~1.3 formal
    # stretches per 5,000 characters of real reports (README, 语体核对).
    spoken_model: bool = False


def _terms_path() -> Path | None:
    # HUIBAO_TERMS and `terms = "…"` in huibao.toml both arrive through Settings. Read the
    # environment directly too, so a changed variable is seen without clearing the settings cache.
    raw = os.environ.get("HUIBAO_TERMS")
    if raw:
        return Path(raw)
    return get_settings().terms


def office_terms(path: str | Path | None = None) -> OfficeTerms:
    """The office terms from `path`, else from $HUIBAO_TERMS, else none."""
    path = Path(path) if path else _terms_path()
    if path is None:
        return _EMPTY
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise InputError("本单位术语表文件不存在（HUIBAO_TERMS）。", file=str(path)) from None
    return _load(str(path), mtime)


_EMPTY = OfficeTerms()


@lru_cache(maxsize=4)
def _load(path: str, mtime: int) -> OfficeTerms:  # mtime in the key: an edited file is re-read
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        message, line = yaml_error_message(err)
        raise InputError(f"术语表不是有效的 YAML。{message}", file=path, line=line) from None
    except UnicodeDecodeError:
        raise InputError("术语表不是 UTF-8 编码的文本。", file=path) from None
    if not isinstance(data, dict):
        raise InputError(
            "术语表应为映射（fixed_numerals / banned / formulations / latin_whitelist / 允许用语）。", file=path
        )
    banned = []
    for i, entry in enumerate(data.get("banned") or [], start=1):
        if isinstance(entry, str):
            entry = {"word": entry}
        if not isinstance(entry, dict) or not entry.get("word"):
            raise InputError(f"banned 第 {i} 项缺少 word。", file=path, field="banned")
        if entry.get("severity", "error") not in ("error", "warning"):
            raise InputError(f"banned 第 {i} 项的 severity 只能是 error 或 warning。", file=path, field="banned")
        banned.append(BannedTerm(**entry))
    forms = []
    for i, entry in enumerate(data.get("formulations") or [], start=1):
        if not isinstance(entry, dict) or not entry.get("canonical"):
            raise InputError(f"formulations 第 {i} 项缺少 canonical。", file=path, field="formulations")
        forms.append(Formulation(canonical=str(entry["canonical"]), wrong=[str(w) for w in entry.get("wrong") or []]))
    spoken_model = data.get("口语统计核对", False)
    if not isinstance(spoken_model, bool):
        raise InputError("口语统计核对只能是 true 或 false。", file=path, field="口语统计核对")
    allowed = data.get("允许用语") or []
    if not isinstance(allowed, list) or not all(isinstance(x, str) and x.strip() for x in allowed):
        raise InputError("允许用语应为用语列表（每项一个非空的词或短语）。", file=path, field="允许用语")
    return OfficeTerms(
        fixed_numerals=[str(x) for x in data.get("fixed_numerals") or []],
        banned=banned,
        formulations=forms,
        latin_whitelist=[str(x) for x in data.get("latin_whitelist") or []],
        allowed=[x.strip() for x in allowed],
        spoken_model=spoken_model,
    )
