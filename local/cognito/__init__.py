"""The local AWS's Cognito user pool, closer to Cognito than moto is: codes sent and
checked (codes.py, their mail in mail.py), a person's own attribute updates
(attributes.py), the lockout after wrong passwords (lockout.py), what sign-outs
and deletions leave behind (sessions.py), one session ended alone (revoke.py), and two-step verification with a secret of each
person's own (totp.py). Each patch is listed in local/moto_patches.py.
"""
from __future__ import annotations

from local.outbox import Outbox


def install(outbox: Outbox) -> None:
    """Patch the moto of this process (once); codes go to `outbox`."""
    from local.cognito import attributes, codes, lockout, revoke, sessions, totp

    lockout.install()
    totp.install()  # after the lockout: wrong codes count with wrong passwords
    codes.install(outbox)
    attributes.install(outbox)
    sessions.install()
    revoke.install()
