"""The import graph: no circle anywhere in the project, and imports go one way (index <- qa <- api).

Every import counts, also one inside a function: such imports are how the circles of issue #23 hid (index.compaction
<-> index.store <-> index.lock, api.cli <-> api.cli_docs). The one door from the product into eval/ is `qa eval`
(api/cli.py's cmd_eval), which the layering check allows by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("index", "qa", "api", "eval", "training")
LAYER = {"index": 0, "qa": 1, "api": 2}  # a module may import only from its own layer or a lower one
ALLOWED_UPWARD = {("api.cli", "eval.cli")}  # `qa eval`: the documented entry point into eval/


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """Every project module and the project modules it imports (anywhere in its body)."""
    modules = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base
                                                                                                     else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # "from index import wal" names a module; "x.func" not
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    found.add(target)
        graph[name] = found
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle_anywhere() -> None:
    assert _cycle(_graph()) is None


def test_imports_go_one_way() -> None:
    upward = sorted((name, target) for name, targets in _graph().items() for target in targets
                    if name.split(".")[0] in LAYER and (name, target) not in ALLOWED_UPWARD
                    and LAYER.get(target.split(".")[0], 99) > LAYER[name.split(".")[0]])
    assert upward == []


def test_the_walk_sees_an_import_hidden_in_a_function() -> None:
    """The graph holds api.cli -> api.cli_docs, an import made inside a function."""
    assert "api.cli_docs" in _graph()["api.cli"]
