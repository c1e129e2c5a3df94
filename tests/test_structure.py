"""The package's imports run one way (README, "How the code is laid out").

Every module is read with `ast`; every import counts, those inside functions too (they
run, so they are real dependencies), except those under `if TYPE_CHECKING:`. The test
fails on an import cycle, on a private name imported from another module, and on an
import that goes up the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "symparams"

# Bottom to top: a module may import only from its own layer or those below it.
LAYERS = (
    ("base",),
    ("language",),
    ("layers",),
    ("result",),
    ("modes",),
    ("building",),
    ("analysis",),
    ("report", "render", "latex", "plot", "export"),
    ("api",),
    ("cli", "__main__"),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("symparams",) + parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for each import of `name`."""
    tree = ast.parse(path.read_text("utf-8"))
    skipped = _type_checking_blocks(tree)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [alias.name for alias in node.names]
            # `from . import syntax` imports a module: the edge goes to it.
            modules_named = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
            if modules_named:
                found += [(m, [], node.lineno) for m in modules_named]
            else:
                found.append((target, names, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
    return [(t, n, line) for t, n, line in found if t in known]


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: {t for t, _, _ in imports(name, path, known)} - {name} for name, path in found.items()}


def test_the_import_graph_has_no_cycle() -> None:
    edges = graph()
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [node])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_no_private_name_crosses_a_module() -> None:
    found = modules()
    known = set(found)
    offences = []
    for name, path in found.items():
        for target, names, line in imports(name, path, known):
            offences += [f"{name}:{line} imports {n} from {target}" for n in names
                         if n.startswith("_") and not n.startswith("__")]
    assert offences == []


def _layer(name: str) -> int:
    top = name.split(".")[1] if name.count(".") else ""
    for i, members in enumerate(LAYERS):
        if top in members:
            return i
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS")


def test_imports_run_downhill() -> None:
    edges = graph()
    uphill = [f"{a} imports {b}" for a, targets in edges.items() if a != "symparams"
              for b in targets if b != "symparams" and _layer(b) > _layer(a)]
    assert uphill == []


def test_the_checks_can_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks themselves can fail: two modules that import each other (one inside a
    function) are a cycle, and a private name taken from another module is found."""
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "a.py").write_text("from .b import _x\n")
    (tmp_path / "b.py").write_text("def f():\n    from .a import y\n")
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path)
    edges = graph()
    assert edges["symparams.a"] == {"symparams.b"} and edges["symparams.b"] == {"symparams.a"}
    with pytest.raises(AssertionError):
        test_the_import_graph_has_no_cycle()
    with pytest.raises(AssertionError):
        test_no_private_name_crosses_a_module()
