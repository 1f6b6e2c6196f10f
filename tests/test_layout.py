"""The package's layout rules, read from the source (an ast walk over bot/, nothing imported):

- the core (every module of bot/ except the Telegram layer, bot.telegram.*, and the command line that
  starts it, bot.cli and bot.__main__) never imports python-telegram-bot or bot.telegram;
- the module graph of bot/ has no cycle.

Every import statement counts, wherever it stands (module level, inside a function: a lazy import still
ties the two modules together), except those under `if TYPE_CHECKING:` (annotations only, never run).
An import names one module: `from bot.x import y` counts as an import of bot.x.y when that is a module,
of bot.x otherwise; the parent packages Python initializes on the way are not counted as edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot

PACKAGE = Path(bot.__file__).parent
EDGES = ("bot.telegram", "bot.cli", "bot.__main__")  # the Telegram layer and the command line above it


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import in the tree, leaving out the bodies of `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def imported_names(module: str) -> set[str]:
    """The absolute names of the modules (or, outside bot/, the top-level packages) `module` imports."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join([*parts, base] if base else parts)
        for alias in node.names:
            full = f"{base}.{alias.name}"
            names.add(full if full in MODULES else base)
    return names


def _owner(name: str) -> str | None:
    """The bot module a dotted name lives in (None outside the package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        targets = {_owner(name) for name in imported_names(module)}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _is_edge(module: str) -> bool:
    return any(module == e or module.startswith(e + ".") for e in EDGES)


def test_the_walk_sees_the_package():
    """Guards the guard: the walk finds the modules and the imports it is meant to judge."""
    assert {"bot.cli", "bot.search", "bot.index", "bot.telegram.app"} <= set(MODULES)
    graph = import_graph()
    assert "bot.index" in graph["bot.search"]
    assert "bot.telegram" in graph["bot.cli"]  # a lazy import inside a function counts
    assert any(name.split(".")[0] == "telegram" for name in imported_names("bot.telegram.app"))


def test_the_core_never_imports_telegram():
    offenders = {
        module: sorted(n for n in imported_names(module) if n.split(".")[0] == "telegram" or _is_edge(n))
        for module in MODULES
        if not _is_edge(module)
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_no_import_cycle():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(
    "graph,expected",
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b"], ["c", "d"]]),
    ],
)
def test_cycles_finds_every_loop(graph, expected):
    assert sorted(cycles(graph)) == expected
