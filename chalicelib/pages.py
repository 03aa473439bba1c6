"""HTML pages, rendered from the Jinja templates in templates/ (autoescaped).

The templates sit beside app.py: in the repository as templates/, and in the
Lambda package at the same place through the vendor/templates link (Chalice
copies vendor/ to the package root). Jinja is imported on first render only.
"""
from __future__ import annotations

import base64
import functools
import os
from typing import Any

from chalice import Response

from chalicelib import cognito, inputs
from chalicelib.errors import SESSION_ENDED

# A str, not a pathlib.Path: pathlib is ~1.3 ms of a cold page, and nothing else on its path
# needs it.
TEMPLATES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))),
                             "templates")

# Notices a page may show, chosen by a query parameter: never reflect raw text.
NOTICES = {
    "verified": "Your account is verified. Log in to continue.",
    "reset": "Your password is changed. Log in with the new one.",
    "signed-out": "You are logged out.",
    "signed-out-everywhere": "You are logged out on every device.",
    "session-ended": SESSION_ENDED,
    "unconfirmed": "Your account is not verified yet. Enter the code we emailed you.",
    "code-sent": "We sent a code to the email address of the account, if there is one.",
    "account-deleted": "Your account is deleted, with everything Comm-IT stored about you.",
}


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["asset"] = _asset
    environment.globals["script"] = script
    # What the pages check before sending, from the modules that check it again.
    environment.globals["password_rules"] = cognito.PASSWORD_RULES
    environment.globals["field"] = inputs.FIELDS  # {{ field.email.pattern }}
    return environment


@functools.lru_cache(maxsize=None)
def _asset(name: str) -> Any:
    """A static file of templates/ (style.css, js/...) as it is, to inline in a page: read
    once, never parsed as a template (Jinja compiling the script took ~5 ms of a cold page)."""
    from markupsafe import Markup

    with open(os.path.join(TEMPLATES_DIR, name), encoding="utf-8") as file:
        text = file.read()
    return Markup(text.removesuffix("\n"))  # noqa: S704 (our own file, as {% include %} had it)


# What every page's script starts with (templates/js/): the API client, the session, forms
# and their feedback, password fields.
SHARED_SCRIPTS = ("api.js", "session.js", "forms.js", "passwords.js")


@functools.lru_cache(maxsize=None)
def script(*names: str) -> Any:
    """A page's one script: the shared files of templates/js/, then the page's own (`names`),
    each as it is, in one strict function scope; the page's start runs last."""
    from markupsafe import Markup

    files = "\n".join(_asset(f"js/{name}") for name in (*SHARED_SCRIPTS, *names))
    return Markup(f'(function () {{\n"use strict";\n{files}\nstart();\n}})();')  # noqa: S704


def render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def base_href(request: Any) -> str:
    """Where the app's pages live: "/" locally, "/<stage>/" behind API Gateway.

    Every link and API call in the pages is relative to it, so the same pages
    work at http://127.0.0.1:8000/ and at https://<api>.execute-api.../api/.
    """
    route = request.path
    full = request.context.get("path") or route
    prefix = full[: len(full) - len(route)] if full.endswith(route) else ""
    return prefix.rstrip("/") + "/"


def page(template: str, request: Any, **context: Any) -> Response:
    """A whole page: the template, its notice, and headers that keep it safe."""
    query = request.query_params or {}
    # secrets.token_urlsafe(16) without importing secrets (hmac, random: ~5 ms of a cold page)
    nonce = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
    html = render(
        template,
        base=base_href(request),
        nonce=nonce,
        notice=NOTICES.get(query.get("notice", ""), ""),
        username=query.get("username", "")[:128],
        **context,
    )
    return html_response(html, csp_nonce=nonce)


def not_found(base: str = "/") -> Response:
    """The page of an address the app does not have (404; only /api/... answers JSON). API
    Gateway answers unknown paths itself in AWS (infra/gateway.py); local/run/serve.py sends
    this."""
    nonce = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
    html = render("not_found.html", base=base, nonce=nonce, notice="", username="")
    return html_response(html, status=404, csp_nonce=nonce)


def fragment(template: str, status: int = 200, headers: dict[str, str] | None = None,
             **context: Any) -> Response:
    """A piece of HTML that a page fetches and inserts (no scripts inside)."""
    response = html_response(render(template, **context), status=status)
    response.headers.update(headers or {})
    return response


def html_response(html: str, status: int = 200, csp_nonce: str = "") -> Response:
    """HTML with the page's own CSP (its script nonce); every other security header is
    chalicelib/headers.py's, added to every answer by the outermost middleware."""
    script = f"'nonce-{csp_nonce}'" if csp_nonce else "'none'"
    return Response(
        body=html,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": (
                f"default-src 'none'; script-src {script}; style-src {script}; "
                "connect-src 'self'; img-src 'self' data:; form-action 'self'; "
                "base-uri 'self'; frame-ancestors 'none'"
            ),
        },
    )
