"""Messages from the layers below, as the page shows them.

The workspace, knowledge base and model client write their refusals for the command line too,
and some end with the command to run (``huibao unlock …``, ``huibao restore …``). On the page
the person has a button for each of those, so the hint names the button instead. Messages
without such a hint are shown as they are."""

from __future__ import annotations

import re

__all__ = ["for_page"]

UNLOCK_HINT = "请先在本节“重新起草”页签点击“解锁”（在“章节”页展开本节的“修改 · 历史 · 参考素材”）。"

# (pattern, replacement): a CLI hint -> the control on the page that does the same.
_REWRITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"如需修改，请先解锁：huibao unlock \S+ \S+"), "如需修改，" + UNLOCK_HINT),
    (re.compile(r"章节 (\S+) 是(.+?)锁定的"), r"章节 \1 由 \2 锁定，只有锁定人或审核人、管理员可以解锁"),
    (re.compile(r"可用 huibao reports 查看。"), "可在“报告”页查看全部汇报。"),
    (re.compile(r"恢复：huibao restore \S+"), "可在“报告”页下方的“回收站”中点击“恢复”。"),
    (
        re.compile(r"请先运行 huibao ingest（默认导入 knowledge/ 目录）。"),
        "请先在“素材库”页上传文件，或点击“同步示例素材目录”。",
    ),
    (
        re.compile(r"请运行 `huibao models` 查看可用的模型名，或检查 HUIBAO_MODEL 设置。"),
        "请在“设置”页核对模型名称。",
    ),
    (re.compile(r"和 HUIBAO_MODEL；可运行 `huibao models` 查看可用模型。"), "和模型名称（“设置”页）。"),
]


def for_page(message: object) -> str:
    """An error (or its text) as the page shows it: a command-line hint replaced by the page's control."""
    text = str(message)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return text
