"""Speed of the two checks over a ~30,000-character report.

    .venv/bin/python -m bench.bench_check [--runs 20] [--chars 30000]   # from the project folder

The report is the clean fixture prose (three reports) repeated, each copy's headings kept,
with one invented figure and a few style slips per copy so that every code path runs.
Prints median and p95 milliseconds per stage. Target: check_text < 100 ms (issue 10).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from pathlib import Path

from assistant.check import check_numbers, check_text, lint_style
from assistant.core.figures import load_figures

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "evals" / "fixtures"


def build_report(chars: int) -> str:
    parts = [p.strip("\n") for p in re.split(r"\n<!-- .*? -->\n", (FIX / "clean_prose.md").read_text(encoding="utf-8"))]
    body = "\n\n".join(parts)
    slips = "\n\n全年另行召开座谈会37次,我认为效果挺好！\n\n"
    out = []
    while sum(map(len, out)) < chars:
        out.append(body + slips)
    return "".join(out)[:chars]


def _p95(samples: list[float]) -> float:
    samples = sorted(samples)
    return samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def _time(fn, runs: int) -> tuple[float, float, float, float]:
    """Wall-clock and CPU (process) time, median and p95, in ms. On a shared machine the wall
    time includes waiting for a core; the CPU time is what the check itself costs."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), _p95(wall), statistics.median(cpu), _p95(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--chars", type=int, default=30000)
    args = ap.parse_args()
    text = build_report(args.chars)
    figures = load_figures(FIX / "clean_prose_figures.yaml")
    check_text(text, figures, year=2025)  # warm the rule and regex caches
    rows = [
        ("check_numbers", lambda: check_numbers(text, figures)),
        ("lint_style", lambda: lint_style(text, scope="report", year=2025)),
        ("check_text（合计）", lambda: check_text(text, figures, year=2025)),
    ]
    result = check_text(text, figures, year=2025)
    print(
        f"文本 {len(text)} 字，数据 {len(figures)} 条，数字 {len(result.numbers)} 处，"
        f"格式发现 {len(result.style)} 处；每项 {args.runs} 次"
    )
    print(f"{'阶段':<18}{'墙钟中位数ms':>12}{'墙钟p95':>10}{'CPU中位数ms':>12}{'CPU p95':>10}")
    for name, fn in rows:
        wm, wp, cm, cp = _time(fn, args.runs)
        print(f"{name:<18}{wm:>12.1f}{wp:>10.1f}{cm:>12.1f}{cp:>10.1f}")
    try:
        print(f"机器负载（1 分钟平均）：{os.getloadavg()[0]:.1f}，CPU 核数：{os.cpu_count()}")
    except OSError:
        pass
    print("目标：check_text 中位数 < 100 ms")


if __name__ == "__main__":
    main()
