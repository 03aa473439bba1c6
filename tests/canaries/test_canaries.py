"""Every patch the local AWS makes has a canary, and every canary still sees its gap.

tests/canaries/gaps.py runs once, in a process of its own that never imports local/ (its
patches are process-global once installed), against moto and chalice as installed. A
canary that fails means the pinned moto or chalice no longer has the gap: the test of each
patch it watches names the patch to delete (or re-check) in local/moto_patches/.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from local import moto_patches
from tests.canaries import gaps

ROOT = Path(__file__).resolve().parents[2]
EVERY_PATCH = (*moto_patches.PATCHES, *moto_patches.CHALICE_PATCHES)
WATCHED_BY = {key: each.name for each in gaps.CANARIES for key in each.covers}


@pytest.fixture(scope="module")
def seen() -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run([sys.executable, "-m", "tests.canaries.gaps"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_canaries_run_in_a_process_where_no_patch_of_local_is_installed(seen):
    assert seen["imported_local"] == []
    assert set(seen["results"]) == {each.name for each in gaps.CANARIES}


@pytest.mark.parametrize("patch", EVERY_PATCH, ids=lambda p: f"{p.target}-{p.by}")
def test_every_patch_in_the_registry_has_a_canary(patch):
    assert (patch.target, patch.by) in WATCHED_BY, (
        f"{patch.target} (patched by {patch.by}) has no canary: add one to "
        "tests/canaries/gaps.py showing the gap against moto or chalice unpatched")


def test_every_canary_watches_patches_the_registry_lists():
    listed = {(patch.target, patch.by) for patch in EVERY_PATCH}
    assert {key for each in gaps.CANARIES for key in each.covers} <= listed
    assert len({each.name for each in gaps.CANARIES}) == len(gaps.CANARIES)


@pytest.mark.parametrize("patch", EVERY_PATCH, ids=lambda p: f"{p.target}-{p.by}")
def test_the_gap_each_patch_closes_is_still_there(patch, seen):
    canary = WATCHED_BY.get((patch.target, patch.by))
    if canary is None:
        pytest.fail("no canary (test_every_patch_in_the_registry_has_a_canary)")
    failure = seen["results"][canary]
    verb = ("no longer holds what the patch relies on" if patch.kind == moto_patches.RUNTIME
            else "no longer has the gap")
    package = patch.written_for.split()[0]
    assert failure is None, (
        f"{package} {version(package)} {verb} ({patch.lacks}; the patch was written for "
        f"{patch.written_for}): canary {canary} "
        f"fails. Delete the patch of {patch.target} from {patch.by} and its entry in "
        f"local/moto_patches/ (or, if the gap only moved, update the patch and its canary).\n"
        f"{failure}")
