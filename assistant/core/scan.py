"""Scans: text of image-only PDF pages and of images, by OCR with the models bundled in the
rapidocr-onnxruntime wheel (PP-OCRv4 Chinese detection and recognition), so nothing is fetched.

Shared by knowledge-base ingest (a scanned past report) and the materials stage (a stamped
科室 summary). A PDF is judged page by page: a page with a text layer is read as text, a page
without one is read by OCR from the images it holds, so one text page never hides scanned ones.

OCR is optional at run time: without the package, `ocr_available()` is False and callers say
so in Chinese (OCR_MISSING) instead of failing.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = ["OCR_MISSING", "OcrUnavailable", "PageText", "ocr_available", "ocr_image", "pdf_page_texts"]

OCR_MISSING = (
    "未安装文字识别组件（rapidocr-onnxruntime 与 opencv-python-headless），无法识别扫描件或图片中的文字；"
    "请按 README“扫描件”一节安装后重试，或提供带文字层的 PDF / Word 文件"
)
# A page whose text layer has fewer characters than this (a page number, a stamp's caption) and
# that holds an image is read by OCR.
MIN_TEXT_CHARS = 8
# Recognised pieces below this confidence are left out: they are stamps, smudges and ruling lines.
MIN_SCORE = 0.5


class OcrUnavailable(Exception):
    """The OCR package is not installed; str() is OCR_MISSING."""

    def __init__(self) -> None:
        super().__init__(OCR_MISSING)


class PageText(NamedTuple):
    """One PDF page's text and whether it came from OCR."""

    text: str
    ocr: bool


@lru_cache(maxsize=1)
def ocr_available() -> bool:
    try:
        import cv2  # noqa: F401  # heavy: OpenCV, only to see whether OCR can run
        import rapidocr_onnxruntime  # noqa: F401  # heavy: onnxruntime and the models, only for scans
    except Exception:  # ImportError, or cv2 missing a system library
        return False
    return True


_ENGINE_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR  # heavy: loads three ONNX models (~1 s)

    logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # its English progress lines are noise
    return RapidOCR()


def ocr_image(data: bytes | Any) -> str:
    """Text of one image (encoded bytes, or a PIL image), its lines in reading order; a line
    that runs to the right margin continues in the next, so a wrapped paragraph stays one line
    (a line break would end a clause for the number check). Raises OcrUnavailable."""
    if not ocr_available():
        raise OcrUnavailable()
    import numpy as np  # heavy: only for scans
    from PIL import Image  # heavy: only for scans

    image = data if isinstance(data, Image.Image) else Image.open(io.BytesIO(data))
    array = np.asarray(image.convert("RGB"))[:, :, ::-1].copy()  # RGB -> BGR, as OpenCV reads
    with _ENGINE_LOCK:  # one engine; onnxruntime sessions are not shared across threads here
        result, _ = _engine()(array)
    return join_lines(result or [], width=array.shape[1])


def join_lines(result: list, width: int) -> str:
    """OCR boxes ([[4 points], text, score], …) to text: boxes grouped into lines by their
    vertical centre, each line left to right; a line reaching the right margin of the text
    block joins the next one without a break."""
    boxes = []
    for box, text, score in result:
        if float(score) < MIN_SCORE or not str(text).strip():
            continue
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        boxes.append((min(xs), max(xs), min(ys), max(ys), str(text).strip()))
    if not boxes:
        return ""
    boxes.sort(key=lambda b: (b[2] + b[3]) / 2)
    lines: list[list[tuple]] = []
    for b in boxes:
        centre, height = (b[2] + b[3]) / 2, b[3] - b[2]
        if lines:
            last = lines[-1]
            lc = sum((x[2] + x[3]) / 2 for x in last) / len(last)
            if abs(centre - lc) < 0.5 * height:
                last.append(b)
                continue
        lines.append([b])
    right = max(b[1] for b in boxes)
    left = min(b[0] for b in boxes)
    size = sum(b[3] - b[2] for b in boxes) / len(boxes)  # about one character
    out: list[str] = []
    for k, line in enumerate(lines):
        line.sort(key=lambda b: b[0])
        text = _join_pieces(line, size)
        full = line[-1][1] >= right - 1.5 * size
        nxt_indented = k + 1 < len(lines) and min(b[0] for b in lines[k + 1]) > left + 1.2 * size
        out.append(text)
        out.append("" if full and not nxt_indented and not text.endswith(("。", "：", ":")) else "\n")
    return "".join(out).strip()


def _join_pieces(line: list[tuple], size: float) -> str:
    """Boxes of one line: a gap wider than two characters is a table cell break (a tab)."""
    parts = [line[0][4]]
    for prev, cur in zip(line, line[1:]):
        parts.append("\t" if cur[0] - prev[1] > 2 * size else "")
        parts.append(cur[4])
    return "".join(parts)


def _page_images(page: Any) -> list[Any]:
    try:
        return [img.image for img in page.images if img.image is not None]
    except Exception:  # an image filter pypdf cannot decode: the page stays as it is
        return []


def pdf_page_texts(reader: Any, *, ocr: bool = True) -> list[PageText]:
    """Each page of a pypdf PdfReader: its text layer, or, for a page without one that holds
    images, the OCR text of those images (when `ocr` and the package is installed; otherwise
    the page's text stays empty and the caller says why)."""
    pages: list[PageText] = []
    for page in reader.pages:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            text = page.extract_text() or ""
        if len(text.strip()) >= MIN_TEXT_CHARS or not ocr or not ocr_available():
            pages.append(PageText(text, False))
            continue
        images = _page_images(page)
        if not images:
            pages.append(PageText(text, False))
            continue
        pages.append(PageText("\n".join(t for t in (ocr_image(i) for i in images) if t), True))
    return pages
