"""Take the official prose R5 is checked against into assistant/check/rules/official_prose.txt.gz
(issue 12): a stretch the statistical register model reads as spoken is not reported when
published official prose uses it word for word (还有很多, 方便, 打好蓝天保卫战, 房子是用来住的).

    python3 scripts/take_official_prose.py CORPUS_DIR

CORPUS_DIR holds `government_work_reports.jsonl` and `cpc_congress_reports.jsonl` of
aldohemsn/chinese-political-corpora at commit 99bc4b01d11c2b884a83ecc8f966d97e17cd450e (Wikisource's
texts). Taken:
- the State Council's 政府工作报告 of 1954–1991 (every report the file has from those years; 1992–2016
  are evaluation data in evals/register/national/, 2017–2025 in evals/style/corpus/);
- the CPC's national congress reports that Wikisource marks as documents of the Party's central
  organs after 1949 (九大–二十大; the pre-1949 ones, partly in traditional script, are left out).
Official documents outside copyright (《著作权法》第五条; Wikisource's notice on each). None is
provincial, none is of 2026, and none is under evals/ (tests/test_register_model.py checks the text
shares no 24-character run with evaluation data).

Cleaning is scripts/take_national_reports.py's (Wikisource's footer cut, broken lines joined).
Writes the texts one paragraph a line, gzip-compressed with a fixed timestamp (the same input gives
the same bytes), and official_prose.yaml, the list of what was taken.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

from take_national_reports import COMMIT, REPO, clean

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "assistant" / "check" / "rules"
FIRST, LAST = 1954, 1991
CPC_NOTICE = "本作品来自1949年10月1日（含）之后的中国共产党文件"


def main(folder: str) -> None:
    taken: list[tuple[str, str, str, str]] = []  # (file, title, url, text)
    for line in (Path(folder) / "government_work_reports.jsonl").read_text(encoding="utf-8").splitlines():
        report = json.loads(line)
        m = re.match(r"((?:19|20)\d\d)年中华人民共和国国务院政府工作报告", report["title"])
        if m and FIRST <= int(m.group(1)) <= LAST:
            taken.append(("government_work_reports.jsonl", report["title"], report["url"], clean(report["content"])))
    for line in (Path(folder) / "cpc_congress_reports.jsonl").read_text(encoding="utf-8").splitlines():
        report = json.loads(line)
        if CPC_NOTICE in (report.get("content") or ""):
            taken.append(("cpc_congress_reports.jsonl", report["title"], report["url"], clean(report["content"])))
    taken.sort(key=lambda t: (t[0], t[1]))
    text = "".join(t[3] for t in taken)
    with gzip.GzipFile(RULES / "official_prose.txt.gz", "wb", mtime=0) as out:
        out.write(text.encode("utf-8"))
    head = [
        "# The official prose R5 (the statistical register model) is checked against: a stretch it reads as",
        "# spoken is not reported when these texts use it word for word. Taken by scripts/take_official_prose.py",
        "# (its docstring says what and why); the texts are official_prose.txt.gz, one paragraph a line.",
        f"repo: {REPO}",
        f"commit: {COMMIT}",
        f"characters: {len(text)}",
        "documents:",
    ]
    rows = []
    for path, title, url, body in taken:
        rows += [f"- title: {title}", f"  path: {path}", f"  url: {url}", f"  characters: {len(body)}"]
    (RULES / "official_prose.yaml").write_text("\n".join(head + rows) + "\n", encoding="utf-8")
    print(f"{len(taken)} documents, {len(text):,} characters written to {RULES / 'official_prose.txt.gz'}")


if __name__ == "__main__":
    main(sys.argv[1])
