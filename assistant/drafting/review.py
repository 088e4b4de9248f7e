"""A model's reading of a text for spoken wording and notes to self (`huibao check --review`, the
page's 模型审读), beside the register rules, never instead of them.

The rules (check/register.py) catch the classes they describe, but on wording written by people
they were not fixed on they catch about half (evals/register, the blind sets' first scores). Where
a model endpoint is configured, a model reads the text too. Code, not the prompt, decides what
becomes a finding:
  * a finding must quote the text verbatim (punctuation's full and half widths aside): a quote the
    model invented or paraphrased is dropped and counted;
  * it is a warning (rule REVIEW_RULE), never an error, so a model cannot fail a check;
  * nothing is reported again where a rule already reports spoken wording or a note to self, or the
    number check a gap (the caller passes those spans); nor inside the official placeholders, in
    the office's accepted wordings (允许用语), or, but for a note to self, inside quotation marks
    and titles;
  * a suggestion stating a number the quote does not state is not offered (no invented numbers).
A failed request stops the review: what was read is kept and `notes` says what was not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.check.numbers import extract
from assistant.check.register import SPOKEN_RULES, exempt_spans, register_classes
from assistant.check.result import CheckResult, StyleFinding
from assistant.check.terms import OfficeTerms
from assistant.core.errors import HuibaoError
from assistant.drafting.prompts import render_prompt
from assistant.llm import ChatMessage, ChatModel

REVIEW_RULE = "R-模型"
BATCH_CHARS = 1200  # text per request: a few paragraphs, well inside any model's context
MAX_QUOTE = 80  # characters: a whole spoken sentence at most; longer is not a quote of a leftover
NOTE_CLASS = "R4"  # a note to self: reported inside quotation marks too, and its fix is to delete it
_DELETE = ("删去", "删除", "删掉", "")
# full and half widths of the same punctuation: a model often writes one for the other
_WIDTHS = str.maketrans("，,；;：:！!？?（(）)", "，，；；：：！！？？（（））")


@dataclass
class Review:
    findings: list[StyleFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # in Chinese: what could not be read, and why
    unquoted: int = 0  # findings dropped: their quote is not in the text
    requests: int = 0


@dataclass(frozen=True)
class _Paragraph:
    number: int
    start: int
    end: int
    text: str


def _paragraphs(text: str) -> list[_Paragraph]:
    out: list[_Paragraph] = []
    for m in re.finditer(r"[^\n]+", text):
        if m.group().strip():
            out.append(_Paragraph(len(out) + 1, m.start(), m.end(), m.group()))
    return out


def _batches(paragraphs: list[_Paragraph]) -> list[list[_Paragraph]]:
    out: list[list[_Paragraph]] = []
    size = 0
    for p in paragraphs:
        if out and size + len(p.text) <= BATCH_CHARS:
            out[-1].append(p)
            size += len(p.text)
        else:
            out.append([p])
            size = len(p.text)
    return out


def parse_answer(answer: str) -> list[dict] | None:
    """The items of a model's answer ({"问题": [...]}, or a bare list), or None when it is not JSON."""
    m = re.search(r"[\[{].*[\]}]", answer or "", re.S)
    if m is None:
        return None
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict):
        data = next((data[k] for k in ("问题", "issues", "findings") if k in data), None)
    if not isinstance(data, list):
        return None
    return [item for item in data if isinstance(item, dict) and isinstance(item.get("原文"), str)]


def _numbers(text: str) -> set[float]:
    return {r.value for r in extract(text).mentions if r.value is not None}


def _overlaps(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def _locate(
    quote: str, text: str, where: list[tuple[int, int]], taken: Sequence[tuple[int, int]]
) -> tuple[int, int] | None:
    """Where `quote` stands in `text`, first inside the `where` ranges in order (the paragraph the
    model named, then its request), comparing punctuation's two widths as one: the first
    occurrence not already reported (a wording used twice is reported twice), else the first."""
    wide_text, wide_quote = text.translate(_WIDTHS), quote.translate(_WIDTHS)
    first = None
    for lo, hi in where:
        at = wide_text.find(wide_quote, lo, hi)
        while at >= 0:
            span = (at, at + len(quote))
            if not _overlaps(*span, taken):
                return span
            first = first or span
            at = wide_text.find(wide_quote, at + 1, hi)
    return first


def review_wording(
    text: str,
    model: ChatModel,
    *,
    reported: Sequence[tuple[int, int]] = (),
    terms: OfficeTerms | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Review:
    """What `model` reads as spoken wording or a note to self in `text`, as warnings (see the module
    docstring). `reported`: spans a rule or the number check already reports. progress(done, total)
    after each request."""
    classes = register_classes()
    quoted, exempt = exempt_spans(text, terms)
    taken = list(reported)
    review = Review()
    batches = _batches(_paragraphs(text))
    if progress is not None:
        progress(0, len(batches))
    for i, batch in enumerate(batches):
        prompt = render_prompt(
            "review",
            classes=[{"name": name, "why": why, "examples": examples} for name, why, examples in classes.values()],
            paragraphs=[{"number": p.number, "text": p.text} for p in batch],
        )
        try:
            answer = model.complete([ChatMessage.user(prompt)])
        except HuibaoError as err:
            review.notes.append(
                f"模型审读在第 {batch[0].number} 段处中断（{err}），其后 {len(batches) - i} 批段落未审读。"
            )
            break
        review.requests += 1
        items = parse_answer(answer)
        if items is None:
            review.notes.append(
                f"模型对第 {batch[0].number}—{batch[-1].number} 段的回答不是约定的 JSON，这几段未审读。"
            )
        for item in items or []:
            _take(item, text, batch, classes, quoted, exempt, taken, review)
        if progress is not None:
            progress(i + 1, len(batches))
    review.findings.sort(key=lambda f: f.start)
    return review


def review_check(
    text: str,
    result: CheckResult,
    model: ChatModel,
    *,
    terms: OfficeTerms | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[CheckResult, Review]:
    """`result` (check_text's on `text`) with the model's findings added to its style findings
    (warnings: the summary's count of warnings grows, nothing else changes), and the review."""
    # what the checks already report: spoken wording and notes to self (not a long sentence or a
    # comma: those findings are about something else), and the gaps the number check lists (a
    # grounded number is not a finding: 386名代表里 is still a spoken 里)
    reported = [(f.start, f.end) for f in result.style if f.rule in SPOKEN_RULES] + [
        (m.start, m.end) for m in result.numbers if m.status in ("placeholder", "unverified")
    ]
    review = review_wording(text, model, reported=reported, terms=terms, progress=progress)
    style = sorted([*result.style, *review.findings], key=lambda f: (f.start, f.rule))
    summary = result.summary.model_copy(update={"style_warnings": result.summary.style_warnings + len(review.findings)})
    return result.model_copy(update={"style": style, "summary": summary}), review


def _take(
    item: dict,
    text: str,
    batch: list[_Paragraph],
    classes: dict[str, tuple[str, str, str]],
    quoted: list[tuple[int, int]],
    exempt: list[tuple[int, int]],
    taken: list[tuple[int, int]],
    review: Review,
) -> None:
    quote = item["原文"].strip().strip("“”\"'…")
    if not quote or len(quote) > MAX_QUOTE:
        return
    named = next((p for p in batch if str(p.number) == str(item.get("段"))), None)
    where = [(named.start, named.end)] if named else []
    span = _locate(quote, text, [*where, (batch[0].start, batch[-1].end)], taken)
    if span is None:
        review.unquoted += 1
        return
    start, end = span
    label = str(item.get("类别") or "").strip()  # a class's name (口语词) or id (R1)
    cls = label if label in classes else next((c for c, (name, _, _) in classes.items() if name == label), "")
    if _overlaps(start, end, taken) or _overlaps(start, end, exempt):
        return
    if cls != NOTE_CLASS and any(s <= start and end <= e for s, e in quoted):
        return
    taken.append(span)
    advice = str(item.get("建议") or "").strip()
    suggestion: str | None = "" if cls == NOTE_CLASS and advice in _DELETE else advice or None
    if suggestion and not _numbers(suggestion) <= _numbers(text[start:end]):
        suggestion = None  # it would state a number the text does not: a person rewrites it
    name = classes[cls][0] if cls else "不合公文语体"
    review.findings.append(
        StyleFinding(
            rule=REVIEW_RULE,
            severity="warning",
            start=start,
            end=end,
            message=f"模型审读：{name}“{text[start:end]}”，请核实后改为书面说法",
            suggestion=suggestion,
        )
    )
