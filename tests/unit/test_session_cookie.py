"""chalicelib/session_cookie.py without AWS: where the cookie goes (locally at /, under API
Gateway's stage path), its attributes, and which calls count as the page's own."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib import session_cookie
from chalicelib.errors import ApiError
from infra import template as infra_template


def request(path: str = "/api/auth/login", full_path: str | None = None,
            body: bytes = b"{}", **headers: str) -> SimpleNamespace:
    return SimpleNamespace(path=path, context={"path": full_path or path}, raw_body=body,
                           headers={k.lower().replace("_", "-"): v for k, v in headers.items()})


def page_request(**kwargs) -> SimpleNamespace:
    kwargs.setdefault("x_comm_it_page", "1")
    return request(**kwargs)


def test_the_cookies_go_to_the_refresh_and_logout_routes_only_locally():
    assert session_cookie.paths(request()) == ["/api/auth/refresh", "/api/auth/logout"]


def test_under_api_gateways_stage_path_the_cookies_carry_the_stage():
    behind_gateway = request("/api/auth/login", "/api/api/auth/login")
    assert session_cookie.paths(behind_gateway) == ["/api/api/auth/refresh",
                                                    "/api/api/auth/logout"]


def test_a_kept_cookie_lives_as_long_as_the_template_says_the_refresh_token_does():
    client = infra_template.load()["Resources"]["UserPoolClient"]["Properties"]
    assert client["TokenValidityUnits"]["RefreshToken"] == "days"
    assert session_cookie.REFRESH_TOKEN_SECONDS == client["RefreshTokenValidity"] * 24 * 3600
    assert client["EnableTokenRevocation"] is True  # RevokeToken, Log out on this device


@pytest.mark.parametrize("keep, lifetime", [(b'{"keepSignedIn": true}', "; Max-Age=2592000;"),
                                            (b'{"keepSignedIn": "true"}', "; Max-Age=2592000;"),
                                            (b'{}', None), (b'{"keepSignedIn": false}', None)])
def test_the_cookie_is_httponly_secure_strict_and_kept_only_when_asked(keep, lifetime):
    answer = session_cookie.signed_in(page_request(body=keep),
                                      {"idToken": "i", "accessToken": "a", "refreshToken": "r.t"})
    cookies = answer.headers["Set-Cookie"]
    assert len(cookies) == 2
    for cookie, path in zip(cookies, ["/api/auth/refresh", "/api/auth/logout"], strict=True):
        assert cookie.startswith(f"{session_cookie.COOKIE}=r.t; Path={path}")
        assert cookie.endswith("; HttpOnly; Secure; SameSite=Strict")
        assert (lifetime in cookie) if lifetime else "Max-Age" not in cookie and \
            "Expires" not in cookie
    assert "refreshToken" not in answer.body and "r.t" not in answer.body


def test_a_client_that_is_not_the_page_gets_the_refresh_token_in_the_body_and_no_cookie():
    answer = session_cookie.signed_in(request(),
                                      {"idToken": "i", "accessToken": "a", "refreshToken": "r.t"})
    assert "Set-Cookie" not in answer.headers and '"refreshToken": "r.t"' in answer.body


def test_signing_out_removes_both_cookies():
    cookies = session_cookie.signed_out(page_request()).headers["Set-Cookie"]
    assert [c.split(";")[0] for c in cookies] == [f"{session_cookie.COOKIE}="] * 2
    assert all("Max-Age=0" in c for c in cookies)


@pytest.mark.parametrize("headers", [
    {"sec_fetch_site": "same-origin", "origin": "http://127.0.0.1:8000", "host": "127.0.0.1:8000"},
    {"origin": "https://abc.execute-api.eu-west-1.amazonaws.com",
     "host": "abc.execute-api.eu-west-1.amazonaws.com"},
    {},  # a browser that sends neither: the header alone, which no other site can send
])
def test_the_pages_own_call_is_one(headers):
    assert session_cookie.is_page_call(page_request(**headers)) is True


@pytest.mark.parametrize("headers", [
    {"sec_fetch_site": "cross-site"}, {"sec_fetch_site": "same-site"},
    {"origin": "https://evil.example", "host": "127.0.0.1:8000"}, {"origin": "null"},
])
def test_a_call_from_another_site_is_refused_with_403(headers):
    with pytest.raises(ApiError) as refused:
        session_cookie.is_page_call(page_request(**headers))
    assert (refused.value.status, refused.value.code) == (403, "CrossSiteRequest")


def test_without_the_page_header_a_call_is_a_scripts_even_with_the_cookie():
    cookie = f"{session_cookie.COOKIE}=r.t"
    assert session_cookie.is_page_call(request(cookie=cookie)) is False
    assert session_cookie.session_to_end(request(cookie=cookie, body=b'{"accessToken": "a.b"}')) \
        == (session_cookie.EVERY_SESSION, "a.b")
