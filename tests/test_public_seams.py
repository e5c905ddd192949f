"""Other libraries are used through their public API: no private module, name or attribute of theirs.

A library's `_private` parts change without notice between releases; the kit must survive an upgrade
of Connexion, Starlette or Schemathesis by reading their changelogs, not by diffing their sources.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("mock_server", "contract_tests", "spec_lint")
SOURCES = (*FIRST_PARTY, "tests", "bench")
# What Connexion's own middlewares keep in the ASGI scope for each other: theirs to change.
LIBRARY_SCOPE_KEYS = frozenset({"connexion_routing", "connexion_context"})


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own_module(name: str) -> bool:
    top = name.split(".")[0]
    return not name or top in (*FIRST_PARTY, "conftest", "broken_deployments", "drf_backend", "load", "bare_app")


def _names_defined(trees: list[ast.AST]) -> set[str]:
    """Every name our code itself binds: functions, classes, attributes, variables, arguments."""
    defined: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                defined.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
            elif isinstance(node, ast.arg):
                defined.add(node.arg)
            elif isinstance(node, ast.alias):
                defined.add((node.asname or node.name).split(".")[0])
    return defined


def private_uses(sources: dict[str, str]) -> list[str]:
    """`file:line what` for each use of another library's private module, name or attribute.

    An attribute `x._name` counts when our code never binds `_name` itself (so it can only be the
    library's); imports count when the module is not ours.
    """
    trees = {path: ast.parse(text, filename=path) for path, text in sources.items()}
    defined = _names_defined(list(trees.values()))
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in defined:
                found.append(f"{path}:{node.lineno} attribute {ast.unparse(node)}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in LIBRARY_SCOPE_KEYS:
                found.append(f"{path}:{node.lineno} scope key {node.value}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if not _own_module(alias.name) and any(_private(p) for p in alias.name.split(".")):
                        found.append(f"{path}:{node.lineno} private module {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and not _own_module(node.module or ""):
                if any(_private(p) for p in (node.module or "").split(".")):
                    found.append(f"{path}:{node.lineno} private module {node.module}")
                found += [f"{path}:{node.lineno} private name {node.module}.{a.name}"
                          for a in node.names if _private(a.name)]
    return found


def _resolve(dotted: str) -> object | None:
    module_name, _, attribute = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except Exception:  # noqa: BLE001 - a module that cannot be imported here (e.g. Django's, unconfigured) is skipped
        return None


def private_overrides(sources: dict[str, str]) -> list[str]:
    """`file:line Class._method` for each class (nested ones too) that redefines a private attribute
    of a library class it derives from."""
    found = []
    for path, text in sources.items():
        tree = ast.parse(text, filename=path)
        imported: dict[str, str] = {}  # local name -> dotted name of another library's object
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and not _own_module(node.module or ""):
                imported.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
            elif isinstance(node, ast.Import):
                imported.update({a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
                                 for a in node.names if not _own_module(a.name)})
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = []
            for base in node.bases:
                head, _, rest = ast.unparse(base).partition(".")
                if head in imported:
                    resolved = _resolve(imported[head] + (f".{rest}" if rest else ""))
                    if isinstance(resolved, type):
                        bases += [b for b in resolved.__mro__ if b is not object]
            for item in node.body:
                names = [item.name] if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) else [
                    t.id for t in getattr(item, "targets", [getattr(item, "target", None)]) if isinstance(t, ast.Name)]
                found += [f"{path}:{item.lineno} {node.name}.{name}" for name in names
                          if _private(name) and any(name in vars(b) for b in bases)]
    return found


def test_the_checks_catch_what_they_are_for():
    bad = {"bad.py": "from connexion.security import _get_function\nimport schemathesis._hidden\n"
                     "from starlette._utils import is_async_callable\n"
                     "def f(request):\n    return request._receive, request.scope['extensions']['connexion_routing']\n"}
    assert private_uses(bad) == ["bad.py:1 private name connexion.security._get_function",
                                 "bad.py:2 private module schemathesis._hidden",
                                 "bad.py:3 private module starlette._utils",
                                 "bad.py:5 attribute request._receive",
                                 "bad.py:5 scope key connexion_routing"]
    ours = {"ok.py": "class A:\n    def __init__(self):\n        self._x = 1\n\n    def y(self):\n"
                     "        return self._x\n"}
    assert private_uses(ours) == []


def test_the_override_check_catches_a_private_override():
    ours = {"ok.py": "from starlette.requests import Request\n"
                     "class Mine(Request):\n    def _own_helper(self):\n        pass\n    async def json(self):\n"
                     "        return 1\n"}
    assert private_overrides(ours) == []  # public methods and private names of our own are fine
    nested = {"bad.py": "import starlette.requests\ndef build():\n"
                        "    class Mine(starlette.requests.Request):\n        async def _get_form(self, **kw):\n"
                        "            pass\n    return Mine\n"}
    assert private_overrides(nested) == ["bad.py:4 Mine._get_form"]


def _our_sources() -> dict[str, str]:
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
            for folder in SOURCES if (ROOT / folder).exists() for path in (ROOT / folder).rglob("*.py")
            if "node_modules" not in path.parts and path != Path(__file__).resolve()}  # this file names them


def test_no_private_module_name_or_attribute_of_another_library_is_used():
    assert private_uses(_our_sources()) == []


def test_no_private_method_of_another_library_is_overridden():
    assert private_overrides(_our_sources()) == []
