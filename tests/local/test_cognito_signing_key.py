"""The local AWS signs Cognito tokens with a key of its own (local/cognito/signing_key.py),
not with the private key moto ships to everyone: a token anyone could sign with moto's key,
for any `sub`, gets through neither the app's guard nor the identity pool.

That the key survives a restart of `make run`: tests/local/test_cognito_signing_key_kept.py
(the file) and tests/run/test_local_state.py (a token issued before the restart still works).
"""
from __future__ import annotations

import gzip
import json
import urllib.request
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.stack.helpers import LOCAL_REGION, credentials_for, sub_of


@pytest.fixture(scope="module")
def moto_shipped_key() -> Any:
    """The private key inside moto's package (parsed once: about 0.2 s a parse)."""
    import moto.cognitoidp

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    return jwt.PyJWK(json.loads(gzip.decompress(path.read_bytes()))).key


def _provider(stack: dict[str, str]) -> str:
    return f"cognito-idp.{LOCAL_REGION}.amazonaws.com/{stack['USER_POOL_ID']}"


def _forged_for(person: dict[str, Any], make_token: Any, key: Any, kid: str) -> str:
    """An ID token of the person's own claims (their sub, name, email), signed with `key`."""
    claims = jwt.decode(person["idToken"], options={"verify_signature": False})
    return make_token(key=key, headers={"kid": kid}, **claims)


KIDS = {"moto's kid": lambda local_aws: "dummy",
        "the local AWS's kid": lambda local_aws: local_aws.signing_key.kid}


@pytest.mark.parametrize("kid", list(KIDS))
@pytest.mark.parametrize("path", ["/api/greeting", "/api/account/files"])
def test_a_token_signed_with_the_key_moto_ships_gets_401_on_guarded_routes(
        client, register, make_token, moto_shipped_key, local_aws, kid, path):
    victim = register()
    forged = _forged_for(victim, make_token, moto_shipped_key, KIDS[kid](local_aws))
    response = client.http.get(path, headers={"Authorization": forged})
    assert response.status_code == 401, response.body
    assert json.loads(response.body)["error"] == "InvalidToken"
    response = client.http.get(path, headers={"Authorization": victim["idToken"]})
    assert response.status_code in (200, 202), response.body  # the real one gets through


@pytest.mark.parametrize("kid", list(KIDS))
def test_the_identity_pool_refuses_a_token_signed_with_the_key_moto_ships(
        client, register, make_token, moto_shipped_key, local_aws, stack, kid):
    from botocore.exceptions import ClientError

    victim = register()
    identity_id = credentials_for(client, victim)["identityId"]
    forged = _forged_for(victim, make_token, moto_shipped_key, KIDS[kid](local_aws))
    identity = local_aws.session().client("cognito-identity",
                                          endpoint_url=stack["AWS_ENDPOINT_URL"])
    logins = {_provider(stack): forged}
    for call in (lambda: identity.get_id(IdentityPoolId=stack["IDENTITY_POOL_ID"], Logins=logins),
                 lambda: identity.get_credentials_for_identity(IdentityId=identity_id,
                                                               Logins=logins)):
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["Error"]["Code"] == "NotAuthorizedException"
    real = identity.get_credentials_for_identity(
        IdentityId=identity_id, Logins={_provider(stack): victim["idToken"]})
    assert real["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_a_login_gets_tokens_signed_with_the_local_aws_own_key(client, register, local_aws,
                                                                moto_shipped_key):
    tokens = register()
    own = local_aws.signing_key
    assert own.kid != "dummy"
    for name in ("idToken", "accessToken"):
        assert jwt.get_unverified_header(tokens[name])["kid"] == own.kid
    claims = jwt.decode(tokens["idToken"], own.public, algorithms=["RS256"],
                        options={"verify_aud": False})
    assert claims["sub"] == sub_of(tokens)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens["idToken"], moto_shipped_key.public_key(), algorithms=["RS256"],
                   options={"verify_aud": False})
    assert credentials_for(client, tokens)["accessKeyId"].startswith("ASIA")


def test_the_user_pool_publishes_only_the_local_aws_own_key(stack, local_aws,
                                                             moto_shipped_key):
    with urllib.request.urlopen(stack["COGNITO_JWKS_URL"], timeout=5) as response:  # noqa: S310 (the local AWS)
        published = json.load(response)
    (key,) = published["keys"]
    assert (key["kid"], key["alg"], key["use"]) == (local_aws.signing_key.kid, "RS256", "sig")
    assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}  # the public half only
    numbers = jwt.PyJWK(key).key.public_numbers()
    assert numbers == local_aws.signing_key.public.public_numbers()
    assert numbers != moto_shipped_key.public_key().public_numbers()
