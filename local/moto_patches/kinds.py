"""What a patch of the local AWS is (local/moto_patches/): its kind, the versions patched."""
from __future__ import annotations

from typing import NamedTuple

MOTO_VERSION = "5.2.5"  # every moto patch below was written for, and tested with, this moto
CHALICE_VERSION = "1.34.0"  # likewise every patch of `chalice local` (CHALICE_PATCHES)

# A patch's kind: why it exists.
GAP = "gap"  # an AWS behaviour moto (or chalice local's API Gateway) lacks
SPEED = "speed"  # only makes moto faster: same answers (`kept` says why it is worth its upkeep)
RUNTIME = "runtime"  # the local runtime itself (`make run`'s process), no gap of AWS or moto


class Patch(NamedTuple):
    target: str  # module.Class.attribute of moto or chalice
    by: str  # the local module that makes it
    lacks: str  # what moto or chalice does not do that AWS does (or what the patch is for)
    kind: str  # GAP, SPEED or RUNTIME
    upstream: str  # what moto or chalice would have to do for the patch to go
    kept: str = ""  # for a SPEED patch or a copy of upstream's code: why it is worth its upkeep

    @property
    def written_for(self) -> str:
        """The version of the package patched that the patch was written for."""
        if self.target.startswith("chalice."):
            return f"chalice {CHALICE_VERSION}"
        return f"moto {MOTO_VERSION}"
