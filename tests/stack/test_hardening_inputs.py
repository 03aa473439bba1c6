"""No field of any request takes a control character (chalicelib/inputs.py): escape
sequences, NUL, BEL, DEL and the C1 controls are refused with a 400 before anything
reaches Cognito, so none can reach an email, a log or a developer's terminal.
"""
from __future__ import annotations

import json

import pytest

from chalicelib import inputs
from chalicelib.errors import ApiError
from tests.helpers import PASSWORD, post

CONTROLS = ["\x1b[31m", "\x00", "\x07", "\x7f", "\x9b", "\x85", "\x08", "\x1b]0;title\x07"]
VALID = {"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada.l",
         "password": PASSWORD, "code": "012345", "refreshToken": "abc.DEF-123_~+/=",
         "accessToken": "eyJ.eyJ.sig",
         "currentPassword": PASSWORD, "newPassword": PASSWORD, "appCode": "098765",
         "session": "AYABeC-1_x/y+z=", "sessionId": "54fbbeb65004ee66ce1140e6",
         "recoveryCode": "k7f2-9xq4", "signInCode": "01234567", "credential": '{"id": "abc"}',
         "credentialId": "q1w2-e3_r4"}


@pytest.mark.parametrize("field", sorted(inputs.FIELDS))
@pytest.mark.parametrize("control", CONTROLS)
def test_every_field_refuses_a_control_character_inside_it(field, control):
    value = VALID[field]
    hostile = value[:2] + control + value[2:]
    with pytest.raises(ApiError) as caught:
        inputs.json_body(json.dumps({field: hostile}).encode(), field)
    assert (caught.value.status, caught.value.code) == (400, "InvalidParameter")


@pytest.mark.parametrize("control", ["\x1b[31m", "\x00", "\x07", "\x7f"])
def test_an_email_with_a_control_character_is_refused_naming_the_field(control):
    with pytest.raises(ApiError) as caught:
        inputs.EMAIL.clean(f"ada{control}@example.com")
    assert caught.value.message == "Email contains control characters."


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f"])
def test_a_password_with_a_control_character_is_refused(control):
    with pytest.raises(ApiError) as caught:
        inputs.PASSWORD.clean(f"Corr3ct{control}horse")
    assert caught.value.message == "Password contains control characters."


@pytest.mark.parametrize("text", ["Zoë O'Brien", "李小龍", "Ada 🙂", "أحمد", "Ада‍Лавлейс"])
def test_names_of_every_script_still_pass(text):
    assert inputs.NAME.clean(text) == text


@pytest.mark.parametrize("control", ["\x1b[31m", "\x00", "\x07", "\x7f"])
def test_sign_up_with_a_control_character_in_the_email_is_400_and_no_email_is_sent(
        client, outbox, control):
    before = len(outbox.messages)
    response = post(client, "/api/auth/signup",
                    {"name": "Ada", "email": f"ada{control}@example.com", "username": "ada",
                     "password": PASSWORD})
    assert response.status_code == 400
    assert json.loads(response.body) == {"error": "InvalidParameter",
                                         "message": "Email contains control characters."}
    assert len(outbox.messages) == before
