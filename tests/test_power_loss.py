"""Power loss: the workspace keeps every committed version when the disk loses unsynced writes.

The writes run through the real Store (WAL, synchronous=FULL) on a VFS that, at a seeded random
point, cuts the power: everything written after each file's last sync is discarded (or, in the
second mode, a random part of it reaches the disk). The database is then reopened as a fresh
process would after a reboot. A control run with synchronous=NORMAL shows the shim does lose
unsynced commits, so a pass under FULL means something.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.core.errors import StoreError
from assistant.workspace.store import Store
from tests.powerloss_vfs import PowerLossVfs
from tests.test_store import make_figures, make_report_draft, make_section, make_spec

SECTIONS = ("intro", "1.1", "1.2", "2", "3", "closing")
EDITS = 24
CRASH_POINTS = 14  # per mode; seeded, spread over the whole run


@dataclass
class Run:
    report_id: str | None = None
    committed: list[tuple[str, int, str]] = field(default_factory=list)  # (section, version, text)
    in_flight: list[tuple[str, int, str]] = field(default_factory=list)  # may or may not have landed


def _text(i: int) -> str:
    # about 2 KB: a version spans pages, so a commit is several WAL frames
    return f"第{i}次修改：全年召开新闻发布会12次。" + "我们坚持每周一学，深化理论武装。" * 60


def workload(path: Path, run: Run, *, synchronous: str | None = None, before_close=None) -> None:
    """Create a report, then save hand edits one by one, closing and reopening halfway (the close
    checkpoints the WAL into the main file and deletes it)."""
    store = Store.open(path)
    try:
        if synchronous:
            store._conn.execute(f"PRAGMA synchronous = {synchronous}")  # the control run only
        draft = make_report_draft()
        run.in_flight = [(s.section_id, 1, s.text) for s in draft.sections]
        run.report_id = store.create_report(make_spec(), make_figures(), report_id="R1", draft=draft)
        run.committed += run.in_flight
        versions = dict.fromkeys(SECTIONS, 1)
        for i in range(EDITS):
            if i == EDITS // 2:
                store.close()
                store = Store.open(path)
                if synchronous:
                    store._conn.execute(f"PRAGMA synchronous = {synchronous}")
            sid = SECTIONS[i % len(SECTIONS)]
            text = _text(i)
            run.in_flight = [(sid, versions[sid] + 1, text)]
            versions[sid] = store.add_version("R1", make_section(sid, text=text), author="hand", instruction=None)
            run.committed += run.in_flight
        run.in_flight = []
        if before_close is not None:
            before_close()
    finally:
        store.close()


def verify(path: Path, run: Run) -> list[str]:
    """What a user would find missing or wrong after the reboot (empty: nothing lost)."""
    problems: list[str] = []
    check = sqlite3.connect(path)
    try:
        integrity = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if integrity != "ok":
        return [f"integrity_check: {integrity}"]
    with Store.open(path) as store:
        reports = [r.id for r in store.reports()]
        if run.report_id is None:
            return problems  # the crash came before the report was committed: nothing was promised
        if reports != ["R1"]:
            return [f"report R1 missing: {reports}"]
        found = {
            (sec.section_id, v.version): store.get_version("R1", sec.section_id, v.version).text
            for sec in store.sections("R1")
            for v in store.history("R1", sec.section_id)
        }
        for sid, version, text in run.committed:
            if found.get((sid, version)) != text:
                problems.append(f"committed {sid} v{version} lost")
        maybe = {(sid, v): t for sid, v, t in run.in_flight}
        committed = {(sid, v) for sid, v, _ in run.committed}
        for key, text in found.items():
            if key not in committed and maybe.get(key) != text:
                problems.append(f"{key} present but never committed")
    return problems


def _count_operations(tmp_path: Path) -> int:
    with PowerLossVfs() as vfs:
        workload(tmp_path / "count.sqlite3", Run())
    assert vfs.syncs > 0
    wal = [p for p in vfs.opened if p.endswith("-wal")]
    assert wal, "the store must write through a WAL file"
    return vfs.operations


@pytest.mark.parametrize("mode", ["drop-unsynced", "keep-some-unsynced"])
def test_power_loss_keeps_every_committed_version(tmp_path, mode):
    total = _count_operations(tmp_path)
    rng = random.Random(f"power-loss-{mode}")
    points = sorted(rng.sample(range(total), CRASH_POINTS))
    failures = {}
    for n in points:
        path = tmp_path / f"crash-{n}.sqlite3"
        run = Run()
        with PowerLossVfs(crash_after=n) as vfs:
            try:
                workload(path, run)
            except StoreError:  # the machine went away mid-write: the write is refused, plainly
                pass
            assert vfs.crashed  # (a crash inside the final close's checkpoint raises nothing)
        vfs.restore(keep=random.Random(n) if mode == "keep-some-unsynced" else None)
        problems = verify(path, run)
        if problems:
            failures[n] = problems
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not failures, f"after {total} writes and syncs, crashes at {points}: {failures}"


def test_control_unsynced_commits_are_lost_without_full_sync(tmp_path):
    # synchronous=NORMAL in WAL mode does not sync at commit: power lost right after the last
    # edit returned loses it. This is the loss the store's FULL setting prevents.
    path = tmp_path / "normal.sqlite3"
    run = Run()
    with PowerLossVfs() as vfs:

        def cut_power() -> None:  # right after the last edit returned, before the close's checkpoint
            vfs.crash_after = vfs.operations

        workload(path, run, synchronous="NORMAL", before_close=cut_power)
    assert vfs.crashed
    vfs.restore()
    problems = verify(path, run)
    assert any("lost" in p for p in problems), problems
