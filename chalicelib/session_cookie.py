"""The page's session: its refresh token in a cookie no script can read.

The login answer of the app's own page sets the refresh token in an HttpOnly, Secure,
SameSite=Strict cookie whose Path is the refresh route, and a second one for the logout
route (a cookie has one path: two keep it away from every other route). The page keeps
only the ID and access tokens (in its tab's storage) and renews them through the cookie,
so a new tab is signed in, and a session ended elsewhere (Log out everywhere, a password
change) is over at the page's next load. `Keep me signed in` gives the cookies a Max-Age
of the refresh token's validity; without it they end with the browser session.

Which calls are the page's: those that carry PAGE_HEADER. A cross-site form cannot set a
header, and a cross-site script that does needs a CORS preflight the API never grants;
Origin and Sec-Fetch-Site, when the browser sends them, must say the call came from this
origin (else 403 CrossSiteRequest). Only the page's calls get or use the cookie; every
other client (scripts, apps, `make smoke`) keeps the JSON contract: the refresh token in
the login answer's body, and in the body of refresh and logout.

The paths are computed from the request, like the page's <base> (pages.base_href): "/"
locally, "/<stage>/" behind API Gateway.
"""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib import cognito_sign_in, inputs
from chalicelib.errors import Forbidden, Unauthorized, json_response

COOKIE = "comm-it-session"
# Sent by the page's every call (templates/js/api.js sends the same name and value).
PAGE_HEADER = "X-Comm-IT-Page"
PAGE_HEADER_VALUE = "1"
# The routes the cookie goes to, relative to the app's base (app.py's refresh and logout).
ROUTES = ("api/auth/refresh", "api/auth/logout")
# The app client's RefreshTokenValidity in infra/template.yaml (30 days; a test holds them
# together): a kept cookie lives as long as the token in it.
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600

NOT_SIGNED_IN = "You are not logged in on this browser. Log in to continue."
CROSS_SITE = ("This request did not come from Comm-IT's own pages, so it was refused. "
              "Open Comm-IT and try again there.")


def _header(request: Any, name: str) -> str:
    return str((request.headers or {}).get(name.lower()) or "")


def is_page_call(request: Any) -> bool:
    """True for the page's own JSON call; 403 when it says so from another site."""
    if _header(request, PAGE_HEADER) != PAGE_HEADER_VALUE:
        return False
    fetch_site = _header(request, "Sec-Fetch-Site")
    origin = _header(request, "Origin")
    host = _header(request, "Host")
    if fetch_site and fetch_site != "same-origin":
        raise Forbidden(CROSS_SITE, code="CrossSiteRequest")
    if origin and (origin == "null" or origin.split("://", 1)[-1].rstrip("/") != host):
        raise Forbidden(CROSS_SITE, code="CrossSiteRequest")
    return True


def paths(request: Any) -> list[str]:
    from chalicelib.pages import base_href

    base = base_href(request)
    return [base + route for route in ROUTES]


def _cookies(request: Any, value: str, max_age: int | None) -> list[str]:
    lifetime = "" if max_age is None else f"; Max-Age={max_age}"
    return [f"{COOKIE}={value}; Path={path}{lifetime}; HttpOnly; Secure; SameSite=Strict"
            for path in paths(request)]


def _keep(request: Any) -> bool:
    """The body's keepSignedIn: true (or the checkbox's "true") keeps the cookie."""
    return inputs.flag(request.raw_body, "keepSignedIn")


def _without_refresh_token(tokens: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tokens.items() if k != "refreshToken"}


def signed_in(request: Any, tokens: dict[str, Any]) -> Response:
    """The answer of a new session (login, a password change): to the page, its refresh
    token as the cookies and never in the body; to other clients, the body as it is."""
    if not is_page_call(request) or "refreshToken" not in tokens:  # not signed in yet: a challenge
        return json_response(200, tokens)
    max_age = REFRESH_TOKEN_SECONDS if _keep(request) else None
    return json_response(200, _without_refresh_token(tokens),
                         {"Set-Cookie": _cookies(request, tokens["refreshToken"], max_age)})


def renewed(request: Any, tokens: dict[str, Any]) -> Response:
    """The answer of a refresh: the page's cookie already holds its (unchanged) refresh
    token, so the page gets the new ID and access tokens only."""
    return json_response(200, _without_refresh_token(tokens) if is_page_call(request) else tokens)


def signed_out(request: Any, body: dict[str, Any] | None = None) -> Response:
    """An answer that ends the browser's session: the cookies are removed (Max-Age=0)."""
    return json_response(200, body or {"ok": True},
                         {"Set-Cookie": _cookies(request, "", 0)})


def _from_cookie(request: Any) -> str:
    for part in _header(request, "Cookie").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return inputs.TOKEN.clean(value)
    return ""


def refresh_token(request: Any) -> str:
    """The refresh token of this call: the page's cookie, or another client's body."""
    if is_page_call(request):
        token = _from_cookie(request)
        if not token:
            raise Unauthorized(NOT_SIGNED_IN, code="NotSignedIn")
        return token
    return inputs.json_body(request.raw_body, "refreshToken")["refreshToken"]


# What a logout ends (session_to_end): this session, every session of the person, or nothing.
THIS_SESSION, EVERY_SESSION, NOTHING = "this session", "every session", "nothing"


def session_to_end(request: Any) -> tuple[str, str]:
    """What logout ends, and with which token: the page's cookie (nothing when it has none)
    or another client's refreshToken, THIS_SESSION; its accessToken alone, EVERY_SESSION
    (the API's older contract)."""
    if is_page_call(request):
        token = _from_cookie(request)
        return (THIS_SESSION, token) if token else (NOTHING, "")
    fields = inputs.present(request.raw_body, "refreshToken", "accessToken")
    if "refreshToken" in fields:
        return THIS_SESSION, fields["refreshToken"]
    return EVERY_SESSION, inputs.json_body(request.raw_body, "accessToken")["accessToken"]


def log_out(request: Any) -> None:
    """End what the logout asks to end (session_to_end): one session (RevokeToken), the
    person's other devices staying signed in; or every session (GlobalSignOut). Logging out
    twice, or with nothing to end, is fine."""
    ending, token = session_to_end(request)
    if ending == THIS_SESSION:
        cognito_sign_in.revoke(token)
    elif ending == EVERY_SESSION:
        cognito_sign_in.sign_out_everywhere(token, missing_ok=True)
