"""`huibao ui`: the page, started with the product's own Streamlit settings from any folder.

`streamlit run app.py` reads `.streamlit/config.toml` from the working folder only, so started
elsewhere it listens on every interface, asks an outside service for the machine's public IP
and sends usage statistics. Here every setting that matters is passed as a flag instead, and
the page listens on loopback unless told otherwise.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import socket

import typer
from rich.markup import escape

from assistant.commands.base import command_app, console, err_console
from assistant.core.errors import InputError
from assistant.core.resources import server_script
from assistant.core.settings import get_settings, is_loopback
from assistant.workspace.accounts import accounts_on
from assistant.workspace.store import Store

app = command_app()

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501

# The product's Streamlit settings (`.streamlit/config.toml` says the same for `streamlit run`;
# tests/test_ui_command.py keeps the two equal). Host and port are added per start.
UI_OPTIONS: dict[str, object] = {
    "server.headless": True,
    # Uploads are checked again in the page (20 MB, .txt/.md/.docx/.pdf); this is the hard cap.
    "server.maxUploadSize": 20,
    "server.fileWatcherType": "none",
    "server.runOnSave": False,
    "server.showEmailPrompt": False,
    # Usage statistics are sent by the user's browser; offices on an intranet must not try.
    "browser.gatherUsageStats": False,
    "client.toolbarMode": "minimal",
    "client.showErrorDetails": "none",
    # Error boxes would otherwise offer links to search engines and chat services.
    "client.showErrorLinks": False,
    "theme.base": "light",
    # Streamlit's English banner; the command prints its own line.
    "logger.hideWelcomeMessage": True,
    "logger.level": "warning",  # and its English info lines ("Uvicorn server started …")
}


def _flag(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def streamlit_args(host: str, port: int) -> list[str]:
    """The `streamlit run` arguments `huibao ui` uses: the server script (serve.py: app.py with the
    sign-in routes) and every option as a flag.

    server.address set explicitly (and browser.serverAddress with it) keeps Streamlit off the
    code path that looks the public IP up at start."""
    options = {
        **UI_OPTIONS,
        "server.address": host,
        "server.port": port,
        "browser.serverAddress": host,
        "browser.serverPort": port,
    }
    return ["run", str(server_script()), *(f"--{name}={_flag(value)}" for name, value in options.items())]


def _no_ip_lookup() -> None:
    """Stands in for streamlit.net_util's IP look-ups: the page never asks anyone for an address."""
    return None


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            raise InputError(
                f"无法在 {host}:{port} 上启动网页：{err.strerror or err}。"
                f"端口可能已被占用，可用 --port 换一个端口，或用 --host 指定本机的地址。"
            ) from err


@app.command("ui")
def ui_command(
    host: str = typer.Option(DEFAULT_HOST, "--host", help="监听地址；默认只允许本机访问"),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help="端口"),
) -> None:
    """启动网页界面（只在本机访问；运行时不访问外网）。"""
    from streamlit import net_util  # heavy: ~1 s to import, only for this command
    from streamlit.web import cli as streamlit_cli  # heavy: part of streamlit, as above

    settings = get_settings()
    if not is_loopback(host):
        with Store.open(settings.workspace_target) as store:
            on = accounts_on(store, configured=settings.accounts)
        if not on:
            raise InputError(
                f"未启用账户，网页只能在本机访问（--host {host} 会让同一网络中的任何人不经登录就看到全部汇报）。"
                "请先在服务器上创建管理员：huibao user add 姓名 --role admin（或在 huibao.toml 中设置 accounts = true），"
                "再用 --host 启动；只在本机使用时请去掉 --host。",
                field="--host",
            )
        err_console.print(
            f"[yellow]注意：网页监听 {escape(host)}，同一网络中的其他计算机也能打开；账户已启用，须登录后使用。[/]"
        )
    _check_port_free(host, port)
    # `kill -USR1 <pid>` prints every thread's stack to the server's log: how an administrator
    # (or a failing browser test) sees where a stuck page is waiting
    with contextlib.suppress(OSError, ValueError, AttributeError):  # stderr without a file (tests' runner)
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    # The Streamlit server asks checkip.amazonaws.com for the public IP when it prints its
    # banner and when a page from another origin connects; no option turns that off.
    net_util.get_external_ip = _no_ip_lookup
    net_util.get_internal_ip = _no_ip_lookup
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb's telemetry: never phone home
    shown = f"[{host}]" if ":" in host else host
    console.print(f"汇报起草助手网页：http://{shown}:{port}  （按 Ctrl+C 停止）")
    streamlit_cli.main.main(args=streamlit_args(host, port), prog_name="huibao ui", standalone_mode=False)
