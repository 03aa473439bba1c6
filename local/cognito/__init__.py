"""The local AWS's Cognito user pool, closer to Cognito than moto is: codes sent and
checked (codes.py, their mail in mail.py), a person's own attribute updates
(attributes.py), the lockout after wrong passwords (lockout.py), what sign-outs
and deletions leave behind (sessions.py), one session ended alone (revoke.py),
two-step verification with a secret of each person's own (totp.py), sign-in with an
emailed code (email_otp.py), passkeys (passkeys.py, passkey_settings.py), and tokens signed
with a key of the local AWS's own instead of the one moto ships (signing_key.py). Each
patch is listed in local/moto_patches/.
"""
from __future__ import annotations

from local.cognito.signing_key import SigningKey
from local.run.outbox import Outbox


def install(outbox: Outbox, key: SigningKey) -> None:
    """Patch the moto of this process (once); codes go to `outbox`, tokens are signed with
    `key`."""
    from local.cognito import (attributes, codes, email_otp, lockout, passkey_settings,
                               passkeys, revoke, sessions, signing_key, totp)

    lockout.install()
    totp.install()  # after the lockout: wrong codes count with wrong passwords
    codes.install(outbox)
    email_otp.install(outbox)  # outermost: USER_AUTH never reaches moto
    passkeys.install()
    passkey_settings.install()
    attributes.install(outbox)
    sessions.install()
    revoke.install()
    signing_key.install(key)
