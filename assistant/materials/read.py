"""Reading an office's materials into blocks of text with where each came from.

A block is a paragraph (.docx, .txt/.md), a page's paragraph (.pdf: the text layer, or OCR for
an image-only page, judged page by page), a table row with its header (.docx tables, .xlsx
sheets) or an image's text (OCR). .doc/.wps are converted to .docx with LibreOffice when it is
installed. Anything unusable raises InputError naming the file.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import InputError, os_reason
from assistant.core.scan import OCR_MISSING, OcrUnavailable, ocr_available, ocr_image, pdf_page_texts
from assistant.core.textio import (
    TextReadError,
    accepted_text,
    cell_text,
    decode_text,
    normalise_newlines,
    split_front_matter,
    strip_controls,
)
from assistant.gongwen import LABEL

__all__ = ["Block", "MATERIAL_EXTENSIONS", "read_material", "unwrap"]

TEXT_EXTENSIONS = {".txt", ".md", ".markdown"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg"}
CONVERTED_EXTENSIONS = {".doc", ".wps"}
MATERIAL_EXTENSIONS = {".docx", ".pdf", ".xlsx", *TEXT_EXTENSIONS, *IMAGE_EXTENSIONS, *CONVERTED_EXTENSIONS}
MAX_MATERIAL_BYTES = 50 * 2**20  # a scanned PDF of a year's material is large; a bound keeps memory sane
CONVERT_TIMEOUT_S = 120


@dataclass(frozen=True)
class Block:
    """A paragraph or a table row of a material. `where`: 第3段, 第2页, 表1第4行 …; `header`: a
    table row's column names (empty for running text); `ocr`: read by OCR, to be confirmed."""

    text: str
    where: str
    ocr: bool = False
    header: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()


_SENTENCE_END = ("。", "！", "？", "；", "：", ":", "!", "?", ";")


def unwrap(text: str) -> list[str]:
    """Paragraphs of text whose lines were wrapped at the page edge (a PDF's text layer, OCR): a
    line joins the next unless it ends a sentence, is clearly shorter than the full lines, or
    the next line opens with a heading label."""
    lines = [ln.strip() for ln in text.split("\n")]
    longest = max((len(ln) for ln in lines), default=0)
    paras: list[str] = []
    current = ""
    for k, line in enumerate(lines):
        if not line:
            if current:
                paras.append(current)
            current = ""
            continue
        current += line
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        ends = line.endswith(_SENTENCE_END) or len(line) < 0.75 * longest or not nxt or bool(LABEL.match(nxt))
        if ends:
            paras.append(current)
            current = ""
    if current:
        paras.append(current)
    return paras


def _clean(text: str) -> str:
    return strip_controls(text.replace("\x00", ""), multiline=True).strip()


def _docx_blocks(data: bytes, source: str) -> list[Block]:
    try:
        import docx  # heavy: python-docx and lxml, only for .docx files

        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises several types for a broken package
        raise InputError("不是有效的 Word 文档（.docx），文件可能已损坏。", file=source) from None
    from docx.table import Table  # heavy: as above

    blocks: list[Block] = []
    para = tables = 0
    for el in document.element.body.iterchildren():  # tracked changes accepted (core/textio)
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = _clean(accepted_text(el))
            if text:
                para += 1
                blocks.append(Block(text, f"第{para}段"))
        elif tag == "tbl":
            tables += 1
            # every grid cell, merged ones repeated, so a value stays under its column's header
            rows = [[_clean(cell_text(cell)) for cell in row.cells] for row in Table(el, document).rows]
            blocks.extend(_table_blocks(rows, f"表{tables}"))
    return blocks


def _table_blocks(rows: list[list[str]], name: str) -> list[Block]:
    """A table's rows with its header (the first row with two or more filled cells)."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return []
    header = tuple(c.strip() for c in rows[0])
    blocks = []
    for n, row in enumerate(rows[1:], start=2):
        cells = tuple(c.strip() for c in row)
        shown: list[str] = []
        for h, c in zip(header, cells):
            part = f"{h}：{c}" if h else c
            if c and (not shown or shown[-1] != part):  # a merged cell is shown once
                shown.append(part)
        text = "；".join(shown)
        blocks.append(Block(text, f"{name}第{n}行", header=header, cells=cells))
    return blocks


def _xlsx_blocks(data: bytes, source: str) -> list[Block]:
    import openpyxl  # heavy: ~150 ms, only for .xlsx files

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises several types for a broken file
        raise InputError("无法读取 Excel 文件，文件可能已损坏。", file=source) from None
    blocks: list[Block] = []
    try:
        for sheet in book.worksheets:
            rows = [
                ["" if v is None else _clean(str(v)) for v in values] for values in sheet.iter_rows(values_only=True)
            ]
            blocks.extend(_table_blocks(rows, f"工作表“{sheet.title}”"))
    finally:
        book.close()
    return blocks


def _pdf_blocks(data: bytes, source: str) -> list[Block]:
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL + 1)  # pypdf's English log lines would reach the terminal
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pypdf import PdfReader  # heavy: imported only when a PDF is read

            try:
                reader = PdfReader(io.BytesIO(data))
                if reader.is_encrypted and not reader.decrypt(""):
                    raise InputError("PDF 已加密（设有打开密码），无法读取。", file=source)
                pages = pdf_page_texts(reader)
            except (InputError, OcrUnavailable):
                raise
            except Exception as err:
                raise InputError(f"不是有效的 PDF 文件，或文件已损坏（{type(err).__name__}）。", file=source) from None
    finally:
        pypdf_log.setLevel(level)
    blocks: list[Block] = []
    for n, page in enumerate(pages, start=1):
        # an OCR'd block says so in its row's source (rows.OCR_NOTE)
        blocks.extend(Block(p, f"第{n}页", ocr=page.ocr) for p in unwrap(_clean(page.text)) if p)
    if not blocks and not ocr_available():
        raise InputError(f"PDF 中没有文字层，可能是扫描件：{OCR_MISSING}。", file=source)
    return blocks


def _image_blocks(data: bytes, source: str) -> list[Block]:
    if not ocr_available():
        raise InputError(f"{OCR_MISSING}。", file=source)
    try:
        text = ocr_image(data)
    except OcrUnavailable:
        raise InputError(f"{OCR_MISSING}。", file=source) from None
    except Exception as err:  # PIL refuses a broken image with several types
        raise InputError(f"无法读取图片（{type(err).__name__}），文件可能已损坏。", file=source) from None
    return [Block(p, "图片", ocr=True) for p in unwrap(_clean(text)) if p]


def _text_blocks(data: bytes, source: str) -> list[Block]:
    try:
        text = normalise_newlines(decode_text(data))
        _, text = split_front_matter(text)
    except TextReadError as err:
        raise InputError(f"{err.reason}。", file=source) from None
    blocks = []
    for n, line in enumerate(text.split("\n"), start=1):
        line = _clean(line.lstrip("#").strip())
        if line:
            blocks.append(Block(line, f"第{n}行"))
    return blocks


def _convert(path: Path, source: str) -> bytes:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise InputError(
            f"{path.suffix.lower()} 文件需要 LibreOffice 转换，本机未安装；请另存为 .docx 后再试。", file=source
        )
    with tempfile.TemporaryDirectory() as tmp:
        # a private profile: a LibreOffice already open on the desktop would otherwise swallow the job
        cmd = [
            soffice,
            f"-env:UserInstallation=file://{tmp}/profile",
            "--headless",
            "--convert-to",
            "docx",
            "--outdir",
            tmp,
            str(path),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=CONVERT_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired):
            raise InputError("LibreOffice 转换失败；请另存为 .docx 后再试。", file=source) from None
        out = Path(tmp) / (path.stem + ".docx")
        if not out.is_file():
            raise InputError("LibreOffice 未能转换这个文件；请另存为 .docx 后再试。", file=source)
        return out.read_bytes()


def read_material(path: str | Path, *, name: str | None = None) -> list[Block]:
    """The blocks of one material file; InputError when it cannot be used."""
    path = Path(path)
    source = name or path.name
    suffix = path.suffix.lower()
    if suffix not in MATERIAL_EXTENSIONS:
        raise InputError(
            f"不支持的素材类型“{suffix or '无扩展名'}”（支持 .docx、.doc、.wps、.pdf、.xlsx、.txt、.md、.png、.jpg）。",
            file=source,
        )
    try:
        size = path.stat().st_size
        if size > MAX_MATERIAL_BYTES:
            raise InputError(f"文件过大（{size / 2**20:.1f} MB，最多 {MAX_MATERIAL_BYTES // 2**20} MB）。", file=source)
        data = path.read_bytes() if suffix not in CONVERTED_EXTENSIONS else _convert(path, source)
    except OSError as err:
        raise InputError(f"无法读取文件（{os_reason(err)}）。", file=source) from None
    if not data.strip():
        raise InputError("文件为空。", file=source)
    if suffix in (".docx", *CONVERTED_EXTENSIONS):
        blocks = _docx_blocks(data, source)
    elif suffix == ".pdf":
        blocks = _pdf_blocks(data, source)
    elif suffix == ".xlsx":
        blocks = _xlsx_blocks(data, source)
    elif suffix in IMAGE_EXTENSIONS:
        blocks = _image_blocks(data, source)
    else:
        blocks = _text_blocks(data, source)
    if not blocks:
        raise InputError("文件中没有可提取的文字。", file=source)
    return blocks


def text_blocks(text: str) -> list[Block]:
    """Blocks of pasted text, one per line (the page's text box, tests)."""
    return [Block(line.strip(), f"第{n}行") for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
