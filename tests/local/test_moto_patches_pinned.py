"""local/moto_patches/ lists every patch made to moto and to `chalice local`, for the
versions pinned."""
from __future__ import annotations

import importlib
import re
from importlib.metadata import version
from pathlib import Path

import pytest

from local import moto_patches

ROOT = Path(__file__).resolve().parents[2]


def pinned(package: str) -> str:
    pins = re.findall(rf"^{package}(?:\[[^\]]*\])?==(\S+)",
                      (ROOT / "requirements-dev.txt").read_text(), re.MULTILINE)
    assert len(pins) == 1, f"requirements-dev.txt pins {package} exactly once"
    return pins[0]


def pinned_moto() -> str:
    return pinned("moto")


def test_the_patches_were_written_for_the_moto_that_is_pinned():
    assert moto_patches.MOTO_VERSION == pinned_moto(), (
        "requirements-dev.txt pins another moto than local/moto_patches/ was written for: "
        "re-check every patch listed there against it (pytest tests/canaries names the patches "
        "whose gap the new moto closed), then update MOTO_VERSION")


def test_the_installed_moto_is_the_pinned_one():
    assert version("moto") == pinned_moto(), (
        f"moto {version('moto')} is installed, but local/ patches moto {pinned_moto()} "
        "(local/moto_patches/): install the pin (pip install -r requirements-dev.txt)")


def test_the_chalice_local_patches_were_written_for_the_chalice_that_is_pinned():
    assert moto_patches.CHALICE_VERSION == pinned("chalice"), (
        "requirements-dev.txt pins another chalice than local/run/serve.py's patches were written "
        "for: re-check every entry of CHALICE_PATCHES (pytest tests/canaries names the patches "
        "whose gap the new chalice closed), "
        "then update CHALICE_VERSION")


def test_the_installed_chalice_is_the_pinned_one():
    assert version("chalice") == pinned("chalice"), (
        f"chalice {version('chalice')} is installed, but local/run/serve.py patches chalice "
        f"{pinned('chalice')} (local/moto_patches/): install the pin")


EVERY_PATCH = (*moto_patches.PATCHES, *moto_patches.CHALICE_PATCHES)


@pytest.mark.parametrize("patch", EVERY_PATCH, ids=lambda p: f"{p.target}-{p.by}")
def test_every_patch_names_a_class_a_local_module_its_kind_and_what_upstream_would_do(patch):
    """The target is module.Class.name, or module.name for a name a module looks up in its
    own globals (moto_patches.target of a module)."""
    module, owner, name = patch.target.rsplit(".", 2)
    package = module.split(".")[0]
    assert package in ("moto", "chalice")
    found = getattr(importlib.import_module(module), owner, None)
    if not isinstance(found, type):
        assert hasattr(importlib.import_module(f"{module}.{owner}"), name), patch.target
    assert importlib.util.find_spec(patch.by) is not None
    assert patch.lacks and patch.upstream
    assert patch.kind in (moto_patches.GAP, moto_patches.SPEED, moto_patches.RUNTIME)
    assert patch.written_for == f"{package} {version(package)}"
    if patch.kind == moto_patches.SPEED:
        assert patch.kept, "a patch that only makes moto faster says why it is worth its upkeep"


def test_local_serve_patches_chalice_local_exactly_where_the_registry_says(monkeypatch):
    import inspect

    from chalice import local as chalice_local

    from local.run import serve

    classes = [c for _, c in inspect.getmembers(chalice_local, inspect.isclass)
               if c.__module__ == chalice_local.__name__]
    before = {c: dict(vars(c)) for c in classes}
    made = []

    def recording_setattr(owner, name, value):
        made.append(f"{owner.__module__}.{owner.__qualname__}.{name}")
        monkeypatch.setattr(owner, name, value)

    serve.harden_local_gateway(recording_setattr)
    serve.harden_local_server(recording_setattr)
    changed = {f"{c.__module__}.{c.__qualname__}.{name}" for c in classes
               for name, value in vars(c).items() if before[c].get(name, object()) is not value}
    listed = {patch.target for patch in moto_patches.CHALICE_PATCHES}
    assert len(listed) == len(moto_patches.CHALICE_PATCHES)
    assert changed == set(made), "local/run/serve.py patches chalice local without its setattr_"
    assert sorted(made) == sorted(listed), (
        "local/run/serve.py patches chalice local where local/moto_patches/ CHALICE_PATCHES "
        f"does not say: unlisted {sorted(set(made) - listed)}, "
        f"listed but not made {sorted(listed - set(made))}")


def test_a_patch_that_is_not_listed_is_refused():
    class Owner:
        def method(self) -> None: ...

    with pytest.raises(LookupError, match="not listed in local/moto_patches/"):
        moto_patches.replace(Owner, "method", lambda self: None, by="local.somewhere")
    assert Owner.method.__name__ == "method"
