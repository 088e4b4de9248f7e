"""The workspace on SQLite and on PostgreSQL: the cost of saving a version and of reading a report.

    .venv/bin/python -m bench.bench_store [--saves 200]

Starts a throwaway PostgreSQL server as the tests do (tests/pg_server.py: loopback, the
``postgres`` user when run as root; this one keeps ``fsync`` on, as a real server does) and
measures, on both backends in the same run: opening a workspace (already current), saving a
hand-written version (``add_version``: one write transaction with its audit line), reading the
current report, and two processes saving to one report at once (versions per second, and
whether every version number is there once). Not part of the test command.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from assistant.workspace.service import Workspace
from tests.pg_server import PostgresServer, unavailable
from tests.test_store import make_figures, make_report_draft, make_section, make_spec

ROOT = Path(__file__).resolve().parent.parent

_WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from tests.test_store import make_section
    from assistant.workspace.service import Workspace
    ws = Workspace.open(sys.argv[1])
    start = float(sys.argv[3])
    while time.time() < start:
        time.sleep(0.001)
    for i in range(int(sys.argv[4])):
        ws.add_version(sys.argv[2], make_section("1.2", text=f"[{{sys.argv[5]}}-{{i}}]第二版正文。"), author="hand")
""")


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def measure(target: str | Path, saves: int, tmp: Path) -> dict[str, str]:
    ws = Workspace.open(target)
    rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    ws.close()
    opens = []
    for _ in range(20):
        t = time.perf_counter()
        Workspace.open(target).close()
        opens.append(time.perf_counter() - t)
    ws = Workspace.open(target)
    save_times, read_times = [], []
    for i in range(saves):
        section = make_section("1.1", text=f"全年召开新闻发布会12次。第{i}次修改。")
        t = time.perf_counter()
        ws.add_version(rid, section, author="hand")
        save_times.append(time.perf_counter() - t)
    for _ in range(50):
        t = time.perf_counter()
        ws.current(rid)
        read_times.append(time.perf_counter() - t)
    ws.close()
    script = tmp / "writer.py"
    script.write_text(_WRITER.format(root=str(ROOT)), encoding="utf-8")
    each = saves // 2
    start = time.time() + 3.0  # both processes start writing at this moment
    procs = [
        subprocess.Popen([sys.executable, str(script), str(target), rid, str(start), str(each), tag])
        for tag in ("a", "b")
    ]
    for p in procs:
        assert p.wait(timeout=600) == 0
    elapsed = time.time() - start
    ws = Workspace.open(target)
    numbers = [h.version for h in ws.history(rid, "1.2")]
    ws.close()
    intact = numbers == list(range(1, 2 * each + 2))
    return {
        "open": f"{_median_ms(opens):.1f} ms",
        "save": f"{_median_ms(save_times):.1f} ms",
        "save_p95": f"{sorted(save_times)[int(len(save_times) * 0.95)] * 1000:.1f} ms",
        "read": f"{_median_ms(read_times):.1f} ms",
        "two_writers": f"{2 * each / elapsed:.0f} 版/秒，版本号 {'连续无重复' if intact else '有缺漏或重复'}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--saves", type=int, default=200)
    args = parser.parse_args()
    why = unavailable()
    if why:
        sys.exit(why)
    server = PostgresServer(durable=True).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = {
                "SQLite（WAL，synchronous=FULL）": measure(Path(tmp) / "ws.sqlite3", args.saves, Path(tmp)),
                "PostgreSQL（本机回环，fsync 开）": measure(server.new_database(), args.saves, Path(tmp)),
            }
    finally:
        server.stop()
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"保存 {args.saves} 个版本；1 分钟负载 {load}")
    print("| 工作区 | 打开（已是最新） | 保存一版 中位数 / p95 | 读取整份汇报 | 两个进程同时保存 |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['open']} | {r['save']} / {r['save_p95']} | {r['read']} | {r['two_writers']} |")


if __name__ == "__main__":
    main()
