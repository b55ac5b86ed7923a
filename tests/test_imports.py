"""The package's structure: every module imports on its own, the plan knows no study, and no two
library modules import each other (directly or through others), lazy imports included."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "xlt"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of import nodes inside ``if TYPE_CHECKING:`` blocks (annotations only: never run)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            out |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return out


def imports_of(name: str) -> set[str]:
    """Every xlt module ``name`` imports anywhere in its body (lazy imports inside functions
    included; those for type checking only are not run, so not counted), resolved to a module of
    the package."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    skip = type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def parents(name: str) -> set[str]:
    """Importing a module runs its packages' ``__init__`` first: an edge, but not a cycle."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_every_module_imports_on_its_own():
    """Each in a fresh interpreter, so no earlier import hides a missing one or an import cycle
    (four at a time: most import torch, about a second each)."""

    def run(name: str) -> tuple[str, subprocess.CompletedProcess]:
        cmd = [sys.executable, "-c", f"import {name}"]
        return name, subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)

    with ThreadPoolExecutor(4) as pool:
        failed = {n: r.stderr[-1500:] for n, r in pool.map(run, sorted(MODULES)) if r.returncode}
    assert not failed, failed


def test_the_plan_imports_no_study():
    """xlt.plan validates datasets, encoders and tasks; each study validates its own section."""
    seen, todo = set(), ["xlt.plan"]
    while todo:
        name = todo.pop()
        for dep in GRAPH[name] - seen:
            seen.add(dep)
            todo.append(dep)
    assert not {m for m in seen if m.startswith("xlt.studies")}, sorted(seen)


def test_no_import_cycles():
    """Depth-first search for a cycle among the modules (a package's own modules importing it, or
    it importing them, is not one: the registry and package ``__init__``s may do that)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(GRAPH[name] - parents(name)):
            if name in parents(dep):  # a package's __init__ importing its own module
                continue
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[name] = 2
        return None

    for name in sorted(MODULES):
        if name not in state and (cycle := visit(name)):
            pytest.fail("import cycle: " + " -> ".join(cycle))
