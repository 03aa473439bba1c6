"""`chalice local`, hardened for one gap: a malformed token must get a 401.

chalice local's Cognito authorizer base64-decodes the token's payload to copy
its claims, with no check at all, and a token that is not three base64 parts
crashes the local gateway (the client gets an empty reply). Here such a token
decodes to no claims, so the request reaches the app, whose guard answers 401
for it like for every other invalid token. Run: python -m local.serve --port N
"""
from __future__ import annotations

import os
import signal
import sys


def _die_with_parent() -> None:
    """Stop when `python -m local` dies, even by SIGKILL: never an orphan holding PORT."""
    parent = os.environ.get("COMM_IT_PARENT_PID", "")
    if not sys.platform.startswith("linux") or not parent.isdigit():
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):  # the parent died before prctl took effect
        sys.exit(1)


def harden_local_gateway(setattr_=setattr) -> None:
    """Make chalice's local Cognito authorizer pass malformed tokens on to the app.

    `setattr_` lets tests apply it with monkeypatch.setattr (undone after the test).
    """
    from chalice.local import LocalGatewayAuthorizer

    original = LocalGatewayAuthorizer._decode_jwt_payload
    if getattr(original, "hardened", False):
        return

    def decode(self, jwt: str) -> dict:
        try:
            claims = original(self, jwt)
        except Exception:  # any malformed token: the app's guard rejects it
            return {}
        return claims if isinstance(claims, dict) else {}

    decode.hardened = True
    setattr_(LocalGatewayAuthorizer, "_decode_jwt_payload", decode)


def main(argv: list[str]) -> int:
    import logging
    import warnings

    _die_with_parent()
    # chalice local logs at INFO; botocore's "Found credentials..." lines only hide the
    # [outbox] and [event] lines a person is looking for.
    logging.getLogger("botocore").setLevel(logging.WARNING)

    from chalice import cli

    harden_local_gateway()
    # The local gateway warns that it lets tokens without cognito:username through;
    # the app's guard verifies every token itself, so the warning is noise here.
    warnings.filterwarnings("ignore", message=".*not supported in local mode.*")
    from local import warm

    warm.api()  # the first login and greeting do not wait for boto3's clients
    sys.argv = ["chalice", "local", "--no-autoreload", "--stage", "local", *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
