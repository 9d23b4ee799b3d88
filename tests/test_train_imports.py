"""The modules of specc/train/ read top-down: no module imports, even lazily inside a
function, a module that imports it back (the engines once imported eval_session, which
imports the engines)."""

from __future__ import annotations

import ast
from pathlib import Path

TRAIN = Path(__file__).resolve().parent.parent / "specc" / "train"


def _type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imported_train_modules(path: Path) -> set[str]:
    """The specc.train modules `path` imports at run time (module level or in functions)."""
    found: set[str] = set()
    skipped: set[int] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            skipped.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "specc.train":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("specc.train."):
                found.add(node.module.removeprefix("specc.train.").split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.removeprefix("specc.train.").split(".")[0]
                         for alias in node.names if alias.name.startswith("specc.train."))
    return found - {path.stem}


def test_specc_train_has_no_import_cycle() -> None:
    graph = {path.stem: imported_train_modules(path) for path in TRAIN.glob("*.py")}
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", "import cycle: " + " -> ".join([*trail, module])
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*trail, module])
        state[module] = "done"
        order.append(module)

    for module in sorted(graph):
        visit(module, [])
    # below the engines: what they share; above them: the sessions that choose one
    assert order.index("checkpoint") < order.index("engine_torch") < order.index("eval_session")
    assert order.index("engine_keras") < order.index("eval_session")
