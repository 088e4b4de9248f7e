"""The report spec (提纲): what to write, section by section.

A spec file is YAML::

    title: 禾川市人大常委会办公室2026年度宣传思想文化工作汇报
    organisation: 禾川市人大常委会办公室
    year: 2026
    topic: 宣传思想文化工作          # optional; derived from the title when absent
    sections:
      - id: intro
        notes: 市委领导，围绕中心服务大局
      - id: "1"
        title: 工作做法及成效
        children:
          - id: "1.1"
            title: 着眼“培根铸魂”，筑牢理想信念之基   # optional: absent => proposed
            notes: 理论学习中心组学习，每周一学
            figures: [F01, F02]
      - id: closing

``part`` may be given per section; otherwise it follows from the id (intro, closing), from
the L1 title (``part_of_title``: 问题 → problems, 打算/展望/目标任务 → plans, 做法/成效 →
achievements), from the parent, or, for an untitled top-level section, from its number
(1 / 1.x achievements, 2 problems, 3 plans).

A minimal outline (title, unit, year and notes per part, ids ``intro, 1.1, 1.2, 2, 3``) is
completed to the template's shape by ``complete_outline``: 1.1 and 1.2 go under a parent 1,
a missing 导语 or 结束语 is added, a missing part is added without notes.

A spec with no ``sections:`` uses the built-in template of a 年度工作汇报; its ``notes:``
are keyed by part (intro, achievements, problems, plans, closing) or by section id. The
achievements notes may be a list (or several lines): each entry becomes one subsection.

Bad input raises ``InputError`` naming the file, the line (from the YAML node marks) and
the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel

from assistant.core.errors import InputError
from assistant.core.figures import check_file_size
from assistant.core.settings import Settings, input_limits
from assistant.core.textio import strip_controls, yaml_error_message, yaml_too_deep
from assistant.gongwen import PARTS, TEMPLATE_TITLES, Part, heading_label, part_of_title

if TYPE_CHECKING:
    from assistant.core.figures import Figure


class SectionSpec(BaseModel):
    id: str
    title: str | None = None
    notes: str = ""
    figures: list[str] = []
    part: Part = "other"
    children: list[SectionSpec] = []

    @property
    def is_leaf(self) -> bool:
        return not self.children


class RemovedSection(BaseModel):
    """A section taken out of the outline (with its sub-sections): kept, with every version,
    until it is restored to where it stood. Drafting never sees it."""

    section: SectionSpec
    parent: str | None = None  # the id of the section it stood under; None: the top level
    index: int = 0  # its place among those siblings
    removed_at: str = ""


class ReportSpec(BaseModel):
    title: str
    organisation: str
    year: int
    topic: str | None = None
    sections: list[SectionSpec]
    removed: list[RemovedSection] = []  # the outline editor's removed sections, restorable

    def walk(self) -> list[SectionSpec]:
        """Every section, depth-first, in document order."""
        out: list[SectionSpec] = []

        def visit(items: list[SectionSpec]) -> None:
            for s in items:
                out.append(s)
                visit(s.children)

        visit(self.sections)
        return out

    def get(self, section_id: str) -> SectionSpec:
        for s in self.walk():
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def parent_of(self, section_id: str) -> SectionSpec | None:
        for s in self.walk():
            if any(c.id == section_id for c in s.children):
                return s
        return None

    def siblings_of(self, section_id: str) -> list[SectionSpec]:
        """The section's siblings (itself included), in order."""
        parent = self.parent_of(section_id)
        return parent.children if parent else self.sections

    def level(self, section_id: str) -> int:
        """0 for intro/closing (no heading), 1 for 一、, 2 for （一）, 3 for 1."""
        section = self.get(section_id)
        if section.part in ("intro", "closing") and self.parent_of(section_id) is None:
            return 0
        depth, parent = 1, self.parent_of(section_id)
        while parent is not None:
            depth += 1
            parent = self.parent_of(parent.id)
        return depth

    def label(self, section_id: str) -> str:
        """The heading number: 一、 / （一） / 1. ; "" for intro and closing."""
        level = self.level(section_id)
        if level == 0:
            return ""
        numbered = [s for s in self.siblings_of(section_id) if self.level(s.id) == level]
        index = next(i for i, s in enumerate(numbered) if s.id == section_id) + 1
        return heading_label(level, index)

    @property
    def resolved_topic(self) -> str:
        """The topic of the report: `topic` or what the title says beyond org and year."""
        if self.topic:
            return self.topic
        t = self.title.replace(self.organisation, "")
        year = re.search(r"\d{4}\s*年度?", t)
        if year:  # what precedes the year names the office, in whatever form the title uses
            t = t[year.end() :]
        t = re.sub(r"(的)?(情况)?(汇报|报告|总结)$", "", t).strip()
        return t or "工作"


# ---------------------------------------------------------------- template


def _split_entries(notes: Any) -> list[str]:
    if notes is None:
        return []
    if isinstance(notes, list):
        return [str(n).strip() for n in notes if str(n).strip()]
    return [line.strip() for line in str(notes).splitlines() if line.strip()]


def template_spec(
    title: str, organisation: str, year: int, notes: dict[str, Any] | None = None, *, topic: str | None = None
) -> ReportSpec:
    """The shape of a 年度工作汇报: 导语, 一、做法及成效 (one subsection per achievements
    note), 二、问题及措施, 三、{year+1}年工作打算, 结束语."""
    notes = dict(notes or {})

    def text(*keys: str) -> str:
        for key in keys:
            if key in notes and notes[key] is not None:
                value = notes[key]
                return "\n".join(_split_entries(value)) if isinstance(value, list) else str(value).strip()
        return ""

    achievements = _split_entries(notes.get("achievements", notes.get("1")))
    children = [
        SectionSpec(id=f"1.{i}", notes=n, part="achievements") for i, n in enumerate(achievements or [""], start=1)
    ]
    sections = [
        SectionSpec(id="intro", notes=text("intro"), part="intro"),
        SectionSpec(id="1", title=TEMPLATE_TITLES["achievements"], part="achievements", children=children),
        SectionSpec(id="2", title=TEMPLATE_TITLES["problems"], notes=text("problems", "2"), part="problems"),
        SectionSpec(
            id="3", title=TEMPLATE_TITLES["plans"].format(next_year=year + 1), notes=text("plans", "3"), part="plans"
        ),
        SectionSpec(id="closing", notes=text("closing"), part="closing"),
    ]
    return ReportSpec(title=title, organisation=organisation, year=year, topic=topic, sections=sections)


# ---------------------------------------------------------------- loading


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _mapping(node: yaml.Node, source: str, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """key -> (key node, value node) of a YAML mapping node."""
    if not isinstance(node, yaml.MappingNode):
        raise InputError(f"{what}应为“字段: 值”形式的映射。", file=source, line=_line(node))
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        name = str(key.value).strip()
        if name in out:
            raise InputError(f"字段“{name}”重复出现。", file=source, line=_line(key), field=name)
        out[name] = (key, value)
    return out


def _scalar_text(node: yaml.Node, source: str, field: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise InputError("应为文字，不能是列表或映射。", file=source, line=_line(node), field=field)
    text = str(node.value)
    if "\x00" in text:
        raise InputError("含有空字符（NUL）。", file=source, line=_line(node), field=field)
    return strip_controls(text, multiline=field.startswith("notes")).strip()


def _notes_text(node: yaml.Node, source: str, field: str) -> str:
    # Notes may be written as a list of 要点; keep one per line.
    if isinstance(node, yaml.SequenceNode):
        return "\n".join(_scalar_text(n, source, field) for n in node.value if str(n.value).strip())
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return ""
    return _scalar_text(node, source, field)


# An untitled top-level section numbered 1, 2 or 3 (or 1.1 …) is that part of the 年度工作汇报.
_PART_BY_NUMBER: dict[str, Part] = {"1": "achievements", "2": "problems", "3": "plans"}
_NUMBERED = re.compile(r"^(\d+)(?:\.\d+)*$")


def infer_part(section_id: str, title: str | None, parent_part: str | None) -> str:
    """A section's part when the outline gives none: its parent's, its id (intro, closing),
    its title's words; an untitled top-level section numbered 1/2/3 is achievements/problems/plans."""
    if parent_part is not None:
        return parent_part
    if section_id in ("intro", "closing"):
        return section_id
    by_title = part_of_title(title)
    if by_title or title:
        return by_title or "other"
    number = _NUMBERED.match(section_id)
    return _PART_BY_NUMBER.get(number.group(1), "other") if number else "other"


def complete_outline(spec: ReportSpec) -> ReportSpec:
    """The 年度工作汇报 shape from a minimal outline: top-level 1.1, 1.2 … go under a parent 1
    (created when absent, or an existing empty one), a missing 导语 or 结束语 is added from
    the template, and when the top level holds only template parts, a missing 一、/二、/三、
    part is added with no notes (the engines mark it 【待补充：…】). Sections are never dropped.
    An outline of another shape (no achievements, problems or plans part) is left as written."""
    sections = list(spec.sections)
    if not any(s.part in _PART_BY_NUMBER.values() for s in sections):
        return spec
    ids = {s.id for s in spec.walk()}
    out: list[SectionSpec] = []
    parents: dict[str, SectionSpec] = {}
    for s in sections:
        m = re.match(r"^(\d+)\.\d+$", s.id)
        if m is None:
            out.append(s)
            continue
        pid = m.group(1)
        parent = parents.get(pid)
        if parent is None:
            existing = next((x for x in sections if x.id == pid), None)
            busy = existing is not None and (existing.children or existing.notes.strip() or existing.figures)
            if busy or (existing is None and pid in ids):
                out.append(s)  # a parent with text of its own (or one deeper in the tree) keeps 1.1 where it is
                continue
            parent = existing or SectionSpec(id=pid, part=s.part)
            if existing is None:
                ids.add(pid)
                out.append(parent)
            parents[pid] = parent
        parent.children = [*parent.children, s]
    if not any(s.part == "intro" for s in out):
        out.insert(0, SectionSpec(id=_free_id("intro", ids), part="intro"))
    if not any(s.part == "closing" for s in out):
        out.append(SectionSpec(id=_free_id("closing", ids), part="closing"))
    if all(s.part in PARTS and s.part != "other" for s in out):
        for number, part in _PART_BY_NUMBER.items():
            if not any(s.part == part for s in out):
                at = next(
                    i for i, s in enumerate(out) if s.part == "closing" or PARTS.index(s.part) > PARTS.index(part)
                )
                out.insert(at, SectionSpec(id=_free_id(number, ids), part=part))
    return spec.model_copy(update={"sections": out})


def _free_id(wanted: str, ids: set[str]) -> str:
    candidate, n = wanted, 1
    while candidate in ids:
        n += 1
        candidate = f"{wanted}-{n}"
    ids.add(candidate)
    return candidate


def _check_siblings(
    nodes: list[yaml.Node], source: str, seen: dict[str, int | None], depth: int, limits: Settings
) -> None:
    """Outline limits, checked before any section is built, let alone drafted."""
    if depth > limits.max_outline_depth:
        raise InputError(
            f"章节层级过深（最多 {limits.max_outline_depth} 层）。", file=source, line=_line(nodes[0]), field="children"
        )
    if len(nodes) > limits.max_sibling_sections:
        raise InputError(
            f"同一层的章节过多：{len(nodes)} 个（最多 {limits.max_sibling_sections} 个）。",
            file=source,
            line=_line(nodes[limits.max_sibling_sections]),
            field="sections" if depth == 1 else "children",
        )
    total = sum(1 for key in seen if "\0" not in key) + len(nodes)
    if total > limits.max_sections:
        raise InputError(f"章节总数过多（最多 {limits.max_sections} 个）。", file=source, line=_line(nodes[0]))


def _section(
    node: yaml.Node, source: str, parent_part: str | None, seen: dict[str, int | None], limits: Settings, depth: int = 1
) -> SectionSpec:
    fields = _mapping(node, source, "每个章节")
    if "id" not in fields:
        raise InputError("章节缺少编号（如 intro、1、1.1、closing）。", file=source, line=_line(node), field="id")
    key_node, id_node = fields["id"]
    sid = _scalar_text(id_node, source, "id")  # raw text: 1.1 stays "1.1", not a float
    if not sid:
        raise InputError("章节编号为空。", file=source, line=_line(id_node), field="id")
    if sid in seen:
        raise InputError(
            f"章节编号“{sid}”重复（第 {seen[sid]} 行已使用）。", file=source, line=_line(id_node), field="id"
        )
    seen[sid] = _line(id_node)
    _refuse_unknown(fields, ("id", "title", "notes", "figures", "part", "children"), source)
    title = _scalar_text(fields["title"][1], source, "title") if "title" in fields else None
    title = title or None
    notes = _notes_text(fields["notes"][1], source, "notes") if "notes" in fields else ""
    figures: list[str] = []
    if "figures" in fields:
        fnode = fields["figures"][1]
        if isinstance(fnode, yaml.ScalarNode):
            figures = [f.strip() for f in re.split(r"[,，、\s]+", str(fnode.value)) if f.strip()]
        elif isinstance(fnode, yaml.SequenceNode):
            figures = [_scalar_text(n, source, "figures") for n in fnode.value]
            for n in fnode.value:  # where each figure id is written, for a precise message
                seen.setdefault(f"{sid}\0{n.value}", _line(n))
        else:
            raise InputError("应为数据编号列表，如 [F01, F02]。", file=source, line=_line(fnode), field="figures")
    if "part" in fields:
        part = _scalar_text(fields["part"][1], source, "part")
        if part not in PARTS:
            raise InputError(
                f"部分“{part}”无效（可选：{'、'.join(PARTS)}）。",
                file=source,
                line=_line(fields["part"][1]),
                field="part",
            )
    else:
        part = infer_part(sid, title, parent_part)
    children: list[SectionSpec] = []
    if "children" in fields:
        cnode = fields["children"][1]
        if not isinstance(cnode, yaml.SequenceNode):
            raise InputError("子章节应为列表。", file=source, line=_line(cnode), field="children")
        if cnode.value:
            _check_siblings(cnode.value, source, seen, depth + 1, limits)
        children = [_section(c, source, part, seen, limits, depth + 1) for c in cnode.value]
    return SectionSpec(id=sid, title=title, notes=notes, figures=figures, part=part, children=children)


def _refuse_unknown(fields: dict, allowed: tuple[str, ...], source: str) -> None:
    """A key the outline does not know (a typo) names itself and the keys it could be."""
    unknown = set(fields) - set(allowed)
    if unknown:
        name = sorted(unknown)[0]
        raise InputError(
            f"未知字段“{name}”（可用：{'、'.join(allowed)}）。", file=source, line=_line(fields[name][0]), field=name
        )


def _required(fields: dict, name: str, zh: str, source: str, root: yaml.Node) -> yaml.Node:
    if name not in fields:
        raise InputError(f"缺少{zh}。", file=source, line=_line(root), field=name)
    return fields[name][1]


def parse_spec(text: str, source: str = "<提纲>") -> tuple[ReportSpec, dict[str, int | None]]:
    """Parse spec YAML text; return the spec and the line of each section id (for messages)."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError("含有空字符（NUL）。", file=source, line=line)
    limits = input_limits()
    max_depth = limits.max_yaml_depth
    deep = yaml_too_deep(text, max_depth)
    if deep is not None:
        raise InputError(f"YAML 嵌套过深（最多 {max_depth} 层）。", file=source, line=deep)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as err:
        message, at = yaml_error_message(err)
        raise InputError(message, file=source, line=at) from None
    if root is None:
        raise InputError("文件为空。", file=source)
    fields = _mapping(root, source, "提纲文件")
    # a misspelt key (section: for sections:) would otherwise drop the whole outline silently
    _refuse_unknown(fields, ("title", "organisation", "year", "topic", "sections", "notes"), source)
    title = _scalar_text(_required(fields, "title", "标题", source, root), source, "title")
    if not title:
        raise InputError("标题为空。", file=source, line=_line(fields["title"][1]), field="title")
    org = _scalar_text(_required(fields, "organisation", "单位名称", source, root), source, "organisation")
    if not org:
        raise InputError("单位名称为空。", file=source, line=_line(fields["organisation"][1]), field="organisation")
    year_node = _required(fields, "year", "年度", source, root)
    year_text = _scalar_text(year_node, source, "year")
    if not re.fullmatch(r"\d{4}", year_text):
        raise InputError(f"年度“{year_text}”应为四位整数，如 2026。", file=source, line=_line(year_node), field="year")
    year = int(year_text)
    topic = _scalar_text(fields["topic"][1], source, "topic") or None if "topic" in fields else None
    seen: dict[str, int | None] = {}
    if "sections" in fields:
        snode = fields["sections"][1]
        if not isinstance(snode, yaml.SequenceNode) or not snode.value:
            raise InputError("章节应为非空列表。", file=source, line=_line(snode), field="sections")
        _check_siblings(snode.value, source, seen, 1, limits)
        sections = [_section(s, source, None, seen, limits) for s in snode.value]
        spec = complete_outline(ReportSpec(title=title, organisation=org, year=year, topic=topic, sections=sections))
    else:
        notes: dict[str, Any] = {}
        if "notes" in fields:
            nnode = fields["notes"][1]
            for key, (knode, vnode) in _mapping(nnode, source, "notes").items():
                if key not in PARTS and key not in ("1", "2", "3"):
                    raise InputError(
                        f"要点的键“{key}”无效（可用：intro、achievements、problems、plans、closing）。",
                        file=source,
                        line=_line(knode),
                        field=f"notes.{key}",
                    )
                if isinstance(vnode, yaml.SequenceNode):
                    notes[key] = [_scalar_text(n, source, f"notes.{key}") for n in vnode.value]
                else:
                    notes[key] = _notes_text(vnode, source, f"notes.{key}")
        spec = template_spec(title, org, year, notes, topic=topic)
        seen = {s.id: None for s in spec.walk()}
        siblings = len(spec.get("1").children)
        if siblings > limits.max_sibling_sections:
            raise InputError(
                f"成效要点过多：{siblings} 条（每条成为一个小节，最多 {limits.max_sibling_sections} 条）。",
                file=source,
                line=_line(fields["notes"][1]),
                field="notes.achievements",
            )
    total = len(spec.walk())
    if total > limits.max_sections:
        raise InputError(f"章节总数过多：{total} 个（最多 {limits.max_sections} 个）。", file=source)
    return spec, seen


def validate(
    spec: ReportSpec,
    figures: list[Figure] | None,
    *,
    source: str | None = None,
    lines: dict[str, int | None] | None = None,
) -> None:
    """Cross-check spec and figures: every figure id a section names exists, and every
    figure's `section` names a section of the spec."""
    if figures is None:
        return
    ids = {f.id for f in figures}
    section_ids = {s.id for s in spec.walk()}
    for section in spec.walk():
        for fid in section.figures:
            if fid not in ids:
                where = (lines or {}).get(f"{section.id}\0{fid}") or (lines or {}).get(section.id)
                raise InputError(
                    f"章节“{section.id}”引用的数据编号“{fid}”在数据文件中不存在。",
                    file=source,
                    line=where,
                    field="figures",
                )
    for fig in figures:
        if fig.section and fig.section not in section_ids:
            raise InputError(
                f"数据“{fig.id}（{fig.item}）”所属章节“{fig.section}”在提纲中不存在"
                f"（提纲的章节编号：{'、'.join(s.id for s in spec.walk())}）。",
                file=source,
                field="章节",
            )


def check_outline(spec: ReportSpec, source: str | None = None) -> None:
    """The outline limits on a spec built in code (the page's template form, a stored outline):
    siblings per level, sections in all and nesting depth. Files are checked while parsed,
    with the line of the offending section."""
    limits = input_limits()

    def visit(items: list[SectionSpec], depth: int, field: str) -> None:
        if depth > limits.max_outline_depth:
            raise InputError(f"章节层级过深（最多 {limits.max_outline_depth} 层）。", file=source, field=field)
        if len(items) > limits.max_sibling_sections:
            raise InputError(
                f"同一层的章节过多：{len(items)} 个（最多 {limits.max_sibling_sections} 个）。",
                file=source,
                field=field,
            )
        for item in items:
            if item.children:
                visit(item.children, depth + 1, f"{item.id} 的子章节")

    visit(spec.sections, 1, "章节")
    total = len(spec.walk())
    if total > limits.max_sections:
        raise InputError(f"章节总数过多：{total} 个（最多 {limits.max_sections} 个）。", file=source)


def load_spec(path: str | Path, figures: list[Figure] | None = None) -> ReportSpec:
    """Load and validate a spec file (.yaml/.yml). Raises InputError; writes nothing."""
    path = Path(path)
    source = str(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"不支持的提纲文件类型“{path.suffix or '无扩展名'}”（应为 .yaml 或 .yml）。", file=source)
    if not path.is_file():
        raise InputError("找不到提纲文件。", file=source)
    check_file_size(path, source)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("文件不是 UTF-8 编码（请另存为 UTF-8）。", file=source) from None
    if not text.strip():
        raise InputError("文件为空。", file=source)
    spec, lines = parse_spec(text, source)
    validate(spec, figures, source=source, lines=lines)
    return spec


def figures_for(section: SectionSpec, figures: list[Figure]) -> list[Figure]:
    """The figures assigned to a section: listed in its `figures` or pointing to it."""
    listed = [f for fid in section.figures for f in figures if f.id == fid]
    pointing = [f for f in figures if f.section == section.id and f.id not in section.figures]
    return listed + pointing
