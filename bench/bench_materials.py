"""Speed of extracting figures from a 50-page Word material (issue 16: under 5 s).

    .venv/bin/python -m bench.bench_materials [--pages 50] [--runs 3]   # from the project folder

The document is the published paragraphs of evals/materials/paragraphs.yaml repeated until it
fills the pages (about 750 characters a page: 仿宋 三号, 22 lines of 28 characters, as a 公文
page holds; at 0.75 of it, for headings and short lines), with a four-row table every five pages.
Prints the median seconds of extract_materials() over the runs (offline: no model).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from assistant.materials import extract_materials

ROOT = Path(__file__).resolve().parent.parent
CHARS_PER_PAGE = 750


def build_docx(path: Path, pages: int) -> int:
    import docx  # heavy: only to build the benchmark's file

    paragraphs = [
        p["text"] for p in yaml.safe_load((ROOT / "evals/materials/paragraphs.yaml").read_text("utf-8"))["paragraphs"]
    ]
    doc = docx.Document()
    chars, k, page = 0, 0, 0
    while chars < pages * CHARS_PER_PAGE:
        text = paragraphs[k % len(paragraphs)]
        doc.add_paragraph(text)
        chars += len(text)
        k += 1
        if chars // (5 * CHARS_PER_PAGE) > page:
            page = chars // (5 * CHARS_PER_PAGE)
            table = doc.add_table(rows=4, cols=4)
            rows = [
                ("指标", "2025年", "2024年", "单位"),
                ("新闻发布会", "12", "9", "次"),
                ("培训干部", "3000", "2600", "人次"),
                ("信访办结率", "98.6", "97.1", "%"),
            ]
            for r, cells in enumerate(rows):
                for c, value in enumerate(cells):
                    table.cell(r, c).text = value
    doc.save(path)
    return chars


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "科室材料.docx"
        chars = build_docx(path, args.pages)
        times, rows = [], 0
        for _ in range(args.runs):
            start = time.perf_counter()
            result = extract_materials([path])
            times.append(time.perf_counter() - start)
            rows = len(result.rows)
    print(f"| 素材 | 字数 | 摘录行数 | 用时（中位数，{args.runs} 次） | 目标 |")
    print("|---|---|---|---|---|")
    print(f"| {args.pages} 页 .docx（含表格） | {chars} | {rows} | {statistics.median(times):.2f} s | < 5 s |")


if __name__ == "__main__":
    main()
