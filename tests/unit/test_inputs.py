"""Request bodies (chalicelib/inputs.py): parsed and checked before anything reaches AWS.

Pure unit tests: no AWS, no app. Every rejection is an ApiError with the status,
code and human message the API answers with.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib import inputs
from chalicelib.errors import ApiError
from chalicelib.inputs import MAX_BODY_BYTES, json_body

VALID = {"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada.l",
         "password": "Corr3ct-horse", "code": "012345", "refreshToken": "abc.DEF-123_~+/=",
         "accessToken": "eyJ.eyJ.sig", "currentPassword": "Corr3ct-horse",
         "newPassword": "N3w-password", "appCode": "098765",
         "session": "AYABeC-1_x/y+z=", "sessionId": "54fbbeb65004ee66ce1140e6",
         "recoveryCode": "K7F2 9xq4", "signInCode": "01234567",
         "credential": "{\"id\": \"abc\"}", "credentialId": "q1w2-e3_r4"}


def body(**fields: Any) -> bytes:
    return json.dumps({**VALID, **fields}).encode()


def rejected(raw: Any, *required: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        json_body(raw, *required)
    error = caught.value
    assert re.fullmatch(r"[A-Z][^\n]{9,}\.", error.message), error.message
    return error


def assert_rejected(raw: Any, field: str, status: int, code: str) -> str:
    error = rejected(raw, field)
    assert (error.status, error.code) == (status, code), (error.status, error.code, error.message)
    return error.message


# --- the body as a whole ----------------------------------------------------------------

def test_arguments_are_the_checked_fields_named_as_python_keyword_arguments():
    assert inputs.arguments(body(), "accessToken", "currentPassword", "newPassword") == {
        "access_token": "eyJ.eyJ.sig", "current_password": "Corr3ct-horse",
        "new_password": "N3w-password"}
    assert inputs.arguments(body(), "refreshToken", "name") == {
        "refresh_token": "abc.DEF-123_~+/=", "name": "Ada Lovelace"}


def test_arguments_refuse_what_json_body_refuses():
    with pytest.raises(ApiError) as caught:
        inputs.arguments(b"[]", "name")
    assert (caught.value.status, caught.value.code) == (400, "MalformedJSON")


def test_returns_exactly_the_required_fields_checked_and_stripped():
    raw = json.dumps({"name": "  Ada Lovelace ", "username": " ada.l\t", "extra": "ignored",
                      "password": "Corr3ct-horse"}).encode()
    assert json_body(raw, "name", "username") == {"name": "Ada Lovelace", "username": "ada.l"}


def test_the_password_is_kept_exactly_as_typed():
    assert json_body(body(password="  Spaced 0ut  "), "password") == {"password": "  Spaced 0ut  "}


def test_accepts_a_str_body_as_well_as_bytes():
    assert json_body(json.dumps({"username": "ada"}), "username") == {"username": "ada"}


def test_a_body_of_exactly_the_limit_is_read():
    raw = json.dumps({"username": "ada", "pad": ""}).encode()
    raw = raw[:-2] + b"x" * (MAX_BODY_BYTES - len(raw)) + raw[-2:]
    assert len(raw) == MAX_BODY_BYTES
    assert json_body(raw, "username") == {"username": "ada"}


def test_a_body_over_the_limit_is_413_payload_too_large():
    raw = json.dumps({"username": "ada", "pad": "x" * MAX_BODY_BYTES}).encode()
    error = rejected(raw, "username")
    assert (error.status, error.code) == (413, "PayloadTooLarge")
    assert str(MAX_BODY_BYTES) in error.message


def test_the_limit_counts_bytes_not_characters():
    text = json.dumps({"username": "ada", "name": "é" * (MAX_BODY_BYTES // 2)}, ensure_ascii=False)
    assert len(text) <= MAX_BODY_BYTES < len(text.encode())
    assert rejected(text, "username").status == 413


@pytest.mark.parametrize("raw", [b'{"username": "ada"', b"{'username': 'ada'}", b"username=ada",
                                 b"\xff\xfe\xfd", b'{"username": "ada"} trailing', b"[" * 3000,
                                 b'{"a":' * 3000, b'{"username": "\\x41"}'])
def test_malformed_json_is_400_malformed_json(raw):
    error = rejected(raw, "username")
    assert (error.status, error.code) == (400, "MalformedJSON")
    assert error.message == "The request body is not valid JSON."


@pytest.mark.parametrize("raw", [None, b"", b"null", b"[]", b'["ada"]', b'"ada"', b"42", b"true"])
def test_json_that_is_not_an_object_is_400_malformed_json(raw):
    error = rejected(raw, "username")
    assert (error.status, error.code) == (400, "MalformedJSON")
    assert error.message == "The request body must be a JSON object."


# --- each field -----------------------------------------------------------------------------

@pytest.mark.parametrize("field,label", [("name", "Name"), ("email", "Email"),
                                         ("username", "Username"), ("password", "Password"),
                                         ("code", "Verification code"), ("refreshToken", "Token"),
                                         ("accessToken", "Token")])
@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_a_missing_or_blank_field_is_400_missing_parameter_naming_it(field, label, value):
    raw = json.dumps({k: v for k, v in {**VALID, field: value}.items() if v is not None}).encode()
    message = assert_rejected(raw, field, 400, "MissingParameter")
    assert message == f"{label} is required."


@pytest.mark.parametrize("field", list(VALID))
@pytest.mark.parametrize("value", [12345, 1.5, True, False, 0, ["ada"], {"v": "ada"}, float("nan")])
def test_a_field_that_is_not_text_is_400_must_be_text(field, value):
    message = assert_rejected(body(**{field: value}), field, 400, "InvalidParameter")
    assert message.endswith("must be text.")


@pytest.mark.parametrize("field,limit,filler", [
    ("name", 128, "a"), ("username", 128, "a"), ("password", 256, "a"), ("code", 6, "1"),
    ("refreshToken", 8192, "a"), ("email", 254, None)])
def test_each_field_accepts_its_maximum_length_and_rejects_one_more(field, limit, filler):
    def value(length: int) -> str:
        if filler is None:  # an email of exactly `length` characters
            return "a" * (length - len("@example.com")) + "@example.com"
        return filler * length

    assert json_body(body(**{field: value(limit)}), field) == {field: value(limit)}
    message = assert_rejected(body(**{field: value(limit + 1)}), field, 400, "InvalidParameter")
    if field != "code":  # a 7-digit code is "too long" too
        assert f"too long (at most {limit} characters)" in message
    else:
        assert "too long" in message


def test_the_length_limit_applies_after_stripping():
    assert json_body(body(name=" " * 50 + "a" * 128 + " " * 50), "name") == {"name": "a" * 128}


@pytest.mark.parametrize("email", ["ada@example.com", "a.b+tag@sub.example.co.uk", "x@y.z"])
def test_plausible_emails_are_accepted(email):
    assert json_body(body(email=email), "email") == {"email": email}


@pytest.mark.parametrize("email", ["ada", "ada@", "@example.com", "ada@example", "a@@example.com",
                                   "ada @example.com", "ada@exa mple.com",
                                   "ada@example.com\nBcc: x"])
def test_an_invalid_email_is_400_with_an_example_of_a_valid_one(email):
    message = assert_rejected(body(email=email), "email", 400, "InvalidParameter")
    assert message == "Email is not valid. Use an address like name@example.com."


@pytest.mark.parametrize("username", ["ada", "ada.lovelace", "ada_l-1+x@y", "Ådå"])
def test_usernames_of_letters_digits_and_dot_underscore_dash_plus_at_are_accepted(username):
    assert json_body(body(username=username), "username") == {"username": username}


@pytest.mark.parametrize("username", ["ada lovelace", "ada/../x", "ada;drop", "<ada>", "ada\x00"])
def test_a_username_with_other_characters_is_400(username):
    message = assert_rejected(body(username=username), "username", 400, "InvalidParameter")
    assert "without spaces" in message


@pytest.mark.parametrize("name", ["Ada\nLovelace", "Ada\x00", "Ada\x1b[31m", "Ada\x7f"])
def test_a_name_with_control_characters_is_400(name):
    assert_rejected(body(name=name), "name", 400, "InvalidParameter")


@pytest.mark.parametrize("name", ["Ada Lovelace", "Ada O'Brien-Smith, Jr.", "李小龍", "Zoë 🙂"])
def test_names_in_any_script_with_punctuation_are_accepted(name):
    assert json_body(body(name=name), "name") == {"name": name}


@pytest.mark.parametrize("password", ["pass\tword1A", "pass\nword1A"])
def test_a_password_with_tabs_or_newlines_is_400(password):
    assert_rejected(body(password=password), "password", 400, "InvalidParameter")


@pytest.mark.parametrize("code", ["000000", "123456", "999999"])
def test_a_six_digit_code_is_accepted_with_its_leading_zeros(code):
    assert json_body(body(code=code), "code") == {"code": code}


@pytest.mark.parametrize("code", ["12345", "12a456", "12 456", "١٢٣٤٥٦", "１２３４５６", "-12345"])
def test_a_code_that_is_not_six_ascii_digits_is_400_pointing_at_the_email(code):
    message = assert_rejected(body(code=code), "code", 400, "InvalidParameter")
    assert message.startswith("Verification code")


@pytest.mark.parametrize("token", ["abc def", "abc<script>", "abc\"", "abc;", "ab\ncd"])
def test_a_token_with_characters_no_jwt_or_refresh_token_has_is_400(token):
    assert_rejected(body(refreshToken=token), "refreshToken", 400, "InvalidParameter")


@pytest.mark.parametrize("field", ["name", "email", "username", "password"])
def test_a_lone_surrogate_is_400_not_valid_text(field):
    raw = body(**{field: "x"}).replace(b'"x"', b'"ab\\ud800cd@example.com"')
    message = assert_rejected(raw, field, 400, "InvalidParameter")
    assert "not valid text" in message


def test_every_field_the_routes_ask_for_is_known():
    assert set(inputs.FIELDS) == set(VALID)


@pytest.mark.parametrize("code", ["k7f2_9xq4", "k7f2;9xq4", "k7f2\n9xq4", "k" * 21])
def test_a_recovery_code_with_anything_but_letters_digits_spaces_and_dashes_is_400(code):
    message = assert_rejected(body(recoveryCode=code), "recoveryCode", 400, "InvalidParameter")
    assert message.startswith("Recovery code")
