"""The key the local AWS signs its Cognito tokens with: its own, not the one moto ships.

moto signs every user pool's tokens with one private key shipped inside moto
(moto/cognitoidp/resources/jwks-private.json.gz, kid "dummy") and publishes its public
half at /<pool id>/.well-known/jwks.json: anyone who has moto can sign an ID token with
any `sub`, and the app's guard (chalicelib/tokens.py) and the identity pool
(local/iam/identity_pool.py) would take it as that person's. Here the local AWS signs
with an RSA key of its own, named by its RFC 7638 thumbprint, and publishes only that
key: a token verifies only if this local AWS issued it.

`make run` keeps the key in its state directory (FILE_NAME, readable by its owner only),
made there the first time, so tokens stay valid across restarts like the rest of the data
(local/run/state.py); without a state directory (the stack tier) a process makes a key of its own.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

from local import moto_patches

FILE_NAME = "cognito-signing-key.pem"
KEY_BITS = 2048


class SigningKey:
    """An RSA private key, for moto's signer (joserfc) and for PyJWT."""

    def __init__(self, private: Any) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from joserfc import jwk

        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError(f"not an RSA private key: {type(private).__name__}")
        self.private = private  # cryptography's RSAPrivateKey
        self.public = private.public_key()
        self.jwk = jwk.RSAKey.import_key(private)
        self.kid = self.jwk.thumbprint()

    def jwks(self) -> dict[str, Any]:
        """The public half, as a user pool publishes its keys."""
        public = self.jwk.as_dict(private=False)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization as s

        return self.private.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,
                                          s.NoEncryption())


def new() -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS))


def kept_in(directory: Path | str, say: Callable[[str], None] = print) -> SigningKey:
    """The key kept in `directory`; made and written there (mode 0600) the first time."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = Path(directory) / FILE_NAME
    if path.exists():
        try:
            key = SigningKey(load_pem_private_key(path.read_bytes(), password=None))
        except (ValueError, TypeError) as exc:  # a damaged file must not stop `make run`
            aside = path.with_name(f"{FILE_NAME}.{time.strftime('%Y%m%dT%H%M%S')}.old")
            os.replace(path, aside)
            say(f"[state] {path} could not be read ({exc}): signing with a new key (the old "
                f"file kept as {aside.name}); tokens issued before are refused")
        else:
            os.chmod(path, 0o600)  # whatever was done to it since: readable by its owner only
            return key
    key = new()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        os.fchmod(out.fileno(), 0o600)  # a partial file left by a crash may have been wider
        out.write(key.pem())
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    return key


# --- moto signs with it and publishes it ---------------------------------------------------

_key: SigningKey | None = None


def current() -> SigningKey:
    """The key this process's local AWS signs with (install() chose it)."""
    if _key is None:
        raise RuntimeError("the local AWS of this process is not installed (local.cognito)")
    return _key


def _own_key(token: Any) -> Any:
    """joserfc's key resolver (`jwk.KeyCallable`), which moto's create_jwt is handed as its
    key: it names our key in the token's header (instead of moto's "dummy") and gives it.
    Module-level, so a user pool that holds it still pickles (local/run/state.py)."""
    key = current()
    token.set_kid(key.kid)
    return key.jwk


class _ShippedKeyNotImported:
    """What moto.cognitoidp.models sees as `joserfc.jwk`, of which it uses only
    `RSAKey.import_key(<its shipped private key>)`, in a user pool's __init__."""

    class RSAKey:
        @staticmethod
        def import_key(*_: Any, **__: Any) -> Any:
            return _own_key


def install(key: SigningKey) -> None:
    """Sign this process's Cognito tokens with `key` and publish its public half (one key
    a process: the JWKS moto serves is one for the whole server)."""
    global _key
    from moto.cognitoidp import models
    from moto.cognitoidp.models import CognitoIdpUserPool
    from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

    if moto_patches.is_applied(CognitoIdpUserPool, "create_jwt", by=__name__):
        if key is not _key:
            raise RuntimeError("the local AWS of this process already signs with another key")
        return

    def create_jwt(self: Any, *args: Any, **kwargs: Any) -> Any:
        # moto signs with `self.json_web_key` (set in the pool's __init__, and saved with
        # the pool in snapshots): every token, of new and restored pools alike, gets ours.
        self.json_web_key = _own_key
        return original(self, *args, **kwargs)

    _key = key
    original = moto_patches.replace(CognitoIdpUserPool, "create_jwt", create_jwt, by=__name__)
    # A new pool's __init__ imports moto's shipped private key (`jwk.RSAKey.import_key`, ~0.1 s
    # of CPU: cryptography checks the key) into `json_web_key`, which create_jwt above never
    # signs with: the pool holds our resolver from the start instead.
    moto_patches.replace(models, "jwk", _ShippedKeyNotImported, by=__name__)
    moto_patches.replace(CognitoIdpJsonWebKeyResponse, "json_web_key",
                         json.dumps(key.jwks()).encode(), by=__name__)
