"""Worker processes leave ^C to their parent and exit when it is killed (no orphan keeps a model)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PARENT = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from assistant.core.children import init_worker

if __name__ == "__main__":
    initializer = init_worker if sys.argv[1] == "watched" else None
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=initializer)
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state  # a zombie has exited, whoever reaps it


def _worker_after_parent_killed(tmp_path: Path, mode: str, wait_s: float) -> tuple[int, bool]:
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(PARENT), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, str(script), mode], stdout=subprocess.PIPE, text=True, env=env)
    worker = int(parent.stdout.readline())
    if mode == "watched":
        os.kill(worker, signal.SIGINT)  # ^C is the parent's to handle: the worker goes on
        time.sleep(0.5)
        assert _alive(worker)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + wait_s
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return worker, _alive(worker)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_worker_exits_when_its_parent_is_killed(tmp_path):
    worker, alive = _worker_after_parent_killed(tmp_path, "watched", wait_s=20)
    assert not alive
    # a worker without the watch sleeps on (what a killed ingest left behind before)
    worker, alive = _worker_after_parent_killed(tmp_path, "plain", wait_s=2)
    try:
        assert alive
    finally:
        os.kill(worker, 9)
