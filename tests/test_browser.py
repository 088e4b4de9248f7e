"""End to end in real headless Chromium: `huibao ui` against the local fake
OpenAI server, driven with Playwright. Screenshots of the main views go to test-artifacts/.

Run: .venv/bin/python -m pytest tests/test_browser.py -m browser
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from assistant.core.settings import get_settings
from assistant.ui import actions
from assistant.workspace.service import Workspace
from tests.test_store import snapshot_state

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 60
UI_TIMEOUT_MS = 60_000
DRAFT_TIMEOUT_MS = 3 * UI_TIMEOUT_MS  # drafting every section on a loaded 2-core machine

# every browser test file's marks (`pytestmark = BROWSER_MARKS`)
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (scripts/system-deps.sh)"),
]
pytestmark = BROWSER_MARKS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_line(proc: subprocess.Popen, pattern: str, timeout: float) -> re.Match:
    """Read the child's stdout until a line matches (blocking reads; the child is killed on timeout)."""
    import threading

    found: list[re.Match] = []
    done = threading.Event()

    def reader() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            m = re.search(pattern, line)
            if m:
                found.append(m)
                done.set()
                return
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    if not done.wait(timeout) or not found:
        proc.kill()
        raise AssertionError(f"child did not print {pattern!r} within {timeout} s")
    return found[0]


def wait_for_health(port: int, proc: subprocess.Popen, timeout: float) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        # A blocking wait on the process doubles as the poll interval (no bare sleep).
        try:
            proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    raise AssertionError(f"streamlit did not answer /_stcore/health within {timeout} s")


@pytest.fixture
def servers(tmp_path):
    """The fake model server and the app, both on loopback, data in tmp."""
    with start_servers(tmp_path) as started:
        yield started


@contextlib.contextmanager
def start_servers(tmp_path: Path, *fake_args: str):
    """`servers`, the fake model server started with ``fake_args`` (e.g. --chunk-delay 0.2)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HUIBAO_"))}
    fake = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "assistant.testing.openai_server",
            "--port",
            "0",
            "--responder",
            "clean",
            *fake_args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = wait_for_line(fake, r"listening on (\S+)", START_TIMEOUT_S).group(1)
        app_env = {
            **env,
            "HUIBAO_DATA_DIR": str(tmp_path / "data"),
            "HUIBAO_CONFIG": str(tmp_path / "none.toml"),
            "OPENAI_BASE_URL": url,
            "OPENAI_API_KEY": "test-key",
            "HUIBAO_MODEL": "fake-model",
            "ANONYMIZED_TELEMETRY": "False",
        }
        with run_app(tmp_path, app_env) as base:
            yield base, tmp_path
    finally:
        fake.terminate()
        fake.wait(timeout=10)


@contextlib.contextmanager
def run_app(tmp_path: Path, env: dict[str, str]):
    """`huibao ui` as a user starts it (no address given), under the tests' network guard, its
    output in tmp/streamlit.log and its pid in tmp/app.pid; yields the page's address."""
    env = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "netguard"), str(ROOT)])}
    port = free_port()
    with open(tmp_path / "streamlit.log", "w") as log:
        app = subprocess.Popen(
            [sys.executable, "-m", "assistant.commands.main", "ui", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        (tmp_path / "app.pid").write_text(str(app.pid))
        try:
            wait_for_health(port, app, START_TIMEOUT_S)
            yield f"http://127.0.0.1:{port}"
        finally:
            app.terminate()
            try:
                app.wait(timeout=10)
            except subprocess.TimeoutExpired:
                app.kill()


def section_texts(page) -> dict[str, str]:
    """Section id -> its marked text as shown."""
    out = {}
    for box in page.locator("[class*='st-key-section-']").all():
        key = re.search(r"st-key-section-(\S+)", box.get_attribute("class") or "").group(1)
        text = box.locator(".hb-text")
        out[key] = text.first.inner_text() if text.count() else ""
    return out


def settle(page) -> None:
    """Wait until the script run has finished: until then Streamlit may still show elements of
    the previous run below the point the new run has reached."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")


def shot(page, name: str) -> None:
    settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_workspace_end_to_end(servers):
    from playwright.sync_api import expect, sync_playwright

    base, tmp = servers
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1600},
            accept_downloads=True,
            locale="zh-CN",
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()

        # 1. first start: the sample report exists; the model from the environment is in use
        page.goto(base)
        page.get_by_text("已保存的报告").wait_for()
        expect(page.get_by_text("禾川市人大常委会办公室2026年度宣传思想文化工作汇报").first).to_be_visible()
        expect(page.get_by_text("模型：fake-model")).to_be_visible()
        shot(page, "01-reports")

        # 1b. bring the sample knowledge base in (knowledge/), so drafts cite passages
        page.get_by_role("link", name="素材库").click()
        page.get_by_role("button", name=re.compile("同步示例素材目录")).click()
        page.get_by_text(re.compile("导入完成")).wait_for()
        page.get_by_text(re.compile(r"已导入的文件（\d+ 个）")).wait_for()
        shot(page, "08-knowledge")

        # 2. draft the whole report
        page.get_by_role("link", name="章节").click()
        page.get_by_role("button", name="起草全文").click()
        page.get_by_text(re.compile("全文已起草（模型）")).wait_for(timeout=DRAFT_TIMEOUT_MS)
        page.locator(".hb-text").first.wait_for()
        expect(page.locator(".hb-grounded").first).to_be_visible()
        settle(page)
        before = section_texts(page)
        assert before["1_2"] and before["1_1"]
        shot(page, "02-sections-drafted")

        # 2b. a number's provenance: its title on hover; on click, the popover the stylesheet draws
        number = page.locator(".hb-text .hb-grounded").first
        assert (number.get_attribute("title") or "").startswith("数据 ")
        number.click()
        popover = number.evaluate("el => getComputedStyle(el, '::after').content")  # a CSS string: "…\\a …"
        assert popover.strip('"').replace("\\a ", "\n") == number.get_attribute("data-tip")
        assert popover.startswith('"数据 ')
        shot(page, "02b-number-provenance")

        # 3. regenerate one section with an instruction: only that section changes
        box = page.locator(".st-key-section-1_2")
        box.get_by_text("修改 · 历史 · 参考素材").click()
        box.get_by_label("修改要求（可不填）").fill("更精炼")
        box.get_by_label("修改要求（可不填）").press("Enter")
        settle(page)  # Enter reruns the page: a click during that run can be lost (seen under load)
        box.get_by_role("button", name="重新起草", exact=True).click()
        page.get_by_text("章节 1.2 已重新起草（要求：更精炼）").wait_for()
        expect(box.get_by_text(re.compile(r"第 2 版，共 2 版"))).to_be_visible()
        settle(page)
        after = section_texts(page)
        assert after["1_2"] and after["1_2"] != "（尚无正文）"
        assert {k: v for k, v in after.items() if k != "1_2"} == {k: v for k, v in before.items() if k != "1_2"}
        for other in ("1_1", "1_3", "intro"):
            expect(
                page.locator(f".st-key-section-{other}").get_by_text(re.compile(r"第 1 版，共 1 版"))
            ).to_be_visible()
        box.get_by_role("tab", name="参考素材").click()
        box.locator(".hb-passage").first.wait_for()
        shot(page, "03a-section-sources")
        box.get_by_role("tab", name="历史版本").click()
        box.get_by_text(re.compile("要求：更精炼")).first.wait_for()
        shot(page, "03-section-regenerated")

        # 4. change figures by importing a CSV (新闻发布会 11 -> 12, 专题片 4 -> 5): 1.2 becomes stale.
        # (Cell edits in st.data_editor are covered by tests/test_app.py: the grid is a canvas
        # and typing into it from Playwright proved unreliable.)
        page.get_by_role("link", name="数据").click()
        page.get_by_text("从文件导入").wait_for()
        settle(page)
        rows = list(csv.DictReader(io.StringIO((ROOT / "examples" / "figures.csv").read_text(encoding="utf-8-sig"))))
        for row in rows:
            if row["id"] == "press_conf":
                row["value"] = "12"
            if row["id"] == "documentaries":
                row["value"] = "5"
        changed = tmp / "figures-changed.csv"
        with changed.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(changed))
        page.get_by_role("button", name="导入", exact=True).click()
        page.get_by_text(re.compile("已从 figures-changed.csv 导入数据")).wait_for()
        page.get_by_text("待更新的章节").wait_for()
        expect(page.get_by_text(re.compile(r"新闻发布会」由 11次 改为 12次"))).to_be_visible()
        expect(page.get_by_text(re.compile(r"专题片」由 4部 改为 5部"))).to_be_visible()
        shot(page, "04-figures-stale")
        # the CSV is written when the button is clicked (a deferred download), not on every rerun
        with page.expect_download() as info:
            page.get_by_role("button", name="下载 CSV").click()
        exported = info.value.path().read_text(encoding="utf-8-sig")
        assert info.value.suggested_filename.endswith(".csv") and "press_conf" in exported and "12" in exported
        page.get_by_role("link", name="章节").click()
        page.get_by_text(re.compile(r"以下 1 个章节待更新")).wait_for()
        expect(page.locator(".st-key-section-1_2").get_by_text(re.compile("数据已变更，本节待更新"))).to_be_visible()
        shot(page, "05-sections-stale")

        # 4b. redraft the stale section from the figures page: the 章节 page runs it and shows it
        page.get_by_role("link", name="数据").click()
        page.get_by_role("button", name=re.compile("重新起草这些章节")).click()
        page.get_by_text(re.compile("确认重新起草待更新的章节？")).wait_for()  # it asks first
        page.get_by_role("button", name="确认重新起草待更新的章节").click()
        page.get_by_text("已重新起草 1 个待更新章节。").wait_for()
        settle(page)
        expect(page.get_by_text(re.compile(r"以下 \d+ 个章节待更新"))).to_have_count(0)
        expect(page.locator(".st-key-section-1_2").get_by_text(re.compile(r"第 3 版，共 3 版"))).to_be_visible()
        shot(page, "05b-sections-redrafted")

        # 5. chat (the fake model answers in prose)
        page.get_by_role("link", name="对话").click()
        page.get_by_placeholder(re.compile("输入要求")).fill("1.2 节写得怎么样？")
        page.get_by_placeholder(re.compile("输入要求")).press("Enter")
        page.locator("[data-testid='stChatMessage']").nth(1).wait_for()
        shot(page, "06-chat")

        # 6. download the .docx
        page.get_by_role("link", name="导出").click()
        with page.expect_download() as info:
            page.get_by_role("button", name="下载 Word（.docx）").click()
        target = ARTIFACTS / "report.docx"
        ARTIFACTS.mkdir(exist_ok=True)
        info.value.save_as(str(target))
        assert info.value.suggested_filename.endswith(".docx")
        document = zipfile.ZipFile(target).read("word/document.xml").decode("utf-8")
        assert "禾川市人大常委会办公室" in document
        shot(page, "07-export")

        # 7. the other views
        page.get_by_role("link", name="素材库").click()
        page.get_by_label("输入关键词或问题").fill("新媒体 留言回复")
        page.get_by_label("输入关键词或问题").press("Enter")
        page.locator(".hb-passage").first.wait_for()
        shot(page, "08b-knowledge-search")
        page.get_by_role("link", name="设置").click()
        page.get_by_text("当前使用的设置").wait_for()
        assert "test-key" not in page.content()
        shot(page, "09-settings")
        context.close()


# --- reports by id, no silent overwrites ----------------------------------------------------------


@contextlib.contextmanager
def browser(tmp: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1600},
            locale="zh-CN",
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()
        try:
            yield page
        except BaseException:
            _show_failure(page, tmp)
            raise
        finally:
            context.close()


def _show_failure(page, tmp: Path) -> None:
    """What the page showed and what the app logged when a browser test fails (pytest prints a
    failing test's output): a timeout otherwise says only what it was waiting for."""
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
        print("---- page text at failure ----\n" + page.inner_text("body")[-3000:])
    except Exception as err:  # the page itself may be gone
        print(f"(page not readable: {err})")
    log = tmp / "streamlit.log"
    pid = tmp / "app.pid"
    if pid.exists():  # the app's threads' stacks into its log (huibao ui registers SIGUSR1)
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid.read_text()), signal.SIGUSR1)
            time.sleep(1)
    if log.exists():
        print("---- app log (tail) ----\n" + log.read_text(encoding="utf-8", errors="replace")[-3000:])


def drafted_sample(copies: int = 1) -> tuple[Workspace, list[str]]:
    """The sample report saved ``copies`` times (same title), each drafted offline, oldest first.
    Written by this process into the workspace file the page serves."""
    settings = get_settings()
    ws = Workspace.open(settings.workspace_path)
    inputs = actions.sample_inputs()
    assert inputs is not None
    ids = []
    for _ in range(copies):
        rid = ws.create_report(*inputs)
        actions.draft_all(ws, rid, settings, None)
        ids.append(rid)
    return ws, ids


def open_report_id(page) -> str:
    """The report id the 章节 page says it shows, once the run has finished."""
    settle(page)
    caption = page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']", has_text="报告编号")
    return re.search(r"报告编号 (\S+)", caption.first.inner_text()).group(1)


def open_tools(page, section_id: str):
    box = page.locator(f".st-key-section-{section_id.replace('.', '_')}")
    box.get_by_text("修改 · 历史 · 参考素材").click()
    settle(page)  # opening the tools reruns the page: a click during that run can be lost
    return box


def test_same_title_reports_regenerating_the_older_one_changes_only_it(servers):
    from playwright.sync_api import expect

    base, tmp = servers
    ws, (older, newer) = drafted_sample(copies=2)
    newer_before = snapshot_state(ws, newer)
    with browser(tmp) as page:
        page.goto(base)
        page.get_by_text("已保存的报告").wait_for()
        for rid in (older, newer):  # one title, two rows, each with its id
            expect(page.locator(f".st-key-report-{rid}").get_by_text(f"编号 {rid}")).to_be_visible()
        page.locator(f".st-key-report-{older}").get_by_role("button", name="打开").click()
        page.locator(".st-key-section-1_2").wait_for()
        assert open_report_id(page) == older
        # a rerun (opening another section's tools) keeps the report that was opened
        open_tools(page, "1.1")
        assert open_report_id(page) == older
        picker = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")
        assert f"· {older} ·" in (picker.inner_text() + (picker.locator("input").first.input_value() or ""))
        box = open_tools(page, "1.2")
        box.get_by_role("button", name="重新起草", exact=True).click()
        page.get_by_text("章节 1.2 已重新起草").wait_for()
        settle(page)
        shot(page, "10-same-title-regenerated")
        assert [v.version for v in ws.history(older, "1.2")] == [1, 2]
        assert snapshot_state(ws, newer) == newer_before
        # delete the newer one into the 回收站, then restore it: nothing lost
        page.get_by_role("link", name="报告").click()
        page.locator(f".st-key-report-{newer}").get_by_role("button", name="删除").click()
        page.locator(f".st-key-trash-{newer}").get_by_role("button", name="恢复").wait_for()
        assert [r.id for r in ws.reports()] == [older]
        settle(page)
        shot(page, "14-reports-trash")
        page.locator(f".st-key-trash-{newer}").get_by_role("button", name="恢复").click()
        page.locator(f".st-key-report-{newer}").wait_for()
    assert {r.id for r in ws.reports()} == {older, newer} and snapshot_state(ws, newer) == newer_before


def test_redraft_all_asks_keeps_the_hand_edit_and_undoes_in_one_click(servers):
    from playwright.sync_api import expect

    base, tmp = servers
    ws, (rid,) = drafted_sample()
    ws.edit(rid, "1.2", "手工修改：全年召开新闻发布会11次。")
    before = {s.section_id: s.text for s in ws.current(rid).sections}
    state = snapshot_state(ws, rid)
    with browser(tmp) as page:
        page.goto(base)
        page.get_by_role("link", name="章节").click()
        page.get_by_role("button", name="重新起草全文", exact=True).click()
        page.get_by_text(re.compile("确认重新起草全文？")).wait_for()
        edited = page.get_by_role("checkbox", name=re.compile(r"^1\.2 .*手工修改过"))
        expect(edited).not_to_be_checked()
        settle(page)
        shot(page, "11-redraft-all-confirm")
        assert snapshot_state(ws, rid) == state  # asking saved nothing
        page.get_by_role("button", name="确认重新起草全文").click()
        page.get_by_text(re.compile("全文已重新起草")).wait_for()
        settle(page)
        assert ws.section(rid, "1.2").text == before["1.2"]  # the edit is kept
        assert ws.current_version(rid, "1.1") == 2
        expect(page.locator(".st-key-section-1_2").get_by_text("手工修改：全年召开新闻发布会")).to_be_visible()
        page.get_by_role("button", name="撤销重新起草全文").click()
        page.get_by_text(re.compile("已撤销：章节")).wait_for()
        settle(page)
        shot(page, "12-redraft-all-undone")
        expect(page.get_by_role("button", name="撤销重新起草全文")).to_have_count(0)
    assert {s.section_id: s.text for s in ws.current(rid).sections} == before
    assert [v.author for v in ws.history(rid, "1.1")][-1] == "revert"  # undone as a new version


def test_saving_over_a_version_saved_meanwhile_asks_and_shows_the_diff(servers):
    from playwright.sync_api import expect

    base, tmp = servers
    ws, (rid,) = drafted_sample()
    with browser(tmp) as page:
        page.goto(base)
        page.get_by_role("link", name="章节").click()
        box = open_tools(page, "1.2")
        box.get_by_role("tab", name="手工修改").click()
        area = box.get_by_label("正文")
        area.fill("我的修改：全年召开新闻发布会11次，效果明显。")
        area.press("Control+Enter")
        settle(page)
        ws.edit(rid, "1.2", "同事的修改：全年召开新闻发布会11次。")  # someone else saves meanwhile
        box.get_by_role("button", name="保存修改").click()
        panel = page.locator(".st-key-conflict-1_2")
        panel.get_by_text(re.compile("已有人保存了第 2 版")).wait_for()
        expect(panel.locator(".hb-diff del").first).to_be_visible()
        expect(panel.locator(".hb-diff ins").first).to_be_visible()
        assert "同事" in panel.locator(".hb-diff").inner_text()
        settle(page)
        shot(page, "13-edit-conflict")
        assert ws.section(rid, "1.2").text == "同事的修改：全年召开新闻发布会11次。"  # nothing overwritten
        panel.get_by_role("button", name="仍然保存").click()
        page.get_by_text("章节 1.2 的修改已保存为第 3 版。").wait_for()
        settle(page)
        expect(page.locator(".st-key-conflict-1_2")).to_have_count(0)
    assert ws.section(rid, "1.2").text == "我的修改：全年召开新闻发布会11次，效果明显。"


def test_the_leaders_marked_up_word_file_comes_back_as_versions_and_comments(servers):
    from docx import Document
    from playwright.sync_api import expect

    base, tmp = servers
    ws, (rid,) = drafted_sample()
    with browser(tmp) as page:
        page.goto(base)
        page.get_by_role("link", name="导出").click()
        with page.expect_download() as info:
            page.get_by_role("button", name="下载 Word（.docx）").click()
        exported = tmp / "汇报.docx"
        info.value.save_as(str(exported))

        # the leader edits one sentence of 1.2 and comments on 1.1, in Word
        doc = Document(str(exported))
        first12 = ws.section(rid, "1.2").text.split("\n")[0][:10]
        para = next(p for p in doc.paragraphs if p.text.startswith(first12))
        text = para.text
        for run in para.runs[1:]:
            run._r.getparent().remove(run._r)
        para.runs[0].text = text.replace("。", "，群众反响良好。", 1)
        first11 = ws.section(rid, "1.1").text.split("\n")[0][:10]
        commented = next(p for p in doc.paragraphs if p.text.startswith(first11))
        doc.add_comment(commented.runs[0], text="第一句再精炼些", author="王主任")
        edited = tmp / "审阅稿.docx"
        doc.save(str(edited))
        before = {s: len(ws.history(rid, s)) for s in ("intro", "1.1", "1.2", "2", "3", "closing")}

        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(edited))
        page.get_by_text(re.compile(r"章节 1\.2 .*有修改")).wait_for()
        expect(page.get_by_text(re.compile("批注（章节 1.1，王主任）：第一句再精炼些"))).to_be_visible()
        settle(page)
        shot(page, "15-import-preview")
        assert {s: len(ws.history(rid, s)) for s in before} == before  # the preview saved nothing
        page.get_by_role("button", name="保存为新版本").click()
        page.get_by_text(re.compile("已导入 审阅稿.docx")).wait_for()

        after = {s: len(ws.history(rid, s)) for s in before}
        assert after == {**before, "1.2": before["1.2"] + 1}
        assert "群众反响良好" in ws.section(rid, "1.2").text
        # in the history: the new version, from the Word file, and the comment on its section
        page.get_by_role("link", name="章节").click()
        box = open_tools(page, "1.2")
        box.get_by_role("tab", name="历史版本").click()
        expect(box.get_by_text(re.compile("导入 Word")).first).to_be_attached()  # a cell of the history table
        expect(page.locator(".st-key-section-1_1").get_by_text(re.compile("批注（王主任"))).to_be_visible()
        settle(page)
        shot(page, "16-import-history")


# --- materials: two departments' files, one scanned, into the figures and the draft ---------------


def _ocr_available() -> bool:
    from assistant.core.scan import ocr_available

    return ocr_available()


def _published_paragraph() -> str:
    """A published office summary (evals/materials/paragraphs.yaml m01, with its source there):
    text this project did not write, to be scanned."""
    import yaml

    data = yaml.safe_load((ROOT / "evals" / "materials" / "paragraphs.yaml").read_text(encoding="utf-8"))
    return next(p["text"] for p in data["paragraphs"] if p["id"] == "m01")


@pytest.mark.parametrize(
    "scanned",
    [
        pytest.param(
            True,
            id="scan",
            marks=pytest.mark.skipif(
                not _ocr_available(),
                reason="rapidocr-onnxruntime / opencv-python-headless not installed: the scanned-PDF path needs OCR "
                "(the text-only variant runs the rest of the path)",
            ),
        ),
        pytest.param(
            False,
            id="text-only",
            marks=pytest.mark.skipif(_ocr_available(), reason="OCR is installed: the scan variant runs this path"),
        ),
    ],
)
def test_materials_to_figures_notes_and_a_number_traced_to_its_sentence(servers, scanned):
    from playwright.sync_api import expect

    from assistant.core.figures import Figure
    from assistant.drafting.spec import template_spec
    from evals.materials_quality import render_pages

    base, tmp = servers
    ws = Workspace.open(get_settings().workspace_path)
    spec = template_spec("禾川市政府办公室2024年度工作汇报", "禾川市政府办公室", 2024, {"achievements": ["办文办会"]})
    rid = ws.create_report(
        spec,
        [
            Figure(id="F01", item="制发文件", value=800, unit="份", section="1.1"),
            Figure(id="F02", item="承办各类会议活动", value=150, unit="场次", section="1.1"),
        ],
    )
    typed = tmp / "办公室.txt"
    typed.write_text("全年制发文件840份，办理群众来信45件。\n", encoding="utf-8")
    if scanned:  # the published paragraph rasterised at 150 dpi into an image-only PDF
        second = tmp / "扫描件.pdf"
        pages = render_pages([_published_paragraph()], dpi=150)
        pages[0].save(second, "PDF", resolution=150, save_all=True, append_images=pages[1:])
    else:
        second = tmp / "扫描件.txt"
        second.write_text(_published_paragraph(), encoding="utf-8")
    with browser(tmp) as page:
        page.goto(base)
        page.get_by_role("link", name="素材", exact=True).click()
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files([str(typed), str(second)])
        page.get_by_role("button", name="摘录数据").click()

        # the two files state 制发文件 differently: keep the scanned summary's 837份
        page.get_by_text(re.compile(r"1 组冲突")).wait_for()
        expect(page.get_by_text(re.compile(r"冲突1：制发文件"))).to_be_visible()
        page.get_by_text(re.compile(r"^837份（扫描件")).click()
        settle(page)
        shot(page, "17-materials-conflict")
        page.get_by_role("button", name="把勾选的行加入本汇报的数据").click()
        page.get_by_text(re.compile(r"新增 \d+ 项.*本汇报现有 \d+ 项数据")).wait_for()
        figures = {f.id: f for f in ws.figures(rid)}
        assert figures["F01"].value == 837 and "837" in (figures["F01"].sentence or "")
        assert figures["F01"].source.startswith("扫描件.") and figures["F02"].value == 156
        if scanned:
            assert "文字识别" in figures["F01"].source

        # a section's notes proposed from the material sentences; the ticked one is appended
        page.get_by_role("button", name="为各章节提出要点").click()
        ticked = page.locator(".st-key-materials-note-1_1-0")
        expect(ticked).to_contain_text("837")  # the summary shares the most terms with 1.1
        settle(page)
        sentence = ticked.inner_text().strip()
        ticked.locator("label").click()
        page.get_by_role("button", name="把勾选的句子加入章节要点").click()
        page.get_by_text(re.compile(r"章节 1\.1 加入 1 句")).wait_for()
        assert ws.section_spec(rid, "1.1").notes == "办文办会\n" + sentence

        # draft; the number taken from the scan shows where it came from, to the sentence
        page.get_by_role("link", name="章节").click()
        page.get_by_role("button", name="起草全文").click()
        page.get_by_text(re.compile("全文已起草")).wait_for(timeout=DRAFT_TIMEOUT_MS)  # a whole report: long work
        number = page.locator(".st-key-section-1_1 .hb-text .hb-grounded", has_text="837").first
        number.hover()
        title = number.get_attribute("title") or ""
        assert title.startswith("数据 F01：制发文件") and "\n来源：扫描件." in title and "\n原文：" in title
        number.click()
        popover = number.evaluate("el => getComputedStyle(el, '::after').content")
        assert "原文：" in popover and "837" in popover
        shot(page, "18-materials-number-source")
