"""The layers of docs/ARCHITECTURE.md ("Layers"), read from the code's own imports: no import
circle, no import up a layer, and no database in the screens. Every import counts, those
inside functions and under TYPE_CHECKING too: a circle through a lazy import is still one
module that cannot be understood without the other."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "ingest", "dashboard")

# Top to bottom; a module may import its own layer and the layers below it. A module belongs to
# the layer of the longest prefix that names it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("entry points", ("app.cli", "app.i18n.__main__")),
    ("the server", ("app.main",)),
    ("screens", ("dashboard",)),
    ("features", ("app",)),
    ("ingest", ("ingest",)),
    (
        "core",
        (
            "app.models",
            "app.clock",
            "app.settings",
            "app.db",
            "app.metrics.registry",
            "app.metrics.parts",
        ),
    ),
]

# what would let a screen reach the database by itself
DATABASE_MODULES = ("psycopg", "sqlalchemy", "app.db", "app.models")
DATABASE_CALLS = {"connect", "begin", "execute", "cursor"}


def modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def imported_names(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every name an import statement of the module asks for, absolute, with its line."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def graph() -> dict[str, dict[str, int]]:
    """module -> {module of callboard it imports: first line}."""
    known = modules()
    edges: dict[str, dict[str, int]] = defaultdict(dict)
    for module, path in known.items():
        for name, line in imported_names(module, path):
            target = name
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module and not module.startswith(target + "."):
                edges[module].setdefault(target, line)
    return edges


def layer_of(module: str) -> int:
    best, depth = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = i, len(prefix)
    assert best >= 0, f"{module} is in no layer of LAYERS"
    return best


def circles(edges: dict[str, dict[str, int]], nodes: list[str]) -> list[list[str]]:
    """The strongly connected parts of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.append(member)
                    if member == node:
                        break
                if len(part) > 1:
                    found.append(sorted(part))
    return found


def test_no_import_circle() -> None:
    edges = graph()
    found = circles(edges, sorted(modules()))
    described = [
        " <-> ".join(part)
        + ": "
        + "; ".join(
            f"{a} imports {b} (line {edges[a][b]})" for a in part for b in part if b in edges[a]
        )
        for part in found
    ]
    assert not found, "import circles:\n" + "\n".join(described)


def test_no_import_goes_up_a_layer() -> None:
    upward = [
        f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]}), "
        f"{modules()[a].relative_to(ROOT)}:{line}"
        for a, targets in sorted(graph().items())
        for b, line in sorted(targets.items())
        if layer_of(b) < layer_of(a)
    ]
    assert not upward, "imports up a layer (docs/ARCHITECTURE.md, Layers):\n" + "\n".join(upward)


def test_the_screens_never_open_the_database() -> None:
    found = []
    for module, path in modules().items():
        if not module.startswith("dashboard"):
            continue
        for name, line in imported_names(module, path):
            if any(name == m or name.startswith(m + ".") for m in DATABASE_MODULES):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in DATABASE_CALLS
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls .{node.func.attr}()")
    assert not found, "the screens reach the database (ask app/ instead):\n" + "\n".join(found)


def test_the_check_sees_what_it_checks() -> None:
    # a check that reads nothing would pass for ever: it must see the edges it is about
    edges = graph()
    assert "app.models" in edges["ingest.writer"] or "app.models" in edges["ingest.derived"]
    assert "app.cli.root" in edges["app.cli.metrics"]
    assert layer_of("app.cli.metrics") == 0
    assert layer_of("app.models") == len(LAYERS) - 1
    three = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1, "d": 1}}
    assert circles(three, ["a", "b", "c", "d"]) == [["a", "b", "c"]]
    assert circles({"a": {"b": 1}}, ["a", "b"]) == []
