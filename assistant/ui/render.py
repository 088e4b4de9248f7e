"""HTML for a section's text with its numbers marked, and for its style findings.

Every piece of text that reaches the markup goes through html.escape; the only raw HTML is
the fixed tags built here. The page passes the result to st.markdown(unsafe_allow_html=True).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape

from assistant.check.result import CheckResult, NumberMention, StyleFinding
from assistant.core.figures import Figure, figure_text

# Fixed stylesheet; no user data in it.
CSS = """
<style>
.hb-text p { margin: 0 0 .6em 0; line-height: 1.9; text-indent: 2em; }
.hb-num { padding: 0 2px; border-radius: 3px; }
.hb-grounded { border-bottom: 2px solid #2e7d32; cursor: help; }
.hb-invented { background: #fdecea; color: #b71c1c; border-bottom: 2px solid #d32f2f; cursor: help; }
.hb-placeholder { background: #fff4e0; color: #8a5300; border-bottom: 2px solid #f0a020; cursor: help; }
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
</style>
"""

_STATUS_ZH = {"grounded": "有据", "invented": "无依据（未在数据中找到）", "placeholder": "待补充"}


def mention_title(mention: NumberMention, figures: Mapping[str, Figure]) -> str:
    """The tooltip for one number: the figure it matches, or why it is flagged."""
    if mention.status == "grounded":
        fig = figures.get(mention.figure_id or "")
        if fig is not None:
            return f"数据 {fig.id}：{fig.item} {figure_text(fig)}"
        return f"数据 {mention.figure_id}"
    if mention.status == "placeholder":
        return "待补充：请填入实际数据"
    return "无依据：提供的数据中没有这个数字，请核实或改为【待补充】"


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
        out.append(
            f'<span class="hb-num hb-{m.status}" data-status="{m.status}" '
            f'title="{escape(mention_title(m, figures), quote=True)}">{escape(text[m.start : m.end])}</span>'
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
    """One plain-text line: how many numbers are grounded / invented / placeholders."""
    if check is None:
        return "尚未核对"
    s = check.summary
    return (
        f"有据数字 {s.grounded} 个 · 无依据 {s.invented} 个 · 待补充 {s.placeholders} 处 · "
        f"文风错误 {s.style_errors} 条、提示 {s.style_warnings} 条"
    )


LEGEND_HTML = (
    '<div class="hb-legend"><span class="hb-num hb-grounded">有据数字</span>'
    '<span class="hb-num hb-invented">无依据数字</span>'
    '<span class="hb-num hb-placeholder">待补充</span></div>'
)


def passage_html(source: str, heading_path: str, text: str, *, chars: int = 400) -> str:
    """One cited passage: where it is from, and the passage itself (shortened)."""
    excerpt = " ".join(text.split())
    if len(excerpt) > chars:
        excerpt = excerpt[:chars] + "…"
    where = escape(source) + (f" · {escape(heading_path)}" if heading_path else "")
    return f'<div class="hb-passage"><div class="hb-source">出处：{where}</div><blockquote>{escape(excerpt)}</blockquote></div>'


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
