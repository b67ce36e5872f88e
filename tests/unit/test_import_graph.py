"""The shape of the code, read from the source: every import of every module under app/, those inside functions
included (the `ast` module, nothing is imported to find them).

- No import cycles among app's modules: a cycle held together by imports placed inside functions is still a
  cycle, and the order modules happen to load in decides whether it works.
- The domain (app.billing, app.x12, app.clearinghouse) takes what it needs as arguments: no path of imports
  leads from it to Flask, Flask-Login, Flask-WTF, Werkzeug or RQ. The shared `app.extensions` (the `db` object)
  and `app.models` (its modules included) are the exceptions the layers agree on, so the walk does not go
  through them.
- An import inside a function is a deliberate deferral of a heavy or optional import, and says why on its line.
"""
import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
DOMAIN = ("app.billing", "app.x12", "app.clearinghouse")
WEB_AND_JOBS = {"flask", "flask_login", "flask_wtf", "werkzeug", "rq"}
SHARED = {"app.extensions", "app.models"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # an app module, or the top-level name of a library
    line: int
    in_function: bool
    commented: bool


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(APP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _app_module(name: str) -> str | None:
    """The app module an import names (`app.models.Claim` → `app.models`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    in_functions = {id(node) for function in ast.walk(tree)
                    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
                    for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # `from app import audit` imports the module app.audit; `from app.models import Claim`, app.models.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            target = _app_module(name) if name.split(".")[0] == "app" else name.split(".")[0]
            if target and target != module:
                found.append(Import(module, target, node.lineno, id(node) in in_functions,
                                    "#" in lines[node.end_lineno - 1]))
    return found


IMPORTS = [found for module, path in MODULES.items() for found in _imports(module, path)]
GRAPH: dict[str, set[str]] = {module: set() for module in MODULES}
for _import in IMPORTS:
    GRAPH[_import.module].add(_import.target)


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in GRAPH.get(module, ()):
            if target not in MODULES:
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(MODULES):
        if module not in index:
            visit(module)
    return cycles


def _shared(module: str) -> bool:
    return any(module == shared or module.startswith(shared + ".") for shared in SHARED)


def _path_to_forbidden(start: str) -> list[str] | None:
    """The first chain of imports from `start` to Flask, Flask-Login, Flask-WTF, Werkzeug or RQ, if any."""
    seen = {start}
    queue = [[start]]
    while queue:
        chain = queue.pop(0)
        for target in sorted(GRAPH.get(chain[-1], ())):
            if target in WEB_AND_JOBS:
                return [*chain, target]
            if target in MODULES and target not in seen and not _shared(target):
                seen.add(target)
                queue.append([*chain, target])
    return None


def test_the_walk_sees_what_it_should():
    """A walk that found nothing would pass every test below: it sees the known edges, inside functions too."""
    assert len(MODULES) > 80
    assert "app.billing.bills" in GRAPH["app.billing.sessions"]
    assert "flask" in GRAPH["app.rendering"] and "rq" in GRAPH["app.jobs"]
    assert any(found.in_function for found in IMPORTS)  # the deliberate deferrals are seen


def test_no_import_cycles():
    assert _cycles() == []


@pytest.mark.parametrize("module", sorted(module for module in MODULES if module.startswith(DOMAIN)))
def test_domain_reaches_no_web_or_job_framework(module):
    assert _path_to_forbidden(module) is None, " → ".join(_path_to_forbidden(module))


def test_imports_inside_functions_are_deliberate_and_say_why():
    unexplained = [f"{found.module}:{found.line} imports {found.target}" for found in IMPORTS
                   if found.in_function and not found.commented]
    assert unexplained == []


def test_the_checks_catch_a_cycle_and_a_back_door(monkeypatch):
    """The checks themselves fail when they should: an invented edge back from the domain is found both as a
    cycle and as a path to Flask."""
    monkeypatch.setitem(GRAPH, "app.billing.money", GRAPH["app.billing.money"] | {"app.rendering"})
    monkeypatch.setitem(GRAPH, "app.rendering", GRAPH["app.rendering"] | {"app.billing.money"})
    assert ["app.billing.money", "app.rendering"] in _cycles()
    assert _path_to_forbidden("app.billing.money")[-1] == "flask"
