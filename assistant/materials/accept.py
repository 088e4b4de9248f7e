"""From candidate rows to a report's figures: a conflict resolved by keeping one row of its
group, the ticked rows merged into the figures (an item already there is updated, keeping its
id; a new one gets the next free F-number), provenance carried into Figure.source/sentence."""

from __future__ import annotations

from assistant.check.attribution import normalise_name
from assistant.check.reading import unit_class
from assistant.core.errors import InputError
from assistant.core.figures import Figure, check_figure, split_scale
from assistant.materials.rows import MaterialRow

__all__ = ["resolve_conflicts", "accept_rows"]


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


def _key(item: str, unit: str) -> tuple[str, str]:
    return normalise_name(item), unit_class(split_scale(0, unit)[1])


def accept_rows(figures: list[Figure], rows: list[MaterialRow]) -> list[Figure]:
    """The figures with the accepted rows merged in. A row still in a conflict is refused,
    naming it: a person decides which value is right."""
    open_conflicts = [r for r in rows if r.conflict is not None]
    if open_conflicts:
        listed = "、".join(f"{r.id}（{r.item}，冲突{r.conflict}）" for r in open_conflicts[:10])
        raise InputError(f"以下各行仍有冲突，请先在每组中选定一个数值：{listed}。", field="冲突")
    out = [f.model_copy() for f in figures]
    index = {_key(f.item, f.unit): k for k, f in enumerate(out)}
    used = {f.id for f in out}
    n = len(out)
    for r in rows:
        fields = {"value": r.value, "last_year": r.last_year, "source": r.source, "sentence": r.sentence}
        k = index.get(_key(r.item, r.unit))
        if k is not None:
            old = out[k]
            fig = Figure(
                **{**old.model_dump(exclude={"base_value", "base_unit", "base_last_year"}), **fields, "unit": r.unit}
            )
            out[k] = fig
        else:
            n += 1
            while f"F{n:02d}" in used:
                n += 1
            fig = Figure(id=f"F{n:02d}", item=r.item, unit=r.unit, **fields)
            used.add(fig.id)
            index[_key(r.item, r.unit)] = len(out)
            out.append(fig)
        check_figure(fig, source="素材", line=None)
    return out
