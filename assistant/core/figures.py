"""Supplied figures (数据): the numbers a report may state, loaded from YAML, CSV or XLSX.

A figure file is a table with the columns ``item`` (项目), ``value`` (数值) and ``unit`` (单位),
optionally ``id`` (编号), ``section`` (章节), ``note`` (备注), ``aliases`` (别名: other names the
text may use for the item, separated by 、 or ;), ``last_year`` (上年: last year's value, in the
same unit), ``part_of`` (所属: the id of the figure that includes this one), and the provenance
columns ``source`` (来源: the material file and place) and ``sentence`` (原文: the sentence it was
taken from), which `huibao materials extract` fills. A file whose ``conflict`` (冲突) column is
still filled in is refused, naming the rows: the same item has different values there. YAML may be a
list of mappings or ``{figures: [...]}``. Values are plain numbers ("1,300" and full-width digits are
accepted; "98%" is value 98, unit %; "约30" is not: an approximation is something the draft writes,
not a figure). A unit is stored without spaces ("万 人次" is 万人次); control characters are removed
from text and NUL is refused. Values, rows, file size and YAML depth are bounded by the settings
(``max_figure_value`` after folding 万/亿 into the value, ``max_figure_rows``, ...).
Any problem raises ``InputError`` naming the file, the line a person sees and the field.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, model_validator

from assistant.core.errors import InputError, os_reason
from assistant.core.settings import Settings, input_limits
from assistant.core.textio import (
    TextReadError,
    decode_text,
    normalise_newlines,
    strip_controls,
    too_large,
    yaml_error_message,
    yaml_too_deep,
)

# Header aliases a Chinese office is likely to type.
_ALIASES = {
    "id": "id",
    "编号": "id",
    "序号": "id",
    "item": "item",
    "项目": "item",
    "名称": "item",
    "事项": "item",
    "value": "value",
    "数值": "value",
    "数量": "value",
    "数据": "value",
    "unit": "unit",
    "单位": "unit",
    "section": "section",
    "章节": "section",
    "note": "note",
    "备注": "note",
    "说明": "note",
    "aliases": "aliases",
    "别名": "aliases",
    "last_year": "last_year",
    "上年": "last_year",
    "上年数值": "last_year",
    "part_of": "part_of",
    "所属": "part_of",
    "source": "source",
    "来源": "source",
    "sentence": "sentence",
    "原文": "sentence",
    "conflict": "conflict",
    "冲突": "conflict",
}
FIELD_ZH = {
    "id": "编号",
    "item": "项目",
    "value": "数值",
    "unit": "单位",
    "section": "章节",
    "note": "备注",
    "aliases": "别名",
    "last_year": "上年",
    "part_of": "所属",
    "source": "来源",
    "sentence": "原文",
    "conflict": "冲突",
}
COLUMNS = ["id", "item", "value", "unit", "section", "note"]
# Optional columns a file gets only when some figure fills them, so older files round-trip unchanged.
OPTIONAL_COLUMNS = ["aliases", "last_year", "part_of", "source", "sentence"]
_ALIAS_SEPARATORS = re.compile(r"[、;；]")

# Scale prefixes folded into the base value; longest first so 万亿 wins over 万.
SCALES = (("万亿", 1e12), ("亿", 1e8), ("万", 1e4))  # longest first
# Units that merely start with a scale character but are not scaled (万 as part of a word).
_UNSCALED = {"万元户"}

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def split_scale(value: float, unit: str) -> tuple[float, str]:
    """Fold a 万/亿 prefix of the unit into the value: (44.1, 万人次) -> (441000.0, 人次)."""
    unit = unit.strip()
    if unit not in _UNSCALED:
        for prefix, factor in SCALES:
            if unit.startswith(prefix) and len(unit) > len(prefix):
                return _round(value * factor), unit[len(prefix) :]
    return float(value), unit


def format_value(value: float) -> str:
    """A figure's value as a person writes it: 12.0 -> "12", 52.6 -> "52.6", never 1.3e+06."""
    value = float(value)
    if not math.isfinite(value):
        return "无效数值"  # only a workspace written before values were checked holds one
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    return format(value, ".15f").rstrip("0").rstrip(".") if "e" in text else text


def figure_text(fig: Figure) -> str:
    """Value and unit exactly as supplied: 52.6万人次."""
    return f"{format_value(fig.value)}{fig.unit}"


def _round(x: float) -> float:
    # 44.1 * 1e4 is 440999.99999999994 in binary floating point; keep what a person means.
    if not math.isfinite(x):
        return x  # 1e308 万亿: check_figure refuses it with a message
    return float(round(x, 6))


class Figure(BaseModel):
    id: str
    item: str
    value: float
    unit: str
    section: str | None = None
    note: str | None = None
    aliases: list[str] = []  # other names the text may use for the item
    last_year: float | None = None  # last year's value, in the same unit as value
    part_of: str | None = None  # id of the figure that includes this one (shares)
    source: str | None = None  # provenance: the material file and place it was taken from
    sentence: str | None = None  # provenance: the sentence of that material that states it
    base_value: float = 0.0
    base_unit: str = ""
    base_last_year: float | None = None  # last_year with the scale folded in, like base_value

    @model_validator(mode="after")
    def _derive_base(self) -> Figure:
        self.base_value, self.base_unit = split_scale(self.value, self.unit)
        self.base_last_year = None if self.last_year is None else split_scale(self.last_year, self.unit)[0]
        return self


def _parse_value(
    raw: Any, source: str, line: int | None, field: str = "数值", bound: float = 1e16
) -> tuple[float, str | None]:
    """The number and, when typed with it ("98%"), the unit."""
    if isinstance(raw, bool):
        raise InputError(f"{field}应为数字，不能是真/假值。", file=source, line=line, field=field)
    if isinstance(raw, (int, float)):
        return _finite(raw, source, line, field, bound), None
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if "\x00" in text:
        raise InputError(f"{field}含有空字符（NUL）。", file=source, line=line, field=field)
    text = strip_controls(text).strip()
    if not text:
        raise InputError(f"缺少{field}。", file=source, line=line, field=field)
    unit = None
    if text.endswith("%"):  # "98%": a share as people type it
        text, unit = text[:-1].strip(), "%"
    compact = re.sub(r"(?<=\d)[,\s](?=\d{3}(?!\d))", "", text)  # 1,300 / 1 300; "1,30" stays wrong
    if not _NUMBER_RE.fullmatch(compact):
        raise InputError(
            f"{field}“{_shown(raw)}”不是纯数字（只填数字，如 1300 或 44.1；“约”“余”等写在正文里，不写在数据里）。",
            file=source,
            line=line,
            field=field,
        )
    return _finite(float(compact), source, line, field, bound), unit


def _shown(raw: Any, limit: int = 40) -> str:
    """A cell quoted in a message: controls removed, long text cut."""
    text = strip_controls(str(raw))
    return text if len(text) <= limit else text[:limit] + "…"


def _finite(raw: int | float, source: str, line: int | None, field: str, bound: float) -> float:
    try:
        value = float(raw)
    except OverflowError:  # a 400-digit integer
        value = math.inf
    if not math.isfinite(value):
        if math.isnan(value):
            raise InputError(f"{field}不是有限的数字。", file=source, line=line, field=field)
        raise InputError(f"{field}过大（绝对值不能超过 {_limit_text(bound)}）。", file=source, line=line, field=field)
    return value


def _limit_text(bound: float) -> str:
    return f"{bound:.0e}".replace("e+", "×10^")


def check_figure(
    fig: Figure, source: str | None = None, line: int | None = None, *, limits: Settings | None = None
) -> None:
    """Refuse a figure whose value or 上年, with 万/亿 folded in, is beyond the configured bound."""
    bound = (limits or input_limits()).max_figure_value
    for field, value in (("数值", fig.base_value), ("上年", fig.base_last_year)):
        if value is not None and not (math.isfinite(value) and abs(value) <= bound):
            raise InputError(
                f"{field}“{_short_number(getattr(fig, 'value' if field == '数值' else 'last_year'))}{fig.unit}”"
                f"过大（按单位折算后绝对值不能超过 {_limit_text(bound)}）。",
                file=source,
                line=line,
                field=field,
            )


def _short_number(value: float) -> str:
    return format_value(value) if abs(value) < 1e18 else f"{value:.3g}"


def _text_cell(raw: Any, source: str, line: int | None, field: str, *, multiline: bool = False) -> str | None:
    """A text cell: NUL refused, other control characters removed, blank -> None."""
    if raw is None:
        return None
    text = str(raw)
    if "\x00" in text:
        raise InputError("含有空字符（NUL）。", file=source, line=line, field=field)
    return strip_controls(text, multiline=multiline).strip() or None


def _parse_aliases(raw: Any, source: str = "", line: int | None = None) -> list[str]:
    """别名: a YAML list, or one cell with the names separated by 、 or ;."""
    if raw is None:
        return []
    cells = raw if isinstance(raw, (list, tuple)) else _ALIAS_SEPARATORS.split(str(raw))
    texts = [_text_cell(unicodedata.normalize("NFKC", str(c)), source, line, "别名") for c in cells if c is not None]
    names = [t for t in texts if t]
    return list(dict.fromkeys(n for n in names if n))


def _cell(raw: Any) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def _field(key: Any) -> str | None:
    """The column a header cell names (id/item/value/…), or None. A BOM may cling to the first
    header when a spreadsheet saved UTF-8 with BOM; lower() leaves Chinese aliases unchanged."""
    return _ALIASES.get(str(key).strip().lstrip("\ufeff").lower())


def _normalise_keys(row: dict) -> dict:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            continue  # CSV cells beyond the header
        name = _field(key)
        if name:
            out[name] = value
    return out


def parse_figure_rows(rows: list[dict], source: str, *, lines: list[int] | None = None) -> list[Figure]:
    """Validate rows (dicts keyed by column name or Chinese alias) into figures.

    ``lines`` gives, per row, the line number a person sees in the source (CSV/XLSX line,
    YAML line); without it rows are numbered from 1.
    """
    _refuse_conflicts(rows, source, lines)
    figures: list[Figure] = []
    part_lines: list[int | None] = []  # each figure's line, for errors in 所属 found after all rows
    seen: dict[str, int | None] = {}
    limits = input_limits()
    limit, bound = limits.max_figure_rows, limits.max_figure_value
    for index, row in enumerate(rows, start=1):
        line = lines[index - 1] if lines else index
        if not isinstance(row, dict):
            raise InputError("每一行应是一组“项目/数值/单位”字段。", file=source, line=line)
        data = _normalise_keys(row)
        if all(_cell(v) is None for v in data.values()):
            continue  # blank spreadsheet row
        if len(figures) >= limit:
            raise InputError(f"数据行过多（最多 {limit} 行）。", file=source, line=line)
        cells = {
            k: _text_cell(data.get(k), source, line, FIELD_ZH[k], multiline=k == "note")
            for k in ("item", "unit", "id", "section", "note", "part_of", "source", "sentence")
        }
        item = cells["item"]
        if item is None:
            raise InputError("缺少项目名称。", file=source, line=line, field="项目")
        if _cell(data.get("value")) is None:
            raise InputError("缺少数值。", file=source, line=line, field="数值")
        value, typed_unit = _parse_value(data["value"], source, line, bound=bound)
        unit = cells["unit"]
        # a unit is stored as written without spaces: "万 人次" and "万人次" are one unit
        unit = re.sub(r"\s+", "", unicodedata.normalize("NFKC", unit)) if unit is not None else None
        if typed_unit is not None:
            if unit not in (None, typed_unit):
                raise InputError(
                    f"数值写成“{_shown(data['value'])}”，但单位是“{unit}”（带 % 的数值单位应为 %）。",
                    file=source,
                    line=line,
                    field="单位",
                )
            unit = typed_unit
        if not unit:
            raise InputError("缺少单位（如 次、人次、万元、%）。", file=source, line=line, field="单位")
        fid = cells["id"] or f"F{index:02d}"
        if fid in seen:
            first = seen[fid]
            raise InputError(f"编号“{fid}”重复（第 {first} 行已使用）。", file=source, line=line, field="编号")
        seen[fid] = line
        last_year = None
        if _cell(data.get("last_year")) is not None:
            last_year, last_unit = _parse_value(data["last_year"], source, line, "上年", bound)
            if last_unit is not None and last_unit != unit:
                raise InputError(f"上年写成带 %，但单位是“{unit}”。", file=source, line=line, field="上年")
        for zh, number in (("数值", value), ("上年", last_year)):
            if number is not None and number < 0 and not _SIGNED_UNIT.search(unit):
                raise InputError(
                    f"“{format_value(number)}{unit}”不能为负数：次数、人数和数量都不小于 0"
                    "（减少写在“上年”里，由上年和本年算出；可为负的是 %、个百分点和金额）。",
                    file=source,
                    line=line,
                    field=zh,
                )
        fig = Figure(
            id=fid,
            item=item,
            value=value,
            unit=unit,
            section=cells["section"],
            note=cells["note"],
            aliases=_parse_aliases(data.get("aliases"), source, line),
            last_year=last_year,
            part_of=cells["part_of"],
            source=cells["source"],
            sentence=cells["sentence"],
        )
        check_figure(fig, source, line, limits=limits)
        figures.append(fig)
        part_lines.append(line)
    if not figures:
        raise InputError("数据文件中没有任何数据行。", file=source)
    for fig, fig_line in zip(figures, part_lines):
        if fig.part_of is None:
            continue
        if fig.part_of == fig.id:
            raise InputError(f"“所属”不能是本行自己的编号“{fig.id}”。", file=source, line=fig_line, field="所属")
        if fig.part_of not in seen:
            raise InputError(
                f"“所属”填写的编号“{fig.part_of}”不存在（应填包含本项的那一行的编号）。",
                file=source,
                line=fig_line,
                field="所属",
            )
    return figures


def _refuse_conflicts(rows: list, source: str, lines: list[int] | None) -> None:
    """A table from `huibao materials extract` whose 冲突 column is still filled: the same item
    has several values, and a person has to keep one before it can be used as figures."""
    marked = [
        (lines[i] if lines else i + 1, str(_normalise_keys(row).get("conflict")).strip())
        for i, row in enumerate(rows)
        if isinstance(row, dict) and _cell(_normalise_keys(row).get("conflict")) is not None
    ]
    if marked:
        listed = "、".join(f"第 {line} 行（冲突{group}）" for line, group in marked[:20])
        more = f"等 {len(marked)} 行" if len(marked) > 20 else ""
        raise InputError(
            f"“冲突”列不为空：{listed}{more}。同一事项有不同数值，请核对后每组只保留一行，并清空“冲突”列。",
            file=source,
            field="冲突",
        )


def _read_text(path: Path) -> str:
    # the same decoding as drafts and knowledge files: a short GBK CSV must not come back as Big5
    try:
        return decode_text(path.read_bytes())
    except OSError as err:
        raise InputError(f"无法读取文件（{os_reason(err)}）。", file=str(path)) from None
    except TextReadError as err:
        raise InputError(f"{err.reason}。", file=str(path)) from None


def _load_yaml(path: Path, source: str) -> tuple[list, list[int] | None]:
    text = _read_text(path)
    max_depth = input_limits().max_yaml_depth
    deep = yaml_too_deep(text, max_depth)
    if deep is not None:
        raise InputError(f"YAML 嵌套过深（最多 {max_depth} 层）。", file=source, line=deep)
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        message, line = yaml_error_message(err)
        raise InputError(message, file=source, line=line) from None
    if data is None:
        raise InputError("文件为空。", file=source)
    if isinstance(data, dict) and "figures" in data:
        data = data["figures"]
        pairs = node.value if isinstance(node, yaml.MappingNode) else []
        node = next((v for k, v in pairs if k.value == "figures"), None)
    if not isinstance(data, list):
        raise InputError("YAML 应为数据列表，或含 figures: 列表的映射。", file=source)
    lines = [n.start_mark.line + 1 for n in node.value] if node is not None and hasattr(node, "value") else None
    return data, lines if lines and len(lines) == len(data) else None


def _load_csv(path: Path, source: str) -> tuple[list, list[int]]:
    # A lone \r (old Mac exports) is a line end, as in text mode; csv refuses it inside an unquoted field.
    text = normalise_newlines(_read_text(path))
    if not text.strip():
        raise InputError("文件为空。", file=source)
    reader = csv.DictReader(io.StringIO(text))
    rows, lines = [], []
    try:
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)  # physical line where the row ends = what a person sees
    except csv.Error as err:
        raise InputError(f"CSV 格式错误：{err}", file=source, line=reader.line_num or None) from None
    _check_header(reader.fieldnames or [], source)
    return rows, lines


def _check_header(header: Iterable, source: str) -> None:
    names = {_field(h) for h in header if h is not None}
    for required in ("item", "value", "unit"):
        if required not in names:
            raise InputError(
                f"表头缺少“{FIELD_ZH[required]}”列（可写 {required} 或 {FIELD_ZH[required]}）。",
                file=source,
                line=1,
                field=FIELD_ZH[required],
            )


def _load_xlsx(path: Path, source: str) -> tuple[list, list[int]]:
    import openpyxl  # heavy: ~150 ms, only for .xlsx files

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises several types for a broken file
        raise InputError(f"无法读取 Excel 文件：{err}", file=source) from None
    try:
        sheet = book.worksheets[0]
        it = sheet.iter_rows()
        first = next(it, None)
        header = tuple(c.value for c in first) if first is not None else None
        if header is None or all(c is None for c in header):
            raise InputError("文件为空。", file=source)
        _check_header(header, source)
        rows, lines = [], []
        empty: list[tuple[int, int]] = []  # (row, column) of empty cells: a formula never calculated reads as None
        for n, cells in enumerate(it, start=2):
            values = tuple(_percent_cell(h, c) for h, c in zip(header, cells, strict=False))
            row = {h: v for h, v in zip(header, values) if h is not None}
            if any(_field(h) == "value" and _is_percent(c) for h, c in zip(header, cells, strict=False)):
                for h in header:  # 98% typed into Excel: the value is 98 and its unit %, when none is given
                    if h is not None and _field(h) == "unit" and row.get(h) in (None, ""):
                        row[h] = "%"
            rows.append(row)
            lines.append(n)
            empty += [(n, i) for i, (h, v) in enumerate(zip(header, values)) if h is not None and v is None]
    finally:
        book.close()
    if empty:
        _refuse_uncalculated(path, source, header, empty)
    return rows, lines


# Units a value may be below zero in: a rate or its change, money (a deficit), a temperature.
# A count, a number of people or an amount of something is never negative.
_SIGNED_UNIT = re.compile("[%‰元℃°]|百分点|千分点|度$")  # ℃ is °C once NFKC-normalised


def _is_percent(cell) -> bool:
    """A number Excel shows as a percentage (format 0% or 0.0%): it stores 0.98 for 98%."""
    v = getattr(cell, "value", None)
    return isinstance(v, int | float) and not isinstance(v, bool) and "%" in (getattr(cell, "number_format", "") or "")


def _percent_cell(header: Any, cell) -> Any:
    """The cell's value as the user typed it: 98 for a value or last year's value shown as 98%
    (Excel keeps 0.98), so that 达到98% is traced to it, not flagged as invented."""
    if header is not None and _field(header) in ("value", "last_year") and _is_percent(cell):
        return round(cell.value * 100, 9)
    return getattr(cell, "value", None)


def _refuse_uncalculated(path: Path, source: str, header: tuple, empty: list[tuple[int, int]]) -> None:
    """A formula cell with no cached result (the file was written by a program, never opened and
    saved in Excel) reads as empty with data_only=True; read the formulas to tell it from a blank."""
    import openpyxl  # heavy: ~150 ms, only for .xlsx files

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        wanted = set(empty)
        for n, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            for i, v in enumerate(values):
                if (n, i) in wanted and isinstance(v, str) and v.startswith("="):
                    raise InputError(
                        f"公式未计算（{v}）：文件中没有保存公式的结果，请在 Excel 中打开并保存后重试，或改填数值。",
                        file=source,
                        line=n,
                        field=str(header[i]),
                    )
    finally:
        book.close()


def check_file_size(path: Path, source: str) -> None:
    """Refuse a figures or outline file over the configured size (an .xlsx by its unpacked size),
    before reading it."""
    reason = too_large(path, input_limits().max_input_file_bytes)
    if reason:
        raise InputError(f"{reason}。", file=source)


def load_figures(path: str | Path) -> list[Figure]:
    """Load figures from .yaml/.yml/.csv/.xlsx; raise InputError naming file/row/field."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError("数据文件不存在。", file=source)
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size == 0:
        raise InputError("文件为空。", file=source)
    check_file_size(path, source)
    if suffix in (".yaml", ".yml"):
        rows, lines = _load_yaml(path, source)
    elif suffix == ".csv":
        rows, lines = _load_csv(path, source)
    elif suffix == ".xlsx":
        rows, lines = _load_xlsx(path, source)
    else:
        raise InputError(
            f"不支持的数据文件类型“{suffix or '无扩展名'}”（支持 .yaml、.yml、.csv、.xlsx）。", file=source
        )
    return parse_figure_rows(rows, source, lines=lines)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _column_value(fig: Figure, column: str, *, table: bool) -> Any:
    """One cell as written: numbers as a person writes them, aliases joined by 、 in a table
    (CSV/XLSX) and as a list in YAML; None for an empty cell."""
    value = getattr(fig, column)
    if column in ("value", "last_year") and value is not None:
        return _plain(value)
    if column == "aliases":
        return ("、".join(value) if table else list(value)) or None
    return value


def write_figures(figures: list[Figure], path: str | Path) -> None:
    """Write figures as .yaml/.yml/.csv/.xlsx (the columns load_figures reads back). The optional
    columns (别名, 上年, 所属) are written only when some figure fills them."""
    path = Path(path)
    suffix = path.suffix.lower()
    columns = COLUMNS + [c for c in OPTIONAL_COLUMNS if any(getattr(f, c) not in (None, []) for f in figures)]
    table = suffix != ".yaml" and suffix != ".yml"
    rows = [{k: _column_value(f, k, table=table) for k in columns} for f in figures]
    if suffix in (".yaml", ".yml"):
        clean = [{k: v for k, v in r.items() if v is not None} for r in rows]
        path.write_text(yaml.safe_dump({"figures": clean}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    elif suffix == ".csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if v is None else v for k, v in r.items()})
        # BOM so that Excel opens the Chinese text correctly.
        path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
    elif suffix == ".xlsx":
        import openpyxl  # heavy: ~150 ms, only for .xlsx files

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "数据"
        sheet.append(columns)
        for r in rows:
            sheet.append([r[k] for k in columns])
        book.save(path)
    else:
        raise InputError(
            f"不支持的数据文件类型“{suffix or '无扩展名'}”（支持 .yaml、.yml、.csv、.xlsx）。", file=str(path)
        )
