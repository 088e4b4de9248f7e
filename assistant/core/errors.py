"""Errors the user sees. Every message is Chinese and names what is wrong and where."""

from __future__ import annotations

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
