"""local/cognito/attributes.py: the local AWS's Cognito changes a person's own attributes
like Cognito does with AttributesRequireVerificationBeforeUpdate, and deletes users.

Driven with boto3 straight against the session's moto server (the one `make run` uses),
so these prove the local AWS itself, not the app on top of it.
"""
from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError

from local.cognito.mail import VERIFY_SUBJECT
from tests.helpers import PASSWORD
from tests.stack.helpers import emails_to


def person(idp: Any, pool_id: str, client_id: str, outbox: Any) -> dict[str, Any]:
    """A confirmed, logged-in user of the pool: username, email, tokens."""
    username = f"user{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.com"
    idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                UserAttributes=[{"Name": "name", "Value": "Ada"},
                                {"Name": "email", "Value": email}])
    if outbox is not None:
        idp.confirm_sign_up(ClientId=client_id, Username=username,
                            ConfirmationCode=outbox.last_code(email))
    else:
        idp.admin_confirm_sign_up(UserPoolId=pool_id, Username=username)
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD}
                               )["AuthenticationResult"]
    return {"username": username, "email": email, "access": tokens["AccessToken"],
            "refresh": tokens["RefreshToken"], "pool": pool_id, "client": client_id}


@pytest.fixture
def ada(idp: Any, stack: dict[str, str], outbox: Any) -> dict[str, Any]:
    return person(idp, stack["USER_POOL_ID"], stack["USER_POOL_CLIENT_ID"], outbox)


def attributes(idp: Any, who: dict[str, Any]) -> dict[str, str]:
    user = idp.admin_get_user(UserPoolId=who["pool"], Username=who["username"])
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def error(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def new_address() -> str:
    return f"new{uuid.uuid4().hex[:8]}@example.com"


def change_email(idp: Any, who: dict[str, Any], address: str) -> dict[str, Any]:
    return idp.update_user_attributes(AccessToken=who["access"],
                                      UserAttributes=[{"Name": "email", "Value": address}])


# --- a new address waits for its code --------------------------------------------------------

def test_the_template_asks_for_verification_before_an_email_update(idp, stack):
    pool = idp.describe_user_pool(UserPoolId=stack["USER_POOL_ID"])["UserPool"]
    assert pool["UserAttributeUpdateSettings"] == {
        "AttributesRequireVerificationBeforeUpdate": ["email"]}


def test_a_new_address_gets_a_code_and_the_old_one_stays_until_it_is_entered(idp, ada, outbox):
    address = new_address()
    result = change_email(idp, ada, address)
    assert result["CodeDeliveryDetailsList"] == [
        {"Destination": "n***@example.com", "DeliveryMedium": "EMAIL", "AttributeName": "email"}]
    [sent] = emails_to(outbox, address)
    assert sent.subject == VERIFY_SUBJECT and len(sent.code) == 6
    assert (attributes(idp, ada)["email"], attributes(idp, ada)["email_verified"]) == (
        ada["email"], "true")
    mine = {a["Name"]: a["Value"]
            for a in idp.get_user(AccessToken=ada["access"])["UserAttributes"]}
    assert mine["email"] == ada["email"]
    refreshed = idp.initiate_auth(ClientId=ada["client"], AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": ada["refresh"]})
    claims = jwt.decode(refreshed["AuthenticationResult"]["IdToken"],
                        options={"verify_signature": False})
    assert claims["email"] == ada["email"]


def test_the_code_switches_the_address_once_and_a_wrong_code_does_not(idp, ada, outbox):
    address = new_address()
    change_email(idp, ada, address)
    code = outbox.last_code(address)
    with pytest.raises(ClientError) as wrong:
        idp.verify_user_attribute(AccessToken=ada["access"], AttributeName="email",
                                  Code=f"{(int(code) + 1) % 1_000_000:06d}")
    assert error(wrong) == "CodeMismatchException"
    assert attributes(idp, ada)["email"] == ada["email"]

    idp.verify_user_attribute(AccessToken=ada["access"], AttributeName="email", Code=code)
    assert (attributes(idp, ada)["email"], attributes(idp, ada)["email_verified"]) == (
        address, "true")
    with pytest.raises(ClientError) as again:
        idp.verify_user_attribute(AccessToken=ada["access"], AttributeName="email", Code=code)
    assert error(again) == "CodeMismatchException"


def test_asking_again_sends_a_new_code_and_the_old_one_stops_working(idp, ada, outbox):
    address = new_address()
    change_email(idp, ada, address)
    first = outbox.last_code(address)
    resent = idp.get_user_attribute_verification_code(AccessToken=ada["access"],
                                                      AttributeName="email")
    assert resent["CodeDeliveryDetails"]["Destination"] == "n***@example.com"
    second = outbox.last_code(address)
    assert len(emails_to(outbox, address)) == 2
    if first != second:
        with pytest.raises(ClientError):
            idp.verify_user_attribute(AccessToken=ada["access"], AttributeName="email", Code=first)
    idp.verify_user_attribute(AccessToken=ada["access"], AttributeName="email", Code=second)
    assert attributes(idp, ada)["email"] == address


def test_with_nothing_pending_there_is_no_code_to_send_or_check(idp, ada):
    with pytest.raises(ClientError) as resend:
        idp.get_user_attribute_verification_code(AccessToken=ada["access"], AttributeName="email")
    assert error(resend) == "InvalidParameterException"
    with pytest.raises(ClientError) as verify:
        idp.verify_user_attribute(AccessToken=ada["access"], AttributeName="email", Code="123456")
    assert error(verify) == "CodeMismatchException"


def test_asking_for_the_current_address_sends_nothing_and_cancels_a_pending_one(
        idp, ada, outbox):
    address = new_address()
    change_email(idp, ada, address)
    code = outbox.last_code(address)
    before = len(outbox.messages)
    assert "CodeDeliveryDetailsList" not in change_email(idp, ada, ada["email"])
    assert len(outbox.messages) == before
    with pytest.raises(ClientError):
        idp.verify_user_attribute(AccessToken=ada["access"], AttributeName="email", Code=code)
    assert attributes(idp, ada)["email"] == ada["email"]


def test_a_name_needs_no_verification(idp, ada, outbox):
    before = len(outbox.messages)
    assert "CodeDeliveryDetailsList" not in idp.update_user_attributes(
        AccessToken=ada["access"], UserAttributes=[{"Name": "name", "Value": "Ada King"}])
    assert attributes(idp, ada)["name"] == "Ada King"
    assert len(outbox.messages) == before


def test_a_pool_without_the_setting_keeps_motos_immediate_update(idp, local_aws):
    pool = idp.create_user_pool(PoolName=f"plain-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                            "ALLOW_REFRESH_TOKEN_AUTH"]
                                         )["UserPoolClient"]["ClientId"]
    who = person(idp, pool, client, outbox=None)
    address = new_address()
    change_email(idp, who, address)
    assert attributes(idp, who)["email"] == address


@pytest.mark.parametrize("call", ["update", "verify", "resend", "delete"])
def test_an_unknown_access_token_is_not_authorized(idp, call):
    token = "not-a-token"
    with pytest.raises(ClientError) as refused:
        if call == "update":
            idp.update_user_attributes(AccessToken=token,
                                       UserAttributes=[{"Name": "name", "Value": "x"}])
        elif call == "verify":
            idp.verify_user_attribute(AccessToken=token, AttributeName="email", Code="123456")
        elif call == "resend":
            idp.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
        else:
            idp.delete_user(AccessToken=token)
    assert error(refused) == "NotAuthorizedException"


# --- DeleteUser -------------------------------------------------------------------------------

def test_delete_user_removes_the_user_and_ends_every_session(idp, ada, stack, outbox):
    eve = person(idp, stack["USER_POOL_ID"], stack["USER_POOL_CLIENT_ID"], outbox)
    idp.delete_user(AccessToken=ada["access"])
    with pytest.raises(ClientError) as gone:
        idp.admin_get_user(UserPoolId=ada["pool"], Username=ada["username"])
    assert error(gone) == "UserNotFoundException"
    for attempt in (
            lambda: idp.get_user(AccessToken=ada["access"]),
            lambda: idp.delete_user(AccessToken=ada["access"]),
            lambda: idp.initiate_auth(ClientId=ada["client"], AuthFlow="REFRESH_TOKEN_AUTH",
                                      AuthParameters={"REFRESH_TOKEN": ada["refresh"]}),
            lambda: idp.initiate_auth(ClientId=ada["client"], AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": ada["username"],
                                                      "PASSWORD": PASSWORD})):
        with pytest.raises(ClientError) as refused:
            attempt()
        assert error(refused) in ("NotAuthorizedException", "UserNotFoundException")
    # Another person's session is untouched.
    assert idp.get_user(AccessToken=eve["access"])["Username"] == eve["username"]
