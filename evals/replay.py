"""Replay recorded model answers through the real SDK path and run the eval on them.

    .venv/bin/python -m evals.replay [--expect-fail] [--report FILE] [--json FILE] [--judge]   # from the project folder

Starts assistant/testing/openai_server.py's server on a free loopback port with `ReplayResponder`, points
Settings at it and runs `run_eval(backend="model")` over the cases that have a recording in
evals/recorded/. The recorded answers are written to fail on purpose (Markdown headings,
以下是…, 我, ！, invented percentages, a growth rate computed wrong from last_year, two figures
of one unit swapped, a rounded figure beyond its interval, a wrong 政治表述), so the gate is
expected to fail: `--expect-fail` inverts the exit status for CI, which then
goes red when the suite stops catching a planted failure. Without it the exit status is the
gate's (0 passed, 1 failed).

A recording (evals/recorded/<case-id>.yaml) maps section ids to a list of answers: the first
answer, then the answer to the repair prompt (the last one is reused if more are asked for).
The responder finds the case by the report title in the prompt and the section by, in order:
a `章节编号：<id>` line, the heading labels of the `所在位置：` line (一、 > （二） → 1.2;
导语 → intro, 结束语 → closing), or the section's notes. The attempt is the number of
assistant messages already in the conversation (0: first answer, 1: repair).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.drafting.spec import load_spec
from assistant.evaluation import EvalReport, Thresholds, load_thresholds, run_eval, write_outputs
from assistant.kb.retrieve import KnowledgeBase
from assistant.testing.openai_server import FakeOpenAIServer, settings_for

HERE = Path(__file__).resolve().parent
RECORDED_DIR = HERE / "recorded"
CASES_DIR = HERE / "cases"
THRESHOLDS = HERE / "thresholds.yaml"
JUDGE_MARKER = "<<<待评文字开始>>>"
_SECTION_ID_LINE = re.compile(r"^章节编号[：:]\s*(\S+)\s*$", re.M)
_POSITION_LINE = re.compile(r"^所在位置[：:]\s*(.+?)\s*$", re.M)
_NOTES = re.compile(r"【写作要点】\n(.*?)\n\n【", re.S)
_LABELS = re.compile(r"(?:^|>\s*)([一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+\.|（\d+）)")
_PART_POSITIONS = {"导语": "intro", "结束语": "closing"}
DEFAULT_JUDGE = {"结构": 4, "语体": 4, "对仗": 4, "表述准确": 4, "理由": "结构完整，语体基本规范。"}


@dataclass
class Recording:
    case_id: str
    title: str
    sections: dict[str, list[str]]
    judge: dict[str, Any] | None = None
    planted: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[tuple[str, ...], str] = field(default_factory=dict)  # heading label chain -> section id
    notes: dict[str, str] = field(default_factory=dict)  # section id -> notes


def load_recordings(recorded_dir: Path = RECORDED_DIR, cases_dir: Path = CASES_DIR) -> dict[str, Recording]:
    """Recordings by case id, with each case's spec (title, heading labels, notes) attached."""
    out: dict[str, Recording] = {}
    for path in sorted(Path(recorded_dir).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        case_id = str(data.get("case") or path.stem)
        spec = load_spec(Path(cases_dir) / case_id / "spec.yaml")
        sections = {
            str(k): [str(a) for a in (v if isinstance(v, list) else [v])]
            for k, v in (data.get("sections") or {}).items()
        }
        rec = Recording(
            case_id=case_id,
            title=spec.title,
            sections=sections,
            judge=data.get("judge"),
            planted=list(data.get("planted") or []),
        )
        for s in spec.walk():
            chain, node = [], s
            while node is not None and spec.level(node.id) > 0:
                chain.append(spec.label(node.id))
                node = spec.parent_of(node.id)
            if chain:
                rec.labels[tuple(reversed(chain))] = s.id
            rec.notes[s.id] = s.notes
        out[case_id] = rec
    return out


def _content(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return content or ""


class ReplayResponder:
    """A `responder` for assistant/testing/openai_server.py: request JSON -> the recorded answer.

    Unknown case or section -> None (the fake then answers 500, the drafting engine falls back
    to offline for that section and the eval reports it). `served` logs (case, section,
    attempt) for every answer given, `unmatched` the prompts it could not place.
    """

    def __init__(self, recordings: dict[str, Recording]) -> None:
        self.recordings = recordings
        self.served: list[tuple[str, str, int]] = []
        self.unmatched: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, body: dict) -> Any:
        messages = body.get("messages") or []
        users = [_content(m) for m in messages if m.get("role") == "user"]
        first = users[0] if users else ""
        rec = self._case(first)
        if rec is None:
            return self._miss(first)
        if JUDGE_MARKER in first:
            with self._lock:
                self.served.append((rec.case_id, "judge", 0))
            return json.dumps(rec.judge or DEFAULT_JUDGE, ensure_ascii=False)
        section = self.section_id(first, rec)
        answers = rec.sections.get(section or "")
        if not answers:
            return self._miss(first)
        attempt = sum(1 for m in messages if m.get("role") == "assistant")
        with self._lock:
            self.served.append((rec.case_id, section, attempt))
        return answers[min(attempt, len(answers) - 1)]

    def _miss(self, prompt: str) -> None:
        with self._lock:
            self.unmatched.append(prompt[:200])
        return None

    def _case(self, prompt: str) -> Recording | None:
        # The longest title first: one title may contain another.
        for rec in sorted(self.recordings.values(), key=lambda r: -len(r.title)):
            if rec.title in prompt:
                return rec
        return None

    @staticmethod
    def section_id(prompt: str, rec: Recording) -> str | None:
        m = _SECTION_ID_LINE.search(prompt)
        if m:
            return m.group(1)
        m = _POSITION_LINE.search(prompt)
        if m:
            position = m.group(1)
            for word, sid in _PART_POSITIONS.items():
                if position.startswith(word):
                    return sid
            chain = tuple(_LABELS.findall(position))
            if chain in rec.labels:
                return rec.labels[chain]
        m = _NOTES.search(prompt)
        if m:
            notes = m.group(1).strip()
            for sid, text in rec.notes.items():
                if text and text.strip() == notes:
                    return sid
        return None


def run_recorded(
    *,
    judge: bool = False,
    settings_overrides: dict[str, Any] | None = None,
    kb: KnowledgeBase | None = None,
    thresholds: Thresholds | None = None,
    cases_dir: Path = CASES_DIR,
    recorded_dir: Path = RECORDED_DIR,
) -> tuple[EvalReport, ReplayResponder]:
    """Start the fake server, run the eval over the recorded cases, stop the server."""
    recordings = load_recordings(recorded_dir, cases_dir)
    responder = ReplayResponder(recordings)
    with FakeOpenAIServer() as server:
        server.responder = responder
        settings = settings_for(server, **(settings_overrides or {}))
        report = run_eval(
            cases_dir, settings, backend="model", judge=judge, only=sorted(recordings), kb=kb, thresholds=thresholds
        )
    return report, responder


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m evals.replay", description="用录制的模型回答跑评测（经真实 SDK 与本地假服务）。"
    )
    p.add_argument(
        "--expect-fail", action="store_true", help="录制的回答故意含错：门槛未通过时退出码为 0，通过时为 1（CI 用）"
    )
    p.add_argument("--judge", action="store_true", help="同时请（录制的）模型评分")
    p.add_argument("--report", type=Path, default=Path("out/eval-recorded.md"))
    p.add_argument("--json", type=Path, default=Path("out/eval-recorded.json"))
    p.add_argument("--data-dir", type=Path, default=None, help="知识库目录（默认：临时目录，自动导入 knowledge/）")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="huibao-replay-") as tmp:
        overrides = {"data_dir": args.data_dir or Path(tmp)}
        report, responder = run_recorded(
            judge=args.judge,
            settings_overrides=overrides,
            thresholds=load_thresholds(THRESHOLDS),
        )
    write_outputs(report, args.report, args.json)
    print(report.to_markdown())
    if responder.unmatched:
        print(
            f"回放时有 {len(responder.unmatched)} 个请求找不到录制的回答（相应章节改用了离线引擎）。", file=sys.stderr
        )
    for f in report.failures:
        print(f"未达门槛：{f.message}", file=sys.stderr)
    if args.expect_fail:
        if report.passed:
            print("录制的回答含有故意植入的错误，评测却通过了：核对漏报。", file=sys.stderr)
            return 1
        print(f"符合预期：录制的错误被发现，{len(report.failures)} 项未达门槛。", file=sys.stderr)
        return 0
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
