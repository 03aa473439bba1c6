"""local/cognito/email_otp.py: the local Cognito's choice-based sign-in with an emailed code
answers in the shapes Cognito's API reference documents (InitiateAuth USER_AUTH with
PREFERRED_CHALLENGE EMAIL_OTP; RespondToAuthChallenge EMAIL_OTP with EMAIL_OTP_CODE), where
moto 5.2.5 has no USER_AUTH at all."""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.cognito import email_otp
from local.cognito import lockout as cognito_lockout
from tests.local.test_cognito_totp import error, idp, person, unique, with_mfa
from tests.stack.helpers import local_client

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


def ask(stack: dict[str, str], name: str, preferred: str | None = "EMAIL_OTP",
        client_id: str | None = None) -> dict[str, Any]:
    parameters = {"USERNAME": name, **({"PREFERRED_CHALLENGE": preferred} if preferred else {})}
    return idp(stack).initiate_auth(ClientId=client_id or stack["USER_POOL_CLIENT_ID"],
                                    AuthFlow="USER_AUTH", AuthParameters=parameters)


def answer(stack: dict[str, str], session: str, name: str, code: str) -> dict[str, Any]:
    return idp(stack).respond_to_auth_challenge(
        ClientId=stack["USER_POOL_CLIENT_ID"], ChallengeName="EMAIL_OTP", Session=session,
        ChallengeResponses={"USERNAME": name, "EMAIL_OTP_CODE": code})


def test_the_pool_allows_email_codes_locally_and_the_client_user_auth(stack):
    cognito = idp(stack)
    pool = cognito.describe_user_pool(UserPoolId=stack["USER_POOL_ID"])["UserPool"]
    assert pool["UserPoolTier"] == "ESSENTIALS"
    assert pool["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"] == [
        "PASSWORD", "WEB_AUTHN", "EMAIL_OTP"]
    client = cognito.describe_user_pool_client(UserPoolId=stack["USER_POOL_ID"],
                                               ClientId=stack["USER_POOL_CLIENT_ID"])
    assert "ALLOW_USER_AUTH" in client["UserPoolClient"]["ExplicitAuthFlows"]


def test_initiate_auth_emails_an_8_digit_code_and_answers_the_documented_challenge(stack, outbox):
    name = unique("otp")
    person(stack, name)
    started = ask(stack, name)
    assert started["ChallengeName"] == "EMAIL_OTP"
    assert started["Session"]
    assert started["ChallengeParameters"] == {"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
                                              "CODE_DELIVERY_DESTINATION": "o***@example.com"}
    mail = outbox.messages[-1]
    assert (mail.to, mail.subject) == (f"{name}@example.com", email_otp.SUBJECT)
    assert len(mail.code) == 8 and mail.code.isdigit()
    tokens = answer(stack, started["Session"], name, mail.code)["AuthenticationResult"]
    assert idp(stack).get_user(AccessToken=tokens["AccessToken"])["Username"] == name
    assert {"IdToken", "RefreshToken", "ExpiresIn", "TokenType"} <= set(tokens)


def test_a_wrong_code_is_code_mismatch_and_the_session_takes_another_try(stack, outbox):
    name = unique("otp")
    person(stack, name)
    started = ask(stack, name)
    code = outbox.last_code(f"{name}@example.com")
    wrong = f"{(int(code) + 1) % 10 ** 8:08d}"
    with pytest.raises(ClientError) as refused:
        answer(stack, started["Session"], name, wrong)
    assert error(refused) == "CodeMismatchException"
    assert answer(stack, started["Session"], name, code)["AuthenticationResult"]


def test_a_code_works_once(stack, outbox):
    name = unique("otp")
    person(stack, name)
    started = ask(stack, name)
    code = outbox.last_code(f"{name}@example.com")
    answer(stack, started["Session"], name, code)
    with pytest.raises(ClientError) as refused:
        answer(stack, started["Session"], name, code)
    assert error(refused) == "NotAuthorizedException"


def test_the_code_expires_with_its_3_minute_session(stack, outbox, now):
    name = unique("otp")
    person(stack, name)
    started = ask(stack, name)
    code = outbox.last_code(f"{name}@example.com")
    now[0] += email_otp.SESSION_SECONDS
    with pytest.raises(ClientError) as refused:
        answer(stack, started["Session"], name, code)
    assert error(refused) == "NotAuthorizedException"
    assert "expired" in refused.value.response["Error"]["Message"]


def test_the_session_signs_in_only_its_own_user(stack, outbox):
    alice, bob = unique("alice"), unique("bob")
    person(stack, alice)
    person(stack, bob)
    started = ask(stack, alice)
    with pytest.raises(ClientError) as refused:
        answer(stack, started["Session"], bob, outbox.last_code(f"{alice}@example.com"))
    assert error(refused) == "NotAuthorizedException"


def test_wrong_codes_count_with_wrong_passwords_and_lock_the_user_out(stack, outbox, now):
    name = unique("otp")
    person(stack, name)
    started = ask(stack, name)
    for _ in range(cognito_lockout.FREE_FAILURES):
        with pytest.raises(ClientError):
            answer(stack, started["Session"], name, "00000000")
    with pytest.raises(ClientError) as refused:
        answer(stack, started["Session"], name, outbox.last_code(f"{name}@example.com"))
    assert refused.value.response["Error"]["Message"] == cognito_lockout.LOCKED


def test_without_a_preferred_challenge_it_lists_the_available_ones(stack):
    name = unique("otp")
    person(stack, name)
    started = ask(stack, name, preferred=None)
    assert started["ChallengeName"] == "SELECT_CHALLENGE"
    assert started["AvailableChallenges"] == ["PASSWORD", "EMAIL_OTP"]  # no passkey yet


def test_a_person_with_two_step_on_is_offered_no_email_code(stack, outbox):
    name = unique("mfa")
    with_mfa(stack, name)
    sent = len(outbox.messages)
    started = ask(stack, name)
    assert started["ChallengeName"] == "SELECT_CHALLENGE"
    assert started["AvailableChallenges"] == ["PASSWORD"]
    assert len(outbox.messages) == sent


def test_an_unknown_user_is_user_not_found_and_gets_no_email(stack, outbox):
    sent = len(outbox.messages)
    with pytest.raises(ClientError) as refused:
        ask(stack, unique("nobody"))
    assert error(refused) == "UserNotFoundException"
    assert len(outbox.messages) == sent


def test_a_client_without_allow_user_auth_is_refused(stack):
    cognito = idp(stack)
    other = cognito.create_user_pool_client(
        UserPoolId=stack["USER_POOL_ID"], ClientName=unique("c"),
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    name = unique("otp")
    person(stack, name)
    with pytest.raises(ClientError) as refused:
        ask(stack, name, client_id=other)
    assert error(refused) == "InvalidParameterException"


def test_a_pool_whose_sign_in_policy_lacks_email_otp_sends_no_code(stack, outbox):
    cognito = local_client(stack, "cognito-idp")
    pool = cognito.create_user_pool(PoolName=unique("p"), UserPoolTier="ESSENTIALS", Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}})["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                             ExplicitAuthFlows=["ALLOW_USER_AUTH"]
                                             )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="ada", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "ada@example.com"}])
    sent = len(outbox.messages)
    started = cognito.initiate_auth(ClientId=client, AuthFlow="USER_AUTH", AuthParameters={
        "USERNAME": "ada", "PREFERRED_CHALLENGE": "EMAIL_OTP"})
    assert started["AvailableChallenges"] == ["PASSWORD"]
    assert len(outbox.messages) == sent
