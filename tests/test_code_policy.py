"""Code policies a linter does not check: one HTTP client in our code, and no type: ignore without its
error code and a reason in the packages `make typecheck` holds to strict mypy."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OTHER_CLIENTS = ("requests", "urllib.request", "urllib3", "http.client", "aiohttp")


def test_one_http_client_in_our_code():
    """httpx (Starlette's TestClient included) is our code's HTTP client; Schemathesis' own use of requests
    is Schemathesis' business, and bench/load.py writes raw HTTP/1.1 on sockets on purpose (a load generator)."""
    found = []
    for path in sorted(p for folder in ("contract_tests", "tests", "bench") for p in (ROOT / folder).rglob("*.py")
                       if "node_modules" not in p.parts):
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
