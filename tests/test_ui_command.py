"""`huibao ui` starts the page with the product's settings, on loopback, from any folder.

The page itself (started by this command, under the network guard) is tested in
tests/test_browser_local.py."""

from __future__ import annotations

import socket
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from assistant.commands import ui
from assistant.commands.main import app
from assistant.core import resources
from assistant.core.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def _flags(args: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in args if arg.startswith("--"))


def test_the_page_listens_on_loopback_by_default_and_never_looks_up_its_address():
    args = ui.streamlit_args(ui.DEFAULT_HOST, 8501)
    assert args[:2] == ["run", str(resources.server_script())] and Path(args[1]).is_file()
    flags = _flags(args)
    assert flags["server.address"] == "127.0.0.1" and flags["browser.serverAddress"] == "127.0.0.1"
    assert flags["server.headless"] == "true" and flags["browser.gatherUsageStats"] == "false"
    assert flags["client.toolbarMode"] == "minimal" and flags["client.showErrorLinks"] == "false"
    assert ui.is_loopback(ui.DEFAULT_HOST) and not ui.is_loopback("0.0.0.0") and not ui.is_loopback("192.168.1.5")


def test_streamlit_run_in_the_project_folder_uses_the_same_settings():
    """.streamlit/config.toml (read by `streamlit run app.py` here) says what `huibao ui` passes."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    flat = {f"{section}.{key}": value for section, options in config.items() for key, value in options.items()}
    expected = {**ui.UI_OPTIONS, "server.address": ui.DEFAULT_HOST, "browser.serverAddress": ui.DEFAULT_HOST}
    assert flat == expected


def test_the_entry_script_is_found_in_a_checkout_and_in_an_installed_wheel(monkeypatch, tmp_path):
    assert resources.app_script() == ROOT / "app.py"
    monkeypatch.setattr(resources, "BUNDLED", tmp_path)
    assert resources.app_script() == tmp_path / "app.py"
    setup = (ROOT / "setup.py").read_text(encoding="utf-8")
    assert 'shutil.copy2("app.py", target / "app.py")' in setup
    assert 'shutil.copy2("serve.py", target / "serve.py")' in setup  # the server `huibao ui` runs
    assert resources.server_script() == tmp_path / "serve.py"
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8")
    assert "include app.py" in manifest and "include serve.py" in manifest


def test_a_port_in_use_is_a_chinese_message_and_nothing_starts(monkeypatch):
    started = []
    monkeypatch.setattr("streamlit.web.cli.main.main", lambda **kw: started.append(kw))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["ui", "--port", str(port)])
    assert isinstance(result.exception, InputError)
    assert f"无法在 127.0.0.1:{port} 上启动网页" in str(result.exception) and "--port" in str(result.exception)
    assert started == []


def test_the_command_hands_streamlit_the_flags_and_switches_the_ip_lookup_off(monkeypatch):
    from streamlit import net_util

    started = []
    monkeypatch.setattr("streamlit.web.cli.main.main", lambda **kw: started.append(kw))
    monkeypatch.setattr(net_util, "get_external_ip", net_util.get_external_ip)  # restored afterwards
    monkeypatch.setattr(net_util, "get_internal_ip", net_util.get_internal_ip)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = CliRunner().invoke(app, ["ui", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:{port}" in result.output
    (call,) = started
    assert call["args"] == ui.streamlit_args("127.0.0.1", port) and call["standalone_mode"] is False
    # the look-ups are replaced: nothing is asked of checkip.amazonaws.com, no UDP "connect" to 8.8.8.8
    assert net_util.get_external_ip() is None and net_util.get_internal_ip() is None


def test_a_lan_address_needs_accounts(monkeypatch):
    started = []
    monkeypatch.setattr("streamlit.web.cli.main.main", lambda **kw: started.append(kw))
    monkeypatch.setattr(ui, "_check_port_free", lambda host, port: None)
    from streamlit import net_util

    monkeypatch.setattr(net_util, "get_external_ip", net_util.get_external_ip)
    monkeypatch.setattr(net_util, "get_internal_ip", net_util.get_internal_ip)
    # accounts off: refused with exit code 2, nothing started
    refused = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0"], env={"COLUMNS": "200"})
    assert isinstance(refused.exception, InputError) and refused.exception.exit_code == 2
    assert "未启用账户，网页只能在本机访问" in str(refused.exception) and started == []
    # once an admin exists, the page may listen on the office network (every page behind a sign-in)
    from assistant.core.settings import get_settings
    from assistant.workspace.accounts import Accounts
    from assistant.workspace.service import Workspace

    with Workspace.open(get_settings().workspace_path) as ws:
        Accounts(ws.store, secret=b"x" * 32).add_user("张三", "admin", "密码")
    result = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "同一网络中的其他计算机也能打开；账户已启用，须登录后使用" in result.output and len(started) == 1
