"""local/cognito/codes.py: the local AWS's Cognito sends and checks codes like Cognito does.

Driven with boto3 straight against the session's moto server (the one `make run`
uses), so these prove the local AWS itself, not the app on top of it.
"""
from __future__ import annotations

import io
import itertools
import re
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.server import clock
from local.cognito import codes as cognito_codes
from local.cognito import mail
from local.cognito.mail import RESET_SUBJECT, VERIFY_SUBJECT
from local.run.outbox import Outbox
from tests.helpers import PASSWORD
from tests.stack.helpers import NEW_PASSWORD, emails_to

OUTBOX_LINE = re.compile(r'\[outbox\] email to=(\S+) subject="([^"]*)" code=(\d+)')


@pytest.fixture
def codes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the codes predictable: 100001, 100002, ... (returned as they are issued)."""
    issued: list[str] = []
    counter = itertools.count(100001)

    def next_code() -> str:
        issued.append(str(next(counter)))
        return issued[-1]

    monkeypatch.setattr(mail, "new_code", next_code)
    return issued


class Person:
    def __init__(self, idp: Any, stack: dict[str, str]) -> None:
        self.idp = idp
        self.client_id = stack["USER_POOL_CLIENT_ID"]
        self.pool_id = stack["USER_POOL_ID"]
        self.username = f"user{uuid.uuid4().hex[:8]}"
        self.email = f"{self.username}@example.com"

    def sign_up(self) -> dict[str, Any]:
        return self.idp.sign_up(ClientId=self.client_id, Username=self.username, Password=PASSWORD,
                                UserAttributes=[{"Name": "name", "Value": "Ada"},
                                                {"Name": "email", "Value": self.email}])

    def confirm(self, code: str) -> Any:
        return self.idp.confirm_sign_up(ClientId=self.client_id, Username=self.username,
                                        ConfirmationCode=code)

    def resend(self) -> dict[str, Any]:
        return self.idp.resend_confirmation_code(ClientId=self.client_id, Username=self.username)

    def forgot(self) -> dict[str, Any]:
        return self.idp.forgot_password(ClientId=self.client_id, Username=self.username)

    def reset(self, code: str, password: str = NEW_PASSWORD) -> Any:
        return self.idp.confirm_forgot_password(ClientId=self.client_id, Username=self.username,
                                                ConfirmationCode=code, Password=password)

    def log_in(self, password: str) -> dict[str, Any]:
        return self.idp.initiate_auth(ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": self.username,
                                                      "PASSWORD": password})

    def user(self) -> dict[str, Any]:
        user = self.idp.admin_get_user(UserPoolId=self.pool_id, Username=self.username)
        user["Attributes"] = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        return user


@pytest.fixture
def person(idp: Any, stack: dict[str, str]) -> Person:
    return Person(idp, stack)


@pytest.fixture
def confirmed(person: Person, outbox: Outbox) -> Person:
    person.sign_up()
    person.confirm(outbox.last_code(person.email))
    return person


def error_code(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


# --- the codes themselves --------------------------------------------------------------

def test_codes_are_six_digits():
    assert all(re.fullmatch(r"[0-9]{6}", mail.new_code()) for _ in range(2000))


@pytest.mark.parametrize("drawn,code", [(0, "000000"), (42, "000042"), (999_999, "999999")])
def test_codes_keep_their_leading_zeros(monkeypatch, drawn, code):
    monkeypatch.setattr(mail.secrets, "randbelow", lambda limit: drawn)
    assert mail.new_code() == code


def test_codes_are_not_predictable():
    assert len({mail.new_code() for _ in range(200)}) > 190


# --- sign-up and confirm ------------------------------------------------------------------

def test_sign_up_emails_one_verification_code_and_says_where(person, outbox):
    result = person.sign_up()
    assert result["UserConfirmed"] is False
    assert result["CodeDeliveryDetails"] == {"Destination": f"{person.username[0]}***@example.com",
                                             "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    [email] = emails_to(outbox, person.email)
    assert email.subject == VERIFY_SUBJECT
    assert re.fullmatch(r"[0-9]{6}", email.code)


def test_installing_twice_does_not_send_two_emails(person, outbox):
    cognito_codes.install(outbox)
    person.sign_up()
    assert len(emails_to(outbox, person.email)) == 1


def test_confirm_with_a_wrong_code_is_code_mismatch_and_leaves_the_user_unconfirmed(
        person, outbox):
    person.sign_up()
    code = outbox.last_code(person.email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert error_code(person.confirm, wrong) == "CodeMismatchException"
    assert person.user()["UserStatus"] == "UNCONFIRMED"
    assert error_code(person.log_in, PASSWORD) == "UserNotConfirmedException"


def test_confirm_with_the_emailed_code_confirms_and_verifies_the_email(person, outbox):
    person.sign_up()
    person.confirm(outbox.last_code(person.email))
    user = person.user()
    assert user["UserStatus"] == "CONFIRMED"
    assert user["Attributes"]["email_verified"] == "true"
    assert "IdToken" in person.log_in(PASSWORD)["AuthenticationResult"]


def test_confirm_twice_is_not_authorized_like_cognito(confirmed, outbox):
    assert error_code(confirmed.confirm, outbox.last_code(confirmed.email)) == \
        "NotAuthorizedException"


def test_confirm_for_an_unknown_user_is_user_not_found(person):
    assert error_code(person.confirm, "123456") == "UserNotFoundException"


# --- resend ----------------------------------------------------------------------------------

def test_resend_emails_a_new_code_and_the_old_one_stops_working(person, outbox, codes):
    person.sign_up()
    result = person.resend()
    assert result["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    first, second = codes
    assert [e.code for e in emails_to(outbox, person.email)] == [first, second]
    assert all(e.subject == VERIFY_SUBJECT for e in emails_to(outbox, person.email))
    assert error_code(person.confirm, first) == "CodeMismatchException"
    person.confirm(second)
    assert person.user()["UserStatus"] == "CONFIRMED"


def test_resend_for_a_confirmed_user_is_invalid_parameter(confirmed, outbox):
    sent = len(outbox.messages)
    assert error_code(confirmed.resend) == "InvalidParameterException"
    assert len(outbox.messages) == sent


def test_resend_for_an_unknown_user_is_user_not_found(person, outbox):
    assert error_code(person.resend) == "UserNotFoundException"
    assert emails_to(outbox, person.email) == []


# --- forgot and reset ------------------------------------------------------------------------

def test_forgot_emails_a_reset_code_and_nowhere_else(confirmed, outbox, local_aws):
    before = len(emails_to(outbox, confirmed.email))
    result = confirmed.forgot()
    assert result["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    # moto would put its own code in a response header; only the outbox has the code.
    header = result["ResponseMetadata"]["HTTPHeaders"].get(
        "x-moto-forgot-password-confirmation-code")
    assert not header
    emails = emails_to(outbox, confirmed.email)
    assert len(emails) == before + 1
    assert emails[-1].subject == RESET_SUBJECT and re.fullmatch(r"[0-9]{6}", emails[-1].code)


def test_reset_with_a_wrong_code_is_code_mismatch_and_keeps_the_password(confirmed, outbox):
    confirmed.forgot()
    code = outbox.last_code(confirmed.email)
    assert error_code(confirmed.reset, f"{(int(code) + 1) % 1_000_000:06d}") == \
        "CodeMismatchException"
    confirmed.log_in(PASSWORD)
    assert error_code(confirmed.log_in, NEW_PASSWORD) == "NotAuthorizedException"


def test_reset_with_the_emailed_code_sets_the_password_once(confirmed, outbox):
    confirmed.forgot()
    code = outbox.last_code(confirmed.email)
    confirmed.reset(code)
    confirmed.log_in(NEW_PASSWORD)
    assert error_code(confirmed.log_in, PASSWORD) == "NotAuthorizedException"
    assert error_code(confirmed.reset, code, "Th1rd-password") == "CodeMismatchException"


def test_a_reset_code_expires_after_an_hour_like_cognitos(confirmed, outbox):
    start = time.time()
    with clock.set(lambda: start):
        confirmed.forgot()
    code = outbox.last_code(confirmed.email)
    with clock.set(lambda: start + cognito_codes.RESET_CODE_SECONDS + 1):
        assert error_code(confirmed.reset, code) == "ExpiredCodeException"
    with clock.set(lambda: start + cognito_codes.RESET_CODE_SECONDS - 1):
        confirmed.reset(code)
    confirmed.log_in(NEW_PASSWORD)


def test_a_sign_up_code_expires_after_a_day_like_cognitos(person, outbox):
    start = time.time()
    with clock.set(lambda: start):
        person.sign_up()
    code = outbox.last_code(person.email)
    with clock.set(lambda: start + cognito_codes.SIGN_UP_CODE_SECONDS + 1):
        assert error_code(person.confirm, code) == "ExpiredCodeException"
    with clock.set(lambda: start + cognito_codes.SIGN_UP_CODE_SECONDS - 1):
        person.confirm(code)


def test_reset_without_asking_for_a_code_is_code_mismatch(confirmed):
    assert error_code(confirmed.reset, "123456") == "CodeMismatchException"


def test_the_verification_code_is_not_a_reset_code(person, outbox, codes):
    person.sign_up()
    person.confirm(codes[0])
    person.forgot()
    assert error_code(person.reset, codes[0]) == "CodeMismatchException"
    person.reset(codes[1])


def test_a_new_reset_code_replaces_the_previous_one(confirmed, codes):
    confirmed.forgot()
    confirmed.forgot()
    assert error_code(confirmed.reset, codes[-2]) == "CodeMismatchException"
    confirmed.reset(codes[-1])


def test_reset_with_a_weak_password_is_invalid_password_and_keeps_the_code(confirmed, outbox):
    confirmed.forgot()
    code = outbox.last_code(confirmed.email)
    assert error_code(confirmed.reset, code, "weak") == "InvalidPasswordException"
    confirmed.log_in(PASSWORD)
    confirmed.reset(code)
    confirmed.log_in(NEW_PASSWORD)


def test_reset_for_an_unknown_user_is_user_not_found_like_cognito(person):
    assert error_code(person.reset, "123456") == "UserNotFoundException"


def test_forgot_for_an_unknown_user_sends_nothing(person, outbox):
    sent = len(outbox.messages)
    person.forgot()
    assert len(outbox.messages) == sent


def test_forgot_for_an_unverified_user_sends_no_code_like_cognito(person, outbox):
    person.sign_up()
    sent = len(outbox.messages)
    assert error_code(person.forgot) == "InvalidParameterException"
    assert len(outbox.messages) == sent


# --- usernames ignore case, as the pool's UsernameConfiguration says ------------------------

def test_the_pool_is_configured_case_insensitive(idp, stack):
    pool = idp.describe_user_pool(UserPoolId=stack["USER_POOL_ID"])["UserPool"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}


def test_a_username_in_other_case_is_taken(confirmed):
    other = Person(confirmed.idp, {"USER_POOL_CLIENT_ID": confirmed.client_id,
                                   "USER_POOL_ID": confirmed.pool_id})
    other.username = confirmed.username.upper()
    assert error_code(other.sign_up) == "UsernameExistsException"


def test_log_in_in_any_case_is_the_same_user_and_sign_out_ends_every_session(confirmed):
    import jwt

    exact = confirmed.log_in(PASSWORD)["AuthenticationResult"]
    confirmed.username = confirmed.username.upper()
    shouted = confirmed.log_in(PASSWORD)["AuthenticationResult"]
    claims = jwt.decode(shouted["IdToken"], options={"verify_signature": False})
    assert claims["cognito:username"] == confirmed.username.lower()  # as stored, not as typed
    confirmed.idp.global_sign_out(AccessToken=shouted["AccessToken"])
    for session in (exact, shouted):
        assert error_code(confirmed.idp.initiate_auth, ClientId=confirmed.client_id,
                          AuthFlow="REFRESH_TOKEN_AUTH",
                          AuthParameters={"REFRESH_TOKEN": session["RefreshToken"]}) == \
            "NotAuthorizedException"


def test_confirm_and_reset_find_the_user_in_any_case(person, outbox):
    person.sign_up()
    code = outbox.last_code(person.email)
    person.username = person.username.upper()
    person.confirm(code)
    person.forgot()
    person.reset(outbox.last_code(person.email))
    person.log_in(NEW_PASSWORD)


def test_a_case_sensitive_pool_keeps_case(idp, outbox):
    pool = idp.create_user_pool(PoolName="case-sensitive",
                                UsernameConfiguration={"CaseSensitive": True})["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool,
                                            ClientName="c")["UserPoolClient"]["ClientId"]
    ada = Person(idp, {"USER_POOL_CLIENT_ID": client_id, "USER_POOL_ID": pool})
    ada.username = "Ada"
    ada.sign_up()
    ada.username = "ada"
    ada.sign_up()  # a second, different user
    users = idp.list_users(UserPoolId=pool)["Users"]
    assert sorted(user["Username"] for user in users) == ["Ada", "ada"]


# --- the outbox ------------------------------------------------------------------------------

def test_every_email_is_one_outbox_line_on_the_console(person, local_aws, codes):
    person.sign_up()
    lines = local_aws.outbox._stream.getvalue().splitlines()
    assert lines[-1] == (f'[outbox] email to={person.email} subject="{VERIFY_SUBJECT}" '
                         f'code={codes[0]}')
    assert OUTBOX_LINE.fullmatch(lines[-1])


def test_outbox_line_format_and_last_code():
    stream = io.StringIO()
    outbox = Outbox(stream=stream)
    outbox.send("ada@example.com", VERIFY_SUBJECT, "012345")
    outbox.send("bob@example.com", VERIFY_SUBJECT, "111111")
    outbox.send("ada@example.com", RESET_SUBJECT, "654321")
    assert stream.getvalue().splitlines() == [
        '[outbox] email to=ada@example.com subject="Your Comm-IT verification code" code=012345',
        '[outbox] email to=bob@example.com subject="Your Comm-IT verification code" code=111111',
        '[outbox] email to=ada@example.com subject="Your Comm-IT password reset code" code=654321',
    ]
    assert all(OUTBOX_LINE.fullmatch(line) for line in stream.getvalue().splitlines())
    assert outbox.last_code("ada@example.com") == "654321"
    with pytest.raises(LookupError):
        outbox.last_code("nobody@example.com")


def test_outbox_prints_to_stdout_by_default(capsys):
    Outbox().send("ada@example.com", RESET_SUBJECT, "000123")
    assert capsys.readouterr().out == \
        '[outbox] email to=ada@example.com subject="Your Comm-IT password reset code" code=000123\n'
