"""The page stays on the machine and speaks Chinese, in real headless Chromium.

The server is started the way a user starts it, `huibao ui`, from another folder and with no
address given, under the same network guard as the tests (tests/netguard/sitecustomize.py), so
a connection anywhere but loopback is refused and written down. The browser records every
request of every page. Screenshots of every page at 1024 and 1440 px wide go to test-artifacts/.

Run: .venv/bin/python -m pytest tests/test_browser_local.py -m browser
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from assistant.core.settings import Settings
from assistant.workspace.service import Workspace
from tests.network_guard import LOG_VARIABLE, is_loopback
from tests.test_browser import (
    ARTIFACTS,
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    START_TIMEOUT_S,
    UI_TIMEOUT_MS,
    free_port,
    settle,
    wait_for_health,
)

ROOT = Path(__file__).resolve().parent.parent
GUARD = ROOT / "tests" / "netguard"

pytestmark = BROWSER_MARKS

PAGES = {
    "reports": "/",
    "sections": "/sections",
    "figures": "/figures",
    "chat": "/chat",
    "knowledge": "/knowledge",
    "export": "/export",
    "settings": "/settings",
}
WIDTHS = (1024, 1440)

# Latin words the page may show: names of formats, products and the tool itself. Everything else
# Latin must be user data (figure ids, section ids, file names) or a model name.
NAMES = {
    "CSV", "XLSX", "Excel", "YAML", "YML", "Word", "WPS", "Markdown", "PDF", "DOCX", "TXT", "MD", "csv", "xlsx", "yaml", "yml",
    "docx", "pdf", "txt", "md", "OpenAI", "vLLM", "Ollama", "Xinference", "DeepSeek", "API", "Key", "Base", "URL",
    "KB", "MB", "GB", "huibao", "Tab", "Ctrl", "Enter", "USE", "E5",
}  # fmt: skip


def user_words(data_dir: Path) -> set[str]:
    """Latin words of the user's own data: report ids, the sample report's figure and section ids,
    the sample knowledge base's file names, the settings' names of models and collections."""
    ws = Workspace.open(data_dir / "workspace.sqlite3")
    words = {report.id for report in ws.reports()}
    with (ROOT / "examples" / "figures.csv").open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            words.add(row["id"])
    spec = (ROOT / "examples" / "report-spec.yaml").read_text(encoding="utf-8")
    words |= set(re.findall(r"id:\s*\"?([A-Za-z_][\w-]*)", spec))
    for path in (ROOT / "knowledge").rglob("*"):
        words |= set(re.findall(r"[A-Za-z][\w-]*", path.name))
    settings = Settings()
    words |= {settings.model, settings.tokenizer, settings.collection, settings.embedding_model}
    return words


def english_on_screen(texts: list[str], allowed: set[str]) -> set[str]:
    found = set()
    for text in texts:
        text = re.sub(r"https?://\S+", " ", text)  # an address typed or shown as an example
        for word in re.findall(r"[A-Za-z0-9][A-Za-z0-9_.\-/]*", text):
            word = word.rstrip(".-/")
            if not re.search(r"[A-Za-z]{2,}", word):  # 2026, 1.2, v3, F01
                continue
            if word in allowed or re.fullmatch(r"[\w.\-]+\.(csv|xlsx|yaml|yml|md|txt|docx|pdf|json)", word):
                continue
            if "/" in word:  # a path (the data folder on 设置)
                continue
            found.add(word)
    return found


# Text nodes a user can see: laid out, not hidden, not an icon's ligature name.
VISIBLE_TEXT_JS = """
(root) => {
  root = root || document.body;
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || !node.nodeValue.trim()) continue;
    if (el.closest("[data-testid='stIconMaterial'], script, style, noscript, [translate='no']")) continue;
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;
    out.push(node.nodeValue);
  }
  for (const el of root.querySelectorAll("[placeholder]")) {
    if (el.checkVisibility()) out.push(el.getAttribute("placeholder"));
  }
  return out;
}
"""

# What does not fit at this width: a button whose label overflows, a table wider than its box,
# a page that scrolls sideways.
CUT_JS = """
() => {
  const cut = [];
  const overflows = (el) => el.scrollWidth > el.clientWidth + 1;
  for (const button of document.querySelectorAll("button")) {
    if (!button.checkVisibility() || !button.innerText.trim()) continue;
    for (const el of [button, ...button.querySelectorAll("p, span, div")]) {
      if (el.clientWidth && overflows(el)) { cut.push("button: " + button.innerText.trim()); break; }
    }
  }
  for (const table of document.querySelectorAll("[data-testid='stTable'], [data-testid='stDataFrame']")) {
    if (!table.checkVisibility()) continue;
    const box = table.parentElement.getBoundingClientRect();
    const r = table.getBoundingClientRect();
    if (r.right > box.right + 1) cut.push("table wider than its column: " + table.innerText.slice(0, 40));
    for (const scroller of table.querySelectorAll(".dvn-scroller, table")) {
      if (scroller.tagName !== "TABLE" && overflows(scroller)) cut.push("grid scrolls sideways: " + table.innerText.slice(0, 40));
      if (scroller.tagName === "TABLE" && scroller.getBoundingClientRect().right > r.right + 1) {
        cut.push("table cut: " + table.innerText.slice(0, 40));
      }
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) cut.push("page scrolls sideways");
  return cut;
}
"""


@pytest.fixture
def local_ui(tmp_path):
    """`huibao ui` as a user runs it (another folder, no --host), under the network guard."""
    guard_log = tmp_path / "refused-connections.log"
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HUIBAO_", "STREAMLIT_"))}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(GUARD), str(ROOT)]),
            LOG_VARIABLE: str(guard_log),
            "HUIBAO_DATA_DIR": str(tmp_path / "data"),
            "HUIBAO_CONFIG": str(tmp_path / "none.toml"),
        }
    )
    port = free_port()
    log = open(tmp_path / "ui.log", "w")
    app = subprocess.Popen(
        [sys.executable, "-m", "assistant.commands.main", "ui", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_health(port, app, START_TIMEOUT_S)
        yield f"http://127.0.0.1:{port}", tmp_path, guard_log
    finally:
        app.terminate()
        try:
            app.wait(timeout=10)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()


def open_page(page, url: str) -> None:
    """Go to a page and wait until its run has finished and the page's script is in."""
    page.goto(url)
    page.locator("[data-testid='stSidebarNav']").wait_for()
    settle(page)
    page.wait_for_function("() => window.__huibaoChinese === true")


def _listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP socket listens on at this port (from /proc/net/tcp and tcp6)."""
    found = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address if len(address) == width else "?")
    return found


def test_nothing_leaves_the_machine_and_every_page_is_chinese(local_ui):
    from playwright.sync_api import expect, sync_playwright

    base, tmp, guard_log = local_ui
    port = urlsplit(base).port
    assert port is not None
    # loopback only: 127.0.0.1 is 0100007F in /proc/net/tcp; nothing on 0.0.0.0 or ::
    assert _listening_addresses(port) == {"0100007F"}, _listening_addresses(port)

    requests: list[str] = []
    english: dict[str, set[str]] = {}
    cut: dict[str, list[str]] = {}
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1000},
            locale="zh-CN",
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        page.on("websocket", lambda ws: requests.append(ws.url))

        # Some content on every page first: a drafted report and an uploaded figures file.
        open_page(page, base + "/sections")
        page.get_by_role("button", name="起草全文").click()
        status = page.locator("[data-testid='stStatusWidget']")
        if status.count():  # the "Running…" status while the run lasts
            assert not re.search(r"[A-Za-z]{3,}", status.first.inner_text())
        page.get_by_text(re.compile("全文已起草")).wait_for()
        settle(page)
        open_page(page, base + "/figures")
        uploader = page.locator("[data-testid='stFileUploader']").first
        uploader.get_by_role("button", name="选择文件").wait_for()
        expect(uploader.get_by_text(re.compile(r"单个文件不超过 20 MB · 可选：CSV"))).to_be_visible()
        assert not english_on_screen(uploader.evaluate(VISIBLE_TEXT_JS), NAMES)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "page-1440-figures-uploader.png"))
        uploader.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            str(ROOT / "examples" / "figures.csv")
        )
        page.get_by_text("figures.csv").first.wait_for()
        expect(uploader.get_by_role("button", name="移除 figures.csv")).to_be_visible()

        allowed = NAMES | user_words(tmp / "data")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 1000})
            for name, path in PAGES.items():
                open_page(page, base + path)
                words = english_on_screen(page.evaluate(VISIBLE_TEXT_JS), allowed)
                if words:
                    english[f"{name}@{width}"] = words
                if width == 1024:
                    problems = page.evaluate(CUT_JS)
                    if problems:
                        cut[name] = problems
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"page-{width}-{name}.png"), full_page=True)

        # The app menu (toolbarMode minimal): no menu, no deploy button, nothing English up there.
        expect(page.locator("[data-testid='stMainMenu'], [data-testid='stAppDeployButton']")).to_have_count(0)
        assert not english_on_screen(page.locator("[data-testid='stHeader']").evaluate(VISIBLE_TEXT_JS), NAMES)

        # An unknown address: the dialog says so in Chinese and the first page opens.
        page.goto(base + "/no-such-page")
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("没有")
        assert not english_on_screen(dialog.evaluate(VISIBLE_TEXT_JS), allowed), dialog.inner_text()
        page.screenshot(path=str(ARTIFACTS / "page-1440-not-found.png"))
        dialog.get_by_role("button", name="关闭").click()
        page.get_by_text("已保存的报告").wait_for()

        # The model settings form (a typed key, the connection test) keeps to loopback too.
        open_page(page, base + "/settings")
        page.get_by_label("服务地址（Base URL）").fill("http://127.0.0.1:9/v1")
        page.get_by_role("button", name="测试连接").click()
        page.locator("[data-testid='stAlert']").last.wait_for()
        settle(page)
        context.close()

    assert not english, f"English on screen: {english}"
    assert not cut, f"cut at 1024 px: {cut}"
    outside = sorted({u for u in requests if not _is_local(u)})
    assert not outside, f"the browser asked for {outside}"
    assert requests and all(_is_local(u) for u in requests)
    assert not guard_log.exists(), f"the server tried to reach {guard_log.read_text()}"
    for width in WIDTHS:
        for name in PAGES:
            assert (ARTIFACTS / f"page-{width}-{name}.png").stat().st_size > 10_000


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = parts.hostname or ""
    return is_loopback((host, parts.port or 0))
