"""Sessions per device through the API: the page's refresh token in its cookie, log out on
this device (RevokeToken) or everywhere (GlobalSignOut), a password change or reset ending
the other sessions, and the JSON contract of clients that are not the page, unchanged.

The page's calls carry X-Comm-IT-Page (tests.helpers.PAGE); the cookie comes back to the
refresh and logout routes as a browser would send it (tests.helpers.cookie_header).
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import PAGE, PASSWORD, cookie_header, post, set_cookies
from tests.stack.helpers import NEW_PASSWORD, assert_error, assert_ok, log_in
from tests.stack.test_api_cognito_failures import FailingCognito, client_error

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


def page_login(client: Any, person: dict[str, Any], keep: bool = False) -> Any:
    body = {"username": person["username"], "password": person["password"]}
    if keep:
        body["keepSignedIn"] = True
    return post(client, "/api/auth/login", body, PAGE)


def refreshes(client: Any, headers: dict[str, str], body: dict | None = None) -> Any:
    return post(client, "/api/auth/refresh", body or {}, headers)


def script_refresh(client: Any, refresh_token: str) -> Any:
    return post(client, "/api/auth/refresh", {"refreshToken": refresh_token})


def guarded(client: Any, method: str, path: str, tokens: dict[str, str], **body: Any) -> Any:
    return client.http.request(method, path, body=json.dumps(
        {"accessToken": tokens["accessToken"], **body}), headers={
        "Content-Type": "application/json", "Authorization": tokens["idToken"], **PAGE})


# --- the page's cookie --------------------------------------------------------------------

def test_the_pages_login_sets_the_cookie_and_its_answer_has_no_refresh_token(client, register):
    person = register(log_in=False)
    answer = page_login(client, person)
    body = assert_ok(answer)
    assert set(body) == {"idToken", "accessToken", "expiresIn", "tokenType"}
    cookies = set_cookies(answer)
    assert [c.split("; Path=")[1].split(";")[0] for c in cookies] == ["/api/auth/refresh",
                                                                      "/api/auth/logout"]
    assert all(c.endswith("; HttpOnly; Secure; SameSite=Strict") and "Max-Age" not in c
               for c in cookies)


def test_keep_me_signed_in_makes_the_cookie_last_as_long_as_the_refresh_token(client, register):
    person = register(log_in=False)
    cookies = set_cookies(page_login(client, person, keep=True))
    assert len(cookies) == 2 and all("; Max-Age=2592000;" in c for c in cookies)


def test_the_page_renews_its_tokens_through_the_cookie_and_gets_no_refresh_token(
        client, register):
    person = register(log_in=False)
    body = assert_ok(refreshes(client, cookie_header(page_login(client, person))))
    assert set(body) == {"idToken", "accessToken", "expiresIn", "tokenType"}
    response = client.http.get("/api/greeting", headers={"Authorization": body["idToken"]})
    assert response.status_code in (200, 202), response.body


def test_the_page_without_a_cookie_is_401_not_signed_in_even_with_a_token_in_the_body(
        client, register):
    person = register()
    message = assert_error(refreshes(client, PAGE, {"refreshToken": person["refreshToken"]}),
                           401, "NotSignedIn")
    assert "Log in" in message


def test_a_cookie_without_the_page_header_is_ignored(client, register):
    person = register(log_in=False)
    cookie = cookie_header(page_login(client, person))["Cookie"]
    assert_error(post(client, "/api/auth/refresh", {}, {"Cookie": cookie}), 400,
                 "MissingParameter")


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "https://evil.example", "Host": "127.0.0.1"}])
@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/refresh", "/api/auth/logout"])
def test_a_cross_site_call_of_a_cookie_route_is_403(client, register, headers, path):
    person = register(log_in=False)
    cookie = cookie_header(page_login(client, person))
    body = {"username": person["username"], "password": person["password"]}
    message = assert_error(post(client, path, body, {**cookie, **headers}), 403,
                           "CrossSiteRequest")
    assert "Comm-IT's own pages" in message
    assert_ok(refreshes(client, cookie))  # the session was not touched


def test_a_same_origin_call_passes(client, register):
    person = register(log_in=False)
    cookie = cookie_header(page_login(client, person))
    same = {"Origin": "http://127.0.0.1:8000", "Host": "127.0.0.1:8000",
            "Sec-Fetch-Site": "same-origin"}
    assert_ok(refreshes(client, {**cookie, **same}))


# --- log out: this device, everywhere -------------------------------------------------------

def test_log_out_ends_this_browsers_session_only_and_removes_the_cookie(client, register):
    person = register()  # another device: a script's session
    cookie = cookie_header(page_login(client, person))
    answer = post(client, "/api/auth/logout", {}, cookie)
    assert assert_ok(answer) == {"ok": True}
    assert all("Max-Age=0" in c for c in set_cookies(answer))
    assert_error(refreshes(client, cookie), 401, "SessionExpired")
    assert_ok(script_refresh(client, person["refreshToken"]))  # the other device stays


def test_the_access_tokens_of_a_logged_out_session_stop_working(client, register):
    person = register(log_in=False)
    login = page_login(client, person)
    tokens = login.json_body
    post(client, "/api/auth/logout", {}, cookie_header(login))
    assert_error(guarded(client, "POST", "/api/account/name", tokens, name="X"), 401,
                 "SessionEnded")


def test_a_script_logs_out_its_own_session_with_its_refresh_token(client, register):
    person = register()
    other = assert_ok(log_in(client, person["username"], person["password"]))
    assert_ok(post(client, "/api/auth/logout", {"refreshToken": person["refreshToken"]}))
    assert_error(script_refresh(client, person["refreshToken"]), 401, "SessionExpired")
    assert_ok(script_refresh(client, other["refreshToken"]))


def test_the_page_logging_out_without_a_cookie_is_fine(client):
    assert assert_ok(post(client, "/api/auth/logout", {}, PAGE)) == {"ok": True}


def test_log_out_everywhere_ends_every_session_and_removes_the_cookie(client, register):
    person = register()
    cookie = cookie_header(page_login(client, person))
    answer = guarded(client, "POST", "/api/account/logout-everywhere", person)
    assert assert_ok(answer) == {"ok": True}
    assert all("Max-Age=0" in c for c in set_cookies(answer))
    assert_error(refreshes(client, cookie), 401, "SessionExpired")
    assert_error(script_refresh(client, person["refreshToken"]), 401, "SessionExpired")


def test_log_out_everywhere_needs_a_valid_id_token(client):
    assert_error(post(client, "/api/account/logout-everywhere", {"accessToken": "a.b.c"}),
                 401, "MissingToken")


# --- a password change or reset ends the other sessions ------------------------------------

def test_a_password_change_ends_every_other_session_and_this_one_goes_on(client, register):
    person = register()  # the other device
    login = page_login(client, person)
    answer = guarded(client, "POST", "/api/account/password", login.json_body,
                     currentPassword=PASSWORD, newPassword=NEW_PASSWORD)
    body = assert_ok(answer)
    assert set(body) == {"idToken", "accessToken", "expiresIn", "tokenType"}
    assert_error(script_refresh(client, person["refreshToken"]), 401, "SessionExpired")
    assert_error(refreshes(client, cookie_header(login)), 401, "SessionExpired")
    assert_ok(refreshes(client, cookie_header(answer)))  # this browser: the new cookie
    assert_ok(guarded(client, "POST", "/api/account/name", body, name="Still here"))


@pytest.mark.parametrize("keep", [True, False])
def test_the_pages_new_cookie_after_a_password_change_is_kept_as_asked(client, register, keep):
    person = register(log_in=False)
    tokens = page_login(client, person, keep=keep).json_body
    answer = guarded(client, "POST", "/api/account/password", tokens, currentPassword=PASSWORD,
                     newPassword=NEW_PASSWORD, **({"keepSignedIn": True} if keep else {}))
    cookies = set_cookies(answer)
    assert len(cookies) == 2 and all(("Max-Age=2592000" in c) == keep for c in cookies)


def test_a_scripts_password_change_answers_its_new_tokens_in_the_body(client, register):
    person = register()
    response = client.http.request("POST", "/api/account/password", body=json.dumps(
        {"accessToken": person["accessToken"], "currentPassword": PASSWORD,
         "newPassword": NEW_PASSWORD}), headers={"Content-Type": "application/json",
                                                 "Authorization": person["idToken"]})
    body = assert_ok(response)
    assert body["refreshToken"] and set_cookies(response) == []
    assert_ok(script_refresh(client, body["refreshToken"]))
    assert_error(script_refresh(client, person["refreshToken"]), 401, "SessionExpired")


def test_a_password_reset_ends_every_session(client, register, outbox):
    person = register()
    cookie = cookie_header(page_login(client, person))
    assert_ok(post(client, "/api/auth/forgot", {"username": person["username"]}))
    assert_ok(post(client, "/api/auth/reset", {"username": person["username"],
                                              "code": outbox.last_code(person["email"]),
                                              "password": NEW_PASSWORD}))
    assert_error(refreshes(client, cookie), 401, "SessionExpired")
    assert_error(script_refresh(client, person["refreshToken"]), 401, "SessionExpired")


def test_deleting_the_account_removes_the_cookie(client, register):
    person = register()
    answer = guarded(client, "DELETE", "/api/account", person, password=PASSWORD)
    assert_ok(answer)
    assert all("Max-Age=0" in c for c in set_cookies(answer))


# --- each Cognito error of RevokeToken and GlobalSignOut, a clear answer -------------------

@pytest.mark.parametrize("cognito_code, status, code", [
    ("UnsupportedTokenTypeException", 400, "InvalidToken"),
    ("InvalidParameterException", 400, "InvalidParameter"),
    ("UnsupportedOperationException", 503, "ServiceUnavailable"),
    ("TooManyRequestsException", 429, "TooManyRequests"),
])
def test_each_revoke_token_error_is_a_clear_answer(client, monkeypatch, cognito_code, status,
                                                   code):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(
        client_error(cognito_code)))
    response = post(client, "/api/auth/logout", {"refreshToken": "some.refresh.token"})
    message = assert_error(response, status, code)
    assert "internal detail" not in message


def test_revoke_token_unauthorized_means_nothing_of_ours_to_end(client, monkeypatch):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(
        client_error("UnauthorizedException")))
    assert assert_ok(post(client, "/api/auth/logout", {"refreshToken": "r.t"})) == {"ok": True}


def test_log_out_everywhere_with_an_ended_session_is_401_session_ended(client, register):
    person = register()
    assert_ok(guarded(client, "POST", "/api/account/logout-everywhere", person))
    assert_error(guarded(client, "POST", "/api/account/logout-everywhere", person), 401,
                 "SessionEnded")
