"""Notes proposed from materials: for each section of a report, the material sentences that
match it, to be ticked by a person and appended to that section's notes.

Offline, each sentence is ranked against every section's query (title, notes and its figures'
items; drafting builds it) by idf-weighted overlap of the knowledge base's jieba BM25 terms,
and goes to the one section it matches best. With a model, the model picks (sentences fenced
as material, never instructions); its answer is validated (known section, known sentence) and
a refused or malformed answer falls back to the offline ranking, saying so.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.core.resources import resource_dir
from assistant.kb.search_text import tokenize
from assistant.llm import ChatMessage, ChatModel, ModelCallError
from assistant.materials.model import fence
from assistant.materials.read import Block
from assistant.materials.rows import MaterialRow

__all__ = ["NoteSentence", "NotesProposal", "material_sentences", "propose_notes", "rank_offline", "PER_SECTION"]

PER_SECTION = 5  # sentences proposed per section at most: a person reads each one
_JSON_REFUSED = ("bad_request", "bad_response")


class NoteSentence(BaseModel):
    sentence: str
    source: str  # the material (and where in it) the sentence comes from


class NotesProposal(BaseModel):
    """section id -> the sentences proposed for it, best first; `engine`: offline | model."""

    sections: dict[str, list[NoteSentence]]
    engine: str = "offline"
    notes: list[str] = []


def material_sentences(rows: list[MaterialRow]) -> list[NoteSentence]:
    """The distinct sentences the rows were taken from, in first-seen order."""
    seen: dict[str, NoteSentence] = {}
    for r in rows:
        text = r.sentence.strip()
        if text and text not in seen:
            seen[text] = NoteSentence(sentence=text, source=r.source)
    return list(seen.values())


def _already(notes: str, sentence: str) -> bool:
    return sentence in notes


def rank_offline(
    queries: dict[str, str], sentences: list[NoteSentence], *, existing: dict[str, str] | None = None
) -> dict[str, list[NoteSentence]]:
    """Each sentence to the section whose query it matches best (idf-weighted shared terms;
    a tie goes to the earlier section); no shared term, no proposal. A sentence already in a
    section's notes is not proposed again."""
    existing = existing or {}
    sent_terms = [set(tokenize(s.sentence)) for s in sentences]
    n = max(1, len(sentences))
    df: dict[str, int] = {}
    for terms in sent_terms:
        for t in terms:
            df[t] = df.get(t, 0) + 1
    query_terms = {sid: set(tokenize(q)) for sid, q in queries.items()}
    scored: dict[str, list[tuple[float, int]]] = {sid: [] for sid in queries}
    for k, (s, terms) in enumerate(zip(sentences, sent_terms, strict=True)):
        best_sid, best = None, 0.0
        for sid, q in query_terms.items():
            score = sum(math.log(1 + n / df[t]) for t in q & terms)
            if score > best:
                best_sid, best = sid, score
        if best_sid is not None and not _already(existing.get(best_sid, ""), s.sentence):
            scored[best_sid].append((best, k))
    return {
        sid: [sentences[k] for _, k in sorted(pairs, key=lambda p: (-p[0], p[1]))[:PER_SECTION]]
        for sid, pairs in scored.items()
    }


class _Pick(BaseModel):
    section: str
    sentence: str


class _Answer(BaseModel):
    picks: list[_Pick]


@lru_cache(maxsize=1)
def _template() -> Any:
    from jinja2 import StrictUndefined  # heavy: ~12 ms, only when a model proposes
    from jinja2.sandbox import SandboxedEnvironment  # heavy: as above

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    return env.from_string((resource_dir("prompts") / "notes.j2").read_text(encoding="utf-8"))


def notes_prompt(queries: dict[str, str], sentences: list[NoteSentence]) -> str:
    listed = "\n".join(f"{sid}｜{' '.join(q.split())}" for sid, q in queries.items())
    fenced = fence([(s.source, Block(text=s.sentence, where="")) for s in sentences])
    schema = json.dumps(_Answer.model_json_schema(), ensure_ascii=False)
    return _template().render(sections=listed, sentences=fenced, schema=schema).strip() + "\n"


def _parse(answer: str) -> _Answer | None:
    text = answer.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.S)
    try:
        return _Answer.model_validate(json.loads(fenced.group(1) if fenced else text))
    except (ValueError, ValidationError):
        return None


def propose_notes(
    queries: dict[str, str],
    sentences: list[NoteSentence],
    *,
    existing: dict[str, str] | None = None,
    model: ChatModel | None = None,
) -> NotesProposal:
    """`queries`: section id -> what the section is about; `existing`: section id -> its notes."""
    existing = existing or {}
    if model is None or not sentences or not queries:
        return NotesProposal(sections=rank_offline(queries, sentences, existing=existing))
    ask = getattr(model, "complete_json", None) or model.complete
    try:
        parsed = _parse(ask([ChatMessage.user(notes_prompt(queries, sentences))]))
    except ModelCallError as err:
        if err.kind not in _JSON_REFUSED:
            raise
        parsed = None
    if parsed is None:
        note = "模型未给出约定格式的挑选结果，改按关键词匹配提出要点。"
        return NotesProposal(sections=rank_offline(queries, sentences, existing=existing), notes=[note])
    out: dict[str, list[NoteSentence]] = {sid: [] for sid in queries}
    placed: set[int] = set()
    for pick in parsed.picks:
        m = re.fullmatch(r"\s*S?(\d+)\s*", pick.sentence)
        sid = pick.section.strip()
        if not m or sid not in out or not 1 <= int(m.group(1)) <= len(sentences):
            continue  # an unknown section or sentence: nothing invented reaches the notes
        k = int(m.group(1)) - 1
        if k in placed or _already(existing.get(sid, ""), sentences[k].sentence) or len(out[sid]) >= PER_SECTION:
            continue
        placed.add(k)
        out[sid].append(sentences[k])
    return NotesProposal(sections=out, engine="model")
