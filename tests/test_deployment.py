"""The office deployment the README describes ("部署"), on one machine: the workspace on PostgreSQL
(HUIBAO_DATABASE_URL), the knowledge base on a Chroma server bound to loopback, and two app
processes (`huibao ui`) as two hosts behind a proxy would run them, each with its own data folder
(its own BM25 index), accounts on, the first host's session.key copied to the second. A person
signs in on one, drafts the report there, and reads it on the other without signing in again
(cookies ignore the port, as they would ignore which host the proxy picked); the draft cites
passages the Chroma server returned; behind the HTTPS proxy the session cookie is Secure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from assistant.workspace.service import Workspace
from tests.test_browser import (
    BROWSER_MARKS,
    DRAFT_TIMEOUT_MS,
    ROOT,
    browser,
    free_port,
    open_report_id,
    run_app,
    section_texts,
    settle,
)

pytestmark = BROWSER_MARKS

TITLE = "禾川市人大常委会办公室2026年度宣传工作汇报"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the 303 after signing in is the answer itself
        return None


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
        admin = subprocess.run(
            [sys.executable, "-m", "assistant.commands.main", "user", "add", "王主任", "--role", "admin"],
            cwd=ROOT,
            env=hosts["a"],
            input="部署测试的密码\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert admin.returncode == 0, admin.stdout + admin.stderr
        with run_app(tmp_path / "a", hosts["a"]) as base_a:
            # The proxy terminates HTTPS and says so (X-Forwarded-Proto, trusted from 127.0.0.1 by
            # default, FORWARDED_ALLOW_IPS otherwise): the session cookie is then Secure.
            request = urllib.request.Request(
                f"{base_a}/huibao/signin",
                data=urllib.parse.urlencode({"name": "王主任", "password": "部署测试的密码"}).encode(),
                headers={"X-Forwarded-Proto": "https", "Content-Type": "application/x-www-form-urlencoded"},
            )
            with pytest.raises(urllib.error.HTTPError) as answer:  # the 303 to the page, not followed
                urllib.request.build_opener(_NoRedirect()).open(request, timeout=30)
            assert answer.value.code == 303
            cookie = answer.value.headers["set-cookie"]
            assert cookie.startswith("huibao_session=") and "Secure" in cookie and "HttpOnly" in cookie
            # the second host signs cookies with the first one's key (README: copy session.key)
            (tmp_path / "b" / "data").mkdir(parents=True)
            shutil.copy2(tmp_path / "a" / "data" / "session.key", tmp_path / "b" / "data" / "session.key")
            with run_app(tmp_path / "b", hosts["b"]) as base_b, browser(tmp_path / "a") as page:
                page.goto(base_a)
                page.locator("input[name=name]").fill("王主任")
                page.locator("input[name=password]").fill("部署测试的密码")
                page.get_by_role("button", name="登录").click()
                page.get_by_text("已保存的报告").wait_for()
                # with accounts on there is no sample report: a new one from the template, in the page
                page.get_by_label("标题", exact=True).fill(TITLE)
                page.get_by_label("单位", exact=True).fill("禾川市人大常委会办公室")
                page.get_by_label(re.compile("主要工作要点")).fill("新闻发布会和网络直播\n新媒体宣传")
                page.get_by_role("button", name="新建").click()
                page.get_by_text(re.compile("已新建报告")).wait_for()  # on the 提纲 page
                settle(page)
                page.get_by_role("link", name="章节").click()
                page.get_by_role("button", name="起草全文").click()
                page.get_by_text(re.compile("全文已起草")).wait_for(timeout=DRAFT_TIMEOUT_MS)
                settle(page)
                drafted = section_texts(page)
                report_id = open_report_id(page)
                assert drafted["1_1"] and drafted["1_1"] != "（尚无正文）"

                page.goto(base_b)  # the other host: same person, no second sign-in
                page.get_by_text("已保存的报告").wait_for()
                settle(page)
                assert page.get_by_text(TITLE).count() >= 1
                page.get_by_role("link", name="章节").click()
                page.locator(".st-key-section-1_1 .hb-text").first.wait_for()  # the page has run
                settle(page)
                assert open_report_id(page) == report_id
                assert section_texts(page) == drafted

        ws = Workspace.open(database)
        assert [r.id for r in ws.reports()] == [report_id]
        cited = [p.source for sec in ws.current(report_id).sections for p in sec.provenance.passages]
        assert cited, "the offline draft cites no passage: the Chroma server was not used"
        ws.close()
        # each host keeps its own keyword index in its data folder; the workspace is in neither
        assert not list((tmp_path / "a" / "data").glob("workspace.sqlite3*"))
        assert not list((tmp_path / "b" / "data").glob("workspace.sqlite3*"))
    finally:
        chroma.terminate()
        chroma.wait(timeout=30)
