"""The identity pool in the local AWS: per-person identities and credentials, as Cognito mints them.

moto hands every identity the same static keys (tied to no role) and returns a new
identity id on every GetId. Here, in the moto server of this process:

- GetId verifies the login token (signature, by the key the local AWS signs with:
  local/cognito/signing_key.py; issuer, audience, expiry, and with
  ServerSideTokenCheck that the user was not deleted, is enabled and has not
  signed out everywhere since the token was issued) and returns the
  same identity id for the same user pool `sub`, like Cognito;
- SetIdentityPoolRoles / SetPrincipalTagAttributeMap are stored (moto has neither);
- GetCredentialsForIdentity checks the login again, checks the role's trust
  policy (sts:AssumeRoleWithWebIdentity, and sts:TagSession when tags are passed)
  against the pool id and `amr`, and mints per-person temporary credentials for
  the pool's authenticated role in moto's STS, tagged with the principal tags of
  the pool's map (sub -> sub), valid for an hour.

Requests signed with those credentials are checked in local/iam/enforcement.py;
local/iam/__init__.py installs both. Whether a user is still active (deleted, disabled,
signed out) is local/cognito/sessions.py's to say.
"""
from __future__ import annotations

import json
import threading
import uuid
from typing import Any, Mapping

from local import moto_patches
from local.server import clock
from local.cognito import sessions, signing_key
from local.iam import policy as iam_policy

SESSION_NAME = "CognitoIdentityCredentials"
CREDENTIALS_SECONDS = 3600
COGNITO_FEDERATION = "cognito-identity.amazonaws.com"
DEFAULT_PRINCIPAL_TAGS = {"username": "sub", "client": "aud"}  # UseDefaults: tag -> claim


def install() -> None:
    """Patch moto's identity pool (once, from local.iam.install)."""
    from moto.cognitoidentity.responses import CognitoIdentityResponse

    original_get_id = CognitoIdentityResponse.get_id
    patches = [("get_id", lambda self: _get_id(self, original_get_id)),
               ("get_credentials_for_identity", _get_credentials_for_identity),
               ("set_identity_pool_roles", _set_identity_pool_roles),
               ("get_identity_pool_roles", _get_identity_pool_roles),
               ("set_principal_tag_attribute_map", _set_principal_tag_attribute_map),
               ("get_principal_tag_attribute_map", _get_principal_tag_attribute_map)]
    for name, patch in patches:
        moto_patches.replace(CognitoIdentityResponse, name, patch, by=__name__)


# --- errors ---------------------------------------------------------------------------

def _cognito_error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def _not_authorized(message: str) -> Exception:
    return _cognito_error("NotAuthorizedException", message)


def _bad_configuration() -> Exception:
    return _cognito_error("InvalidIdentityPoolConfigurationException",
                          "Invalid identity pool configuration. Check assigned IAM roles "
                          "for this pool.")

# --- the identity pool ----------------------------------------------------------------

def _identity_backend(account: str, pool_or_identity_id: str) -> Any:
    from moto.cognitoidentity.models import cognitoidentity_backends

    return cognitoidentity_backends[account][pool_or_identity_id.split(":")[0]]


_LOCK = threading.Lock()  # moto's server answers each request in its own thread


def _state(backend: Any) -> dict[str, dict]:
    # Kept on the moto backend, so a moto reset forgets it with everything else.
    with _LOCK:
        if not hasattr(backend, "comm_it_iam"):
            backend.comm_it_iam = {"identities": {}, "by_id": {}, "roles": {}, "tags": {}}
        return backend.comm_it_iam


def _pool(backend: Any, pool_id: str) -> Any:
    from moto.cognitoidentity.exceptions import ResourceNotFoundError

    pool = backend.identity_pools.get(pool_id)
    if pool is None:
        raise ResourceNotFoundError(pool_id)
    return pool


def _verify_login(account: str, pool: Any, logins: Mapping[str, str]) -> tuple[str, dict]:
    """The provider and the verified claims of the one login token, as the pool checks them."""
    import jwt

    if not logins:
        raise _not_authorized("Unauthenticated access is not supported for this identity pool.")
    providers = {p.get("ProviderName"): p for p in pool.cognito_identity_providers or []}
    if len(logins) != 1 or next(iter(logins)) not in providers:
        raise _not_authorized("Invalid login token. Issuer doesn't match providerName")
    provider, token = next(iter(logins.items()))
    config = providers[provider]
    key = signing_key.current()  # the key the user pool publishes: the local AWS's own
    try:
        if jwt.get_unverified_header(token).get("kid") != key.kid:
            raise jwt.InvalidKeyError("not a key of the user pool")
        claims = jwt.decode(token, key.public, algorithms=["RS256"],
                            audience=config.get("ClientId"), issuer=f"https://{provider}",
                            options={"require": ["exp", "iss", "aud", "sub"]})
    except (jwt.PyJWTError, ValueError):
        raise _not_authorized("Invalid login token. Not a valid OpenId Connect identity "
                              "token.") from None
    if claims.get("token_use") != "id":
        raise _not_authorized("Invalid login token. Not a valid OpenId Connect identity token.")
    if config.get("ServerSideTokenCheck") and not _user_is_active(account, provider, claims):
        raise _not_authorized("Invalid login token. Token is not valid for this user.")
    return provider, claims


def _user_is_active(account: str, provider: str, claims: Mapping[str, Any]) -> bool:
    from moto.cognitoidp.models import cognitoidp_backends

    region = provider.split(".")[1]
    user_pool = cognitoidp_backends[account][region].user_pools.get(provider.split("/")[-1])
    return user_pool is not None and sessions.user_is_active(user_pool, claims)


def _get_id(self: Any, original: Any) -> str:
    pool_id = self._get_param("IdentityPoolId")
    logins = self._get_param("Logins") or {}
    backend = _identity_backend(self.current_account, pool_id)
    pool = _pool(backend, pool_id)
    if not logins and pool.allow_unauthenticated_identities:
        return original(self)
    provider, claims = _verify_login(self.current_account, pool, logins)
    state = _state(backend)
    key = (pool_id, provider, claims["sub"])
    with _LOCK:  # two first sign-ins at once still make one identity
        identity_id = state["identities"].get(key)
        if identity_id is None:
            identity_id = f"{pool_id.split(':')[0]}:{uuid.uuid4()}"
            state["identities"][key] = identity_id
            state["by_id"][identity_id] = key
            backend.pools_identities[pool_id]["Identities"].append(
                {"IdentityId": identity_id, "Logins": [provider]})
    return json.dumps({"IdentityId": identity_id})


def _principal_tags(state: Mapping[str, dict], pool_id: str, provider: str,
                    claims: Mapping[str, Any]) -> dict[str, str]:
    mapping = state["tags"].get((pool_id, provider))
    if mapping is None:
        return {}
    pairs = DEFAULT_PRINCIPAL_TAGS if mapping.get("UseDefaults") else \
        mapping.get("PrincipalTags") or {}
    return {tag: str(claims[claim]) for tag, claim in pairs.items() if claim in claims}


def _get_credentials_for_identity(self: Any) -> str:
    from moto.cognitoidentity.exceptions import ResourceNotFoundError
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    identity_id = self._get_param("IdentityId") or ""
    account = self.current_account
    backend = _identity_backend(account, identity_id)
    state = _state(backend)
    if identity_id not in state["by_id"]:
        raise ResourceNotFoundError(f"Identity '{identity_id}' not found.")
    pool_id, provider, sub = state["by_id"][identity_id]
    login_provider, claims = _verify_login(account, _pool(backend, pool_id),
                                           self._get_param("Logins") or {})
    if (login_provider, claims["sub"]) != (provider, sub):
        raise _not_authorized("Logins don't match. Please include at least one valid login "
                              "for this identity or identity pool.")
    role_arn = state["roles"].get(pool_id, {}).get("authenticated")
    if not role_arn:
        raise _bad_configuration()
    region = pool_id.split(":")[0]
    partition = get_partition(region)
    try:
        role = iam_backends[account][partition].get_role_by_arn(role_arn)
    except NotFoundException:
        raise _bad_configuration() from None
    tags = _principal_tags(state, pool_id, provider, claims)
    context = {f"{COGNITO_FEDERATION}:aud": pool_id,
               f"{COGNITO_FEDERATION}:sub": identity_id,
               f"{COGNITO_FEDERATION}:amr": ["authenticated", provider,
                                             f"{provider}:CognitoSignIn:{sub}"]}
    actions = ["sts:AssumeRoleWithWebIdentity"] + (["sts:TagSession"] if tags else [])
    for action in actions:
        if iam_policy.decide([role.assume_role_policy_document], action, role_arn, context,
                             principal={"Federated": COGNITO_FEDERATION}) != iam_policy.ALLOW:
            raise _bad_configuration()
    session = sts_backends[account][partition].assume_role(
        region_name=region, role_session_name=SESSION_NAME, role_arn=role_arn, policy=None,
        duration=CREDENTIALS_SECONDS, external_id=None)
    expires_at = clock.now() + CREDENTIALS_SECONDS
    session.comm_it_iam = {"tags": tags, "context": context, "expires_at": expires_at}
    return json.dumps({"IdentityId": identity_id, "Credentials": {
        "AccessKeyId": session.access_key_id, "SecretKey": session.secret_access_key,
        "SessionToken": session.session_token, "Expiration": expires_at}})


def _set_identity_pool_roles(self: Any) -> str:
    pool_id = self._get_param("IdentityPoolId")
    backend = _identity_backend(self.current_account, pool_id)
    _pool(backend, pool_id)
    _state(backend)["roles"][pool_id] = dict(self._get_param("Roles") or {})
    return ""


def _get_identity_pool_roles(self: Any) -> str:
    pool_id = self._get_param("IdentityPoolId")
    backend = _identity_backend(self.current_account, pool_id)
    _pool(backend, pool_id)
    roles = _state(backend)["roles"].get(pool_id, {})
    return json.dumps({"IdentityPoolId": pool_id, "Roles": roles})


def _set_principal_tag_attribute_map(self: Any) -> str:
    pool_id = self._get_param("IdentityPoolId")
    provider = self._get_param("IdentityProviderName")
    backend = _identity_backend(self.current_account, pool_id)
    _pool(backend, pool_id)
    mapping = {"UseDefaults": bool(self._get_param("UseDefaults")),
               "PrincipalTags": dict(self._get_param("PrincipalTags") or {})}
    _state(backend)["tags"][(pool_id, provider)] = mapping
    return json.dumps({"IdentityPoolId": pool_id, "IdentityProviderName": provider, **mapping})


def _get_principal_tag_attribute_map(self: Any) -> str:
    pool_id = self._get_param("IdentityPoolId")
    provider = self._get_param("IdentityProviderName")
    backend = _identity_backend(self.current_account, pool_id)
    _pool(backend, pool_id)
    mapping = _state(backend)["tags"].get((pool_id, provider), {"UseDefaults": False,
                                                                "PrincipalTags": {}})
    return json.dumps({"IdentityPoolId": pool_id, "IdentityProviderName": provider, **mapping})
