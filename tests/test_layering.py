"""Imports point one way: ingest -> store -> features -> models -> recommend -> pipeline -> reports / cli.

Also: no import circle anywhere in the package, and nothing outside ``store`` and ``ingest`` holds a DuckDB
connection or writes SQL text (features and report sections use Ibis; fast paths get a store method).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "ltvkit"

# package -> ltvkit subpackages/modules it must never import
FORBIDDEN = {
    "models": {"workspace", "features", "ingest", "store", "scoring", "recommend", "reports", "cli", "synth",
               "pipeline", "web", "actions"},
    "features": {"models", "scoring", "recommend", "reports", "cli", "synth", "pipeline", "workspace", "web", "actions"},
    "ingest": {"features", "models", "scoring", "recommend", "reports", "cli", "synth", "pipeline", "workspace",
               "web", "actions"},
    "recommend": {"reports", "cli", "synth", "scoring", "pipeline", "workspace", "web", "actions"},
    "synth": {"reports", "cli", "features", "models", "scoring", "recommend", "pipeline", "web", "actions"},
    "store": {"ingest", "features", "models", "scoring", "recommend", "reports", "cli", "synth", "pipeline",
              "workspace", "web", "actions"},
    "scoring.py": {"pipeline", "reports", "cli", "web", "workspace"},
    "pipeline.py": {"reports", "cli", "web", "actions"},
    # drop-in APIs of other libraries sit on top of models and features; nothing of ltvkit imports them
    "compat": {"workspace", "ingest", "store", "scoring", "recommend", "reports", "cli", "synth", "pipeline", "web", "actions"},
}
for _layer in ("models", "features", "ingest", "recommend", "synth", "store", "scoring.py", "pipeline.py"):
    FORBIDDEN[_layer].add("compat")
SQL_ALLOWED = ("store", "ingest")
# the operational store (outbox, contacts, consent; SQLAlchemy on SQLite or PostgreSQL) is a store of its own: its
# bulk paths write SQL on the driver's cursor; every other module of the action half goes through it
SQL_ALLOWED_FILES = ("actions/_ops.py",)
SQL_TEXT = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(OR\s+REPLACE\s+)?"
                      r"(TEMP\s+)?(TABLE|VIEW)|DROP\s+(TABLE|VIEW)|ALTER\s+TABLE)\b", re.DOTALL)  # SQL keywords are upper case here
# user-facing hints that quote a query for the reader to run; ltvkit itself does not run them
SQL_HINTS: set[tuple[str, str]] = set()


def _modules() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["ltvkit", *parts])


def _imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Full names of the ltvkit modules (or packages) ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.If) and top_level_only:  # TYPE_CHECKING blocks never run
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = base + (node.module.split(".") if node.module else [])
            elif node.module and (node.module == "ltvkit" or node.module.startswith("ltvkit.")):
                mod = node.module.split(".")
            else:
                continue
            for alias in node.names:
                sub = ".".join([*mod, alias.name])
                found.add(sub if _exists(sub) else ".".join(mod))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ltvkit"):
                    found.add(alias.name)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PKG / rel).with_suffix(".py").exists() or (PKG / rel / "__init__.py").exists()


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2:
        return ""
    return parts[1] + (".py" if (PKG / f"{parts[1]}.py").exists() else "")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    paths = [PKG / package] if package.endswith(".py") else sorted((PKG / package).rglob("*.py"))
    offenders = []
    for path in paths:
        bad = {_layer(m).removesuffix(".py") for m in _imports(path)} & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(PKG)} imports {', '.join(sorted(bad))}")
    assert not offenders, "; ".join(offenders)


def test_the_library_never_imports_cli_web_or_reports():
    shells = ("cli", "web", "reports", "__main__.py")
    offenders = []
    for path in _modules():
        rel = path.relative_to(PKG)
        if rel.parts[0] in shells:
            continue
        bad = {_layer(m).removesuffix(".py") for m in _imports(path)} & {"cli", "web", "reports"}
        if bad:
            offenders.append(f"{rel} imports {', '.join(sorted(bad))}")
    assert not offenders, "; ".join(offenders)


def _graph() -> dict[str, set[str]]:
    """Module -> the modules it imports when it is imported (top level, not TYPE_CHECKING, not in functions)."""
    graph: dict[str, set[str]] = {}
    for path in _modules():
        name = _module_name(path)
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
        targets = set()
        for m in _imports(path, top_level_only=True):
            parts = m.split(".")
            # importing a.b.c runs a.b's __init__ first (unless a.b is the importer's own package, already running)
            targets.update(p for p in (".".join(parts[:i]) for i in range(2, len(parts) + 1)) if p not in own)
        graph[name] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def _layers_graph() -> dict[str, set[str]]:
    """Subpackage (store, ingest, features, …) -> the subpackages it imports, function-level imports included."""
    graph: dict[str, set[str]] = {}
    for path in _modules():
        rel = path.relative_to(PKG)
        if rel.parts[0] in ("__init__.py", "__main__.py"):
            continue
        src = rel.parts[0]
        graph.setdefault(src, set())
        for m in _imports(path):
            dst = _layer(m)
            if dst and dst != src and dst != "__init__.py":  # top-level modules count as layers too
                graph[src].add(dst)
    return graph


def test_no_import_circle_between_modules():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_no_import_circle_between_layers():
    """Even a function-level import back into a lower layer (the old workspace -> ingest -> workspace) fails."""
    cycle = _cycle(_layers_graph())
    assert cycle is None, " -> ".join(cycle or [])


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            out.append((node.lineno, text))
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                lines.add(first.value.lineno)
    return lines


def test_no_duckdb_connection_or_sql_outside_store_and_ingest():
    offenders = []
    for path in _modules():
        rel = path.relative_to(PKG)
        if rel.parts[0] in SQL_ALLOWED or str(rel) in SQL_ALLOWED_FILES:
            continue
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "duckdb" for a in node.names):
                offenders.append(f"{rel}:{node.lineno} imports duckdb")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "duckdb":
                offenders.append(f"{rel}:{node.lineno} imports duckdb")
            elif isinstance(node, ast.Attribute) and node.attr == "con" and isinstance(node.ctx, ast.Load):
                offenders.append(f"{rel}:{node.lineno} uses a workspace connection (.con)")
            elif isinstance(node, ast.Attribute) and node.attr in ("to_sql", "raw_sql", "sql"):
                offenders.append(f"{rel}:{node.lineno} writes SQL through Ibis (.{node.attr})")
        docs = _docstrings(tree)
        for line, value in _strings(tree):
            hint = any(str(rel) == f and h in value for f, h in SQL_HINTS)
            if line not in docs and not hint and SQL_TEXT.search(value):
                offenders.append(f"{rel}:{line} has SQL text {value[:40]!r}")
    assert not offenders, "; ".join(offenders)


def test_the_checks_catch_what_they_look_for(tmp_path):
    """The detectors themselves: a circle, SQL text and a connection are found in made-up modules."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    tree = ast.parse('q = f"SELECT count(*) FROM {name}"\nws.con.execute(q)\n')
    assert any(SQL_TEXT.search(v) for _, v in _strings(tree))
    assert any(isinstance(n, ast.Attribute) and n.attr == "con" for n in ast.walk(tree))
    assert not SQL_TEXT.search("Select the rows you want from the list")


def test_web_is_a_shell_over_the_library():
    # the dashboard shows the report's sections and Plotly figures (issue 16), so web may read reports; never cli
    for path in sorted((PKG / "web").rglob("*.py")):
        bad = {_layer(m).removesuffix(".py") for m in _imports(path)} & {"cli"}
        assert not bad, f"{path.relative_to(PKG)} imports {', '.join(sorted(bad))}"
