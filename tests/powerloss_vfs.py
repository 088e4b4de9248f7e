"""A SQLite VFS that loses power: every write after a file's last sync is discarded.

Registered through ctypes into the very SQLite library that Python's ``sqlite3`` module (and so
the workspace store) is linked against, as the default VFS, so the real ``Store.open`` uses it
unchanged. APSW cannot do this job: its wheels embed their own copy of SQLite, and a VFS
registered there never sees a connection opened by the ``sqlite3`` module.

Each file's durable image is what it held at its last xSync. xWrite and xTruncate go to the real
file (SQLite reads back what it wrote) and are queued as pending; xSync applies the queue to the
image. At the crash point every further write, sync or delete fails (the machine is gone); then
``restore`` puts each file back to its durable image (with ``keep`` a seeded random subset of
the pending writes reaches the disk too, as a disk that reorders its cache may do) and removes
the -shm files, which live in memory and are rebuilt from the WAL.
"""

from __future__ import annotations

import _sqlite3
import ctypes
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

SQLITE_OK = 0
SQLITE_IOERR = 10
SQLITE_IOERR_WRITE = SQLITE_IOERR | (3 << 8)
SQLITE_IOERR_FSYNC = SQLITE_IOERR | (4 << 8)
SQLITE_IOERR_TRUNCATE = SQLITE_IOERR | (6 << 8)
SQLITE_IOERR_DELETE = SQLITE_IOERR | (10 << 8)

_p = ctypes.c_void_p
_i64 = ctypes.c_int64


class _Vfs(ctypes.Structure):
    # sqlite3_vfs, version 3; function pointers kept as addresses, copied from the real VFS
    _fields_ = [
        ("iVersion", ctypes.c_int),
        ("szOsFile", ctypes.c_int),
        ("mxPathname", ctypes.c_int),
        ("pNext", _p),
        ("zName", ctypes.c_char_p),
        ("pAppData", _p),
        *[
            (name, _p)
            for name in (
                "xOpen xDelete xAccess xFullPathname xDlOpen xDlError xDlSym xDlClose xRandomness xSleep"
                " xCurrentTime xGetLastError xCurrentTimeInt64 xSetSystemCall xGetSystemCall xNextSystemCall"
            ).split()
        ],
    ]


_IO_NAMES = (
    "xClose xRead xWrite xTruncate xSync xFileSize xLock xUnlock xCheckReservedLock xFileControl"
    " xSectorSize xDeviceCharacteristics xShmMap xShmLock xShmBarrier xShmUnmap xFetch xUnfetch"
).split()


class _IoMethods(ctypes.Structure):
    _fields_ = [("iVersion", ctypes.c_int), *[(name, _p) for name in _IO_NAMES]]


# C signatures of the io methods (sqlite3.h); the first argument is the sqlite3_file*
_IO_TYPES = {
    "xClose": ctypes.CFUNCTYPE(ctypes.c_int, _p),
    "xRead": ctypes.CFUNCTYPE(ctypes.c_int, _p, _p, ctypes.c_int, _i64),
    "xWrite": ctypes.CFUNCTYPE(ctypes.c_int, _p, _p, ctypes.c_int, _i64),
    "xTruncate": ctypes.CFUNCTYPE(ctypes.c_int, _p, _i64),
    "xSync": ctypes.CFUNCTYPE(ctypes.c_int, _p, ctypes.c_int),
    "xFileSize": ctypes.CFUNCTYPE(ctypes.c_int, _p, _p),
    "xLock": ctypes.CFUNCTYPE(ctypes.c_int, _p, ctypes.c_int),
    "xUnlock": ctypes.CFUNCTYPE(ctypes.c_int, _p, ctypes.c_int),
    "xCheckReservedLock": ctypes.CFUNCTYPE(ctypes.c_int, _p, _p),
    "xFileControl": ctypes.CFUNCTYPE(ctypes.c_int, _p, ctypes.c_int, _p),
    "xSectorSize": ctypes.CFUNCTYPE(ctypes.c_int, _p),
    "xDeviceCharacteristics": ctypes.CFUNCTYPE(ctypes.c_int, _p),
    "xShmMap": ctypes.CFUNCTYPE(ctypes.c_int, _p, ctypes.c_int, ctypes.c_int, ctypes.c_int, _p),
    "xShmLock": ctypes.CFUNCTYPE(ctypes.c_int, _p, ctypes.c_int, ctypes.c_int, ctypes.c_int),
    "xShmBarrier": ctypes.CFUNCTYPE(None, _p),
    "xShmUnmap": ctypes.CFUNCTYPE(ctypes.c_int, _p, ctypes.c_int),
    "xFetch": ctypes.CFUNCTYPE(ctypes.c_int, _p, _i64, ctypes.c_int, _p),
    "xUnfetch": ctypes.CFUNCTYPE(ctypes.c_int, _p, _i64, _p),
}
_OPEN = ctypes.CFUNCTYPE(ctypes.c_int, _p, _p, _p, ctypes.c_int, _p)
_DELETE = ctypes.CFUNCTYPE(ctypes.c_int, _p, ctypes.c_char_p, ctypes.c_int)
_HEADER = 8  # our sqlite3_file: the pMethods pointer, then the real VFS's file object


def store_library() -> ctypes.CDLL:
    """The SQLite library the ``sqlite3`` module runs on (dlsym searches the module's dependencies)."""
    lib = ctypes.CDLL(_sqlite3.__file__)
    lib.sqlite3_libversion.restype = ctypes.c_char_p
    found = lib.sqlite3_libversion().decode()
    if found != sqlite3.sqlite_version:
        raise RuntimeError(f"found SQLite {found}, but the sqlite3 module runs {sqlite3.sqlite_version}")
    lib.sqlite3_vfs_find.restype = _p
    lib.sqlite3_vfs_find.argtypes = [ctypes.c_char_p]
    lib.sqlite3_vfs_register.argtypes = [_p, ctypes.c_int]
    lib.sqlite3_vfs_unregister.argtypes = [_p]
    return lib


@dataclass
class _FileState:
    durable: bytes | None  # None: the file never reached the disk
    pending: list[tuple[int, bytes | None]] = field(default_factory=list)  # (offset, data) or (size, None)


def _apply(image: bytes | None, ops: list[tuple[int, bytes | None]]) -> bytes:
    buf = bytearray(image or b"")
    for at, data in ops:
        if data is None:
            del buf[at:]
        else:
            if len(buf) < at:
                buf.extend(b"\0" * (at - len(buf)))
            buf[at : at + len(data)] = data
    return bytes(buf)


class PowerLossVfs:
    """Install with ``with PowerLossVfs(crash_after=n) as vfs:``; ``vfs.crashed`` tells whether it hit.

    ``crash_after``: the number of writes and syncs (counted together, across files) that
    succeed; the next one is where the power goes. None: never crash (to count the operations).
    """

    def __init__(self, crash_after: int | None = None) -> None:
        self.crash_after = crash_after
        self.operations = 0
        self.syncs = 0
        self.crashed = False
        self.errors: list[BaseException] = []
        self.files: dict[str, _FileState] = {}
        self.opened: set[str] = set()  # every path opened, deleted ones included
        self._open: dict[int, tuple[str | None, int, _IoMethods]] = {}  # our file* -> (path, inner file*, methods)
        self._lib = store_library()
        self._real_addr = self._lib.sqlite3_vfs_find(None)
        self._real = _Vfs.from_address(self._real_addr)
        self._keep: list[object] = []  # ctypes callbacks must outlive every call into them

    # --- installing -------------------------------------------------------------------

    def __enter__(self) -> PowerLossVfs:
        vfs = _Vfs.from_buffer_copy(self._real)
        vfs.zName = b"powerloss"
        vfs.szOsFile = _HEADER + self._real.szOsFile
        vfs.pNext = None
        vfs.xOpen = self._callback(_OPEN, self._x_open)
        vfs.xDelete = self._callback(_DELETE, self._x_delete)
        self._vfs = vfs
        methods = _IoMethods(iVersion=3)
        for name in _IO_NAMES:
            setattr(methods, name, self._callback(_IO_TYPES[name], self._forwarder(name)))
        self._methods = methods
        self._lib.sqlite3_vfs_register(ctypes.addressof(vfs), 1)  # the default: Store.open takes it
        return self

    def __exit__(self, *exc: object) -> None:
        self._lib.sqlite3_vfs_register(self._real_addr, 1)
        self._lib.sqlite3_vfs_unregister(ctypes.addressof(self._vfs))
        if self.errors:
            raise self.errors[0]

    def _callback(self, kind, fn) -> int:
        cb = kind(fn)
        self._keep.append(cb)
        return ctypes.cast(cb, _p).value or 0

    # --- the power ------------------------------------------------------------------------

    def _tick(self) -> bool:
        """Count one write or sync; False once the power is gone (this operation included)."""
        if self.crashed:
            return False
        if self.crash_after is not None and self.operations >= self.crash_after:
            self.crashed = True
            return False
        self.operations += 1
        return True

    def restore(self, *, keep: random.Random | None = None) -> None:
        """After the crash: each file as the disk holds it (durable image, plus some pending writes
        when ``keep`` is given); -shm files removed."""
        for path, state in self.files.items():
            ops = [] if keep is None else [op for op in state.pending if keep.random() < 0.5]
            image = _apply(state.durable, ops) if (ops or state.durable is not None) else None
            if image is None:
                Path(path).unlink(missing_ok=True)
            else:
                Path(path).write_bytes(image)
        for shm in {Path(p).with_name(Path(p).name + "-shm") for p in self.files}:
            shm.unlink(missing_ok=True)

    # --- the VFS --------------------------------------------------------------------------

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except BaseException as err:  # noqa: BLE001 - an exception cannot cross into C: fail the call
            self.errors.append(err)
            return SQLITE_IOERR

    def _x_open(self, vfs, name, file, flags, out_flags) -> int:
        def run() -> int:
            inner = file + _HEADER
            real_open = _OPEN(self._real.xOpen)
            rc = real_open(self._real_addr, name, inner, flags, out_flags)
            inner_methods = ctypes.c_void_p.from_address(inner).value
            if not inner_methods:
                ctypes.c_void_p.from_address(file).value = None
                return rc
            path = ctypes.string_at(name).decode() if name else None
            if path is not None:
                self.opened.add(path)
            if path is not None and path not in self.files:
                p = Path(path)
                self.files[path] = _FileState(p.read_bytes() if p.exists() and p.stat().st_size else None)
            self._open[file] = (path, inner, _IoMethods.from_address(inner_methods))
            ctypes.c_void_p.from_address(file).value = ctypes.addressof(self._methods)
            return rc

        return self._guard(run)

    def _x_delete(self, vfs, name, sync_dir) -> int:
        if self.crashed:
            return SQLITE_IOERR_DELETE
        path = name.decode()
        self.files.pop(path, None)  # a deletion is taken as durable
        return _DELETE(self._real.xDelete)(self._real_addr, name, sync_dir)

    def _forwarder(self, method: str):
        kind = _IO_TYPES[method]

        def forward(file, *args):
            def run():
                path, inner, methods = self._open[file]
                state = self.files.get(path) if path else None
                if state is not None and method in ("xWrite", "xTruncate", "xSync"):
                    if not self._tick():
                        return {"xWrite": SQLITE_IOERR_WRITE, "xTruncate": SQLITE_IOERR_TRUNCATE}.get(
                            method, SQLITE_IOERR_FSYNC
                        )
                    if method == "xWrite":
                        buf, amount, offset = args
                        state.pending.append((offset, ctypes.string_at(buf, amount)))
                    elif method == "xTruncate":
                        state.pending.append((args[0], None))
                rc = kind(getattr(methods, method))(inner, *args)
                if state is not None and method == "xSync" and rc == SQLITE_OK:
                    self.syncs += 1
                    state.durable = _apply(state.durable, state.pending)
                    state.pending = []
                if method == "xClose":
                    del self._open[file]
                return rc

            return self._guard(run)

        return forward
