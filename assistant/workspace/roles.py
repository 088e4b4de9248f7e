"""Who is acting, and what each role may do: checked by the workspace service, not by the page.

Three roles, each with everything the one before it may do:

* drafter (起草人): reads, drafts, edits, regenerates, reverts and submits the reports they are a
  member of, changes their figures and notes, exports them; locks sections whose current version
  they saved and unlocks the sections they locked.
* reviewer (审核人): also approves or returns sections (with a comment), locks or unlocks any
  section of their reports, moves them to the 回收站 and back.
* admin (管理员): also manages users, report membership, the knowledge base and the model
  endpoint, reads the audit log; an admin is a member of every report.

With accounts off (the default, loopback only), and for commands run on the server, the actor
is the local user (the OS account) with every right: ``local_actor()``.

A Workspace method is guarded by naming its permission: ``@guarded("write")`` checks the role
and, for permissions that need it, the membership of the report named by the method's
``report_id`` argument, before the method runs (assistant.workspace.service).
"""

from __future__ import annotations

import functools
import getpass
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from assistant.core.errors import InputError, StoreError

Role = Literal["drafter", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("drafter", "reviewer", "admin")
ROLE_ZH: dict[str, str] = {"drafter": "起草人", "reviewer": "审核人", "admin": "管理员"}
_RANK = {role: n for n, role in enumerate(ROLES)}


def parse_role(text: str) -> Role:
    """drafter / reviewer / admin, or their Chinese names 起草人 / 审核人 / 管理员."""
    clean = text.strip().lower()
    for role in ROLES:
        if clean in (role, ROLE_ZH[role]):
            return role
    raise InputError(
        f"角色“{text}”无效：应为 drafter（起草人）、reviewer（审核人）或 admin（管理员）。", field="--role"
    )


@dataclass(frozen=True)
class Actor:
    """The person an action is done for; recorded on every version and audit line."""

    name: str
    role: Role
    local: bool = False  # accounts off, or a command on the server: every right

    def at_least(self, role: Role) -> bool:
        return self.local or _RANK[self.role] >= _RANK[role]

    @property
    def label(self) -> str:
        return self.name if self.local else f"{self.name}（{ROLE_ZH[self.role]}）"


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry (containers): still record something
        return "本机用户"


def local_actor() -> Actor:
    """The one local user of a workspace without accounts, and of every `huibao` command."""
    return Actor(name=os_user(), role="admin", local=True)


class Forbidden(StoreError):
    """The actor's role or membership does not allow the action; nothing was changed."""


@dataclass(frozen=True)
class Permission:
    role: Role  # the lowest role that has it
    member: bool  # also needs membership of the report (admins are members of every report)
    what: str  # Chinese: what is refused, for the message


PERMISSIONS: dict[str, Permission] = {
    "read": Permission("drafter", True, "查看这份汇报"),
    "create": Permission("drafter", False, "新建汇报"),
    "write": Permission("drafter", True, "修改这份汇报"),
    "submit": Permission("drafter", True, "提交审核"),
    "lock": Permission("drafter", True, "锁定或解锁章节"),
    "export": Permission("drafter", True, "导出这份汇报"),
    "review": Permission("reviewer", True, "审核章节（通过或退回）"),
    "lock_any": Permission("reviewer", True, "锁定或解锁别人的章节"),
    "delete": Permission("reviewer", True, "删除或恢复汇报"),
    "members": Permission("admin", False, "管理汇报成员"),
    "users": Permission("admin", False, "管理用户"),
    "kb": Permission("admin", False, "管理知识库"),
    "endpoint": Permission("admin", False, "设置模型接口"),
    "audit": Permission("admin", False, "查看操作记录"),
}


def refuse(actor: Actor, permission: str, why: str = "") -> Forbidden:
    what = PERMISSIONS[permission].what
    need = ROLE_ZH[PERMISSIONS[permission].role]
    reason = why or f"需要{need}及以上角色"
    return Forbidden(f"{actor.label}无权{what}：{reason}。未作任何改动。")


def check(actor: Actor, permission: str, *, is_member: Callable[[], bool] | None = None) -> None:
    """Raise Forbidden unless ``actor`` has ``permission``; ``is_member`` answers membership of
    the report in question (asked only when the permission needs it)."""
    rule = PERMISSIONS[permission]
    if actor.local:
        return
    if not actor.at_least(rule.role):
        raise refuse(actor, permission)
    if rule.member and actor.role != "admin" and is_member is not None and not is_member():
        raise refuse(actor, permission, "不是这份汇报的成员（请管理员把您加入）")


F = TypeVar("F", bound=Callable[..., Any])


def guarded(permission: str) -> Callable[[F], F]:
    """Decorate a Workspace method: ``self.authorize(permission, report_id, section_id)`` runs
    first, with the method's own ``report_id`` / ``section_id`` arguments when it has them."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def wrap(method: F) -> F:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def inner(self: Any, *args: Any, **kwargs: Any) -> Any:
            bound = signature.bind_partial(self, *args, **kwargs).arguments
            self.authorize(permission, bound.get("report_id"), bound.get("section_id"))
            return method(self, *args, **kwargs)

        inner.permission = permission  # type: ignore[attr-defined]  # tests list the guarded methods
        return cast(F, inner)

    return wrap
