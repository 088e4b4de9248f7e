"""Issue 11, fuzz suite: random Unicode, control characters, huge and tiny numbers, deep nesting and
long names fed to the figures parser, the outline parser and the edit path (then the Word export).
Each input either loads (and exports) or is refused with an InputError, never another exception.
Wall time is reported in the benchmark table, not asserted."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.core.errors import InputError, StoreError
from assistant.core.figures import Figure, load_figures
from assistant.drafting.spec import ReportSpec, load_spec
from assistant.export import export_docx
from assistant.workspace.service import Workspace
from tests.test_store import make_figures, make_report_draft, make_spec

PARSER_EXAMPLES = 2000
EXPORT_EXAMPLES = 300
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, database=None)

CONTROLS = "\x00\x07\x08\x0b\x0c\x1b\x7f\x85\u2028\u2029\ufeff\ufffe"
hostile_char = st.one_of(
    st.characters(),  # any code point but lone surrogates
    st.sampled_from(list(CONTROLS) + ["\x1b[31m", "\x1b]0;title\x07", "[/b]", "[bold]", "\t", "\r\n", "\n"]),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK, the usual text
)
hostile_text = st.lists(hostile_char, max_size=40).map("".join)
long_name = st.text(min_size=100, max_size=400)
number_text = st.sampled_from(
    ["9" * 400, "1.0e+308", "-1e308", "1e-400", "98%", "１２", "NaN", "inf", "-0", "0x1F", "1,234.5", "", " "]
)
number = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    number_text,
    hostile_text,
)
units = st.one_of(st.sampled_from(["万亿元", "万 人次", "%", "次", "元", ""]), hostile_text)
cell = st.one_of(hostile_text, long_name, number, st.none())


def fresh_file(tmp: Path, suffix: str, counter=itertools.count()) -> Path:
    return tmp / f"f{next(counter)}{suffix}"


def loads_or_refuses(load, path: Path):
    try:
        return load(path)
    except InputError:
        return None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# ---------------------------------------------------------------- figures


@st.composite
def csv_figures(draw) -> str:
    header = draw(st.one_of(st.just(["id", "item", "value", "unit", "note"]), st.lists(hostile_text, max_size=6)))
    rows = draw(
        st.lists(
            st.fixed_dictionaries({"id": cell, "item": cell, "value": number, "unit": units, "note": cell}), max_size=6
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for r in rows:
        writer.writerow(["" if v is None else str(v) for v in r.values()][: len(header) or 5])
    return out.getvalue()


yaml_leaf = st.one_of(number, cell, st.booleans())
yaml_value = st.recursive(
    yaml_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=30,
)


@st.composite
def yaml_figures(draw) -> str:
    rows = draw(
        st.lists(
            st.one_of(
                st.fixed_dictionaries({"id": cell, "item": cell, "value": number, "unit": units}),
                st.fixed_dictionaries(
                    {"item": hostile_text, "value": yaml_value, "unit": units, "aliases": yaml_value}
                ),
                yaml_value,
            ),
            max_size=5,
        )
    )
    data = draw(st.sampled_from(["list", "mapping"]))
    return yaml.safe_dump(rows if data == "list" else {"figures": rows}, allow_unicode=True)


def deep_yaml(depth: int) -> str:
    return "figures:\n" + "".join("  " * (i + 1) + "- \n" for i in range(depth)) + "  " * (depth + 1) + "- 1\n"


figure_files = st.one_of(
    csv_figures().map(lambda t: (".csv", t)),
    yaml_figures().map(lambda t: (".yaml", t)),
    hostile_text.map(lambda t: (".csv", t)),
    hostile_text.map(lambda t: (".yaml", t)),
    st.integers(min_value=1, max_value=400).map(lambda d: (".yaml", deep_yaml(d))),
)


@settings(FUZZ, max_examples=PARSER_EXAMPLES)
@given(figure_files)
def test_figures_file_loads_or_is_refused(scratch, case):
    suffix, text = case
    path = fresh_file(scratch, suffix)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    figures = loads_or_refuses(load_figures, path)
    assert figures is None or all(isinstance(f, Figure) for f in figures)


# ---------------------------------------------------------------- outline


section = st.recursive(
    st.fixed_dictionaries(
        {"id": st.one_of(hostile_text, st.sampled_from(["1", "1.1", "2", "x"])), "title": cell},
        optional={"notes": st.one_of(cell, st.lists(cell, max_size=3)), "part": cell},
    ),
    lambda inner: st.fixed_dictionaries(
        {"id": hostile_text, "title": cell, "children": st.lists(inner, max_size=4)}, optional={"notes": cell}
    ),
    max_leaves=40,
)


@st.composite
def outline_text(draw) -> str:
    head = draw(
        st.fixed_dictionaries(
            {"title": cell, "organisation": cell, "year": number, "sections": st.lists(section, max_size=6)}
        )
    )
    return yaml.safe_dump(head, allow_unicode=True)


outline_files = st.one_of(
    outline_text(),
    hostile_text,
    st.integers(min_value=1, max_value=400).map(lambda d: "sections:\n" + deep_yaml(d).split("\n", 1)[1]),
)


@settings(FUZZ, max_examples=PARSER_EXAMPLES)
@given(outline_files)
def test_outline_file_loads_or_is_refused(scratch, text):
    path = fresh_file(scratch, ".yaml")
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    spec = loads_or_refuses(load_spec, path)
    assert spec is None or isinstance(spec, ReportSpec)


# ---------------------------------------------------------------- edit, then the Word export


@pytest.fixture(scope="module")
def workspace(scratch):
    ws = Workspace.open(scratch / "ws.sqlite3")
    rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    yield ws, rid
    ws.close()


@settings(FUZZ, max_examples=EXPORT_EXAMPLES)
@given(st.one_of(hostile_text, long_name, st.lists(hostile_text, max_size=5).map("\n".join)))
def test_edit_saves_or_refuses_and_the_report_exports(workspace, scratch, text):
    ws, rid = workspace
    try:
        ws.edit(rid, "1.1", text)
    except InputError:
        assert "\x00" in text  # NUL is refused; everything else is cleaned
        return
    except StoreError:  # nothing left once control characters and blanks go: "正文为空"
        return
    saved = ws.section(rid, "1.1").text
    assert "\x00" not in saved and "\x1b" not in saved and "\x0b" not in saved
    export_docx(ws.current(rid), fresh_file(scratch, ".docx"))
