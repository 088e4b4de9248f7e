"""docs/architecture.md stays true: its tree names every module of the package, one line
each, and names nothing that no longer exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[\w.]+/?)(?:\s{2,}(?P<what>\S.*))?$")


def _tree() -> dict[str, str]:
    """path -> description, from the first ```text block after the '## Layout' heading."""
    text = DOC.read_text(encoding="utf-8")
    layout = text.split("## Layout", 1)[1]
    block = layout.split("```text", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        m = ENTRY.match(line)
        assert m, f"docs/architecture.md: not a tree line: {line!r}"
        indent, name = len(m["indent"]), m["name"]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "".join(part for _, part in stack) + name
        entries[path] = (m["what"] or "").strip()
        if name.endswith("/"):
            stack.append((indent, name))
    return entries


def _modules() -> set[str]:
    return {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "assistant").rglob("*.py")
        if p.name != "__init__.py" or p.stat().st_size > 200  # an __init__ with content is a module too
    }


def test_every_named_path_exists():
    missing = [path for path in _tree() if not (ROOT / path.rstrip("/")).exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_module_is_described_on_one_line():
    tree = _tree()
    undocumented = sorted(_modules() - set(tree))
    assert not undocumented, f"modules missing from docs/architecture.md: {undocumented}"
    blank = sorted(path for path, what in tree.items() if path.endswith(".py") and not what)
    assert not blank, f"modules without a one-line description: {blank}"
