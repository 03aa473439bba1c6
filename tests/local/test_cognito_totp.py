"""local/cognito/totp.py: the local Cognito's software-token MFA behaves as AWS documents,
not as moto 5.2.5 (one fixed secret, codes unchecked, the answer's user from the request)."""
from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError

from local.cognito import lockout as cognito_lockout
from local.cognito import totp as cognito_totp
from tests.helpers import PASSWORD
from tests.stack.helpers import local_client

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


def idp(stack: dict[str, str]) -> Any:
    return local_client(stack, "cognito-idp")


def person(stack: dict[str, str], name: str) -> dict[str, str]:
    cognito = idp(stack)
    cognito.admin_create_user(UserPoolId=stack["USER_POOL_ID"], Username=name,
                              UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"},
                                              {"Name": "name", "Value": name}],
                              MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=stack["USER_POOL_ID"], Username=name,
                                    Password=PASSWORD, Permanent=True)
    return {"username": name, **log_in(stack, name)["AuthenticationResult"]}


def log_in(stack: dict[str, str], name: str) -> dict[str, Any]:
    return idp(stack).initiate_auth(ClientId=stack["USER_POOL_CLIENT_ID"],
                                    AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD})


def with_mfa(stack: dict[str, str], name: str) -> tuple[dict[str, str], pyotp.TOTP]:
    me = person(stack, name)
    cognito = idp(stack)
    secret = cognito.associate_software_token(AccessToken=me["AccessToken"])["SecretCode"]
    totp = pyotp.TOTP(secret)
    cognito.verify_software_token(AccessToken=me["AccessToken"], UserCode=totp.now())
    cognito.set_user_mfa_preference(AccessToken=me["AccessToken"], SoftwareTokenMfaSettings={
        "Enabled": True, "PreferredMfa": True})
    return me, totp


def answer(stack: dict[str, str], session: str, name: str, code: str) -> dict[str, Any]:
    return idp(stack).respond_to_auth_challenge(
        ClientId=stack["USER_POOL_CLIENT_ID"], ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=session, ChallengeResponses={"USERNAME": name, "SOFTWARE_TOKEN_MFA_CODE": code})


def error(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def unique(prefix: str) -> str:
    return f"{prefix}{time.time_ns() % 10**12}"


def test_the_pool_has_optional_software_token_mfa_from_the_template(stack):
    config = idp(stack).get_user_pool_mfa_config(UserPoolId=stack["USER_POOL_ID"])
    assert config["MfaConfiguration"] == "OPTIONAL"
    assert config["SoftwareTokenMfaConfiguration"] == {"Enabled": True}


def test_each_association_draws_a_new_random_secret(stack):
    me = person(stack, unique("secret"))
    secrets = {idp(stack).associate_software_token(AccessToken=me["AccessToken"])["SecretCode"]
               for _ in range(3)}
    assert len(secrets) == 3 and "asdfasdfasdf" not in {s.lower() for s in secrets}
    assert all(len(pyotp.TOTP(s).now()) == 6 for s in secrets)


def test_verify_checks_rfc_6238_codes_with_one_step_of_skew(stack):
    me = person(stack, unique("skew"))
    cognito = idp(stack)
    totp = pyotp.TOTP(cognito.associate_software_token(AccessToken=me["AccessToken"])["SecretCode"])
    far = totp.at(time.time() + 3 * 30)
    with pytest.raises(ClientError) as refused:
        cognito.verify_software_token(AccessToken=me["AccessToken"], UserCode=far)
    assert error(refused) == "EnableSoftwareTokenMFAException"
    assert cognito.verify_software_token(AccessToken=me["AccessToken"],
                                         UserCode=totp.at(time.time() - 30))["Status"] == "SUCCESS"


def test_mfa_cannot_be_preferred_before_a_code_was_verified(stack):
    me = person(stack, unique("early"))
    with pytest.raises(ClientError) as refused:
        idp(stack).set_user_mfa_preference(AccessToken=me["AccessToken"], SoftwareTokenMfaSettings={
            "Enabled": True, "PreferredMfa": True})
    assert error(refused) == "InvalidParameterException"


def test_the_challenge_session_is_bound_to_its_user_and_used_up_by_the_sign_in(stack):
    first, totp_first = with_mfa(stack, unique("first"))
    second, totp_second = with_mfa(stack, unique("second"))
    session = log_in(stack, first["username"])["Session"]
    with pytest.raises(ClientError) as other_user:
        answer(stack, session, second["username"], totp_second.now())
    assert error(other_user) == "NotAuthorizedException"
    with pytest.raises(ClientError) as wrong:
        answer(stack, session, first["username"], totp_second.now())
    assert error(wrong) == "CodeMismatchException"  # the second's secret is not the first's
    assert "IdToken" in answer(stack, session, first["username"],
                               totp_first.now())["AuthenticationResult"]
    with pytest.raises(ClientError) as again:
        answer(stack, session, first["username"], totp_first.now())
    assert error(again) == "NotAuthorizedException"


def test_the_challenge_session_expires_after_three_minutes(stack, now):
    me, totp = with_mfa(stack, unique("late"))
    session = log_in(stack, me["username"])["Session"]
    now[0] += cognito_totp.SESSION_SECONDS - 1
    with pytest.raises(ClientError) as wrong:
        answer(stack, session, me["username"], f"{(int(totp.now()) + 1) % 10**6:06d}")
    assert error(wrong) == "CodeMismatchException"  # still alive: a wrong code may be retried
    now[0] += 1
    with pytest.raises(ClientError) as expired:
        answer(stack, session, me["username"], totp.now())
    assert error(expired) == "NotAuthorizedException"


def test_wrong_codes_count_with_wrong_passwords_towards_the_lock(stack, now):
    me, totp = with_mfa(stack, unique("lock"))
    session = log_in(stack, me["username"])["Session"]
    for _ in range(cognito_lockout.FREE_FAILURES):
        with pytest.raises(ClientError):
            answer(stack, session, me["username"], f"{(int(totp.now()) + 7) % 10**6:06d}")
    with pytest.raises(ClientError) as locked:
        answer(stack, session, me["username"], totp.now())
    assert error(locked) == "NotAuthorizedException"
    assert locked.value.response["Error"]["Message"] == cognito_lockout.LOCKED
    with pytest.raises(ClientError) as password_too:
        log_in(stack, me["username"])
    assert password_too.value.response["Error"]["Message"] == cognito_lockout.LOCKED
    now[0] += 1  # the first lock lasts 1 s, as for passwords
    assert "Session" in log_in(stack, me["username"])
