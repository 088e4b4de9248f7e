"""Take the 1992–2016 national 政府工作报告 into evals/register/national/ (issue 12): published official
prose nobody on this project wrote, on which the register rules' false alarms are counted.

    python3 scripts/take_national_reports.py GOVERNMENT_WORK_REPORTS_JSONL

GOVERNMENT_WORK_REPORTS_JSONL is `government_work_reports.jsonl` of aldohemsn/chinese-political-corpora
at commit 99bc4b01d11c2b884a83ecc8f966d97e17cd450e (the State Council's reports as Wikisource
publishes them; the same file evals/style/sources.yaml takes 2017–2025 from). Taken: every report
whose title starts with a year from 1992 to 2016 (the NPC's resolutions on them are left out);
2017 on are already in evals/style/corpus/. None is a provincial report, none is of 2026.

Cleaning, the only changes to the text: Wikisource's licence footer (from "本作品是中华人民共和国的")
is cut; zero-width characters are dropped; the lines the scraper broke inside a paragraph (at wiki
links) are joined again, paragraphs being the blocks between blank lines. Writes one file a report,
guowuyuan-zfgzbg-YEAR.txt, and sources.yaml.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "evals" / "register" / "national"
REPO = "aldohemsn/chinese-political-corpora"
COMMIT = "99bc4b01d11c2b884a83ecc8f966d97e17cd450e"
FIRST, LAST = 1992, 2016


def clean(content: str) -> str:
    content = content.split("本作品是中华人民共和国的")[0]
    content = re.sub("[\u200b\u200c\u200d\ufeff]", "", content)
    blocks = [re.sub(r"\s*\n\s*", "", b).strip() for b in re.split(r"\n\s*\n", content)]
    return "\n".join(b for b in blocks if b) + "\n"


def main(path: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    docs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        report = json.loads(line)
        m = re.match(r"((?:19|20)\d\d)年中华人民共和国国务院政府工作报告$", report["title"])
        if not m or not FIRST <= int(m.group(1)) <= LAST:
            continue
        year = int(m.group(1))
        name = f"guowuyuan-zfgzbg-{year}.txt"
        (OUT / name).write_text(clean(report["content"]), encoding="utf-8")
        docs.append((year, name, report["title"], report["url"]))
    head = [
        "# Sources of evals/register/national/ (issue 12): the State Council's 政府工作报告 of 1992–2016, on which",
        "# evals/register_quality.py counts the register rules' false alarms. Official documents of a state",
        "# organ, outside copyright (《著作权法》第五条); Wikisource hosts them as public domain. Taken and",
        "# cleaned by scripts/take_national_reports.py (its docstring says how); no 2026 or provincial report.",
        "documents:",
    ]
    rows = []
    for year, name, title, url in sorted(docs):
        rows += [
            f"- file: {name}",
            f"  title: {title}",
            f"  year: {year}",
            f"  url: {url}",
            f"  repo: {REPO}",
            "  path: government_work_reports.jsonl",
            f"  commit: {COMMIT}",
        ]
    (OUT / "sources.yaml").write_text("\n".join(head + rows) + "\n", encoding="utf-8")
    print(f"{len(docs)} reports written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
