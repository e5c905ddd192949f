"""The docs cannot drift from the kit: README is a short landing page that reaches every page, links and
cited files exist, every shell example parses, names real `make` targets and real options, and the
examples that talk to the mock run against a fresh one; the error table matches the mock's answers."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ACME_KEY
from starlette.testclient import TestClient

from contract_tests.embedded import serve
from mock_server.app import build_app

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
AUTH = {"Authorization": f"Bearer {ACME_KEY}"}


def blocks(page: Path, language: str = "sh") -> list[str]:
    return [body for lang, body in FENCE.findall(page.read_text(encoding="utf-8")) if lang == language]


def commands(block: str) -> list[str]:
    """The commands of a shell block (continuation lines joined; a transcript's `$ ` lines only)."""
    lines = block.splitlines()
    if any(line.startswith("$ ") for line in lines):  # a transcript: commands and what they printed
        kept, going = [], False
        for line in lines:
            if line.startswith("$ ") or going:
                kept.append(line[2:] if line.startswith("$ ") else line)
                going = line.endswith("\\")
        lines = kept
    joined, current = [], ""
    for line in lines:
        current += line[:-1] + " " if line.endswith("\\") else line + "\n"
        if line.endswith("\\"):
            continue
        try:
            shlex.split(current, comments=True)
        except ValueError:  # a quoted argument goes on over the next lines
            continue
        if current.strip() and not current.lstrip().startswith("#"):
            joined.append(current.strip())
        current = ""
    return joined


def test_readme_is_a_landing_page_that_reaches_every_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    for page in (ROOT / "docs").glob("*.md"):
        assert f"docs/{page.name}" in readme, f"README does not link {page.name}"
    for needed in ("Python ≥ 3.11", "make", "Node 20", "npm", "hromium", "make mock", "make test"):
        assert needed in readme


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_and_cited_files_exist(page):
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name} links {target}, which is not in the repository"
        if anchor and linked.suffix == ".md":
            headings = {_slug(h) for h in re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)}
            assert anchor in headings, f"{page.name} links {target}: no such heading"
    names = {p.name for p in ROOT.rglob("*") if ".venv" not in p.parts and "node_modules" not in p.parts}
    for cited in re.findall(r"`([\w./-]+\.(?:py|md|yaml|yml|toml|json|txt|ts|png|html|xml))`", text):
        if "/" in cited and not cited.startswith(("reports/", "/", "path/", "my-", ".")):
            assert (ROOT / cited).exists() or (ROOT / "docs" / cited).exists(), f"{page.name} cites {cited}"
        elif "/" not in cited and not cited.startswith(("my-", "team", "saved", "world", "other")):
            assert cited in names or cited.startswith(("contract", "openapi", "schemas", "index")), \
                f"{page.name} cites {cited}"
    assert "api-facts" not in text  # a file of the project's notes, not of this repository


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _help(module: str, *subcommand: str) -> str:
    return subprocess.run([sys.executable, "-m", module, *subcommand, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60).stdout


def _targets() -> set[str]:
    return set(re.findall(r"^([\w.-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))


def _options(command: str) -> list[str]:
    return re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", command)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_shell_example_parses_and_names_real_targets_and_options(page):
    helps = {"mock": _help("mock_server"), "proxy": _help("mock_server", "proxy"), "contract": _help("contract_tests"),
             "lint": _help("spec_lint")}
    targets = _targets()
    for block in blocks(page):
        parsed = subprocess.run(["bash", "-n", "-c", "\n".join(commands(block))], capture_output=True, text=True)
        assert parsed.returncode == 0, f"{page.name}: {block}: {parsed.stderr}"
        for command in (part.strip() for c in commands(block) for part in c.split(" && ")):
            words = shlex.split(command, comments=True)
            if words[:1] == ["make"]:
                wanted = [w for w in words[1:] if not w.startswith("ARGS=") and "=" not in w]
                assert set(wanted) <= targets, f"{page.name}: {command}: no such make target"
                if "mock" in wanted:
                    args = " ".join(w[5:] for w in words if w.startswith("ARGS="))
                    _assert_options(page, command, _options(args), helps["mock"])
            elif "mint-jwt" in command:
                continue
            elif "experiments-mock" in command or "-m mock_server" in command:
                _assert_options(page, command, _options(command), helps["proxy" if "proxy" in words else "mock"])
            elif "contract_tests" in command or "experiments-contract-tests" in command:
                _assert_options(page, command, _options(command), helps["contract"])
            elif "experiments-lint" in command or "-m spec_lint" in command:
                _assert_options(page, command, _options(command), helps["lint"])
            for word in words:
                if word.startswith(".venv/bin/"):
                    assert (Path(sys.executable).parent / word.split("/")[-1]).exists(), f"{page.name}: {word}"
                elif "node_modules/.bin/" in word:
                    package = (ROOT / word.split("node_modules/")[0] / "package.json").read_text(encoding="utf-8")
                    assert word.split("/")[-1] in package, f"{page.name}: {word} is not installed there"


def _assert_options(page: Path, command: str, options: list[str], help_text: str) -> None:
    for option in options:
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text), \
            f"{page.name}: {command}: {option} is not an option"


def _talks_to_the_mock(command: str) -> bool:
    return ("curl" in command and ("127.0.0.1:4010" in command or "$API" in command)) or \
        command.startswith(("export API=", "TOKEN=$(.venv/bin/python -m mock_server mint-jwt"))


CALLING_PAGES = [p for p in PAGES if any(_talks_to_the_mock(c) for b in blocks(p) for c in commands(b))]


@pytest.mark.parametrize("page", CALLING_PAGES, ids=lambda p: p.name)
def test_the_shell_examples_that_call_the_mock_run_against_a_fresh_one(page):
    with serve(build_app().asgi) as origin:
        script = ["set -e"]
        for block in blocks(page):
            script += [c.replace("http://127.0.0.1:4010", origin) for c in commands(block) if _talks_to_the_mock(c)]
        result = subprocess.run(["bash", "-c", "\n".join(script)], cwd=ROOT, capture_output=True, text=True,
                                timeout=120, env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Internal Server Error" not in result.stdout and '"detail":"Not found."' not in result.stdout


# -- the error table of docs/frontend.md ------------------------------------------------------------------------

def _error_table() -> dict[str, list[tuple[str, str]]]:
    """status -> [(when, body)] of the error table."""
    text = (ROOT / "docs" / "frontend.md").read_text(encoding="utf-8")
    rows: dict[str, list[tuple[str, str]]] = {}
    for status, when, body in re.findall(r"^\| (\d{3}) \| (.+?) \| (.+?) \|$", text, re.M):
        rows.setdefault(status, []).append((when, body))
    return rows


def test_the_error_table_matches_the_mock():
    table = _error_table()
    base = "/api/v2/experiments"
    with TestClient(build_app().asgi, base_url="http://127.0.0.1:4010") as client:
        json_header = {**AUTH, "Content-Type": "application/json"}
        not_json = client.post(f"{base}/", content=b"{", headers=json_header)
        no_body = client.post(f"{base}/", headers=AUTH)
        wrong_method = client.delete(f"{base}/", headers=AUTH)
        options = client.options(f"{base}/")
        unauthenticated = client.get(f"{base}/")
        not_found = client.get(f"{base}/exp_nowhere/", headers=AUTH)
        too_big = client.post(f"{base}/", content=b"x" * (1024 * 1024 + 1), headers=json_header)
        not_json_type = client.post(f"{base}/", content=b"{}", headers={**AUTH, "Content-Type": "text/plain"})
    bodies = {when: body for when, body in table["400"]}
    assert not_json.status_code == 400 and not_json.json()["detail"].startswith("JSON parse error - ")
    assert "JSON parse error - " in bodies["body is not JSON"]
    assert no_body.status_code == 400
    assert f'"{no_body.json()["detail"]}"' in bodies["a POST, PUT or PATCH without a body"]
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == options.headers["Allow"]
    assert "OPTIONS" in wrong_method.headers["Allow"] and "`OPTIONS`" in table["405"][0][0]
    assert unauthenticated.status_code == 401 and unauthenticated.headers["WWW-Authenticate"] == "Bearer"
    assert not_found.status_code == 404 and "exp_nowhere" in not_found.json()["detail"]
    assert too_big.status_code == 413 and not_json_type.status_code == 415
    assert {"400", "401", "404", "405", "409", "413", "415"} <= set(table)
