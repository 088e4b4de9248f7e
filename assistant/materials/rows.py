"""Candidate rows: merged, grouped into conflicts, numbered, written as a figures-like table.

The same item (after normalisation) in the same unit class stated twice with the same value
is one row (its other sources kept); stated with different values it is a conflict: every such
row carries the group's number in `conflict`, and core.figures refuses the file as figures
until a person has kept one row per item and cleared the column.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from assistant.check.attribution import normalise_name
from assistant.core.errors import InputError
from assistant.core.figures import format_value
from assistant.materials.extract import Candidate

__all__ = ["MaterialRow", "Extracted", "OUTPUT_COLUMNS", "merge", "write_rows", "OCR_NOTE"]

OUTPUT_COLUMNS = ["id", "item", "value", "unit", "last_year", "source", "sentence", "conflict"]
OCR_NOTE = "（文字识别，请核对）"


class MaterialRow(BaseModel):
    """One candidate figure with its provenance. `confirm`: read by OCR, to be checked by a
    person against the scan before it is used."""

    id: str
    item: str
    value: float
    unit: str
    last_year: float | None = None
    source: str
    sentence: str
    conflict: int | None = None
    ocr: bool = False
    confirm: bool = False

    def cells(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item,
            "value": _plain(self.value),
            "unit": self.unit,
            "last_year": None if self.last_year is None else _plain(self.last_year),
            "source": self.source,
            "sentence": self.sentence,
            "conflict": self.conflict,
        }


class Extracted(BaseModel):
    """What `huibao materials extract --json` prints."""

    rows: list[MaterialRow]
    conflicts: int = 0
    dropped: int = 0  # model rows whose value is not in their cited sentence
    engine: str = "offline"  # offline | model | offline (model refused JSON)
    notes: list[str] = []


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _key(c: Candidate) -> tuple[str, str]:
    return normalise_name(c.item).strip("的"), c.unit_class


def merge(candidates: list[Candidate]) -> list[MaterialRow]:
    """Rows in first-seen order: same item and value merged, different values grouped."""
    groups: dict[tuple[str, str], list[Candidate]] = {}
    for c in candidates:
        kept = groups.setdefault(_key(c), [])
        same = next((k for k in kept if abs(k.base - c.base) <= 1e-9 * max(1.0, abs(c.base))), None)
        if same is None:
            kept.append(c)
            continue
        same.extra_sources.append(c.source)
        if same.last_year is None and c.last_year is not None:
            same.last_year = c.last_year
        same.ocr = same.ocr and c.ocr  # a text layer stating it too confirms the OCR reading
    position = {id(c): k for k, c in enumerate(candidates)}
    order = sorted((c for kept in groups.values() for c in kept), key=lambda c: position[id(c)])
    conflict_no: dict[tuple[str, str], int] = {}
    rows = []
    for n, c in enumerate(order, start=1):
        key = _key(c)
        conflict = None
        if len(groups[key]) > 1:
            conflict = conflict_no.setdefault(key, len(conflict_no) + 1)
        sources = "；".join(dict.fromkeys([c.source, *c.extra_sources]))
        rows.append(
            MaterialRow(
                id=f"F{n:02d}",
                item=c.item,
                value=c.value,
                unit=c.unit,
                last_year=c.last_year,
                source=sources + (OCR_NOTE if c.ocr else ""),
                sentence=c.sentence,
                conflict=conflict,
                ocr=c.ocr,
                confirm=c.ocr,
            )
        )
    return rows


def write_rows(rows: list[MaterialRow], path: str | Path) -> None:
    """Write rows as .csv (UTF-8 with BOM, for Excel), .xlsx or .yaml, the columns in order."""
    path = Path(path)
    suffix = path.suffix.lower()
    table = [r.cells() for r in rows]
    if suffix == ".csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=OUTPUT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for r in table:
            writer.writerow({k: "" if v is None else v for k, v in r.items()})
        path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
    elif suffix in (".yaml", ".yml"):
        clean = [{k: v for k, v in r.items() if v is not None} for r in table]
        path.write_text(yaml.safe_dump({"figures": clean}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    elif suffix == ".xlsx":
        import openpyxl  # heavy: ~150 ms, only for .xlsx files

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "数据"
        sheet.append(OUTPUT_COLUMNS)
        for r in table:
            sheet.append([r[k] for k in OUTPUT_COLUMNS])
        book.save(path)
    else:
        raise InputError(
            f"不支持的输出文件类型“{suffix or '无扩展名'}”（支持 .csv、.xlsx、.yaml）。", file=str(path), field="--out"
        )


def to_json(result: Extracted) -> str:
    return json.dumps(result.model_dump(), ensure_ascii=False, indent=2)


def value_text(row: MaterialRow) -> str:
    return f"{format_value(row.value)}{row.unit}"
