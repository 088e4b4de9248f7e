"""The materials stage: an office's year-end materials in, candidate figures with provenance out.

read.py reads a file into blocks (paragraphs, table rows, OCR'd pages); extract.py turns the
numbers of each clause into candidate rows in code; model.py does the same with a model and
checks its answer; rows.py merges rows, numbers conflicts and writes the table. Entry point:

    extract_materials(paths, model=None, year=None) -> Extracted
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.core.errors import InputError
from assistant.llm import ChatModel
from assistant.materials.extract import Candidate, extract_blocks, report_year
from assistant.materials.model import model_extract
from assistant.materials.read import MATERIAL_EXTENSIONS, Block, read_material, text_blocks
from assistant.materials.rows import OUTPUT_COLUMNS, Extracted, MaterialRow, merge, write_rows

__all__ = [
    "Block",
    "Candidate",
    "Extracted",
    "MATERIAL_EXTENSIONS",
    "MaterialRow",
    "OUTPUT_COLUMNS",
    "extract_materials",
    "extract_text",
    "read_material",
    "write_rows",
]


def extract_materials(
    paths: Sequence[str | Path],
    *,
    model: ChatModel | None = None,
    year: int | None = None,
    names: list[str] | None = None,
) -> Extracted:
    """Read every file (InputError for the first unusable one: nothing half-done), extract
    its figures offline or with `model`, merge and group conflicts. `names`: how each file is
    named in `source` (uploads keep the user's file name); default the file name."""
    if not paths:
        raise InputError("没有给出素材文件。")
    materials: list[tuple[str, list[Block]]] = []
    for k, path in enumerate(paths):
        name = names[k] if names else Path(path).name
        materials.append((name, read_material(path, name=name)))
    year = year or report_year([b for _, blocks in materials for b in blocks])
    return _extract(materials, model, year)


def extract_text(text: str, *, source: str = "粘贴的文字", year: int | None = None) -> Extracted:
    """Figures of pasted text (offline)."""
    blocks = text_blocks(text)
    return _extract([(source, blocks)], None, year or report_year(blocks))


def _extract(materials: list[tuple[str, list[Block]]], model: ChatModel | None, year: int | None) -> Extracted:
    dropped = 0
    notes: list[str] = []
    if model is None:
        candidates = [c for name, blocks in materials for c in extract_blocks(blocks, name, year=year)]
        engine = "offline"
    else:
        candidates, dropped, notes = model_extract(materials, model, year=year)
        engine = "model"
    rows = merge(candidates)
    conflicts = len({r.conflict for r in rows if r.conflict is not None})
    return Extracted(rows=rows, conflicts=conflicts, dropped=dropped, engine=engine, notes=notes)
