"""The package's structure, as docs/architecture.md writes it down: no import cycles, no module
importing from a higher layer (the order is read from the document itself, so the two cannot
drift), and no plugin importing another plugin. And the tests': what several test modules share
lives in tests/testkit/, never in another test module.

Every import counts: at module level, inside functions (imported late for start-up time) and under
`TYPE_CHECKING` (a type is a dependency too).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "ci_security"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
_IMPORT_BY_NAME = ("importlib.import_module", "import_module")
_LAYER_LINE = re.compile(r"^\s*(\d+)\s+(\S.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Import:
    source: str  # importing module
    target: str  # imported module (a package's __init__ when a name of the package is imported)
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(modules: dict[str, Path]) -> Iterator[Import]:
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                # `from pkg import mod` imports the module; `from mod import name` the module.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                if target == "ci_security" or target.startswith("ci_security."):
                    while target not in modules:
                        target = target.rpartition(".")[0]
                    yield Import(name, target, node.lineno)


def _unit(module: str) -> str:
    """The top-level module or subpackage a module belongs to; `__init__` for the package root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layers() -> dict[str, int]:
    """Unit -> layer, from the fenced block after the `layer-order` marker in docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    marker = text.index("<!-- layer-order")
    block = text[text.index("```", marker) + 3 :]
    block = block[block.index("\n") + 1 : block.index("```")]
    layers: dict[str, int] = {}
    for line in block.splitlines():
        found = _LAYER_LINE.match(line)
        if found is None:
            continue
        for unit in found.group(2).split():
            assert unit not in layers, f"{unit} is listed twice in the layer order"
            layers[unit] = int(found.group(1))
    return layers


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
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
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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


MODULES = _modules()
IMPORTS = list(_imports(MODULES))


def test_the_import_walk_sees_the_package():
    assert len(MODULES) > 250
    assert any(i.source == "ci_security.cli" and i.target == "ci_security.options" for i in IMPORTS)
    # `from ci_security import limits` is the module, `from ci_security.models import Package` the package
    assert any(i.source == "ci_security.anchor" and i.target == "ci_security.limits" for i in IMPORTS)
    assert any(i.source == "ci_security.anchor" and i.target == "ci_security.models" for i in IMPORTS)
    # a late import inside a function counts
    assert any(i.source == "ci_security.scan" and i.target == "ci_security.anchor" for i in IMPORTS)


def test_there_are_no_import_cycles():
    edges: dict[str, set[str]] = {}
    for item in IMPORTS:
        if item.source != item.target:
            edges.setdefault(item.source, set()).add(item.target)
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_every_unit_has_a_layer():
    layers = _layers()
    units = {_unit(module) for module in MODULES}
    assert sorted(units - layers.keys()) == [], "place the new module or package in docs/architecture.md"
    assert sorted(layers.keys() - units) == [], "docs/architecture.md lists what is not in the package"


def test_no_module_imports_from_its_own_layer_or_a_higher_one():
    layers = _layers()
    wrong = []
    for item in IMPORTS:
        source, target = _unit(item.source), _unit(item.target)
        if source != target and layers[target] >= layers[source]:
            wrong.append(
                f"{MODULES[item.source].relative_to(ROOT)}:{item.line}: {source} (layer {layers[source]}) "
                f"imports {item.target} ({target}, layer {layers[target]})"
            )
    assert wrong == []


def _plugins() -> dict[str, str]:
    """Plugin module -> the registry listing it: the modules whose classes a `registry.py` puts in
    its collections (not its `base.py`, not another registry).
    """
    by_module: dict[str, str] = {}
    for name, path in MODULES.items():
        if not name.endswith(".registry"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.asname or alias.name: node.module
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names
        }
        listed = {
            n.id
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
            for n in ast.walk(node.value)
            if isinstance(n, ast.Name)
        }
        for symbol in listed:
            module = imported.get(symbol)
            if module in MODULES and not module.endswith((".base", ".registry")):
                by_module[module] = name
    return by_module


def test_plugins_never_import_each_other():
    plugins = _plugins()
    assert len(plugins) > 120  # every cataloger, rule, reporter, importer, matcher, source, platform
    assert plugins["ci_security.report.sarif"] == "ci_security.report.registry"
    wrong = [
        f"{MODULES[item.source].relative_to(ROOT)}:{item.line}: the plugin {item.source} imports the plugin "
        f"{item.target}; move what they share to a module of its own"
        for item in IMPORTS
        if item.source in plugins and item.target in plugins and item.source != item.target
    ]
    assert wrong == []


def test_a_module_imported_by_name_is_one_of_its_own_package():
    """`importlib.import_module` is invisible to the walk above; it may only load a module of the
    caller's own package (the version schemes, loaded on first use).
    """
    calls = []
    for name, path in MODULES.items():
        package = name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                "importlib.import_module",
                "import_module",
            ):
                argument = node.args[0]
                prefix = argument.values[0] if isinstance(argument, ast.JoinedStr) else argument
                own = isinstance(prefix, ast.Constant) and str(prefix.value).startswith(f"{package}.")
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", own))
    assert calls  # the version scheme registry loads its schemes this way
    assert [where for where, own in calls if not own] == []


def test_test_modules_share_code_through_the_testkit_only():
    tests = ROOT / "tests"
    test_modules = {path.stem for path in tests.rglob("test_*.py")}
    wrong = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.split(".")[0] == "tests" or name.split(".")[-1] in test_modules:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports {name}")
    assert wrong == []
