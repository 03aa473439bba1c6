"""Request bodies: parsed and checked before anything reaches AWS."""
from __future__ import annotations

import json
import re
from typing import Any, Callable, NamedTuple, TypeVar

from chalicelib.errors import ApiError, BadRequest

# The largest request body a route accepts unless it declares another with `max_body`.
MAX_BODY_BYTES = 16 * 1024
# A person's file (chalicelib/my_files.py), and the JSON body that uploads one: the base64
# of the largest file plus room for the name. Here, so app.py's decorator can name the
# limit without loading the files module at every cold start. Why 1 MiB: uploads travel
# as JSON with the content in base64 (+33 %), ~1.4 MB of body, far under Lambda's 6 MB
# synchronous payload (the binding limit: API Gateway's own is 10 MB). Bigger files would
# want presigned PUTs straight to S3, which this small store does not need.
MAX_FILE_BYTES = 1024 * 1024
MAX_FILE_SIZE_TEXT = "1 MiB"
MAX_UPLOAD_BODY_BYTES = 4 * ((MAX_FILE_BYTES + 2) // 3) + 8 * 1024

View = TypeVar("View", bound=Callable[..., Any])


class Field(NamedTuple):  # not a dataclass: `dataclasses` costs every cold start ~5 ms
    label: str
    max_length: int
    pattern: str = r"[\s\S]+"
    hint: str = ""
    strip: bool = True

    def clean(self, raw: object) -> str:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise BadRequest(f"{self.label} is required.", code="MissingParameter")
        if not isinstance(raw, str):
            raise BadRequest(f"{self.label} must be text.", code="InvalidParameter")
        value = raw.strip() if self.strip else raw
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, from a JSON "\ud800" escape
            raise BadRequest(f"{self.label} contains characters that are not valid text.",
                             code="InvalidParameter") from None
        if len(value) > self.max_length:
            raise BadRequest(f"{self.label} is too long (at most {self.max_length} characters).",
                             code="InvalidParameter")
        if not re.fullmatch(self.pattern, value):
            raise BadRequest(f"{self.label} is not valid. {self.hint}".strip(),
                             code="InvalidParameter")
        if _has_control_characters(value):
            # Escape sequences, NUL, BEL, DEL...: no field of a person has them, and they
            # would reach terminals, logs and emails. (Checked last, so a pattern's hint,
            # when it has one, still explains the rest.)
            raise BadRequest(f"{self.label} contains control characters.",
                             code="InvalidParameter")
        return value


# Unicode's category Cc exactly: C0 (\x00-\x1f), DEL and the C1 controls (\x9b is a CSI).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


NAME = Field("Name", 128, r"[^\x00-\x1f\x7f]+", "Use letters, spaces and punctuation.")
EMAIL = Field("Email", 254, r"[^@\s]+@[^@\s]+\.[^@\s]+", "Use an address like name@example.com.")
USERNAME = Field("Username", 128, r"[\w.@+-]+",
                 "Use letters, digits and . _ - + @, without spaces.")
PASSWORD = Field("Password", 256, r"[\S ]+", strip=False)
# [0-9], not \d: \d also matches other scripts' digits ("١٢٣٤٥٦"), which Cognito never sends.
CODE = Field("Verification code", 6, r"[0-9]{6}", "It is the 6-digit code from the email we sent.")
TOKEN = Field("Token", 8192, r"[A-Za-z0-9._~+/=-]+")

FIELDS: dict[str, Field] = {
    "name": NAME,
    "email": EMAIL,
    "username": USERNAME,
    "password": PASSWORD,
    "code": CODE,
    "refreshToken": TOKEN,
    "accessToken": TOKEN,
}


def json_body(raw_body: bytes | str | None, *required: str) -> dict[str, str]:
    """The named fields of a JSON object body, each checked; 4xx on anything off."""
    body = _json_object(raw_body, MAX_BODY_BYTES, "The request body must be a JSON object.")
    return {key: FIELDS[key].clean(body.get(key)) for key in required}


def present(raw_body: bytes | str | None, *optional: str) -> dict[str, str]:
    """The named fields the body has (not null, not blank), each checked like json_body's."""
    body = _json_object(raw_body, MAX_BODY_BYTES, "The request body must be a JSON object.")
    return {key: FIELDS[key].clean(body[key]) for key in optional
            if body.get(key) is not None and body.get(key) != ""}


def flag(raw_body: bytes | str | None, name: str) -> bool:
    """An optional yes/no field: true, or "true" (a checkbox's value), is yes; else no."""
    body = _json_object(raw_body or b"{}", MAX_BODY_BYTES,
                        "The request body must be a JSON object.")
    return body.get(name) is True or body.get(name) == "true"


def arguments(raw_body: bytes | str | None, *required: str) -> dict[str, str]:
    """json_body's fields as keyword arguments of chalicelib's functions: "accessToken" ->
    access_token. app.py passes every body this way (`**inputs.arguments(...)`)."""
    return {_snake(key): value for key, value in json_body(raw_body, *required).items()}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def upload_body(raw_body: bytes | str | None) -> tuple[str, bytes]:
    """{"name": "<file name>", "content": "<base64>"} -> (name, bytes), within the limits."""
    import base64
    import binascii

    from chalicelib import file_names

    body = _json_object(raw_body, MAX_UPLOAD_BODY_BYTES,
                        "The request body must be a JSON object with the file's name and its "
                        "content in base64.", too_large=lambda: file_too_large("The file"))
    name = file_names.file_name(body.get("name"))
    content = body.get("content")
    if not isinstance(content, str):
        raise BadRequest("The file content is missing: send it in base64 as \"content\".",
                         code="BadFileContent")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("The file content is not valid base64.", code="BadFileContent") from None
    if len(data) > MAX_FILE_BYTES:
        raise file_too_large(f"The file “{name}”")
    return name, data


class FileTooLarge(ApiError):
    status = 413
    code = "FileTooLarge"


def file_too_large(what: str) -> ApiError:
    return FileTooLarge(f"{what} is larger than {MAX_FILE_SIZE_TEXT}, the most one file may be.")


def _json_object(raw_body: bytes | str | None, limit: int, not_an_object: str,
                 too_large: Callable[[], ApiError] | None = None) -> dict[str, Any]:
    raw = raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > limit:
        raise too_large() if too_large else _too_large(limit)
    try:
        body = json.loads(raw or b"null")
    # RecursionError: deeply nested arrays/objects ("[[[[..."), which fit in the size limit.
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The request body is not valid JSON.", code="MalformedJSON") from None
    if not isinstance(body, dict):
        raise BadRequest(not_an_object, code="MalformedJSON")
    return body


def _too_large(limit: int) -> ApiError:
    return ApiError(f"The request body is larger than {limit} bytes.",
                    code="PayloadTooLarge", status=413)


def max_body(limit: int) -> Callable[[View], View]:
    """Declare, under `@app.route`, that a route accepts bodies up to `limit` bytes."""

    def declare(view: View) -> View:
        view.max_body_bytes = limit  # type: ignore[attr-defined]
        return view

    return declare


def body_limit(app: Any) -> Callable:
    """HTTP middleware for `app`: 413 for a body larger than its route accepts.

    Every route of `app.routes` is covered, whatever its method, before the guard
    and the view run: MAX_BODY_BYTES unless the view declares more with `max_body`.
    """

    def refuse_oversized(event: Any, get_response: Callable) -> Any:
        route = app.routes.get(event.context.get("resourcePath", ""), {}).get(event.method)
        limit = getattr(getattr(route, "view_function", None), "max_body_bytes", MAX_BODY_BYTES)
        declared = str(event.headers.get("content-length") or "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        if len(event.raw_body or b"") > limit:
            raise _too_large(limit)
        return get_response(event)

    return refuse_oversized


# The account page's fields (chalicelib/account.py).
FIELDS.update({
    "currentPassword": Field("Current password", 256, r"[\S ]+", strip=False),
    "newPassword": Field("New password", 256, r"[\S ]+", strip=False),
})


# Two-step verification (chalicelib/two_step.py): the code of the person's authenticator
# app, and the log-in's challenge session the page holds between password and code.
FIELDS.update({
    "appCode": Field("Code from your app", 6, r"[0-9]{6}",
                     "It is the 6-digit code your authenticator app shows."),
    "session": Field("Session", 4096, r"[A-Za-z0-9._~+/=-]+"),
})


# Logging in with an emailed code (chalicelib/email_sign_in.py): Cognito's EMAIL_OTP codes
# have 8 digits.
FIELDS.update({
    "signInCode": Field("Sign-in code", 8, r"[0-9]{8}",
                        "It is the 8-digit code from the email we sent."),
})


# Passkeys (chalicelib/passkeys.py): the browser's answer as JSON text (its base64url fields and
# names are ASCII), and a passkey's id (base64url).
FIELDS.update({
    "credential": Field("Passkey answer", 12000, r"\{[\x20-\x7e]*\}"),
    "credentialId": Field("Passkey", 1024, r"[A-Za-z0-9_-]+"),
})


# The Security page (chalicelib/my_security.py, recovery_codes.py): a session of the list, and
# a recovery code as the person types it (any case, spaces or a dash between the groups).
FIELDS.update({
    "sessionId": Field("Session", 64, r"[0-9a-f]+"),
    "recoveryCode": Field("Recovery code", 20, r"[A-Za-z0-9 -]+",
                          "It is one of the codes you saved, such as k7f2-9xq4."),
})
