"""When Cognito itself fails or answers something unusual: each failure becomes the
API error a person can act on, never a 500 and never Cognito's own wording.

Every error is a 4xx with {"error": "<Code>", "message": "<a sentence a person can act on>"}.
The local AWS is the same moto server `make run` uses, with Cognito's gaps closed
(local/cognito/codes.py), so codes really are emailed (to the outbox) and checked.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import PASSWORD, post
from tests.stack.helpers import NEW_PASSWORD, assert_error, assert_ok, log_in, new_person


# --- when Cognito itself fails ---------------------------------------------------------

class FailingCognito:
    """Stands in for the boto3 client: every operation raises `exc`."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.calls = 0

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls += 1
            raise self.exc

        return call


def client_error(code: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": f"internal detail {code}"}},
                       "InitiateAuth")


@pytest.mark.parametrize("code", ["TooManyRequestsException", "LimitExceededException",
                                  "TooManyFailedAttemptsException"])
def test_cognito_throttling_is_429_too_many_requests(client, monkeypatch, code):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(client_error(code)))
    message = assert_error(log_in(client, "ada", PASSWORD), 429, "TooManyRequests")
    assert "Wait a minute" in message


@pytest.mark.parametrize("exc", [
    client_error("InternalErrorException"), client_error("ResourceNotFoundException")])
def test_an_unexpected_cognito_error_is_503_without_its_details(client, monkeypatch, exc):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(exc))
    response = post(client, "/api/auth/signup", new_person())
    assert_error(response, 503, "ServiceUnavailable")
    assert b"internal detail" not in response.body


def test_cognito_unreachable_is_503_service_unavailable(client, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from chalicelib import cognito

    failing = FailingCognito(EndpointConnectionError(endpoint_url="https://cognito-idp.example"))
    monkeypatch.setattr(cognito, "client", lambda service: failing)
    message = assert_error(post(client, "/api/auth/forgot", {"username": "ada"}),
                           503, "ServiceUnavailable")
    assert "did not answer" in message and failing.calls == 1


@pytest.mark.parametrize("path,body,cognito_code,status,code", [
    ("/api/auth/confirm", {"username": "ada", "code": "123456"},
     "ExpiredCodeException", 400, "ExpiredCode"),
    ("/api/auth/reset", {"username": "ada", "code": "123456", "password": NEW_PASSWORD},
     "ExpiredCodeException", 400, "ExpiredCode"),
    ("/api/auth/login", {"username": "ada", "password": PASSWORD},
     "PasswordResetRequiredException", 403, "PasswordResetRequired"),
    ("/api/auth/login", {"username": "ada", "password": PASSWORD},
     "UserNotFoundException", 401, "NotAuthorized"),
    ("/api/auth/signup", new_person(), "CodeDeliveryFailureException", 503, "ServiceUnavailable"),
    ("/api/auth/forgot", {"username": "ada"}, "LimitExceededException", 429, "TooManyRequests"),
])
def test_each_cognito_error_becomes_its_api_error(client, monkeypatch, path, body, cognito_code,
                                                  status, code):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client",
                        lambda service: FailingCognito(client_error(cognito_code)))
    response = post(client, path, body)
    assert_error(response, status, code)
    assert cognito_code.encode() not in response.body


@pytest.mark.parametrize("cognito_code", ["UserNotFoundException", "InvalidParameterException",
                                          "NotAuthorizedException"])
def test_forgot_answers_ok_whatever_cognito_says_about_the_account(client, monkeypatch,
                                                                    cognito_code):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client",
                        lambda service: FailingCognito(client_error(cognito_code)))
    assert assert_ok(post(client, "/api/auth/forgot", {"username": "ada"})) == {"ok": True}


def test_an_invalid_parameter_from_cognito_is_400_with_its_explanation(client, monkeypatch):
    from botocore.exceptions import ClientError

    from chalicelib import cognito

    exc = ClientError({"Error": {"Code": "InvalidParameterException",
                                 "Message": "Invalid email address format."}}, "SignUp")
    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(exc))
    message = assert_error(post(client, "/api/auth/signup", new_person()), 400, "InvalidParameter")
    assert message == "Invalid email address format."


def test_a_login_challenge_the_app_cannot_answer_is_403_challenge_required(client, monkeypatch):
    from chalicelib import cognito

    class Challenging:
        def initiate_auth(self, **kwargs: Any) -> dict[str, Any]:
            return {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s"}

    monkeypatch.setattr(cognito, "client", lambda service: Challenging())
    assert_error(log_in(client, "ada", PASSWORD), 403, "ChallengeRequired")


def test_credentials_refused_by_the_identity_pool_are_401(client, monkeypatch, make_token):
    from chalicelib import cognito

    failing = FailingCognito(client_error("NotAuthorizedException"))
    monkeypatch.setattr(cognito, "client", lambda service: failing)
    message = assert_error(post(client, "/api/auth/credentials", {},
                                {"Authorization": f"{make_token()}"}),
                           401, "Unauthorized")
    assert "log in again" in message and failing.calls == 1
