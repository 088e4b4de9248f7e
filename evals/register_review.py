"""Measured quality of a model's reading of the wording (assistant/drafting/review.py, `huibao check
--review`) beside the register rules. It needs a model: the endpoint is the one drafting uses
(HUIBAO_BASE_URL, HUIBAO_API_KEY, HUIBAO_MODEL or huibao.toml). Not part of the test command.

    .venv/bin/python -m evals.register_review                        # every blind set
    .venv/bin/python -m evals.register_review --sets blind9,blind10  # some of them
    .venv/bin/python -m evals.register_review --answers FILE         # keep / reuse the answers

The blind sets (evals/register/blind*.yaml, held4.yaml) were each written after the rules were
frozen, by people who did not read them: the rules' first score on them (README) is the estimate
for wording nobody listed. Here each planted text goes through what `huibao check --review` does
(check_text, then review_check: the model's quotes are kept only where they stand verbatim and
where nothing already reports), and a leftover counts as caught when any register finding, a rule's
or the model's, overlaps it. Per set: caught by the rules alone, with the model, and by the model
alone; the model's warnings on the formal counterparts and per 5,000 characters of the untouched
published prose the set was planted into (the model's findings are warnings: errors cannot grow).

--answers FILE keeps each answer under the sha256 of its prompt (JSON), and reuses it: a rerun,
or a reader with no endpoint, gets the same figures from the same file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from assistant.check import check_text
from assistant.check.register import lint_register
from assistant.check.result import StyleFinding
from assistant.core.settings import get_settings
from assistant.drafting.review import REVIEW_RULE, review_check
from assistant.llm import ChatMessage, ChatModel, make_model
from evals import register_quality as rq

# the sets whose first score estimates unseen wording, with the published prose each plants into
BLIND = {name: (files, paragraphs) for name, (files, paragraphs, _, _) in rq.OWN_SETS.items()}


class KeptAnswers:
    """A ChatModel that answers a prompt it has seen from `path` and asks `model` otherwise."""

    def __init__(self, model: ChatModel | None, path: Path | None) -> None:
        self.model, self.path = model, path
        self.answers: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path and path.exists() else {}
        self.asked = 0

    def complete(self, messages: list[ChatMessage]) -> str:
        key = hashlib.sha256("\n".join(m.content for m in messages).encode("utf-8")).hexdigest()
        if key not in self.answers:
            if self.model is None:
                raise SystemExit("没有配置模型接口，答案文件里也没有这一提问的回答。")
            self.answers[key] = self.model.complete(messages)
            self.asked += 1
            if self.path is not None:
                self.path.write_text(json.dumps(self.answers, ensure_ascii=False, indent=0), encoding="utf-8")
        return self.answers[key]


def reviewed_lint(model: ChatModel) -> Callable[[str], list[StyleFinding]]:
    """The register findings of a text as `huibao check --review` gives them: the rules', and the
    model's kept by review_check."""

    def lint(text: str) -> list[StyleFinding]:
        _, review = review_check(text, check_text(text, None, scope="section"), model)
        return sorted(lint_register(text) + review.findings, key=lambda f: f.start)

    return lint


def main(argv: list[str]) -> int:
    names = list(BLIND)
    answers: Path | None = None
    for i, arg in enumerate(argv):
        if arg == "--sets":
            names = argv[i + 1].split(",")
        if arg == "--answers":
            answers = Path(argv[i + 1])
    unknown = [n for n in names if n not in BLIND]
    if unknown:
        print(f"unknown set(s): {', '.join(unknown)}; known: {', '.join(BLIND)}", file=sys.stderr)
        return 2
    model = KeptAnswers(make_model(get_settings()), answers)
    if model.model is None and not model.answers:
        print("未配置模型接口（HUIBAO_BASE_URL 等），也没有答案文件：无法测量模型审读。", file=sys.stderr)
        return 2
    lint = reviewed_lint(model)  # type: ignore[arg-type]  # KeptAnswers has the one method used
    print(
        "| set | leftovers | rules | rules + model | model only | model warnings on counterparts | "
        "model warnings / 5,000 chars of its published prose |"
    )
    print("|---|---|---|---|---|---|---|")
    total = [0, 0, 0]
    for name in names:
        files, paragraphs = BLIND[name]
        prose = paragraphs() if paragraphs else None
        rules = rq.score(files, prose)
        both = rq.score(files, prose, lint=lint)
        only = both.caught - rules.caught
        counterpart = both.counterpart_by_rule[(REVIEW_RULE, "warning")]
        per_5000 = both.per_5000(both.by_rule[(REVIEW_RULE, "warning")])
        total = [total[0] + both.items, total[1] + rules.caught, total[2] + both.caught]
        print(
            f"| {name} | {both.items} | {rules.caught} ({rules.caught_rate:.1%}) | {both.caught} "
            f"({both.caught_rate:.1%}) | {only} | {counterpart} | {per_5000:.2f} |"
        )
    print(
        f"| all | {total[0]} | {total[1]} ({total[1] / total[0]:.1%}) | {total[2]} ({total[2] / total[0]:.1%}) | "
        f"{total[2] - total[1]} | | |"
    )
    print(f"model requests this run: {model.asked} (answers kept: {len(model.answers)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
