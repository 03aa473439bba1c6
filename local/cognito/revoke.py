"""RevokeToken, which moto 5.2.5's Cognito lacks, as the Cognito API reference documents it.

RevokeToken(ClientId, Token=<a refresh token>) "revokes all of the access tokens generated
by, and at the same time as, the specified refresh token": afterwards the refresh token
gets NotAuthorized from InitiateAuth(REFRESH_TOKEN_AUTH), and the access tokens issued with
it (at login and at every refresh since) get NotAuthorized from the user's own operations
(GetUser, ChangePassword, GlobalSignOut...). The user's other sessions (other refresh
tokens) are untouched, unlike GlobalSignOut. Locally, as in AWS:

- the app client must have token revocation on (EnableTokenRevocation, true by default and
  in infra/template.yaml), else UnsupportedOperationException;
- a refresh token issued to another app client is UnauthorizedException;
- a token the pool does not know, or one already revoked, is answered 200 with nothing to
  do (RFC 7009, section 2.2, which Cognito's revocation follows).

moto ties the tokens of one sign-in together by an `origin_jti` (its refresh-token tuple
and the access and ID tokens' claim): revoking drops every access and ID token that
carries the refresh token's origin_jti. These patches apply to the moto server running in
this process only; installed by local/cognito/__init__.py with the other Cognito patches.
"""
from __future__ import annotations

from typing import Any

from moto.core.exceptions import JsonRESTError


class UnauthorizedException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("UnauthorizedException", message)


class UnsupportedOperationException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("UnsupportedOperationException", message)


def _origin_jti(token: str) -> str | None:
    import jwt

    try:
        return jwt.decode(token, options={"verify_signature": False}).get("origin_jti")
    except jwt.PyJWTError:
        return None


def revoke(backend: Any, client_id: str, token: str) -> None:
    """Revoke `token` (a refresh token of `client_id`) and the tokens issued with it."""
    from moto.cognitoidp.exceptions import ResourceNotFoundError

    pools = [pool for pool in backend.user_pools.values() if client_id in pool.clients]
    if not pools:
        raise ResourceNotFoundError(client_id)
    pool = pools[0]
    if not pool.clients[client_id].extended_config.get("EnableTokenRevocation", True):
        raise UnsupportedOperationException("Token revocation is not enabled for this app client")
    issued = pool.refresh_tokens.get(token)
    if issued is None:
        return  # unknown or already revoked: nothing to do
    issued_to, _, origin_jti = issued
    if issued_to != client_id:
        raise UnauthorizedException("Refresh token was not issued to this client")
    pool.refresh_tokens[token] = None  # what GlobalSignOut leaves: "has been revoked"
    for tokens in (pool.access_tokens, pool.id_tokens):
        for issued_token in [t for t in tokens if _origin_jti(t) == origin_jti]:
            tokens.pop(issued_token, None)


def _response_revoke_token(self: Any) -> Any:
    from moto.cognitoidp.responses import EmptyResult

    client_id = self._get_param("ClientId")
    backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
    revoke(backend, client_id, self._get_param("Token"))
    return EmptyResult()


def install() -> None:
    """Patch moto's Cognito in this process. Once per process."""
    from moto.cognitoidp.responses import CognitoIdpResponse

    from local import moto_patches

    if moto_patches.is_applied(CognitoIdpResponse, "revoke_token", by=__name__):
        return
    moto_patches.replace(CognitoIdpResponse, "revoke_token", _response_revoke_token, by=__name__)
