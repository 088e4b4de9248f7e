"""Errors the user sees. Every message is Chinese and names what is wrong and where."""

from __future__ import annotations

import errno

# Exit codes of every `huibao` command (the README lists them): 0 success, 1 problems found,
# 2 unusable input, 3 internal error, 4 the model failed. Scripts tell an outage from a result by 4.
EXIT_PROBLEMS = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3
EXIT_MODEL = 4


class HuibaoError(Exception):
    """Base class: `str(err)` is a complete Chinese message fit to show the user."""

    exit_code = EXIT_PROBLEMS


class InputError(HuibaoError):
    """Unusable user input (a file, a row, a field). Nothing was written."""

    exit_code = EXIT_INPUT

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None
    ) -> None:
        self.file, self.line, self.field = file, line, field
        where = []
        if file:
            where.append(f"文件 {file}")
        if line is not None:
            where.append(f"第 {line} 行")
        if field:
            where.append(f"字段“{field}”")
        super().__init__(("，".join(where) + "：" if where else "") + message)


class ModelError(HuibaoError):
    """The model endpoint failed (unreachable, bad key, unknown model, timeout)."""

    exit_code = EXIT_MODEL


class StoreError(HuibaoError):
    """The workspace refused an operation (unknown report, locked section, newer schema)."""


class Unchanged(HuibaoError):
    """The operation would save a version identical to the current one, so nothing was saved.
    Not a failure: the command says so and exits 0."""

    exit_code = 0


_OS_REASONS = {
    errno.EACCES: "没有读取权限",
    errno.EPERM: "没有读取权限",
    errno.ENOENT: "文件不存在，可能已被移走或删除",
    errno.ELOOP: "符号链接形成循环，无法读取",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.ENOSPC: "磁盘空间不足",
}


def os_reason(err: OSError) -> str:
    """Why a file could not be read or written, in Chinese (err.strerror is the system's English)."""
    return _OS_REASONS.get(err.errno or 0, f"系统错误，错误码 {err.errno}")
