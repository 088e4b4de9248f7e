"""Accounts, roles, who changed what, and review states (issue 18), at the service layer.

Every forbidden action is called on the Workspace directly: the page hiding a button is not
what protects a report."""

from __future__ import annotations

import csv
import io

import pytest

from assistant.core.errors import InputError, StoreError
from assistant.workspace.accounts import Accounts, check_password, throttle_delay
from assistant.workspace.roles import Actor, Forbidden, parse_role
from assistant.workspace.service import Workspace, audit_csv
from tests.test_store import make_figures, make_report_draft, make_section, make_spec

DRAFTER = Actor("小王", "drafter")
REVIEWER = Actor("李科长", "reviewer")
ADMIN = Actor("管理员", "admin")
OUTSIDER = Actor("小赵", "drafter")


class FakeClock:
    """Seconds that move only when something waits: a throttled test runs in no time."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Cheap bcrypt rounds for hashes made in tests (the throttling does not depend on them)."""
    from assistant.workspace import accounts

    monkeypatch.setattr(accounts, "BCRYPT_ROUNDS", 4)


@pytest.fixture()
def office(tmp_path):
    """A workspace with three accounts and one report the drafter and reviewer are members of."""
    ws = Workspace.open(tmp_path / "ws.sqlite3")
    clock = FakeClock()
    accounts = Accounts(ws.store, secret=b"s" * 32, clock=clock, sleep=clock.sleep)
    for actor in (DRAFTER, REVIEWER, ADMIN, OUTSIDER):
        accounts.add_user(actor.name, actor.role, f"{actor.name}的密码")
    rid = ws.as_actor(DRAFTER).create_report(make_spec(), make_figures(), draft=make_report_draft())
    ws.as_actor(ADMIN).add_member(rid, REVIEWER.name)
    return ws, accounts, clock, rid


def test_roles_accept_english_and_chinese_names():
    assert [parse_role(x) for x in ("drafter", "起草人", "审核人", "ADMIN", "管理员")] == [
        "drafter",
        "drafter",
        "reviewer",
        "admin",
        "admin",
    ]
    with pytest.raises(InputError, match="角色“科长”无效"):
        parse_role("科长")


def test_users_are_added_once_with_a_hash_never_the_password(office):
    ws, accounts, _, _ = office
    with pytest.raises(InputError, match="已有名为“小王”的用户"):
        accounts.add_user("小王", "admin", "另一个")
    with pytest.raises(InputError, match="密码为空"):
        accounts.add_user("新人", "drafter", "")
    assert ws.store.find_user("新人") is None and ws.store.find_user("小王").role == "drafter"
    stored = ws.store.find_user("小王").password_hash
    assert "小王的密码" not in stored and check_password("小王的密码", stored)
    accounts.set_password("小王", "新密码")
    assert check_password("新密码", ws.store.find_user("小王").password_hash)
    accounts.disable("小王")
    assert accounts.sign_in("小王", "新密码") is None  # a disabled account cannot sign in
    assert [e.action for e in ws.audit_log(actions={"user_add", "user_passwd", "user_disable"})] == [
        "user_add",
        "user_add",
        "user_add",
        "user_add",
        "user_passwd",
        "user_disable",
    ]


def test_only_an_admin_manages_accounts_on_the_page(office):
    ws, accounts, _, _ = office
    with pytest.raises(Forbidden, match="无权管理用户"):
        accounts.add_user("新人", "drafter", "密码", by=REVIEWER)
    with pytest.raises(Forbidden):
        accounts.disable("小王", by=DRAFTER)
    with pytest.raises(InputError, match="不能停用自己"):
        accounts.disable("管理员", by=ADMIN)
    accounts.add_user("新人", "drafter", "密码", by=ADMIN)
    assert ws.audit_log(actions={"user_add"})[-1].user == "管理员"


def test_twenty_wrong_passwords_are_delayed_doubling_up_to_30_s_then_the_right_one_works(office):
    _, accounts, clock, _ = office
    for _ in range(20):
        assert accounts.sign_in("小王", "错的") is None
    # five free attempts, then 1, 2, 4, 8, 16 s and 30 s for each further one
    assert clock.waits == [1, 2, 4, 8, 16] + [30] * 10
    actor = accounts.sign_in("小王", "小王的密码")
    assert actor == DRAFTER and clock.waits[-1] == 30  # accepted after its delay
    assert accounts.delay_for("小王") == 0  # and the count starts again
    assert [throttle_delay(n) for n in range(4, 12)] == [0, 1, 2, 4, 8, 16, 30, 30]
    # an unknown name is throttled alike (no way to tell names apart by speed)
    for _ in range(6):
        accounts.sign_in("无此人", "x")
    assert accounts.delay_for("无此人") == 2


def test_a_session_survives_until_8_hours_without_use(office):
    _, accounts, clock, _ = office
    cookie = accounts.start_session(accounts.sign_in("李科长", "李科长的密码"))
    assert "." in cookie and accounts.session_actor(cookie) == REVIEWER
    assert accounts.session_actor(cookie[:-2] + "xx") is None  # a forged signature
    clock.now += 7 * 3600
    assert accounts.session_actor(cookie) == REVIEWER  # used: the 8 hours start again
    clock.now += 7.5 * 3600
    assert accounts.session_actor(cookie) == REVIEWER
    clock.now += 8 * 3600 + 1
    assert accounts.session_actor(cookie) is None  # expired, and gone for good
    clock.now -= 3600
    assert accounts.session_actor(cookie) is None
    other = accounts.start_session(REVIEWER)
    accounts.disable("李科长")
    assert accounts.session_actor(other) is None


def test_each_role_is_refused_what_it_may_not_do_when_the_service_is_called_directly(office):
    ws, _, _, rid = office
    drafter, reviewer, outsider = ws.as_actor(DRAFTER), ws.as_actor(REVIEWER), ws.as_actor(OUTSIDER)
    forbidden = {
        "drafter approves": lambda: drafter.approve(rid, "1.2"),
        "drafter returns": lambda: drafter.return_section(rid, "1.2", "不行"),
        "drafter deletes": lambda: drafter.delete(rid),
        "drafter adds a member": lambda: drafter.add_member(rid, OUTSIDER.name),
        "drafter reads the audit": lambda: drafter.audit_log(),
        "reviewer adds a member": lambda: reviewer.add_member(rid, OUTSIDER.name),
        "reviewer reads the audit": lambda: reviewer.audit_log(),
        "outsider reads": lambda: outsider.current(rid),
        "outsider edits": lambda: outsider.edit(rid, "1.2", "我改的。"),
        "outsider submits": lambda: outsider.submit(rid, "1.2"),
        "outsider exports": lambda: outsider.export_draft(rid),
        "outsider changes figures": lambda: outsider.update_figures(rid, make_figures(F03=(900, "篇"))),
        "outsider locks": lambda: outsider.lock(rid, "1.2"),
        "outsider adds a section": lambda: outsider.add_section(rid, parent_id="1", title="新的一节"),
        "outsider moves a section": lambda: outsider.shift_section(rid, "1.2", -1),
    }
    before = ws.audit_log()
    for what, action in forbidden.items():
        with pytest.raises(Forbidden) as err:
            action()
        assert "无权" in str(err.value) and "未作任何改动" in str(err.value), what
    assert ws.audit_log() == before  # nothing refused left a trace of change
    assert outsider.reports() == [] and [r.id for r in drafter.reports()] == [rid]
    # the reviewer locks the drafter's section; the drafter may not unlock it, nor lock the reviewer's
    reviewer.lock(rid, "1.1")
    with pytest.raises(Forbidden, match="是李科长锁定的"):
        drafter.unlock(rid, "1.1")
    reviewer.unlock(rid, "1.1")
    reviewer.edit(rid, "1.1", "审核人改的。召开新闻发布会12次，网络直播观看44.1万人次。")
    with pytest.raises(Forbidden, match="当前版本不是您保存的"):
        drafter.lock(rid, "1.1")
    drafter.lock(rid, "1.2")  # a section whose current version the drafter saved (they drafted it)
    drafter.unlock(rid, "1.2")
    # the outline editor's changes are a member's, and on record
    new = drafter.add_section(rid, parent_id="1", title="强化新闻舆论引导")
    drafter.shift_section(rid, new, -1)
    assert [(e.user, e.action, e.section_id, e.detail) for e in ws.audit_log(actions={"outline"})] == [
        ("小王", "outline", new, "新增章节"),
        ("小王", "outline", new, "上移"),
    ]


def test_review_states_a_new_version_reopens_and_export_keeps_only_approved(office, tmp_path):
    ws, _, _, rid = office
    drafter, reviewer = ws.as_actor(DRAFTER), ws.as_actor(REVIEWER)
    assert {r.state for r in drafter.review_states(rid)} == {"draft"}
    drafter.edit(rid, "1.2", "新媒体发稿860篇。")
    assert drafter.submit(rid, "1.2") == 2
    with pytest.raises(StoreError, match="当前为“待审”，不能提交审核"):
        drafter.submit(rid, "1.2")
    with pytest.raises(InputError, match="须写明意见"):
        reviewer.return_section(rid, "1.2", "  ")
    reviewer.return_section(rid, "1.2", "数据口径要写清楚")
    state = {r.section_id: r for r in drafter.review_states(rid)}["1.2"]
    assert (state.state_zh, state.by, state.comment) == ("退回", "李科长", "数据口径要写清楚")
    version = drafter.edit(rid, "1.2", "全年新媒体发稿860篇。")
    assert drafter.reopened(rid, {"1.2": version}) == []  # 退回 stays until submitted again
    drafter.submit(rid, "1.2")
    reviewer.approve(rid, "1.2", "同意")
    reviewer.submit(rid, "intro")
    reviewer.approve(rid, "intro")
    # export with only the approved sections, the others listed
    draft, left_out = drafter.export_draft(rid, approved_only=True, fmt="docx")
    assert [s.section_id for s in draft.sections if s.text] == ["intro", "1.2"]
    assert [s.section_id for s in draft.sections] == ["intro", "1", "1.2"]  # 1 keeps its heading only
    assert left_out == ["1", "1.1", "2", "3", "closing"]
    # any new version of an approved section puts it back to 草稿, and says so
    new = drafter.edit(rid, "1.2", "全年新媒体发稿860篇，传播力明显提升。")
    assert drafter.reopened(rid, {"1.2": new}) == ["章节 1.2：保存第 4 版后，由“已通过”回到草稿，需重新提交审核。"]
    assert {r.section_id: r.state for r in drafter.review_states(rid)}["1.2"] == "draft"
    assert [r.section_id for r in drafter.open_sections(rid)] == ["1", "1.1", "1.2", "2", "3", "closing"]
    # a figures refresh saved through regenerate reopens too
    reviewer.submit(rid, "3")
    reviewer.approve(rid, "3")
    drafter.update_figures(rid, make_figures(F04=(320, "人次")))
    v = drafter.regenerate(
        rid,
        "3",
        lambda sec, spec, figs: make_section("3", text="计划培训代表320人次。", figures=figs),
    )
    assert (
        drafter.reopened(rid, {"3": v}) and {r.section_id: r.state for r in drafter.review_states(rid)}["3"] == "draft"
    )


def test_history_and_audit_say_who_did_what(office):
    ws, _, _, rid = office
    drafter, reviewer, admin = ws.as_actor(DRAFTER), ws.as_actor(REVIEWER), ws.as_actor(ADMIN)
    drafter.edit(rid, "1.2", "新媒体发稿860篇。")
    drafter.submit(rid, "1.2")
    reviewer.approve(rid, "1.2", "可以")
    drafter.export_draft(rid, approved_only=True, fmt="md")
    assert [(h.version, h.user) for h in drafter.history(rid, "1.2")] == [(1, "小王"), (2, "小王")]
    log = admin.audit_log(report_id=rid)
    rows = list(csv.reader(io.StringIO(audit_csv(log))))
    assert rows[0] == ["time", "user", "action", "report_id", "section_id", "version", "detail"]
    lines = [(r[1], r[2], r[4], r[5]) for r in rows[1:]]
    assert lines[0] == ("小王", "新建汇报", "", "")
    assert ("管理员", "加入汇报", "", "") in lines
    assert lines[-4:] == [
        ("小王", "手工修改", "1.2", "2"),
        ("小王", "提交审核", "1.2", "2"),
        ("李科长", "审核通过", "1.2", "2"),
        ("小王", "导出", "", ""),
    ]
    assert "未含" in rows[-1][6]
    assert admin.audit_log(user="李科长", actions={"approve"})[0].detail == "可以"
