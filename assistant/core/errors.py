"""Errors the user sees. Every message is Chinese and names what is wrong and where."""

from __future__ import annotations


class HuibaoError(Exception):
    """Base class: `str(err)` is a complete Chinese message fit to show the user."""

    exit_code = 1


class InputError(HuibaoError):
    """Unusable user input (a file, a row, a field). Nothing was written."""

    exit_code = 2

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


class StoreError(HuibaoError):
    """The workspace refused an operation (unknown report, locked section, newer schema)."""
