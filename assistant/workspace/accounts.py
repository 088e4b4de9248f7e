"""Accounts of an office on one server: users, passwords, sign-in throttling, signed sessions.

* Passwords are hashed with bcrypt (the password's SHA-256 first, so a long passphrase is not
  cut at bcrypt's 72 bytes); a password is never stored, printed or taken as an argument.
* After ``FREE_FAILURES`` consecutive failures for an account each further attempt waits
  1 s, 2 s, 4 s … up to ``MAX_DELAY_S``; a correct password is accepted after its wait and
  resets the count. The clock and the wait are injectable (tests run in no time).
* A sign-in makes a random session token. The browser gets it signed (itsdangerous, with a
  secret kept in the data folder) in an HttpOnly cookie; the workspace keeps only its SHA-256
  and when it was last used. It expires after ``session_hours`` without use.
* Accounts are on when ``accounts = true`` is set or one enabled admin exists (``accounts_on``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import bcrypt
from itsdangerous import BadSignature, Signer

from assistant.core.errors import InputError
from assistant.workspace.roles import Actor, Role, check
from assistant.workspace.store import Store, UserRecord

FREE_FAILURES = 5  # failures in a row before attempts are delayed
MAX_DELAY_S = 30.0
BCRYPT_ROUNDS = 12  # about a quarter second per check on an office server: slow for guessing, fine for a person
COOKIE_NAME = "huibao_session"
SECRET_FILE = "session.key"
_NAME_RE = re.compile(r"[^\s\x00-\x1f\x7f/\\]{1,40}")
_TOUCH_EVERY_S = 60.0
_MAX_UNKNOWN = 10_000  # names that are no account, remembered for throttling (bounded: guessed names)  # a session's last use is written at most once a minute


def accounts_on(store: Store, *, configured: bool) -> bool:
    """Accounts are on when configured (``accounts = true``) or as soon as an admin exists."""
    return configured or store.has_admin()


def throttle_delay(failures: int) -> float:
    """Seconds the next attempt waits after ``failures`` consecutive failures: none for the first
    FREE_FAILURES, then 1, 2, 4 … doubling up to MAX_DELAY_S."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_DELAY_S, 2.0 ** (failures - FREE_FAILURES))


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(_prehash(password), hashed.encode("ascii"))
    except ValueError:  # not a bcrypt hash
        return False


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


_DUMMY_HASH = hash_password(secrets.token_hex(8))  # unknown names cost the same time as known ones


def check_name(name: str) -> str:
    clean = name.strip()
    if not _NAME_RE.fullmatch(clean):
        raise InputError("用户名无效：不能为空，不能含空白、斜杠或控制字符，最多 40 个字。", field="用户名")
    return clean


def check_new_password(password: str) -> str:
    if not password:
        raise InputError("密码为空，未作改动。", field="密码")
    if "\x00" in password:
        raise InputError("密码含有空字符（NUL），未作改动。", field="密码")
    return password


def server_secret(data_dir: Path) -> bytes:
    """The secret that signs session cookies: made once, kept in the data folder, owner-only."""
    path = Path(data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it meanwhile
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip().encode("ascii")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


class Accounts:
    """Users and sign-ins over a workspace store. Thread-safe: attempts on one account are
    serialised, so parallel guesses wait their turn instead of sharing one delay."""

    def __init__(
        self,
        store: Store,
        *,
        secret: bytes,
        session_hours: float = 8.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self._signer = Signer(secret, salt="huibao-session")
        self.session_hours = session_hours
        self._clock = clock
        self._sleep = sleep
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._unknown_failures: dict[str, int] = {}  # names that are no account: throttled alike

    # --- users -------------------------------------------------------------------------------

    # ``by``: the person doing it on the page (an admin, or refused: Forbidden). A command on the
    # server passes none: it runs as the OS user, who owns the workspace file anyway.

    def _as(self, by: Actor | None) -> Store:
        if by is None:
            return self.store
        check(by, "users")
        return self.store.as_user(by.name)

    def add_user(self, name: str, role: Role, password: str, *, by: Actor | None = None) -> str:
        store = self._as(by)
        name = check_name(name)
        check_new_password(password)
        if store.find_user(name) is not None:
            raise InputError(f"已有名为“{name}”的用户，未作改动。", field="用户名")
        store.add_user(name, role, hash_password(password))
        return name

    def users(self) -> list[UserRecord]:
        return self.store.users()

    def set_password(self, name: str, password: str, *, by: Actor | None = None) -> None:
        store = self._as(by)
        self.existing(name)
        store.set_password(name, hash_password(check_new_password(password)))

    def disable(self, name: str, *, by: Actor | None = None) -> None:
        store = self._as(by)
        self.existing(name)
        if by is not None and name == by.name:
            raise InputError("不能停用自己正在使用的账户，未作改动。", field="用户名")
        store.set_enabled(name, False)

    def enable(self, name: str, *, by: Actor | None = None) -> None:
        store = self._as(by)
        self.existing(name)
        store.set_enabled(name, True)

    def existing(self, name: str) -> UserRecord:
        user = self.store.find_user(name)
        if user is None:
            names = "、".join(u.name for u in self.store.users()) or "（无）"
            raise InputError(f"没有名为“{name}”的用户。已有用户：{names}。", field="用户名")
        return user

    # --- signing in ------------------------------------------------------------------------------

    def delay_for(self, name: str) -> float:
        """How long the next attempt for ``name`` waits before its password is checked."""
        user = self.store.find_user(name)
        failures = user.failed_logins if user is not None else self._unknown_failures.get(name, 0)
        return throttle_delay(failures)

    def _lock_for(self, name: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(name, threading.Lock())

    def sign_in(self, name: str, password: str) -> Actor | None:
        """The actor when the name and password are right and the account enabled, else None.
        Waits ``delay_for(name)`` first (throttling), then checks and counts the attempt."""
        name = name.strip()
        with self._lock_for(name):
            delay = self.delay_for(name)
            if delay:
                self._sleep(delay)
            user = self.store.find_user(name)
            if user is None:
                check_password(password, _DUMMY_HASH)
                if len(self._unknown_failures) >= _MAX_UNKNOWN and name not in self._unknown_failures:
                    self._unknown_failures.pop(next(iter(self._unknown_failures)))  # the oldest name
                self._unknown_failures[name] = self._unknown_failures.get(name, 0) + 1
                return None
            ok = check_password(password, user.password_hash) and user.enabled
            self.store.as_user(name).record_sign_in(name, ok)
            return Actor(name=user.name, role=_role(user.role)) if ok else None

    # --- sessions -----------------------------------------------------------------------------

    def start_session(self, actor: Actor) -> str:
        """A new session for a signed-in actor; returns the signed cookie value."""
        token = secrets.token_urlsafe(32)
        self.store.add_session(_digest(token), actor.name, _iso(self._clock()))
        return self._signer.sign(token.encode("ascii")).decode("ascii")

    def session_actor(self, cookie: str | None) -> Actor | None:
        """Who holds this cookie: None when unsigned, unknown, expired (``session_hours`` without
        use), or the account is disabled. A valid session counts as used now."""
        token = self._token(cookie)
        if token is None:
            return None
        found = self.store.session(_digest(token))
        if found is None:
            return None
        name, last_seen = found
        now = self._clock()
        idle = now - _seconds(last_seen)
        if idle > self.session_hours * 3600:
            self.store.end_session(_digest(token))
            return None
        user = self.store.find_user(name)
        if user is None or not user.enabled:
            return None
        if idle >= _TOUCH_EVERY_S:
            self.store.touch_session(_digest(token), _iso(now))
        return Actor(name=user.name, role=_role(user.role))

    def end_session(self, cookie: str | None) -> None:
        token = self._token(cookie)
        if token is not None:
            self.store.end_session(_digest(token))

    def _token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._signer.unsign(cookie.encode("ascii")).decode("ascii")
        except (BadSignature, UnicodeError):
            return None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _role(text: str) -> Role:
    return text if text in ("drafter", "reviewer", "admin") else "drafter"  # type: ignore[return-value]
