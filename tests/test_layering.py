"""Imports point one way: ingest -> store -> features -> models -> recommend -> actions -> reports / cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "ltvkit"

# package -> ltvkit subpackages/modules it must never import
FORBIDDEN = {
    "models": {"workspace", "features", "ingest", "store", "scoring", "recommend", "reports", "cli", "synth", "actions"},
    "features": {"models", "scoring", "recommend", "reports", "cli", "synth", "actions"},
    "ingest": {"features", "models", "scoring", "recommend", "reports", "cli", "synth", "actions"},
    "recommend": {"reports", "cli", "synth", "scoring", "actions"},
    "synth": {"reports", "cli", "features", "models", "scoring", "recommend", "actions"},
    "store": {"features", "models", "scoring", "recommend", "reports", "cli", "synth", "actions"},
}


def _ltvkit_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package_parts = path.relative_to(PKG).parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package_parts[: len(package_parts) - node.level + 1])
                target = base + (node.module.split(".") if node.module else [])
                if not node.module:
                    target = [*base, *(a.name for a in node.names)]
            elif node.module and node.module.startswith("ltvkit."):
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                found.add(target[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ltvkit."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    offenders = []
    for path in sorted((PKG / package).rglob("*.py")):
        bad = _ltvkit_imports(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(PKG)} imports {', '.join(sorted(bad))}")
    assert not offenders, "; ".join(offenders)


def test_library_never_imports_cli_or_reports():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        if rel.parts[0] in ("cli", "reports", "__main__.py"):
            continue
        assert not (_ltvkit_imports(path) & {"cli", "reports"}), f"{rel} imports the CLI or the reports"
