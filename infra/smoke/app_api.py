"""The app's public API as the smoke checks call it: as the pages do, with the ID token."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

from infra.smoke.targets import Target


def http(target: Target, method: str, path: str, body: Any = None, token: str = "",
         timeout: float = 30) -> tuple[int, Any]:
    """(status, JSON body or text) of one request to the app's public API."""
    headers = {"Content-Type": "application/json"}
    if token:
        # the token itself, as the pages send it (templates/app.js)
        headers["Authorization"] = token
    request = urllib.request.Request(target.app_url + path, method=method, headers=headers,  # noqa: S310 (the stage's own https or 127.0.0.1 URL)
                                     data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the stage's own https or 127.0.0.1 URL)
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")[:200]


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified (the app verified it; we only read the sub)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
