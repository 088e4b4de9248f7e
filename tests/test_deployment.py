"""The office deployment the README describes ("部署：多台服务器"), on one machine: the workspace on
PostgreSQL (HUIBAO_DATABASE_URL), the knowledge base on a Chroma server bound to loopback, and two
app processes (`huibao ui`) as two hosts behind a proxy would run them, each with its own data
folder (its own BM25 index). A report drafted in the page of one is read in the page of the other,
and the draft cites passages the Chroma server returned."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.workspace.service import Workspace
from tests.test_browser import (
    CHROMIUM,
    DRAFT_TIMEOUT_MS,
    ROOT,
    browser,
    free_port,
    open_report_id,
    run_app,
    section_texts,
    settle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (scripts/system-deps.sh)"),
]

SAMPLE_TITLE = "禾川市人大常委会办公室2026年度宣传思想文化工作汇报"


def start_chroma(folder: Path, port: int, env: dict[str, str]) -> subprocess.Popen:
    """`chroma run` as the README starts it, but on loopback only (the archive needs no wider audience)."""
    chroma = Path(sys.executable).parent / "chroma"
    log = open(folder / "chroma.log", "w")  # noqa: SIM115 (kept open for the server's life)
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(folder / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError((folder / "chroma.log").read_text(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("chroma run did not answer within 60 s")


def test_two_app_processes_share_one_postgres_workspace_and_one_chroma_server(postgres, tmp_path):
    database = postgres.new_database()
    chroma_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HUIBAO_"))}
    env |= {
        "ANONYMIZED_TELEMETRY": "False",
        "HUIBAO_CONFIG": str(tmp_path / "none.toml"),
        "HUIBAO_DATABASE_URL": database,
        "HUIBAO_CHROMA_MODE": "http",
        "HUIBAO_CHROMA_HOST": "127.0.0.1",
        "HUIBAO_CHROMA_PORT": str(chroma_port),
    }
    hosts = {}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        hosts[name] = env | {"HUIBAO_DATA_DIR": str(tmp_path / name / "data")}
    chroma = start_chroma(tmp_path, chroma_port, env)
    try:
        # the archive goes into the Chroma server once, from any host
        ingest = subprocess.run(
            [sys.executable, "-m", "assistant.commands.main", "ingest"],
            cwd=ROOT,
            env=hosts["a"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        with run_app(tmp_path / "a", hosts["a"]) as base_a, run_app(tmp_path / "b", hosts["b"]) as base_b:
            with browser(tmp_path / "a") as page:
                page.goto(base_a)
                page.get_by_text("已保存的报告").wait_for()
                page.get_by_text(SAMPLE_TITLE).first.wait_for()
                page.get_by_role("link", name="章节").click()
                page.get_by_role("button", name="起草全文").click()
                page.get_by_text(re.compile("全文已起草")).wait_for(timeout=DRAFT_TIMEOUT_MS)
                settle(page)
                drafted = section_texts(page)
                report_id = open_report_id(page)
            assert drafted["1_1"] and drafted["1_1"] != "（尚无正文）"

            with browser(tmp_path / "b") as page:
                page.goto(base_b)
                page.get_by_text("已保存的报告").wait_for()
                settle(page)
                # the other host sees the one sample report (not a second one made at its first start)
                assert page.get_by_text(SAMPLE_TITLE).count() == 1
                page.get_by_role("link", name="章节").click()
                assert open_report_id(page) == report_id
                assert section_texts(page) == drafted

        ws = Workspace.open(database)
        assert [r.id for r in ws.reports()] == [report_id]
        cited = ws.section(report_id, "1.1").provenance.passages
        assert cited, "the offline draft cites no passage: the Chroma server was not used"
        ws.close()
        # each host keeps its own keyword index in its data folder; the workspace is in neither
        assert not list((tmp_path / "a" / "data").glob("workspace.sqlite3*"))
        assert not list((tmp_path / "b" / "data").glob("workspace.sqlite3*"))
    finally:
        chroma.terminate()
        chroma.wait(timeout=30)
