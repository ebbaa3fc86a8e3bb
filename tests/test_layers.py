"""The layers contract of docs/architecture.md, checked over kgnlu's import graph.

Every ``import`` of a kgnlu module is read with :mod:`ast` — module-level and inside functions
(a lazy import is still a dependency); only imports under ``if TYPE_CHECKING:`` are free. Each
module belongs to one layer (:func:`layer_of`), and

- no module imports a module of a higher layer, and
- no two files import each other, directly or round a loop (strongly connected components of the
  file graph have one member),

except for the entries of :data:`ALLOWED_UPWARD` and :data:`ALLOWED_CYCLES`, each with its reason.
The lists are a ratchet: an entry that is no longer needed fails the test too, so delete it when
its violation is fixed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1] / "kgnlu"

# Lowest first: a module may import its own layer and any layer to its left.
LAYERS = ("base", "kg", "text", "data", "training", "encoders", "linker", "kge", "fusion",
          "pretrain", "distill", "qa", "eval", "serve", "cli")

# Top-level helpers every layer may use.
BASE_MODULES = {"errors", "io", "atomic_files", "config", "registry", "progress", "integrity", "dirswap", "version"}

# Upward imports not fixed yet: (importer, imported) -> why it is still there.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}

# Import loops not fixed yet: the sorted members of one strongly connected component -> why.
ALLOWED_CYCLES: dict[tuple[str, ...], str] = {
    ("kgnlu.encoders.checkpoint", "kgnlu.encoders.encoder"):
        "a class and its own save/load helper (allowed by the contract)",
}


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package ``__init__``) for every kgnlu module."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, package)
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    free = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                free.update(id(n) for n in ast.walk(stmt))
    return free


def import_graph() -> nx.DiGraph:
    """Module -> module edges for every kgnlu import (module-level and lazy)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, (path, package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        here = name if package else name.rpartition(".")[0]
        free = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in free:
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [resolve(a.name) for a in node.names if a.name.split(".")[0] == "kgnlu"]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                if base.split(".")[0] != "kgnlu":
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in modules else resolve(base))
            for target in targets:
                if target and target != name:
                    graph.add_edge(name, target)
    return graph


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("cli", "commands"):
        return "cli"  # the package root re-exports KGQA lazily: a facade over everything
    top = parts[1]
    if top in BASE_MODULES:
        return "base"
    if top == "training":
        return "training"
    if module.startswith(("kgnlu.kg.linker", "kgnlu.kg.spacy_component")):
        return "linker"  # the linker scores with encoders and POS-tags with kgnlu.text
    assert top in LAYERS, f"{module}: give kgnlu.{top} a layer in tests/test_layers.py"
    return top


def test_every_module_has_a_layer():
    for module in import_graph():
        assert layer_of(module) in LAYERS


def test_no_import_goes_up_a_layer():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = {(a, b) for a, b in import_graph().edges if rank[layer_of(b)] > rank[layer_of(a)]}
    new = sorted(upward - set(ALLOWED_UPWARD))
    stale = sorted(set(ALLOWED_UPWARD) - upward)
    assert not new, "imports up the layers (see docs/architecture.md):\n" + "\n".join(
        f"  {a} ({layer_of(a)}) -> {b} ({layer_of(b)})" for a, b in new)
    assert not stale, "fixed, so delete from ALLOWED_UPWARD:\n" + "\n".join(map(str, stale))


def test_no_import_cycles_between_files():
    cycles = {tuple(sorted(c)) for c in nx.strongly_connected_components(import_graph())
              if len(c) > 1}
    new = sorted(cycles - set(ALLOWED_CYCLES))
    stale = sorted(set(ALLOWED_CYCLES) - cycles)
    assert not new, "import cycles (see docs/architecture.md):\n" + "\n".join(
        "  " + " <-> ".join(c) for c in new)
    assert not stale, "fixed, so delete from ALLOWED_CYCLES:\n" + "\n".join(map(str, stale))
