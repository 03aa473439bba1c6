"""Recovery codes for two-step verification: 10 single-use codes, stored only as salted hashes.

Cognito has none, so the app keeps them: one item per person in the security table
(security_table.py), `recovery#<sub>`, holding for each code its own random salt and its scrypt
digest (never the code), and `recovered`: when a recovery code last signed the person in (two-step
verification was turned off by it, and the Security page asks to set it up again). A code is
two groups of four characters ("k7f2-9xq4") from 31 letters and digits that cannot be misread
(no 0/o, 1/l/i): about 40 bits each, so a stolen table does not give them back cheaply (scrypt,
and a salt per code), and guesses at the app are few (attempts.APP_CODE counts them).

A code is used once: the item is written conditionally on the version read, so two requests
with the same code at the same moment cannot both use it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from chalicelib import attempts
from chalicelib.attempts import DAY
from chalicelib.errors import ServiceUnavailable
from chalicelib.security_table import UNAVAILABLE, Conflict

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # 31: no 0, 1, i, l, o
GROUP = 4
# scrypt's cost: ~10 ms a code here (a guess tries each of up to 10 codes).
SCRYPT = {"n": 2 ** 11, "r": 8, "p": 1, "dklen": 32}
KEPT = 10 * 365 * DAY  # until replaced or the account goes; DynamoDB's TTL needs a time


def key(sub: str) -> str:
    return f"recovery#{sub}"


def _draw() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(2 * GROUP))
    return f"{chars[:GROUP]}-{chars[GROUP:]}"


def normal(code: str) -> str:
    """What a person typed, as stored: lower case, no spaces or dashes."""
    return "".join(c for c in code.lower() if c not in " -\t")


def _digest(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(normal(code).encode(), salt=salt, **SCRYPT)


def _hashed(code: str) -> dict[str, str]:
    salt = secrets.token_bytes(16)
    return {"salt": salt.hex(), "hash": _digest(code, salt).hex()}


def new_set(sub: str) -> list[str]:
    """10 new codes for the person; the old set stops working at once. Returns the codes: the
    only time they exist outside the person's hands."""
    codes = [_draw() for _ in range(COUNT)]
    _write(sub, [_hashed(code) for code in codes], recovered=0.0)
    return codes


def state(sub: str) -> dict[str, Any]:
    """How many codes are left, and whether a recovery code turned two-step verification off."""
    item = attempts.limits().table.get(key(sub), attempts.limits().clock()) or {}
    return {"left": len(json.loads(item.get("codes") or "[]")),
            "recovered": float(item.get("recovered") or 0) > 0}


def use(sub: str, code: str) -> dict[str, str] | None:
    """Use up `code` if it is one of the person's: returns what was stored for it (to give it
    back if signing in fails after all), or None when it is not a code of theirs (any more)."""
    if len(normal(code)) != 2 * GROUP:
        return None
    table = attempts.limits().table
    for _ in range(8):  # another use at the same moment: read again
        now = attempts.limits().clock()
        item = table.get(key(sub), now)
        stored = json.loads((item or {}).get("codes") or "[]")
        match = next((entry for entry in stored if hmac.compare_digest(
            _digest(code, bytes.fromhex(entry["salt"])).hex(), entry["hash"])), None)
        if match is None:
            return None
        left = [entry for entry in stored if entry is not match]
        try:
            table.put(key(sub), {"codes": json.dumps(left),
                                  "recovered": float((item or {}).get("recovered") or 0)},
                      now=now, expires_at=now + KEPT, replacing=item)
            return match
        except Conflict:
            continue
    raise ServiceUnavailable(UNAVAILABLE)


def give_back(sub: str, entry: dict[str, str]) -> None:
    """A used code counts again (the sign-in it was for did not happen)."""
    _change(sub, lambda codes, recovered: (codes + [entry], recovered))


def recovered(sub: str) -> None:
    """A recovery code signed the person in and turned two-step verification off: the rest of
    the set goes with it (it belonged to the old authenticator), and the page asks for a new
    setup with new codes."""
    _write(sub, [], recovered=attempts.limits().clock())


def forget(sub: str) -> None:
    """No codes any more (two-step verification turned off, or the account deleted)."""
    attempts.limits().table.delete(key(sub))


def _write(sub: str, codes: list[dict[str, str]], recovered: float) -> None:
    _change(sub, lambda _codes, _recovered: (codes, recovered))


def _change(sub: str, change: Any) -> None:
    table = attempts.limits().table
    for _ in range(8):
        now = attempts.limits().clock()
        item = table.get(key(sub), now)
        codes, recovered = change(json.loads((item or {}).get("codes") or "[]"),
                                  float((item or {}).get("recovered") or 0))
        try:
            table.put(key(sub), {"codes": json.dumps(codes), "recovered": recovered},
                      now=now, expires_at=now + KEPT, replacing=item)
            return
        except Conflict:
            continue
    raise ServiceUnavailable(UNAVAILABLE)
