"""local/cognito/revoke.py: the local AWS's Cognito answers RevokeToken as the Cognito API
reference documents it: the refresh token and the access tokens issued from it stop
working, the user's other sessions do not.

Driven with boto3 straight against the session's moto server (the one `make run` uses),
so these prove the local AWS itself, not the app on top of it.
"""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.local.test_cognito_attributes import error, person


@pytest.fixture
def ada(idp: Any, stack: dict[str, str], outbox: Any) -> dict[str, Any]:
    return person(idp, stack["USER_POOL_ID"], stack["USER_POOL_CLIENT_ID"], outbox)


def refresh(idp: Any, who: dict[str, Any], token: str) -> dict[str, Any]:
    return idp.initiate_auth(ClientId=who["client"], AuthFlow="REFRESH_TOKEN_AUTH",
                             AuthParameters={"REFRESH_TOKEN": token})["AuthenticationResult"]


def second_session(idp: Any, who: dict[str, Any]) -> dict[str, str]:
    from tests.helpers import PASSWORD

    tokens = idp.initiate_auth(ClientId=who["client"], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": who["username"], "PASSWORD": PASSWORD}
                               )["AuthenticationResult"]
    return {"access": tokens["AccessToken"], "refresh": tokens["RefreshToken"]}


def test_the_template_client_has_token_revocation_on(idp, stack):
    client = idp.describe_user_pool_client(UserPoolId=stack["USER_POOL_ID"],
                                           ClientId=stack["USER_POOL_CLIENT_ID"])["UserPoolClient"]
    assert client["EnableTokenRevocation"] is True


def test_a_revoked_refresh_token_no_longer_refreshes(idp, ada):
    assert refresh(idp, ada, ada["refresh"])["AccessToken"]
    assert idp.revoke_token(ClientId=ada["client"], Token=ada["refresh"])["ResponseMetadata"][
        "HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as exc:
        refresh(idp, ada, ada["refresh"])
    assert error(exc) == "NotAuthorizedException"


def test_the_access_tokens_issued_at_login_and_by_refresh_are_revoked_with_it(idp, ada):
    refreshed = refresh(idp, ada, ada["refresh"])["AccessToken"]
    idp.revoke_token(ClientId=ada["client"], Token=ada["refresh"])
    for token in (ada["access"], refreshed):
        with pytest.raises(ClientError) as exc:
            idp.get_user(AccessToken=token)
        assert error(exc) == "NotAuthorizedException"


def test_the_other_sessions_of_the_user_keep_working(idp, ada):
    other = second_session(idp, ada)
    idp.revoke_token(ClientId=ada["client"], Token=ada["refresh"])
    assert idp.get_user(AccessToken=other["access"])["Username"] == ada["username"]
    assert refresh(idp, ada, other["refresh"])["AccessToken"]


def test_revoking_twice_or_an_unknown_token_is_fine(idp, ada):
    for token in (ada["refresh"], ada["refresh"], "not-a-token-of-this-pool"):
        idp.revoke_token(ClientId=ada["client"], Token=token)
    assert idp.get_user(AccessToken=second_session(idp, ada)["access"])


def test_a_client_without_token_revocation_refuses_with_unsupported_operation(idp, ada, stack):
    client = idp.create_user_pool_client(UserPoolId=stack["USER_POOL_ID"], ClientName="norevoke",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                            "ALLOW_REFRESH_TOKEN_AUTH"],
                                         EnableTokenRevocation=False)["UserPoolClient"]
    with pytest.raises(ClientError) as exc:
        idp.revoke_token(ClientId=client["ClientId"], Token=ada["refresh"])
    assert error(exc) == "UnsupportedOperationException"
    assert refresh(idp, ada, ada["refresh"])["AccessToken"]


def test_a_refresh_token_of_another_client_is_unauthorized(idp, ada, stack):
    client = idp.create_user_pool_client(UserPoolId=stack["USER_POOL_ID"], ClientName="other",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                            "ALLOW_REFRESH_TOKEN_AUTH"]
                                         )["UserPoolClient"]
    with pytest.raises(ClientError) as exc:
        idp.revoke_token(ClientId=client["ClientId"], Token=ada["refresh"])
    assert error(exc) == "UnauthorizedException"
    assert refresh(idp, ada, ada["refresh"])["AccessToken"]
