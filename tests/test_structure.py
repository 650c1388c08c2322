"""The import graph keeps its shape: no import circle; the libraries (`search`, `matching`, `vocab`)
never import Flask or the site; the site never imports the demo seed. Built with grimp (the graph
library behind import-linter), counting imports inside functions too."""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("market", "search", "matching", "vocab", "scheduling", "seed")
LIBRARIES = ("search", "matching", "vocab", "scheduling")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, include_external_packages=True, exclude_type_checking_imports=True)


def _ours(graph: grimp.ImportGraph) -> set[str]:
    return {m for m in graph.modules if m.split(".")[0] in PACKAGES}


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), over direct imports."""
    modules = _ours(graph)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(start: str) -> None:
        # iterative, so a deep graph cannot hit the recursion limit
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start) & modules)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt) & modules))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        cycles.append(sorted(group))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return cycles


def _importers(graph: grimp.ImportGraph, sources: tuple[str, ...], forbidden: str) -> list[str]:
    found = []
    for source in sources:
        for module in sorted(_descendants(graph, source)):
            for imported in graph.find_modules_directly_imported_by(module):
                if imported == forbidden or imported.startswith(forbidden + "."):
                    found.append(f"{module} → {imported}")
    return found


def _descendants(graph: grimp.ImportGraph, package: str) -> set[str]:
    return {package} | graph.find_descendants(package)


def test_no_import_cycle(graph):
    assert import_cycles(graph) == []


@pytest.mark.parametrize("forbidden", ["flask", "market", "seed", "sqlmodel"])
def test_libraries_do_not_import_the_site(graph, forbidden):
    assert _importers(graph, LIBRARIES, forbidden) == []


def test_the_site_does_not_import_the_demo_seed(graph):
    assert _importers(graph, ("market",), "seed") == []


def test_the_cycle_check_finds_a_cycle():
    """The checker itself: a graph with a circle is reported."""
    graph = grimp.ImportGraph()
    for name in ("market", "market.a", "market.b", "market.c"):
        graph.add_module(name)
    graph.add_import(importer="market.a", imported="market.b")
    graph.add_import(importer="market.b", imported="market.c")
    graph.add_import(importer="market.c", imported="market.a")
    assert import_cycles(graph) == [["market.a", "market.b", "market.c"]]
