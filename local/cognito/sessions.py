"""What a user pool remembers of its users' sessions, for the identity pool's
ServerSideTokenCheck (local/iam/identity_pool.py asks `user_is_active`).

moto forgets a deleted user entirely and leaves ID tokens valid after GlobalSignOut.
Here a pool's users remember the `sub` of every user deleted (however deleted), and a
sign-out remembers when it happened and which sign-ins (origin_jti) it ended.
These patches apply to the moto server running in this process only.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Mapping

from local import moto_patches
from local.server import clock


class UsersRememberingDeletions(OrderedDict):
    """A user pool's users that remember the `sub` of every user deleted, however deleted."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.deleted_subs: set[str] = set()

    def _forget(self, key: Any) -> None:
        sub = getattr(self.get(key), "id", None)
        if sub:
            self.deleted_subs.add(sub)

    def __delitem__(self, key: Any) -> None:
        self._forget(key)
        super().__delitem__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._forget(key)
        return super().pop(key, *default)


def install() -> None:
    """Patch moto's user pools (once per process)."""
    from moto.cognitoidp.models import CognitoIdpUserPool

    if moto_patches.is_applied(CognitoIdpUserPool, "sign_out", by=__name__):
        return

    def sign_out(self: Any, username: str) -> None:
        # Remembered for ServerSideTokenCheck: ID tokens issued before it stop working.
        import jwt

        user = self._get_user(username)
        if user is not None:
            user.comm_it_signed_out_at = clock.now()
            revoked = getattr(user, "comm_it_revoked", set())
            for token, (_, owner) in list(self.access_tokens.items()):
                if owner == username:  # the ID tokens of the same sign-in share its origin_jti
                    claims = jwt.decode(token, options={"verify_signature": False})
                    revoked.add(claims.get("origin_jti"))
            user.comm_it_revoked = revoked
        original_sign_out(self, username)

    def pool_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_pool_init(self, *args, **kwargs)
        self.users = UsersRememberingDeletions(self.users)

    original_sign_out = moto_patches.replace(CognitoIdpUserPool, "sign_out", sign_out,
                                             by=__name__)
    original_pool_init = moto_patches.replace(CognitoIdpUserPool, "__init__", pool_init,
                                              by=__name__)


def user_is_active(user_pool: Any, claims: Mapping[str, Any]) -> bool:
    """Whether the user of these ID-token claims still exists, is enabled, and has not
    signed out (everywhere, or of this sign-in) since the token was issued."""
    user = next((u for u in user_pool.users.values() if u.id == claims["sub"]), None)
    if user is None:
        # Deleted: refused. Never in this pool: only a test can sign such a token with the
        # pool's key (moto signs every pool's tokens with one key pair), and AWS could not.
        return claims["sub"] not in getattr(user_pool.users, "deleted_subs", {claims["sub"]})
    if not user.enabled:
        return False
    if claims.get("origin_jti") in getattr(user, "comm_it_revoked", set()):
        return False
    signed_out_at = getattr(user, "comm_it_signed_out_at", None)
    return signed_out_at is None or int(claims.get("iat", 0)) >= int(signed_out_at)
