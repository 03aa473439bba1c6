"""The greeting: who is being greeted, for the API and the /hello page."""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib import pages
from chalicelib.errors import json_response


def greeting(claims: dict[str, Any]) -> dict[str, str]:
    return {"message": "hello", "name": claims.get("name") or claims.get("cognito:username", "")}


def as_json(claims: dict[str, Any]) -> Response:
    return json_response(200, greeting(claims))


def as_html(claims: dict[str, Any]) -> Response:
    return pages.fragment("greeting.html", **greeting(claims))
