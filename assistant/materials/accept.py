"""From candidate rows to a report's figures: a conflict resolved by keeping one row of its
group, the ticked rows merged into the figures (an item already there is updated, keeping its
id; a new one gets the next free F-number), provenance carried into Figure.source/sentence.

A row updates only what it carries: its value (and 上年 when it states one) and provenance. The
existing figure keeps its unit (the row's value is converted when the two differ in scale, as
52.6万人次 and 526000人次), 上年 when the row states none, section, note, aliases and 所属.
`merge_rows` says what happened (added, changed from what to what, unchanged, names close to an
existing item) so the page can tell the person; `accept_rows` is the figures alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.check.attribution import normalise_name
from assistant.check.reading import unit_class
from assistant.core.errors import InputError
from assistant.core.figures import Figure, check_figure, format_value, split_scale
from assistant.materials.rows import MaterialRow

__all__ = ["resolve_conflicts", "accept_rows", "merge_rows", "Accepted", "Change", "Similar"]

SIMILAR_MIN = 3  # characters a shorter item name needs before containment counts as "close"


def resolve_conflicts(rows: list[MaterialRow], keep: dict[int, str]) -> list[MaterialRow]:
    """`keep`: conflict group -> the id of the row to keep. The other rows of a resolved group
    are left out; the kept one loses its conflict mark. Unresolved groups stay as they are."""
    out = []
    for r in rows:
        if r.conflict is None or r.conflict not in keep:
            out.append(r)
        elif r.id == keep[r.conflict]:
            out.append(r.model_copy(update={"conflict": None}))
    return out


@dataclass(frozen=True)
class Change:
    """An existing figure a row changed: its value and/or 上年, before and after."""

    before: Figure
    after: Figure

    def describe(self) -> str:
        """新闻发布会 11→12 次（上年 8→9）"""
        b, a = self.before, self.after
        parts = []
        if b.value != a.value:
            parts.append(f"{b.item} {format_value(b.value)}→{format_value(a.value)} {a.unit}")
        else:
            parts.append(f"{b.item} {format_value(a.value)} {a.unit}")
        if b.last_year != a.last_year:
            old = "未填" if b.last_year is None else format_value(b.last_year)
            parts.append(f"（上年 {old}→{format_value(a.last_year) if a.last_year is not None else '未填'}）")
        return "".join(parts)


@dataclass(frozen=True)
class Similar:
    """A figure added under a name close to an existing item's (one contains the other)."""

    added: Figure
    existing: Figure


@dataclass
class Accepted:
    figures: list[Figure]
    added: list[Figure] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: list[Figure] = field(default_factory=list)  # matched, same value and 上年
    similar: list[Similar] = field(default_factory=list)

    def summary(self) -> str:
        """新增 0 项；更新 2 项：新闻发布会 11→12 次，编发新闻稿件 418→420 篇。"""
        text = f"新增 {len(self.added)} 项"
        if self.added:
            text += "：" + "，".join(f"{f.item} {format_value(f.value)}{f.unit}" for f in self.added[:10])
            text += f" 等 {len(self.added)} 项" if len(self.added) > 10 else ""
        text += f"；更新 {len(self.changed)} 项"
        if self.changed:
            text += "：" + "，".join(c.describe() for c in self.changed)
        if self.unchanged:
            text += f"；{len(self.unchanged)} 项与已有数据相同，数值未变（{'、'.join(f.item for f in self.unchanged[:10])}）"
        return text + "。"

    def warnings(self) -> list[str]:
        return [
            f"新增的“{s.added.item}”（{s.added.id}）与已有的“{s.existing.item}”（{s.existing.id}）名称相近，"
            "如是同一事项，请到“数据”页删除多余的一项。"
            for s in self.similar
        ]


def _key(item: str, unit: str) -> tuple[str, str]:
    return normalise_name(item), unit_class(split_scale(0, unit)[1])


def _in_unit(value: float, unit: str, target: str) -> float:
    """`value` stated in `unit`, in the scale of `target` (same unit class): 526000 人次 -> 52.6 万人次."""
    if unit == target:
        return value
    base = split_scale(value, unit)[0]
    factor = split_scale(1.0, target)[0]
    return float(f"{base / factor:.12g}")


def _update(old: Figure, r: MaterialRow) -> Figure:
    """The existing figure with what the row carries; nothing the row lacks is cleared."""
    fields: dict = {"value": _in_unit(r.value, r.unit, old.unit)}
    if r.last_year is not None:
        fields["last_year"] = _in_unit(r.last_year, r.unit, old.unit)
    if r.source:
        fields["source"] = r.source
    if r.sentence:
        fields["sentence"] = r.sentence
    return Figure(**{**old.model_dump(exclude={"base_value", "base_unit", "base_last_year"}), **fields})


def _similar(fig: Figure, existing: list[Figure]) -> Figure | None:
    name = normalise_name(fig.item)
    cls = unit_class(fig.base_unit)
    for old in existing:
        other = normalise_name(old.item)
        if unit_class(old.base_unit) != cls or name == other:
            continue
        short, long = sorted((name, other), key=len)
        if len(short) >= SIMILAR_MIN and short in long:
            return old
    return None


def merge_rows(figures: list[Figure], rows: list[MaterialRow]) -> Accepted:
    """The figures with the accepted rows merged in, and what changed. A row still in a
    conflict is refused, naming it: a person decides which value is right."""
    open_conflicts = [r for r in rows if r.conflict is not None]
    if open_conflicts:
        listed = "、".join(f"{r.id}（{r.item}，冲突{r.conflict}）" for r in open_conflicts[:10])
        raise InputError(f"以下各行仍有冲突，请先在每组中选定一个数值：{listed}。", field="冲突")
    before = [f.model_copy() for f in figures]
    out = list(before)
    index = {_key(f.item, f.unit): k for k, f in enumerate(out)}
    used = {f.id for f in out}
    touched: list[int] = []  # indices of existing figures a row matched, in row order
    n = len(out)
    for r in rows:
        k = index.get(_key(r.item, r.unit))
        if k is not None:
            fig = _update(out[k], r)
            out[k] = fig
            if k < len(before) and k not in touched:
                touched.append(k)
        else:
            n += 1
            while f"F{n:02d}" in used:
                n += 1
            fig = Figure(
                id=f"F{n:02d}",
                item=r.item,
                unit=r.unit,
                value=r.value,
                last_year=r.last_year,
                source=r.source or None,
                sentence=r.sentence or None,
            )
            used.add(fig.id)
            index[_key(r.item, r.unit)] = len(out)
            out.append(fig)
        check_figure(fig, source="素材", line=None)
    result = Accepted(figures=out, added=out[len(before) :])
    for k in touched:
        old, new = before[k], out[k]
        if (old.value, old.last_year) != (new.value, new.last_year):
            result.changed.append(Change(old, new))
        else:
            result.unchanged.append(new)
    for fig in result.added:
        match = _similar(fig, before)
        if match is not None:
            result.similar.append(Similar(fig, match))
    return result


def accept_rows(figures: list[Figure], rows: list[MaterialRow]) -> list[Figure]:
    """The figures with the accepted rows merged in (merge_rows, without the account)."""
    return merge_rows(figures, rows).figures
