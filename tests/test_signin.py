"""The sign-in routes and the guard `huibao ui` serves the page behind (assistant/ui/signin.py),
over HTTP with Starlette's test client and an injected clock: 20 wrong passwords are delayed as
specified, the right one then works, and its cookie is signed and HttpOnly."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from assistant.core.settings import get_settings
from assistant.ui import signin
from assistant.workspace.accounts import Accounts
from assistant.workspace.service import Workspace
from tests.test_accounts import FakeClock


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Cheap bcrypt rounds for hashes made in tests (the throttling does not depend on them)."""
    from assistant.workspace import accounts

    monkeypatch.setattr(accounts, "BCRYPT_ROUNDS", 4)


@pytest.fixture()
def server(monkeypatch):
    settings = get_settings()
    ws = Workspace.open(settings.workspace_path)
    clock = FakeClock()
    accounts = Accounts(ws.store, secret=b"k" * 32, clock=clock, sleep=clock.sleep)
    accounts.add_user("小王", "drafter", "正确的密码")
    monkeypatch.setattr(signin, "accounts_for", lambda settings: accounts)
    monkeypatch.setattr(signin, "accounts_are_on", lambda settings: accounts.store.has_admin() or settings.accounts)

    async def page(request):
        return PlainTextResponse("页面")

    async def stream(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("已连接")
        await websocket.close()

    app = Starlette(
        routes=[*signin.routes(), Route("/", page), WebSocketRoute("/_stcore/stream", stream)],
        middleware=signin.middleware(),
    )
    with TestClient(app, base_url="http://127.0.0.1:8501") as client:
        yield client, accounts, clock
    ws.close()


def test_twenty_wrong_passwords_over_http_then_the_right_one_signs_in(server):
    client, accounts, clock = server
    accounts.add_user("管理员", "admin", "另一个密码")  # an admin exists: accounts are on
    assert client.get("/", follow_redirects=False).headers["location"] == "/huibao/signin"
    form = client.get("/huibao/signin")
    assert "用户名" in form.text and "密码" in form.text and form.headers["cache-control"] == "no-store"
    for _ in range(20):
        wrong = client.post("/huibao/signin", data={"name": "小王", "password": "错的"}, follow_redirects=False)
        assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text and "set-cookie" not in wrong.headers
    assert clock.waits == [1, 2, 4, 8, 16] + [30] * 10
    right = client.post("/huibao/signin", data={"name": "小王", "password": "正确的密码"}, follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/"
    assert clock.waits[-1] == 30 and accounts.delay_for("小王") == 0
    cookie = right.headers["set-cookie"]
    assert cookie.startswith("huibao_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/").text == "页面"  # the cookie the client now holds opens the page
    session = client.cookies.get("huibao_session")
    # the test client does not send its cookies on a websocket: the header a browser sends
    with client.websocket_connect("/_stcore/stream", headers={"cookie": f"huibao_session={session}"}) as socket:
        assert socket.receive_text() == "已连接"
    client.get("/huibao/signout")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_without_a_session_the_page_and_its_websocket_are_refused(server):
    client, accounts, _ = server
    assert client.get("/").text == "页面"  # accounts off: as before
    accounts.add_user("管理员", "admin", "另一个密码")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert client.get("/_stcore/upload_file/x", follow_redirects=False).status_code == 401
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/_stcore/stream") as socket:
            socket.receive_text()
    assert closed.value.code == 4401
    client.cookies.set("huibao_session", "forged.value")
    assert client.get("/", follow_redirects=False).status_code == 303
    # a sign-in posted from another site's page is refused
    other = client.post(
        "/huibao/signin",
        data={"name": "小王", "password": "正确的密码"},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert other.status_code == 403 and "set-cookie" not in other.headers
