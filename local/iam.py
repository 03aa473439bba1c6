"""The identity pool's credentials and the role's IAM policy, enforced in the local AWS.

moto hands every identity the same static keys (tied to no role), returns a new
identity id on every GetId, and checks IAM only when enforcement is on for every
request (`INITIAL_NO_AUTH_ACTION_COUNT`); even then it substitutes no policy
variable, evaluates no condition of a role policy, and cannot read a presigned
URL's signature. Here, in the moto server of this process, two modules close that gap:

- local/identity_pool.py: GetId and GetCredentialsForIdentity check the login token
  and mint each person's own credentials for the authenticated role, tagged sub;
- local/iam_enforcement.py (with local/signatures.py and local/iam_policy.py): every
  request signed with them is authenticated and authorised against the role's
  policies with the session's tags substituted. S3 follows the role's policy;
  other services refuse what it does not grant.

Requests signed with the app's own development keys (`install(dev_access_keys)`)
keep moto's behaviour: unrestricted. In S3, an access key that is neither the
app's nor a live session is refused (InvalidAccessKeyId) and an unsigned request
is refused (AccessDenied): the buckets are private, as in AWS.
"""
from __future__ import annotations

import time
from typing import Any, Iterable

DEV_ACCESS_KEYS: set[str] = set()


def now() -> float:
    """Seconds since the epoch, for minting and checking credentials (tests move the clock here)."""
    return time.time()


def install(dev_access_keys: Iterable[str] = ()) -> None:
    """Patch the moto of this process; the given access key ids stay unrestricted."""
    from moto.cognitoidentity.responses import CognitoIdentityResponse

    from local import iam_enforcement, identity_deletion, identity_pool

    DEV_ACCESS_KEYS.update(dev_access_keys)
    if getattr(CognitoIdentityResponse, "_comm_it_iam", False):
        return
    CognitoIdentityResponse._comm_it_iam = True
    identity_pool.install()
    identity_deletion.install()  # after identity_pool: it wraps that GetId
    iam_enforcement.install()


def __getattr__(name: str) -> Any:
    # Snapshots of the local AWS saved before identity_pool.py was split out of this module
    # (local/state.py pickles moto's user pools) name the pools' users class here.
    if name == "_UsersRememberingDeletions":
        from local import identity_pool

        return identity_pool._UsersRememberingDeletions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
