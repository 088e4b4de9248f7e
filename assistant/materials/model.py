"""Extraction with a model: it is asked for JSON (the schema is in prompts/materials.j2), the
answer is validated with pydantic, and code checks every row: its value must occur in the
sentence it cites, and that sentence in the cited passage; a row that fails is dropped and
counted. When the endpoint refuses JSON mode or the answer is not valid JSON, the batch is
extracted offline instead (extract.py), and the result says so.

Material text enters the prompt fenced as retrieved passages are fenced in the section prompt
(drafting.section_prompt.reference_block): numbered <<<… 开始｜来源：…｜位置：…>>> blocks,
forged delimiters defused, and a line saying it is material, not instructions.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.check.numbers import extract
from assistant.check.reading import unit_class
from assistant.core.figures import format_value, split_scale
from assistant.core.resources import resource_dir
from assistant.llm import ChatMessage, ChatModel, ModelCallError
from assistant.materials.extract import Candidate, extract_blocks
from assistant.materials.read import Block

__all__ = ["ModelRow", "ModelAnswer", "model_extract", "fence", "BATCH_CHARS"]

BATCH_CHARS = 6000  # material characters per request: long enough to batch a department's summary
_JSON_REFUSED = ("bad_request", "bad_response")


class ModelRow(BaseModel):
    item: str
    value: float
    unit: str
    last_year: float | None = None
    passage: str
    sentence: str


class ModelAnswer(BaseModel):
    rows: list[ModelRow]


def _defuse(text: str) -> str:
    """A material must not close its own block (<<< >>> are the delimiters, as in section prompts)."""
    return text.replace("<<<", "＜＜＜").replace(">>>", "＞＞＞")


def fence(blocks: list[tuple[str, Block]]) -> str:
    """(source, block) pairs as numbered, fenced passages S1, S2, …"""
    lines = []
    for i, (source, block) in enumerate(blocks, start=1):
        lines.append(f"<<<素材 S{i} 开始｜来源：{_defuse(source)}｜位置：{_defuse(block.where)}>>>")
        lines.append(_defuse(block.text))
        lines.append(f"<<<素材 S{i} 结束>>>")
    return "\n".join(lines)


@lru_cache(maxsize=1)
def _template() -> Any:
    from jinja2 import StrictUndefined  # heavy: ~12 ms, only when a model extracts
    from jinja2.sandbox import SandboxedEnvironment  # heavy: as above

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    return env.from_string((resource_dir("prompts") / "materials.j2").read_text(encoding="utf-8"))


def materials_prompt(blocks: list[tuple[str, Block]]) -> str:
    schema = json.dumps(ModelAnswer.model_json_schema(), ensure_ascii=False)
    return _template().render(materials=fence(blocks), schema=schema).strip() + "\n"


def _batches(blocks: list[tuple[str, Block]]) -> list[list[tuple[str, Block]]]:
    out: list[list[tuple[str, Block]]] = [[]]
    size = 0
    for pair in blocks:
        if out[-1] and size + len(pair[1].text) > BATCH_CHARS:
            out.append([])
            size = 0
        out[-1].append(pair)
        size += len(pair[1].text)
    return [b for b in out if b]


def _digits(text: str) -> str:
    return re.sub(r"(?<=\d)[,，](?=\d{3})", "", text)


def value_in_sentence(value: float, unit: str, sentence: str) -> bool:
    """The value (as written, its scale in the unit) is a number the sentence states."""
    found, _, norm = extract(sentence)
    base, _ = split_scale(value, unit)
    for e in found:
        if e.value is not None and abs(e.value - base) <= 1e-9 * max(1.0, abs(base)):
            return True
    return re.search(rf"(?<![\d.]){re.escape(format_value(value))}(?![\d])", _digits(norm)) is not None


def _check(row: ModelRow, batch: list[tuple[str, Block]]) -> Candidate | None:
    m = re.fullmatch(r"\s*S?(\d+)\s*", row.passage)
    if not m or not 1 <= int(m.group(1)) <= len(batch):
        return None
    source, block = batch[int(m.group(1)) - 1]
    sentence = row.sentence.strip()
    if not sentence or sentence not in block.text or not row.item.strip() or not row.unit.strip():
        return None
    if not value_in_sentence(row.value, row.unit, sentence):
        return None
    if row.last_year is not None and not value_in_sentence(row.last_year, row.unit, sentence):
        return None
    base, base_unit = split_scale(row.value, row.unit.strip())
    return Candidate(
        item=row.item.strip()[:30],
        value=row.value,
        unit=row.unit.strip(),
        sentence=sentence,
        source=f"{source} {block.where}",
        last_year=row.last_year,
        ocr=block.ocr,
        base=base,
        unit_class=unit_class(base_unit),
    )


def _parse(answer: str) -> ModelAnswer | None:
    text = answer.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.S)
    if fenced:
        text = fenced.group(1)
    try:
        return ModelAnswer.model_validate(json.loads(text))
    except (ValueError, ValidationError):
        return None


def model_extract(
    materials: list[tuple[str, list[Block]]], model: ChatModel, *, year: int | None = None
) -> tuple[list[Candidate], int, list[str]]:
    """(candidates, dropped, notes). Each batch is asked once; a refused JSON mode or an answer
    that is not the schema's JSON makes that batch offline (noted)."""
    pairs = [(source, b) for source, blocks in materials for b in blocks]
    ask = getattr(model, "complete_json", None) or model.complete
    out: list[Candidate] = []
    dropped = 0
    notes: list[str] = []
    for batch in _batches(pairs):
        try:
            answer = ask([ChatMessage.user(materials_prompt(batch))])
        except ModelCallError as err:
            if err.kind not in _JSON_REFUSED:
                raise
            notes.append(f"模型接口不接受 JSON 模式（{err}），这部分素材改由离线规则摘录。")
            out.extend(_offline(batch, year))
            continue
        parsed = _parse(answer)
        if parsed is None:
            notes.append("模型的回答不是约定格式的 JSON，这部分素材改由离线规则摘录。")
            out.extend(_offline(batch, year))
            continue
        for row in parsed.rows:
            checked = _check(row, batch)
            if checked is None:
                dropped += 1
            else:
                out.append(checked)
    return out, dropped, notes


def _offline(batch: list[tuple[str, Block]], year: int | None) -> list[Candidate]:
    out: list[Candidate] = []
    for source, block in batch:
        out.extend(extract_blocks([block], source, year=year))
    return out
