"""local/moto_patches.py lists every patch made to moto, for the moto version pinned."""
from __future__ import annotations

import importlib
import re
from importlib.metadata import version
from pathlib import Path

import pytest

from local import moto_patches

ROOT = Path(__file__).resolve().parents[2]


def pinned_moto() -> str:
    pins = re.findall(r"^moto\[[^\]]*\]==(\S+)", (ROOT / "requirements-dev.txt").read_text(),
                      re.MULTILINE)
    assert len(pins) == 1, "requirements-dev.txt pins moto exactly once"
    return pins[0]


def test_the_patches_were_written_for_the_moto_that_is_pinned():
    assert moto_patches.MOTO_VERSION == pinned_moto(), (
        "requirements-dev.txt pins another moto than local/moto_patches.py was written for: "
        "re-check every patch listed there against it, then update MOTO_VERSION")


def test_the_installed_moto_is_the_pinned_one():
    assert version("moto") == pinned_moto(), (
        f"moto {version('moto')} is installed, but local/ patches moto {pinned_moto()} "
        "(local/moto_patches.py): install the pin (pip install -r requirements-dev.txt)")


@pytest.mark.parametrize("patch", moto_patches.PATCHES, ids=lambda p: f"{p.target}-{p.by}")
def test_every_patch_names_a_class_of_moto_a_local_module_and_what_moto_lacks(patch):
    module, owner, _method = patch.target.rsplit(".", 2)
    assert module.startswith("moto.")
    assert isinstance(getattr(importlib.import_module(module), owner), type)
    assert importlib.util.find_spec(patch.by) is not None
    assert patch.lacks


def test_a_patch_that_is_not_listed_is_refused():
    class Owner:
        def method(self) -> None: ...

    with pytest.raises(LookupError, match="not listed in local/moto_patches.py"):
        moto_patches.replace(Owner, "method", lambda self: None, by="local.somewhere")
    assert Owner.method.__name__ == "method"
