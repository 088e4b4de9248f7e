"""Speed of the Streamlit workspace. Prints a table; asserts nothing.

    .venv/bin/python -m bench.bench_app [--runs 5]   # from the project folder

1. `streamlit run app.py` start until /_stcore/health answers "ok" (target < 5 s).
2. AppTest: one run of the 章节 page for a saved report with 10 drafted sections and
   50 versions of each (target < 1 s), with all tools closed and with one section's
   history open; plus the first run of the app (reports page, sample report creation).

Everything runs on loopback with data in a temporary folder; no model (offline engine).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from assistant.core.figures import load_figures
from assistant.core.settings import Settings, get_settings
from assistant.drafting.context import DraftContext, SectionRequest
from assistant.drafting.draft import draft_section
from assistant.drafting.engines import OfflineEngine
from assistant.drafting.spec import ReportSpec, SectionSpec
from assistant.workspace.service import Workspace

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_server_start(data_dir: Path) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HUIBAO_"))}
    env.update(HUIBAO_DATA_DIR=str(data_dir), ANONYMIZED_TELEMETRY="False")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    if r.read().strip() == b"ok":
                        return time.perf_counter() - start
            except OSError:
                pass
            try:
                proc.wait(timeout=0.02)  # doubles as the polling interval
            except subprocess.TimeoutExpired:
                pass
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def build_report(data_dir: Path, sections: int = 10, versions: int = 50) -> str:
    """A saved report: `sections` drafted sections, each with `versions` versions."""
    settings = Settings(data_dir=data_dir)
    figures = load_figures(ROOT / "examples" / "figures.csv")
    items = [SectionSpec(id="intro", part="intro", notes="全年工作稳中有进。")]
    items += [
        SectionSpec(
            id=f"1.{i}",
            part="achievements",
            title=f"第{i}项工作",
            figures=[figures[(i - 1) % len(figures)].id],
            notes=f"第{i}项工作要点。",
        )
        for i in range(1, sections - 1)
    ]
    items += [SectionSpec(id="closing", part="closing", notes="以上汇报，请批评指正。")]
    spec = ReportSpec(
        title="基准测试单位2026年度工作汇报",
        organisation="基准测试单位",
        year=2026,
        sections=[
            items[0],
            SectionSpec(id="1", title="主要做法及成效", part="achievements", children=items[1:-1]),
            items[-1],
        ],
    )
    ws = Workspace.open(settings.workspace_path)
    report_id = ws.create_report(spec, figures)
    for section in spec.walk():
        if section.children:
            continue
        draft = draft_section(
            DraftContext.create(spec, figures, None, settings), SectionRequest(section), OfflineEngine()
        )
        ws.add_version(report_id, draft, author="offline")
        for n in range(2, versions + 1):
            edited = draft.model_copy(update={"text": draft.text + f"（第{n}次修改）"})
            ws.add_version(report_id, edited, author="hand")
    return report_id


def time_apptest(data_dir: Path, runs: int) -> dict[str, list[float]]:
    from streamlit.testing.v1 import AppTest  # heavy: only this benchmark needs it

    os.environ["HUIBAO_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    results: dict[str, list[float]] = {
        "first run (reports page)": [],
        "open the saved report (章节, first render)": [],
        "sections page, tools closed": [],
        "sections page, one history open": [],
    }
    for _ in range(runs):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        t = time.perf_counter()
        at.run()
        results["first run (reports page)"].append(time.perf_counter() - t)
        at.switch_page("assistant/ui/pages/sections.py")
        t = time.perf_counter()
        at.run()
        results["open the saved report (章节, first render)"].append(time.perf_counter() - t)
        assert not at.exception, [e.value for e in at.exception]
        t = time.perf_counter()
        at.run()
        results["sections page, tools closed"].append(time.perf_counter() - t)
        shown = [m for m in at.markdown if 'class="hb-text"' in m.value]
        assert len(shown) == 10 and all("第50次修改" in m.value for m in shown), [m.value[-80:] for m in shown]
        at.session_state["tools.1.3"] = True
        t = time.perf_counter()
        at.run()
        results["sections page, one history open"].append(time.perf_counter() - t)
        assert not at.exception, [e.value for e in at.exception]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        starts = [time_server_start(Path(tmp) / f"start{i}") for i in range(args.runs)]
        rows.append(("streamlit run → /_stcore/health ok", statistics.median(starts), max(starts), "< 5 s"))
        data_dir = Path(tmp) / "data"
        t = time.perf_counter()
        build_report(data_dir)
        print(f"(built a report with 10 sections × 50 versions in {time.perf_counter() - t:.1f} s)")
        for name, times in time_apptest(data_dir, args.runs).items():
            rows.append(
                (
                    f"AppTest: {name}",
                    statistics.median(times),
                    max(times),
                    "< 1 s" if name.startswith(("sections", "open")) else "—",
                )
            )
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  {'median s':>9}  {'max s':>7}  target   ({args.runs} runs)")
    print("-" * (width + 36))
    for name, median, worst, target in rows:
        print(f"{name.ljust(width)}  {median:9.3f}  {worst:7.3f}  {target}")


if __name__ == "__main__":
    main()
