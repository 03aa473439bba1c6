"""`make smoke`'s passkey check (infra/smoke/passkeys.py) says SKIP, and why, on a stage without a
passkey relying party, before it calls anything."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from infra.smoke import passkeys
from infra.smoke.outcomes import Skipped


@pytest.mark.parametrize("env", [{}, {"PASSKEYS": "off"}])
def test_a_stage_without_a_relying_party_skips_the_passkey_check_saying_why(env):
    run = SimpleNamespace(target=SimpleNamespace(env=env))
    with pytest.raises(Skipped, match="PasskeyRelyingPartyId"):
        passkeys.passkey(run)  # type: ignore[arg-type]
