"""Reading the text of files a user supplies: encoding detection, .docx text, YAML front matter.

Shared by ingest (knowledge files), figures (CSV/YAML data) and `huibao check` (drafts), so a GBK
file reads the same everywhere. Kept light on purpose — no numpy, no Chroma — because `huibao
check` and the figures loader import it and importing assistant.kb.ingest costs ~150 ms.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import yaml

__all__ = [
    "TextReadError",
    "decode_text",
    "read_docx",
    "normalise_newlines",
    "FRONT_MATTER",
    "split_front_matter",
    "strip_controls",
    "yaml_too_deep",
    "ZIP_PACKAGES",
    "size_zh",
    "too_large",
]

# Office files that are zip packages: their unpacked size is what counts against a limit.
ZIP_PACKAGES = (".docx", ".xlsx")

# ESC/CSI sequences (colours, cursor moves) as a whole, then any other control character, lone
# surrogate or non-character: none of them is text a person typed, and Word refuses them.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_CONTROLS = re.compile(r"[\t\n\r\u2028\u2029]")

# YAML front matter: "---" lines (trailing blanks allowed) around the block; the closing one may end the file.
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)


class TextReadError(Exception):
    """A file whose text cannot be read; `reason` is a Chinese phrase (no closing 。) for the user.
    Callers turn it into their own error (ingest: skip the file; figures/check: InputError)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030/GBK, else charset-normalizer's guess."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise TextReadError("文件以 UTF-16 标记开头，但内容不是有效的 UTF-16 文字") from err
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Chinese office files that are not UTF-8 are nearly always GBK/GB18030 (GB18030 is a superset
    # of GBK and GB2312). Try it strictly first: charset-normalizer mistakes short GBK text for
    # Big5 or Korean (a one-line GBK draft came back as Hangul).
    try:
        text = data.decode("gb18030")
        if _mostly_cjk(text):
            return text
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # heavy: only when a file is not UTF-8 or GB18030

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise TextReadError("无法识别文件的文字编码（不是 UTF-8 或 GBK/GB18030），请另存为 UTF-8")
    return str(best)


def _mostly_cjk(text: str) -> bool:
    letters = [c for c in text if not c.isspace() and not c.isascii()]
    if not letters:
        return True
    cjk = sum(
        1
        for c in letters
        if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" or c in "“”‘’…—·"
    )
    return cjk / len(letters) > 0.8


def normalise_newlines(text: str) -> str:
    """\\r\\n and lone \\r (old Mac / some exports) become \\n, as Python's text mode reads them; no BOM."""
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# tracked deletions and moved-away text are not in the accepted text (deleted text is w:delText anyway)
_REMOVED = frozenset({f"{_W}del", f"{_W}moveFrom"})


def accepted_text(paragraph) -> str:
    """A Word paragraph's text (a w:p element) with tracked changes accepted: what the reader of the
    file sees once a leader's changes are accepted. python-docx's Paragraph.text reads only the
    paragraph's own runs, so a number a leader typed in with 修订 on (a run inside w:ins) is lost."""
    out = []
    for el in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if any(a.tag in _REMOVED for a in el.iterancestors()):
            continue
        out.append(el.text or "" if el.tag == f"{_W}t" else ("\t" if el.tag == f"{_W}tab" else "\n"))
    return "".join(out)


def cell_text(cell) -> str:
    """A table cell's text (a python-docx _Cell) with tracked changes accepted, paragraphs joined."""
    return "\n".join(accepted_text(p) for p in cell._tc.iter(f"{_W}p"))


def read_docx(data: bytes) -> str:
    """Text of a .docx: paragraphs and table rows (cells joined by tabs) in body order."""
    try:
        import docx  # heavy: python-docx and lxml, only for .docx files

        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises several types for a broken package
        raise TextReadError("不是有效的 Word 文档（.docx），文件可能已损坏") from err
    from docx.table import Table  # heavy: as above

    lines: list[str] = []
    # body order matters (heading paths, line numbers): walk paragraphs and tables as they appear
    for el in document.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(accepted_text(el))
        elif tag == "tbl":
            for row in Table(el, document).rows:
                cells: list[str] = []
                for cell in row.cells:
                    t = cell_text(cell).strip()
                    if t and (not cells or cells[-1] != t):  # merged cells repeat their text
                        cells.append(t)
                lines.append("\t".join(cells))
    return "\n".join(lines)


def split_front_matter(text: str) -> tuple[dict, str]:
    """(metadata, body) of text that may open with YAML front matter; ({}, text) when it does not."""
    m = FRONT_MATTER.match(text)
    if not m:
        return {}, text

    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as err:
        message, line = yaml_error_message(err)
        # Lines counted from the opening ---: the metadata starts on line 2.
        where = f"第 {line + 1} 行，" if line is not None else ""
        raise TextReadError(f"文件开头的元数据（--- … ---）不是有效的 YAML：{where}{message}") from err
    if not isinstance(meta, dict):
        raise TextReadError("文件开头的元数据（--- … ---）应为“键: 值”形式")
    return meta, text[m.end() :]


def strip_controls(text: str, *, multiline: bool = False) -> str:
    """Text with control characters removed (NUL included: callers that must refuse NUL check
    for it first). A one-line field also loses tabs and line breaks (each becomes a space)."""
    text = _CONTROLS.sub("", _ANSI.sub("", text))
    if not multiline:
        text = _LINE_CONTROLS.sub(" ", text)
    return text


# PyYAML's problem text (English) -> what is wrong, in words a user can act on. First match wins.
_YAML_PROBLEMS: list[tuple[str, str]] = [
    (r"mapping values are not allowed here", "这里不能出现冒号：“键: 值”的值里有冒号时，请给值加上引号"),
    (r"could not find expected ':'", "缺少冒号：每一行应写成“键: 值”"),
    (r"found character '\\t' that cannot start any token|found a tab character", "含有制表符（Tab）：缩进只能用空格"),
    (r"found character '(.)' that cannot start any token", "字符“{0}”不能出现在这里：以它开头的值请加引号"),
    (r"found unexpected end of stream", "文件在引号或括号闭合之前就结束了"),
    (r"found undefined alias '(.*)'", "引用了没有定义的锚点“{0}”"),
    (r"found unknown escape character '(.*)'", "双引号里的“\\{0}”不是有效的转义：路径等请改用单引号"),
    (r"expected ',' or '\]'", "方括号 [ ] 没有正确闭合"),
    (r"expected ',' or '\}'", "花括号 { } 没有正确闭合"),
    (
        r"expected <block end>|did not find expected key|did not find expected '-' indicator",
        "缩进不一致：同一层的各行应对齐",
    ),
    (r"could not determine a constructor for the tag", "含有不支持的标签（以 ! 开头）"),
    (r"expected alphabetic or numeric character", "锚点（&）或引用（*）的名称无效"),
    (r"found duplicate anchor", "同一个锚点名称定义了两次"),
]


def yaml_error_message(err: yaml.YAMLError) -> tuple[str, int | None]:
    """(Chinese message naming the line's column and the problem, 1-based line) for a YAML error.

    PyYAML's own text is English; the line goes to InputError(line=), the column into the message."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = str(getattr(err, "problem", None) or "")
    reason = "格式不对"
    for pattern, text in _YAML_PROBLEMS:
        m = re.search(pattern, problem)
        if m:
            reason = text.format(*m.groups()) if m.groups() else text  # "花括号 { }" is no template
            break
    if mark is None:
        return f"YAML 格式错误：{reason}。", None
    return f"YAML 格式错误（第 {mark.column + 1} 列）：{reason}。", mark.line + 1


def yaml_too_deep(text: str, limit: int) -> int | None:
    """The line where YAML nesting first goes deeper than ``limit``, or None. Uses the event
    stream, which is not recursive, so a 300-level file cannot raise RecursionError here."""
    depth = 0
    try:
        for event in yaml.parse(text):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > limit:
                    return event.start_mark.line + 1 if event.start_mark else 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None  # a syntax error: the caller's own parse reports it with its line
    return None


def size_zh(n: int | float) -> str:
    """A byte count as a person reads it: 20 MB, 1.5 MB, 3.2 KB, 800 字节."""
    if n >= 2**20:
        mb = n / 2**20
        return f"{mb:.0f} MB" if mb == int(mb) else f"{mb:.1f} MB"
    if n >= 1024:
        kb = n / 1024
        return f"{kb:.0f} KB" if kb == int(kb) else f"{kb:.1f} KB"
    return f"{int(n)} 字节"


def too_large(path: str | Path, limit: int, data: bytes | None = None) -> str | None:
    """Why a user file is over `limit` bytes (a Chinese phrase, no closing 。), or None when it is not.

    A .docx/.xlsx counts with its parts' unpacked size, so that a small file that unpacks to
    gigabytes (a zip bomb) is refused before anything unpacks it. These are the sizes the archive
    declares; zipfile never returns more of a part than it declares (a longer part fails its CRC
    check), so a package cannot lie its way past the limit. `data`: the file's bytes, when the
    caller already has them (an upload); otherwise only the zip directory is read from `path`.
    """
    path = Path(path)
    raw = len(data) if data is not None else path.stat().st_size
    if raw > limit:
        return f"文件过大（{size_zh(raw)}，最多 {size_zh(limit)}）"
    if path.suffix.lower() not in ZIP_PACKAGES:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data) if data is not None else path) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None  # not a zip package: reading it fails later, with its own reason
    if unpacked > limit:
        return f"文件解压后过大（{path.suffix.lower()} 按解压后的大小计：{size_zh(unpacked)}，最多 {size_zh(limit)}）"
    return None
