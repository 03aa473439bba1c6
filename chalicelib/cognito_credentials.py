"""The identity pool: a verified ID token exchanged for the person's temporary AWS credentials."""
from __future__ import annotations

from typing import Any

from chalicelib import cognito
from chalicelib.config import settings
from chalicelib.errors import Unauthorized


def aws_credentials(id_token: str) -> dict[str, Any]:
    """Exchange a verified ID token at the identity pool for temporary AWS credentials."""
    cfg = settings()
    logins = {cfg.issuer.removeprefix("https://"): id_token}
    not_authorized = {"NotAuthorizedException": lambda _: Unauthorized(
        "Your session is not valid. Please log in again.")}
    identity = cognito.call("get_id", not_authorized, service="cognito-identity",
                            IdentityPoolId=cfg.identity_pool_id, Logins=logins)
    result = cognito.call("get_credentials_for_identity", not_authorized,
                          service="cognito-identity", IdentityId=identity["IdentityId"],
                          Logins=logins)
    creds = result["Credentials"]
    return {
        "identityId": result["IdentityId"],
        "accessKeyId": creds["AccessKeyId"],
        "secretKey": creds["SecretKey"],
        "sessionToken": creds["SessionToken"],
        "expiration": _iso(creds["Expiration"]),
    }


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
