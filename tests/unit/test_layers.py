"""The layer rule docs/architecture.md states holds in the code: in chalicelib/ imports point
down the layers of its table (handlers' helpers -> domain -> AWS adapters -> plumbing; a
module may import its own layer), nothing imports app.py but the entry points the doc names,
chalicelib/ imports neither local/ nor infra/, and infra/ imports local/ only where the doc
says (local/ reads infra/'s definitions: allowed). Imports inside functions count
(tests/unit/test_layout.py)."""
from __future__ import annotations

import re

from tests.helpers import ROOT
from tests.unit.test_layout import imports_of, modules

ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
ROW = re.compile(r"\|\s*([^|]*?)\s*\|\s*`(chalicelib/[\w/]+)\.py`")


def layers() -> tuple[list[str], dict[str, str]]:
    """The layers of the doc's chalicelib/ table, top first, and each module's."""
    order: list[str] = []
    layer_of: dict[str, str] = {}
    for label, path in ROW.findall(ARCHITECTURE):
        if label:
            order.append(label)
        layer_of[path.replace("/", ".")] = order[-1]
    return order, layer_of


def paragraph() -> str:
    return ARCHITECTURE.split("Imports point down only:", 1)[1].split("\n\n", 1)[0]


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found) | {"app"}
    return {name: imports_of(path, known) - {name} for name, path in found.items()}


def named_in(sentence: str) -> set[str]:
    """The modules a sentence of the doc names as `package/module.py`."""
    return {path.removesuffix(".py").replace("/", ".")
            for path in re.findall(r"`((?:local|infra|chalicelib)/[\w/]+\.py)`", sentence)}


def test_every_module_of_chalicelib_has_a_layer_in_the_doc():
    _, layer_of = layers()
    assert sorted(n for n in modules() if n.startswith("chalicelib.") and n not in layer_of) == []


def test_imports_in_chalicelib_point_down_the_layers():
    order, layer_of = layers()
    assert order == ["handlers' helpers", "domain", "AWS adapters", "plumbing"]
    rank = {label: i for i, label in enumerate(order)}
    upward = sorted(f"{name} ({layer_of[name]}) imports {other} ({layer_of[other]})"
                    for name, imported in graph().items() if name in layer_of
                    for other in imported
                    if other in layer_of and rank[layer_of[other]] < rank[layer_of[name]])
    assert upward == []


def test_only_the_entry_points_the_doc_names_import_app_py():
    entry_points = named_in(paragraph().split("Nothing imports `app.py` but", 1)[1]
                            .split("Nothing in `chalicelib/`", 1)[0])
    assert entry_points == {"local.__main__", "local.event_sources.deliver", "infra.package"}
    importers = {name for name, imported in graph().items() if "app" in imported}
    assert importers == entry_points


def test_packages_import_each_other_only_as_the_doc_says():
    allowed = named_in(paragraph().split("imports `local/` only in", 1)[1].split(")", 1)[0])
    assert allowed == {"infra.smoke.targets"}
    crossing = sorted(f"{name} imports {other}" for name, imported in graph().items()
                      for other in imported
                      if (name.startswith("chalicelib") and other.startswith(("local", "infra")))
                      or (name.startswith("infra") and other.startswith("local")
                          and name not in allowed))
    assert crossing == []
