"""The house's shape: no module of chalicelib/ or local/ over 300 lines, and no import
circle among the project's modules (counting imports inside functions too: a lazy import
hides a circle at run time, not in the design)."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGES = ("chalicelib", "local", "infra")
LONGEST = 300


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project's modules this file imports, anywhere in it."""
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            named |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            named |= submodules
            if len(submodules) < len(node.names):  # names from the module itself
                named.add(node.module)
    return {name for name in named if name in known}


def test_no_module_of_chalicelib_or_local_is_over_300_lines():
    long = {name: n for name, path in modules().items()
            if name.split(".")[0] in ("chalicelib", "local")
            and (n := len(path.read_text().splitlines())) > LONGEST}
    assert long == {}


def test_no_import_circle_among_the_projects_modules():
    found = modules()
    graph = {name: imports_of(path, set(found)) - {name} for name, path in found.items()}
    circles = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                circles.append(trail[trail.index(other):] + [other])
            elif other not in state:
                visit(other, trail + [other])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_the_checks_above_see_the_modules():
    found = modules()
    assert {"chalicelib.login", "local.event_sources.pump", "local.cognito.totp",
            "infra.deploy"} <= set(found)
    assert "chalicelib.cognito_sign_in" in imports_of(found["chalicelib.login"], set(found))
