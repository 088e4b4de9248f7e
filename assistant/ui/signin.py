"""Signing in to the page, on the server side: a Chinese sign-in form, the HttpOnly cookie, and a
guard in front of every page request while accounts are on.

Streamlit has no public API to set a cookie, let alone an HttpOnly one (a script can read
``st.context.cookies``, not write them). Streamlit 1.67's public ``st.App`` (streamlit.starlette)
takes extra Starlette routes and middleware, so ``huibao ui`` serves the page through an App
(serve.py) with:

* ``/huibao/signin``: GET shows the form, POST checks the password (throttled:
  assistant.workspace.accounts) and sets the signed, HttpOnly, SameSite cookie, then goes to
  the page; ``/huibao/signout`` ends the session and clears the cookie.
* ``SignInGuard``: while accounts are on, any request other than the sign-in routes, the health
  check and the static bundles needs a valid session: a page load goes to the sign-in form, the
  page's websocket and uploads are refused. The page itself checks the cookie again on every run
  (``shell.frame``), which also ends a session left idle past ``session_hours`` in an open tab.
"""

from __future__ import annotations

import html
import threading
import time
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import anyio
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.core.settings import Settings, get_settings
from assistant.workspace.accounts import COOKIE_NAME, Accounts, accounts_on, server_secret
from assistant.workspace.service import Workspace

SIGNIN_PATH = "/huibao/signin"
SIGNOUT_PATH = "/huibao/signout"
_OPEN_PREFIXES = ("/huibao/", "/static/", "/_stcore/health", "/favicon")
_MAX_FORM_BYTES = 4096
# Sign-ins check bcrypt hashes in worker threads; a few at a time, apart from the page's own threads.
_SIGNIN_THREADS = anyio.CapacityLimiter(4)


@lru_cache(maxsize=4)
def _workspace(path: str) -> Workspace:
    return Workspace.open(path)


@lru_cache(maxsize=4)
def _accounts(path: str, data_dir: str, session_hours: float) -> Accounts:
    return Accounts(_workspace(path).store, secret=server_secret(Path(data_dir)), session_hours=session_hours)


def accounts_for(settings: Settings) -> Accounts:
    """One Accounts per workspace for the whole server process (the page uses the same one)."""
    return _accounts(str(settings.workspace_target), str(settings.data_dir), settings.session_hours)


class _AccountsOn:
    """Whether accounts are on, read at most once a second (an admin may be added meanwhile)."""

    def __init__(self) -> None:
        self._at = -1.0
        self._value = False
        self._lock = threading.Lock()

    def __call__(self, settings: Settings) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._at > 1.0:
                self._value = accounts_on(accounts_for(settings).store, configured=settings.accounts)
                self._at = now
            return self._value


accounts_are_on = _AccountsOn()


def _page(body: str, status: int = 200) -> HTMLResponse:
    # A page of its own, no script, no outside resource: it shows before the page's bundle loads.
    return HTMLResponse(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>登录 · 汇报起草助手</title><style>"
        "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;background:#f6f7f9;margin:0}"
        "main{max-width:360px;margin:12vh auto;background:#fff;padding:32px;border-radius:8px;"
        "box-shadow:0 1px 4px rgba(0,0,0,.12)}h1{font-size:22px;margin:0 0 20px}"
        "label{display:block;margin:14px 0 6px}input{width:100%;box-sizing:border-box;padding:8px;font-size:16px}"
        "button{margin-top:20px;width:100%;padding:10px;font-size:16px;background:#c0392b;color:#fff;border:0;"
        "border-radius:4px;cursor:pointer}.err{color:#b00020;margin:10px 0}.note{color:#555;font-size:14px}"
        f"</style></head><body><main>{body}</main></body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def signin_form(message: str = "", name: str = "", status: int = 200) -> HTMLResponse:
    settings = get_settings()
    note = ""
    if not accounts_for(settings).store.has_admin():
        note = "<p class='note'>尚未创建管理员账户。请在服务器上运行：huibao user add 姓名 --role admin</p>"
    error = f"<p class='err' role='alert'>{html.escape(message)}</p>" if message else ""
    return _page(
        "<h1>汇报起草助手 · 登录</h1>"
        f"{note}{error}"
        f"<form method='post' action='{SIGNIN_PATH}'>"
        f"<label for='name'>用户名</label><input id='name' name='name' autocomplete='username' value='{html.escape(name, quote=True)}' required>"
        "<label for='password'>密码</label><input id='password' name='password' type='password' autocomplete='current-password' required>"
        "<button type='submit'>登录</button></form>"
        f"<p class='note'>登录后 {settings.session_hours:g} 小时内无操作将自动退出。</p>",
        status,
    )


def _same_origin(request: Request) -> bool:
    """A sign-in posted from another site's page is refused (its Origin names that site)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def signin(request: Request) -> Response:
    if request.method == "GET":
        return signin_form()
    if not _same_origin(request):
        return signin_form("请从本页登录。", status=403)
    if int(request.headers.get("content-length") or 0) > _MAX_FORM_BYTES:
        return signin_form("提交的内容过长。", status=413)
    form = await request.form()
    name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
    if not name or not password:
        return signin_form("请填写用户名和密码。", name, status=400)
    settings = get_settings()
    accounts = accounts_for(settings)
    # The throttling wait happens here, in a worker thread: the server keeps serving others.
    actor = await anyio.to_thread.run_sync(accounts.sign_in, name, password, limiter=_SIGNIN_THREADS)
    if actor is None:
        return signin_form("用户名或密码不正确，或账户已停用。", name, status=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        accounts.start_session(actor),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


async def signout(request: Request) -> Response:
    accounts_for(get_settings()).end_session(request.cookies.get(COOKIE_NAME))
    response = RedirectResponse(SIGNIN_PATH, status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response


def routes() -> list[Route]:
    return [Route(SIGNIN_PATH, signin, methods=["GET", "POST"]), Route(SIGNOUT_PATH, signout, methods=["GET", "POST"])]


class SignInGuard:
    """ASGI middleware: while accounts are on, nothing but the sign-in form is served without a
    valid session (the page's HTML, its websocket, uploads, media)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith(_OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        if not accounts_are_on(settings) or self._signed_in(scope, settings):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401})
            return
        if scope.get("method") == "GET" and scope["path"] in ("/", "") or "text/html" in _header(scope, b"accept"):
            response: Response = RedirectResponse(SIGNIN_PATH, status_code=303)
        else:
            response = Response("请先登录。", status_code=401, media_type="text/plain; charset=utf-8")
        await response(scope, receive, send)

    @staticmethod
    def _signed_in(scope: Scope, settings: Settings) -> bool:
        cookie = HTTPConnection(scope).cookies.get(COOKIE_NAME)  # http and websocket alike
        return cookie is not None and accounts_for(settings).session_actor(cookie) is not None


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def middleware() -> list[Middleware]:
    return [Middleware(SignInGuard)]
