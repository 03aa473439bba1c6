"""The local AWS makes exactly the patches local/moto_patches.py lists, each once."""
from __future__ import annotations

from local import moto_patches


def test_the_local_aws_applies_every_listed_patch_and_no_other(local_aws):
    listed = [(patch.target, patch.by) for patch in moto_patches.PATCHES]
    assert len(set(listed)) == len(listed)
    assert set(moto_patches.applied) == set(listed)
