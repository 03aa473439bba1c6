"""The guard of every route that has an authorizer.

In AWS, API Gateway's Cognito authorizer has already checked the token; locally
nothing has. The guard checks it again either way, so the same code protects the
same routes everywhere, then hands the verified claims to the view where API
Gateway puts them: request.context['authorizer']['claims'].
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.tokens import header_token, verify_id_token


def guard(app: Any) -> Callable:
    """HTTP middleware for `app`: 401 unless a guarded route carries a valid ID token."""

    def verify_token(event, get_response):
        route = app.routes.get(event.context.get("resourcePath", ""), {}).get(event.method)
        if route is not None and route.authorizer is not None:
            claims = verify_id_token(header_token(event.headers.get("authorization")))
            event.context["authorizer"] = {"claims": claims}
        return get_response(event)

    return verify_token


def claims(request: Any) -> dict[str, Any]:
    """The verified claims of a guarded request."""
    return request.context["authorizer"]["claims"]


def claims_if_signed_in(request: Any) -> dict[str, Any] | None:
    """The verified claims of an unguarded request that carries a valid ID token (logging
    out ends that token's session too), or None: no token, or not a valid one."""
    from chalicelib.errors import ApiError

    if not request.headers.get("authorization"):
        return None
    try:
        return verify_id_token(header_token(request.headers.get("authorization")))
    except ApiError:
        return None


def id_token(request: Any) -> str:
    """The raw ID token of a guarded request (already verified by the guard)."""
    return header_token(request.headers.get("authorization"))
