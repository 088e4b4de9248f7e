"""HTML for a section's text with its numbers marked, and for its style findings.

Every piece of text that reaches the markup goes through html.escape; the only raw HTML is
the fixed tags built here. The page passes the result to st.markdown(unsafe_allow_html=True).

Each number carries its provenance: the figure and item it rests on, the formula of a derived
number, or why it is flagged. It shows as the span's `title` on hover and, when the number is
clicked (focused), in a small popover drawn from `data-tip` by the stylesheet: a pseudo-element,
so copying the text never copies the popover.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape

from assistant.check.result import CheckResult, NumberMention, StyleFinding
from assistant.core.figures import Figure, figure_text, format_value

# Fixed stylesheet; no user data in it. misattributed (another item's figure) is as wrong as
# invented and looks the same; 【待核实】 is a mark still to settle, like a placeholder.
CSS = """
<style>
.hb-text p { margin: 0 0 .6em 0; line-height: 1.9; text-indent: 2em; }
.hb-num { padding: 0 2px; border-radius: 3px; position: relative; cursor: help; }
.hb-grounded { border-bottom: 2px solid #2e7d32; }
.hb-invented, .hb-misattributed { background: #fdecea; color: #b71c1c; border-bottom: 2px solid #d32f2f; }
.hb-misattributed { border-bottom-style: double; border-bottom-width: 3px; }
.hb-placeholder, .hb-unverified { background: #fff4e0; color: #8a5300; border-bottom: 2px solid #f0a020; }
.hb-unverified { border-bottom-style: dashed; }
.hb-num:focus { outline: 2px solid #1565c0; outline-offset: 1px; }
.hb-num[data-tip]:focus::after {
  content: attr(data-tip); position: absolute; left: 0; top: 100%; z-index: 1000; margin-top: 4px;
  min-width: 14em; max-width: 28em; width: max-content; padding: .4em .6em; border-radius: 4px;
  background: #263238; color: #fff; font-size: .8em; line-height: 1.5; text-indent: 0;
  white-space: pre-line; box-shadow: 0 2px 6px rgba(0, 0, 0, .3);
}
.hb-findings { font-size: .9em; margin: 0; padding-left: 1.2em; }
.hb-findings li { margin-bottom: .35em; }
.hb-error { color: #b71c1c; }
.hb-warning { color: #8a5300; }
.hb-legend span { margin-right: 1em; font-size: .85em; }
.hb-source { font-size: .85em; color: #555; }
.hb-passage blockquote { margin: .2em 0 .8em 0; font-size: .9em; }
.hb-diff { line-height: 1.9; }
.hb-del { background: #fdecea; color: #b71c1c; }
.hb-ins { background: #e8f5e9; color: #1b5e20; text-decoration: none; }
/* Nothing cut on a 1024 px screen: a column holding a button is at least as wide as its label,
   the uploader's hint wraps instead of ending in "…", and the sidebar and margins are narrower
   so the nine columns of the figures table fit. */
[data-testid="stColumn"]:has(> [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]
  > :is([data-testid="stButton"], [data-testid="stDownloadButton"])) { min-width: max-content; }
[data-testid="stFileUploaderDropzoneInstructions"] span { white-space: normal; }
@media (max-width: 1280px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1rem; padding-right: 1rem; }
  [data-testid="stSidebar"][data-collapsed="false"] { width: 240px !important; min-width: 240px !important; }
}
</style>
"""

_STATUS_ZH = {
    "grounded": "有据",
    "invented": "无依据",
    "misattributed": "错配",
    "unverified": "待核实",
    "placeholder": "待补充",
}
# When the checker gives no message of its own.
_WHY = {
    "invented": "提供的数据中没有这个数字，请核实或改为【待补充】",
    "misattributed": "这是另一事项的数据，不是句中所说事项的，请改为该事项的数据",
    "unverified": "这个数字未能在数据中核实，请核对后改为数据中的数字",
    "placeholder": "请填入实际数据",
}
_DERIVATION_ZH = {
    "growth": "增减幅度",
    "difference": "增减数量",
    "points": "增减百分点",
    "multiple": "倍数",
    "share": "占比",
    "sum": "合计",
}
_FROM_LAST_YEAR = ("growth", "difference", "points", "multiple")


def _figure_line(fig: Figure | None, figure_id: str, *, last_year: bool = False) -> str:
    if fig is None:
        return f"数据 {figure_id}"
    line = f"数据 {fig.id}：{fig.item} {figure_text(fig)}"
    if last_year and fig.last_year is not None:
        line += f"（上年{format_value(fig.last_year)}{fig.unit}）"
    if fig.source:  # taken from a material (issue 16): where, and the sentence that states it
        line += f"\n来源：{fig.source}"
        if fig.sentence:
            line += f"\n原文：{fig.sentence if len(fig.sentence) <= 120 else fig.sentence[:119] + '…'}"
    return line


def mention_title(mention: NumberMention, figures: Mapping[str, Figure]) -> str:
    """The provenance of one number, one fact a line: the figure (id, item, value) it rests
    on and, for a derived number, its formula; for a flagged one, why (the checker's message,
    which names the right item and value)."""
    m = mention
    if m.status == "grounded":
        lines: list[str] = []
        if m.derivation is not None:
            d = m.derivation
            lines.append(f"{_DERIVATION_ZH.get(d.kind, '计算')}：{d.formula}")
            lines += [_figure_line(figures.get(i), i, last_year=d.kind in _FROM_LAST_YEAR) for i in d.figure_ids]
        else:
            lines.append(_figure_line(figures.get(m.figure_id or ""), m.figure_id or "?"))
            if m.attribution == "value":
                lines.append("句中未写明项目，按数值对应")
        return "\n".join(lines)
    label = _STATUS_ZH.get(m.status, m.status)
    why = (m.message or "").strip()
    if why.startswith(f"{label}："):  # the checker's own message may carry the label already
        why = why[len(label) + 1 :]
    return f"{label}：{why or _WHY.get(m.status, '')}"


def _attribute(text: str) -> str:
    """A value for a double-quoted attribute: escaped, its line breaks kept as character
    references (a raw one would split the paragraph markup)."""
    return escape(text, quote=True).replace("\n", "&#10;")


def _no_line_breaks(html_text: str) -> str:
    # A blank line ends an HTML block in Markdown: whatever follows it would be read as
    # Markdown (st.markdown), so line breaks inside the markup become <br/>.
    return html_text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br/>")


def _paragraphs(html_text: str) -> str:
    parts = [p for p in html_text.splitlines() if p.strip()]
    return "".join(f"<p>{p}</p>" for p in parts) or "<p></p>"


def section_html(text: str, check: CheckResult | None, figures: Mapping[str, Figure] | Sequence[Figure] = ()) -> str:
    """The section text as escaped HTML, each number mention wrapped in a marked span."""
    if not isinstance(figures, Mapping):
        figures = {f.id: f for f in figures}
    mentions = sorted(check.numbers if check else [], key=lambda m: (m.start, -m.end))
    out: list[str] = []
    pos = 0
    for m in mentions:
        if m.start < pos or m.end > len(text) or m.start >= m.end:
            continue  # overlapping or stale offsets: leave that text unmarked rather than garble it
        out.append(escape(text[pos : m.start]))
        tip = _attribute(mention_title(m, figures))
        out.append(
            f'<span class="hb-num hb-{m.status}" data-status="{m.status}" tabindex="0" '
            f'title="{tip}" data-tip="{tip}">{escape(text[m.start : m.end])}</span>'
        )
        pos = m.end
    out.append(escape(text[pos:]))
    return f'<div class="hb-text">{_paragraphs("".join(out))}</div>'


def findings_html(text: str, findings: Iterable[StyleFinding]) -> str:
    """The style findings as a list: severity, the words concerned, the message, a suggestion."""
    items = []
    for f in findings:
        label = "错误" if f.severity == "error" else "提示"
        quoted = text[f.start : f.end] if 0 <= f.start < f.end <= len(text) else ""
        line = f'<li class="hb-{f.severity}"><b>{label}</b> '
        if quoted:
            line += f"“{escape(quoted[:40])}”："
        line += escape(f.message)
        if f.suggestion:
            line += f"<br/>建议：{escape(f.suggestion)}"
        items.append(line + "</li>")
    if not items:
        return '<p class="hb-findings">文风检查未发现问题。</p>'
    return '<ul class="hb-findings">' + _no_line_breaks("".join(items)) + "</ul>"


def summary_line(check: CheckResult | None) -> str:
    """One plain-text line: how many numbers are grounded / invented / misattributed /
    unverified / placeholders."""
    if check is None:
        return "尚未核对"
    s = check.summary
    return (
        f"有据数字 {s.grounded} 个 · 无依据 {s.invented} 个 · 错配 {s.misattributed} 个 · "
        f"待核实 {s.unverified} 处 · 待补充 {s.placeholders} 处 · "
        f"文风错误 {s.style_errors} 条、提示 {s.style_warnings} 条"
    )


LEGEND_HTML = (
    '<div class="hb-legend"><span class="hb-num hb-grounded">有据数字</span>'
    '<span class="hb-num hb-invented">无依据数字</span>'
    '<span class="hb-num hb-misattributed">错配（另一事项的数据）</span>'
    '<span class="hb-num hb-unverified">待核实</span>'
    '<span class="hb-num hb-placeholder">待补充</span>'
    "<span>悬停或点击数字可查看来源</span></div>"
)


def passage_html(source: str, heading_path: str, text: str, *, chars: int = 400) -> str:
    """One cited passage: where it is from, and the passage itself (shortened)."""
    excerpt = " ".join(text.split())
    if len(excerpt) > chars:
        excerpt = excerpt[:chars] + "…"
    where = escape(source) + (f" · {escape(heading_path)}" if heading_path else "")
    return f'<div class="hb-passage"><div class="hb-source">出处：{where}</div><blockquote>{escape(excerpt)}</blockquote></div>'


def shown_time(iso: str) -> str:
    """A stored time (ISO 8601, the server's local time) as a person reads it: 2026-12-02 08:26."""
    return iso[:16].replace("T", " ")


def diff_html(segments: Iterable[tuple[str, str]]) -> str:
    """A sentence-level diff: deletions struck through in red, insertions in green."""
    out = []
    for op, text in segments:
        t = escape(text)
        if op == "delete":
            out.append(f'<del class="hb-del">{t}</del>')
        elif op == "insert":
            out.append(f'<ins class="hb-ins">{t}</ins>')
        else:
            out.append(t)
    return '<div class="hb-diff">' + _no_line_breaks("".join(out)) + "</div>"
