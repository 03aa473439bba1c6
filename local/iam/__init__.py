"""The identity pool's credentials and the role's IAM policy, enforced in the local AWS.

moto hands every identity the same static keys (tied to no role), returns a new
identity id on every GetId, and checks IAM only when enforcement is on for every
request (`INITIAL_NO_AUTH_ACTION_COUNT`); even then it substitutes no policy
variable, evaluates no condition of a role policy, and cannot read a presigned
URL's signature. Here, in the moto server of this process:

- identity_pool.py: GetId and GetCredentialsForIdentity check the login token
  and mint each person's own credentials for the authenticated role, tagged sub;
- identity_deletion.py: DescribeIdentity and DeleteIdentities, as AWS documents them;
- enforcement.py (with signatures.py and policy.py): every request signed with them
  is authenticated and authorised against the role's policies with the session's tags
  substituted. S3 follows the role's policy; other services refuse what it does not grant.

Requests signed with the app's own development keys (`install(dev_access_keys)`)
keep moto's behaviour: unrestricted. In S3, an access key that is neither the
app's nor a live session is refused (InvalidAccessKeyId) and an unsigned request
is refused (AccessDenied): the buckets are private, as in AWS.
"""
from __future__ import annotations

from typing import Iterable


def install(dev_access_keys: Iterable[str]) -> None:
    """Patch the moto of this process (once); the given access key ids stay unrestricted."""
    from moto.cognitoidentity.responses import CognitoIdentityResponse

    from local import moto_patches
    from local.iam import enforcement, identity_deletion, identity_pool

    if moto_patches.is_applied(CognitoIdentityResponse, "get_id", by=identity_pool.__name__):
        return
    identity_pool.install()
    identity_deletion.install()  # after identity_pool: it wraps that GetId
    enforcement.install(dev_access_keys)
