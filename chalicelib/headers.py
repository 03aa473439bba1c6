"""The headers every answer of the app carries, whoever made it.

A view's JSON, a page, Chalice's own 405/415, the 500 of a crash: all of them go
through `security_headers`, the outermost middleware, so no answer can miss them.
A header an answer sets itself wins (the pages set a CSP with a script nonce).
`local/run/serve.py` and the deployed API Gateway's own answers (infra/deploy.py)
use the same SECURITY_HEADERS, so every byte the app serves carries them.
"""
from __future__ import annotations

from typing import Any, Callable, MutableMapping

SECURITY_HEADERS: dict[str, str] = {
    # Never guess a type: a JSON answer is never run as a script or shown as HTML.
    "X-Content-Type-Options": "nosniff",
    # No page of the app may be framed (clickjacking); CSP frame-ancestors says the same.
    "X-Frame-Options": "DENY",
    # An answer that is not a page loads nothing and runs nothing, even if opened directly.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'none'",
    "Referrer-Policy": "no-referrer",
    # Other sites cannot embed our answers (no cross-origin reads, Spectre-style).
    "Cross-Origin-Resource-Policy": "same-origin",
    # Browsers ignore it over plain HTTP (locally); deployed, the API is HTTPS only.
    "Strict-Transport-Security": "max-age=31536000",
    # Answers are personal (tokens, names): never kept by a browser or a proxy.
    "Cache-Control": "no-store",
}


def secure(headers: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Add every security header `headers` lacks (names compared without case)."""
    present = {name.lower() for name in headers}
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            headers[name] = value
    return headers


def security_headers(event: Any, get_response: Callable) -> Any:
    """HTTP middleware: every answer leaves with SECURITY_HEADERS."""
    response = get_response(event)
    secure(response.headers)
    return response
