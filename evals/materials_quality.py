"""Figure extraction from materials measured on published text (issue 16, "Measure").

    python -m evals.materials_quality [--json F] [--misses F]        # text: the offline extractor
    python -m evals.materials_quality --ocr [--dpi 150] [--pages-dir D]  # the same paragraphs scanned

The labelled set is evals/materials/paragraphs.yaml: paragraphs copied from published reports,
summaries and data releases, each with every figure it states (value and unit as written, the
accepted item name), labelled by reading (evals/materials/README.md).

Scoring, per paragraph: an extracted row and a labelled row match when their value and unit
(as written, 万/亿 in the unit) are equal; each row matches at most once, and among equal
(value, unit) pairs the pairing that matches the most item names is taken. Recall = matched /
labelled, precision = matched / extracted. Item match (of the matched rows): the extracted item
equals or contains the accepted name after normalisation (ITEM_NORMALISATION below).

--ocr renders the paragraphs, one after another, as text you did not write onto A4 pages
(Noto Serif CJK 16 pt, 150 dpi), saves them as image-only PDFs, reads them back through the
materials reader (OCR page by page) and reports character accuracy (1 − edit distance /
reference length, whitespace ignored, full-width/half-width forms folded with NFKC on both
sides), seconds per page and the same extraction scores, pooled over the scanned document.
Targets (issue 16): recall and precision ≥ 0.90, item match ≥ 0.80, OCR accuracy ≥ 0.95.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from assistant.check.attribution import GENERIC_WORDS
from assistant.materials import extract_materials, extract_text
from assistant.materials.rows import MaterialRow

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "evals" / "materials" / "paragraphs.yaml"
TARGETS = {"recall": 0.90, "precision": 0.90, "item_match": 0.80, "ocr_accuracy": 0.95}

# Both names lose quotes, brackets, punctuation and spaces, 的, 同比 and the checker's generic
# words (attribution.GENERIC_WORDS: 全年、累计、完成、开展 …); a share's 占比/比重/所占比重 is 占.
_PUNCT = re.compile(r"[\s“”‘’\"'《》「」〈〉()（）、，,。；;：:·\-—]")
_GENERIC = re.compile("|".join(sorted(set(GENERIC_WORDS), key=len, reverse=True)))
ITEM_NORMALISATION = "punctuation, 的, 同比, GENERIC_WORDS removed; 占比/比重 → 占"


def normalise_item(name: str) -> str:
    name = unicodedata.normalize("NFKC", name)
    name = _PUNCT.sub("", name)
    name = re.sub(r"所占比重|占比|比重", "占", name)
    name = name.replace("同比", "")
    name = _GENERIC.sub("", name)
    return name.replace("的", "")


def item_matches(extracted: str, accepted: str) -> bool:
    got, want = normalise_item(extracted), normalise_item(accepted)
    return bool(want) and want in got


@dataclass
class Label:
    item: str
    value: float
    unit: str


@dataclass
class Score:
    labelled: int = 0
    extracted: int = 0
    matched: int = 0
    items: int = 0
    misses: list[dict] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.matched / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.extracted if self.extracted else 1.0

    @property
    def item_match(self) -> float:
        return self.items / self.matched if self.matched else 1.0

    def add(self, other: Score) -> None:
        self.labelled += other.labelled
        self.extracted += other.extracted
        self.matched += other.matched
        self.items += other.items
        self.misses += other.misses


HELDOUT = ROOT / "evals" / "materials" / "heldout.yaml"


def load(path: Path = DATA) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["paragraphs"]


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def score(pid: str, labels: list[Label], rows: list[MaterialRow]) -> Score:
    s = Score(labelled=len(labels), extracted=len(rows))
    free = list(range(len(rows)))
    unmatched: list[Label] = []
    # item-matching pairs first, so a shared (value, unit) pairs the right names
    for pass_items in (True, False):
        rest: list[Label] = []
        for lab in labels if pass_items else unmatched:
            hit = next(
                (
                    k
                    for k in free
                    if _same(rows[k].value, lab.value)
                    and rows[k].unit == lab.unit
                    and (item_matches(rows[k].item, lab.item) or not pass_items)
                ),
                None,
            )
            if hit is None:
                rest.append(lab)
                continue
            free.remove(hit)
            s.matched += 1
            if pass_items:
                s.items += 1
            else:
                s.misses.append({"paragraph": pid, "kind": "item", "label": asdict(lab), "got": rows[hit].item})
        unmatched = rest
    for lab in unmatched:
        s.misses.append({"paragraph": pid, "kind": "missed", "label": asdict(lab)})
    for k in free:
        s.misses.append({"paragraph": pid, "kind": "extra", "got": f"{rows[k].item} {rows[k].value:g}{rows[k].unit}"})
    return s


def labels_of(p: dict) -> list[Label]:
    return [Label(str(r["item"]), float(r["value"]), str(r["unit"])) for r in p["rows"]]


def measure_text(paragraphs: list[dict] | None = None) -> Score:
    total = Score()
    for p in paragraphs or load():
        result = extract_text(p["text"], source=p["id"])
        total.add(score(p["id"], labels_of(p), result.rows))
    return total


# ---------------------------------------------------------------- scans


def _font(size: int):  # PIL is a test-time dependency of this script only
    from PIL import ImageFont

    for path in (
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    ):
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    raise SystemExit("找不到中文字体（需要 Noto CJK 或文泉驿），无法生成扫描页。")


def render_pages(paragraphs: list[str], dpi: int = 150) -> list:
    """A4 pages (PIL images) with the paragraphs set in 16 pt, first lines indented two characters."""
    from PIL import Image, ImageDraw

    width, height = round(8.27 * dpi), round(11.69 * dpi)
    font = _font(round(16 / 72 * dpi))
    margin, step = round(1.0 * dpi), round(font.size * 1.6)
    pages: list = []
    page = draw = None
    y = 0

    def new_page():
        nonlocal page, draw, y
        page = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(page)
        pages.append(page)
        y = margin

    new_page()
    for para in paragraphs:
        line = "\u3000\u3000"
        for ch in para:
            if draw.textlength(line + ch, font=font) > width - 2 * margin:
                if y + step > height - margin:
                    new_page()
                draw.text((margin, y), line, font=font, fill=0)
                y += step
                line = ""
            line += ch
        if y + step > height - margin:
            new_page()
        draw.text((margin, y), line, font=font, fill=0)
        y += step
    return pages


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def char_accuracy(reference: str, ocr: str) -> float:
    ref, got = _fold(reference), _fold(ocr)
    return 1 - _edit_distance(ref, got) / len(ref) if ref else 1.0


def measure_ocr(dpi: int = 150, pages_dir: Path | None = None) -> dict:
    from assistant.core.scan import ocr_available

    if not ocr_available():
        raise SystemExit("未安装 rapidocr-onnxruntime / opencv-python-headless，无法测扫描件。")
    paragraphs = load()
    pages = render_pages([p["text"] for p in paragraphs], dpi)
    folder = pages_dir or Path(tempfile.mkdtemp(prefix="huibao-scan-"))
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "scanned-materials.pdf"
    pages[0].save(pdf, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    from assistant.materials.read import read_material

    start = time.perf_counter()
    blocks = read_material(pdf)
    seconds = time.perf_counter() - start
    ocr_text = "\n".join(b.text for b in blocks)
    accuracy = char_accuracy("".join(p["text"] for p in paragraphs), ocr_text)
    result = extract_materials([pdf])
    labels = [lab for p in paragraphs for lab in labels_of(p)]
    s = score("scan", labels, result.rows)
    return {
        "pages": len(pages),
        "dpi": dpi,
        "seconds_per_page": round(seconds / len(pages), 2),
        "ocr_accuracy": round(accuracy, 4),
        "recall": round(s.recall, 4),
        "precision": round(s.precision, 4),
        "item_match": round(s.item_match, 4),
        "labelled": s.labelled,
        "extracted": s.extracted,
        "all_rows_flagged_for_confirmation": all(r.confirm for r in result.rows),
        "pdf": str(pdf),
    }


def _table(rows: list[tuple[str, str, str]]) -> str:
    out = ["| 指标 | 值 | 目标 |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write the scores as JSON")
    ap.add_argument("--misses", type=Path, default=ROOT / "evals" / "materials" / "misses.md")
    ap.add_argument("--ocr", action="store_true", help="measure on scanned pages (needs the OCR package)")
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--heldout", action="store_true", help="score the held-out set (heldout.yaml) instead")
    ap.add_argument("--pages-dir", type=Path, help="keep the rendered scan here")
    args = ap.parse_args(argv)
    paragraphs = load(HELDOUT if args.heldout else DATA)
    if args.heldout and args.misses == ap.get_default("misses"):
        args.misses = ROOT / "evals" / "materials" / "heldout-misses.md"
    if args.ocr:
        r = measure_ocr(args.dpi, args.pages_dir)
        print(
            _table(
                [
                    ("扫描页数（150 dpi，仅图像）", str(r["pages"]), ""),
                    ("文字识别字符准确率", f"{r['ocr_accuracy']:.3f}", "≥ 0.95"),
                    ("每页秒数", f"{r['seconds_per_page']:.2f}", ""),
                    ("数值+单位 查全率", f"{r['recall']:.3f}", "≥ 0.90"),
                    ("数值+单位 查准率", f"{r['precision']:.3f}", "≥ 0.90"),
                    ("事项名称吻合", f"{r['item_match']:.3f}", "≥ 0.80"),
                    ("各行均标为待核对", str(r["all_rows_flagged_for_confirmation"]), "True"),
                ]
            )
        )
        if args.json:
            args.json.write_text(json.dumps(r, ensure_ascii=False, indent=2), encoding="utf-8")
        return 0
    s = measure_text(paragraphs)
    print(f"{len(paragraphs)} 段，标注 {s.labelled} 行，摘录 {s.extracted} 行，数值+单位吻合 {s.matched} 行\n")
    print(
        _table(
            [
                ("数值+单位 查全率", f"{s.recall:.3f}", "≥ 0.90"),
                ("数值+单位 查准率", f"{s.precision:.3f}", "≥ 0.90"),
                ("事项名称吻合（吻合行中）", f"{s.item_match:.3f}", "≥ 0.80"),
            ]
        )
    )
    lines = ["# 素材摘录未命中（evals.materials_quality 生成）", ""]
    for m in s.misses:
        if m["kind"] == "item":
            lines.append(f"- {m['paragraph']} 事项不符：标注“{m['label']['item']}”，摘录“{m['got']}”")
        elif m["kind"] == "missed":
            lab = m["label"]
            lines.append(f"- {m['paragraph']} 漏摘：{lab['item']} {lab['value']:g}{lab['unit']}")
        else:
            lines.append(f"- {m['paragraph']} 多摘：{m['got']}")
    args.misses.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.json:
        payload = {"recall": s.recall, "precision": s.precision, "item_match": s.item_match, **asdict(s)}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    met = (
        s.recall >= TARGETS["recall"] and s.precision >= TARGETS["precision"] and s.item_match >= TARGETS["item_match"]
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
