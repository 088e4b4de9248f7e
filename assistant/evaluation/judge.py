"""The optional judge (`--judge`): a model's 1–5 rubric score of a report's style, shown beside
the rules and never replacing them (it gates only when judge_min_average is set)."""

from __future__ import annotations

import json
import re

from assistant.core.errors import HuibaoError
from assistant.drafting.prompts import render_prompt
from assistant.evaluation.results import JudgeScore
from assistant.llm import ChatMessage, ChatModel

JUDGE_CRITERIA = ("结构", "语体", "对仗", "表述准确")


def judge_report(model: ChatModel, markdown: str) -> JudgeScore:
    """A model's rubric score (1–5 per criterion) of the report's style. Never raises: a
    failed or unreadable answer is recorded as the score's error."""
    try:
        prompt = render_prompt("judge", text=markdown, criteria=list(JUDGE_CRITERIA))  # the answer's JSON keys
        answer = model.complete([ChatMessage(role="user", content=prompt)])
    except HuibaoError as err:
        return JudgeScore(error=f"评分请求失败：{err}")
    return parse_judge(answer)


def parse_judge(answer: str) -> JudgeScore:
    m = re.search(r"\{.*\}", answer or "", re.S)
    if m is None:
        return JudgeScore(error=f"评分结果不是 JSON：{(answer or '')[:60]}")
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError:
        return JudgeScore(error=f"评分结果不是有效的 JSON：{m.group(0)[:60]}")
    scores: dict[str, float] = {}
    if not any(k in data for k in JUDGE_CRITERIA) and "score" in data:
        # A judge that answers one overall score (older rubric prompts, simple fakes).
        try:
            overall = float(data["score"])
        except (TypeError, ValueError):
            return JudgeScore(error="评分结果中的 score 不是数字")
        if not 1 <= overall <= 5:
            return JudgeScore(error=f"总分 {overall:g} 不在 1～5 之间")
        return JudgeScore(scores={"总体": overall}, reason=str(data.get("reason") or data.get("理由") or ""))
    for key in JUDGE_CRITERIA:
        value = data.get(key)
        if isinstance(value, dict):
            value = value.get("score")
        try:
            value = float(value)
        except (TypeError, ValueError):
            return JudgeScore(error=f"评分结果缺少“{key}”的分数")
        if not 1 <= value <= 5:
            return JudgeScore(error=f"“{key}”的分数 {value:g} 不在 1～5 之间")
        scores[key] = value
    reason = data.get("理由") or data.get("reason") or ""
    return JudgeScore(scores=scores, reason=str(reason))
