"""Libraries are used through their public API: no first-party module imports a private module of a
library (a dotted path with a `_name` part) or reads a `_private` attribute of anything but itself."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("contract_tests", "mock_server")
# The packages held to it. mock_server joins (one word here) when its rebuild on Connexion's public seams
# lands: today the scan names its overrides of SchemeBearer._resolve_func/_generic_check and
# JsonBodyValidator._parse/_validate and the inherited privates request_validation.py reads.
CHECKED = ("contract_tests",)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _root(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def private_uses(source: str, filename: str) -> list[str]:
    """`line: what` for every private module imported from a library, every `_private` attribute read on
    anything but `self`/`cls` (a module's own private names are its business), and, in a class that
    subclasses a library's class, every `_private` method it defines (an override, or a name a library
    release may take) and every `self._name` it reads but never set."""
    tree = ast.parse(source, filename)
    found = []
    library_names: set[str] = set()
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
            library_names.update((alias.asname or alias.name).split(".")[0] for alias in node.names
                                 if alias.name.split(".")[0] not in FIRST_PARTY)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if node.module.split(".")[0] not in FIRST_PARTY:
                library_names.update(alias.asname or alias.name for alias in node.names)
        private = [m for m in modules if m.split(".")[0] not in FIRST_PARTY and any(map(_private, m.split(".")))]
        if private:
            found.append(f"{node.lineno}: imports {private[0]}")
        if isinstance(node, ast.Attribute) and _private(node.attr) and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            found.append(f"{node.lineno}: reads .{node.attr}")
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        if not any(_root(base) in library_names for base in cls.bases):
            continue
        own = {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for node in ast.walk(cls):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _root(node) == "self":
                own.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
        for node in cls.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(node.name):
                found.append(f"{node.lineno}: {cls.name} overrides {node.name}")
        for node in ast.walk(cls):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and _private(node.attr) \
                    and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") and node.attr not in own:
                found.append(f"{node.lineno}: {cls.name} reads inherited .{node.attr}")
    return sorted(set(found), key=lambda line: int(line.split(":")[0]))


def test_the_scan_sees_private_modules_attributes_and_overrides():
    source = ("from schemathesis.config._projects import X\nimport connexion._x\nfrom os import _exit\n"
              "from connexion.security import BearerSecurityHandler as Base\n"
              "def f(app):\n    return app._resolve_func\n"
              "class Mine(Base):\n    def _generic_check(self):\n        self._cache = self._required\n"
              "    def own(self):\n        return self._cache, self._helper()\n"
              "    def _helper(self):\n        return 1\n"
              "class Plain:\n    def _private_but_ours(self):\n        return self._unset\n")
    assert private_uses(source, "probe.py") == [
        "1: imports schemathesis.config._projects", "2: imports connexion._x", "3: imports os._exit",
        "6: reads ._resolve_func", "8: Mine overrides _generic_check", "9: Mine reads inherited ._required",
        "12: Mine overrides _helper"]


@pytest.mark.parametrize("path", [p for package in CHECKED for p in sorted((ROOT / package).rglob("*.py"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_module_or_attribute_of_a_library(path: Path):
    found = private_uses(path.read_text(encoding="utf-8"), str(path))
    assert not found, f"{path.relative_to(ROOT)}: " + "; ".join(found)


OTHER_CLIENTS = ("requests", "urllib.request", "urllib3", "http.client", "aiohttp")


def test_one_http_client_in_our_code():
    """httpx (Starlette's TestClient included) is our code's HTTP client; Schemathesis' own use of requests
    is Schemathesis' business, and bench/load.py writes raw HTTP/1.1 on sockets on purpose (a load generator)."""
    found = []
    for path in sorted(p for folder in ("contract_tests", "tests", "bench") for p in (ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names] \
                if isinstance(node, ast.ImportFrom) and not node.level else []
            if any(name == other or name.startswith(other + ".") for name in names for other in OTHER_CLIENTS):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "another HTTP client than httpx: " + ", ".join(found)


def test_every_type_ignore_in_the_typed_packages_names_its_error_and_a_reason():
    """In the packages `make typecheck` holds to strict mypy ([tool.mypy] files), a `# type: ignore` says
    which error it silences and why: `# type: ignore[code]  # reason`."""
    typed = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]["files"]
    assert "contract_tests" in typed
    pattern = re.compile(r"#\s*type:\s*ignore(?!\[[a-z-]+(?:,\s*[a-z-]+)*\]\s+#\s*\S)")
    bare = [f"{path.relative_to(ROOT)}:{number}" for folder in typed for path in sorted((ROOT / folder).rglob("*.py"))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not bare, "type: ignore without [error-code] and a reason comment: " + ", ".join(bare)
    assert pattern.search("x = f()  # type: ignore") and pattern.search("x = f()  # type: ignore[override]")
    assert not pattern.search("x = f()  # type: ignore[override]  # Starlette types it narrower")
