"""Take the 歇后语 (two-part allegorical sayings) the register rules read into
assistant/check/rules/xiehouyu.txt (issue 12, R3): a report that says 外甥打灯笼——照旧 is talking,
not reporting. The list is a dictionary's, not this project's choice of sayings.

    python3 scripts/take_xiehouyu.py XIEHOUYU_JSON

XIEHOUYU_JSON is `data/xiehouyu.json` of pwxcoo/chinese-xinhua at commit
fe6d6c2e8baa82187f4c96bbe042e43f96c05666 (MIT licence; 14,032 riddle/answer pairs from 新华字典-style
sources). Kept: riddles of 4–12 Chinese characters and nothing else (13,010), each with its answers
(the part before a bracketed pun note, alternatives split at ；), less every riddle that published
official prose uses word for word (rules/official_prose.txt.gz: there the words are the plain
phrase, 初生牛犊 in a report is not a joke). One line a riddle: riddle TAB answer|answer, sorted.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "assistant" / "check" / "rules"
RIDDLE = re.compile(r"[\u4e00-\u9fff]{4,12}")
ANSWER = re.compile(r"[\u4e00-\u9fff]{1,12}")


def main(path: str) -> None:
    with gzip.open(RULES / "official_prose.txt.gz", "rt", encoding="utf-8") as f:
        official = f.read()
    answers: dict[str, set[str]] = {}
    for pair in json.loads(Path(path).read_text(encoding="utf-8")):
        riddle = pair["riddle"].strip()
        if not RIDDLE.fullmatch(riddle):
            continue
        found = answers.setdefault(riddle, set())
        for part in re.split("[；;]", pair["answer"]):
            plain = re.sub(r"[（(][^）)]*[）)]", "", part).strip("，,。 ")
            if ANSWER.fullmatch(plain):
                found.add(plain)
    kept = {r: a for r, a in answers.items() if r not in official}
    lines = [f"{r}\t{'|'.join(sorted(a))}" for r, a in sorted(kept.items())]
    (RULES / "xiehouyu.txt").write_text(
        "# 歇后语 riddles and their answers, taken by scripts/take_xiehouyu.py (its docstring says from where)\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    print(
        f"{len(answers)} riddles of 4-12 characters, {len(answers) - len(kept)} used in official prose, {len(kept)} kept"
    )


if __name__ == "__main__":
    main(sys.argv[1])
