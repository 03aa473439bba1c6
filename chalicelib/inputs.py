"""Request bodies: parsed and checked before anything reaches AWS."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from chalicelib.errors import ApiError, BadRequest

MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True)
class Field:
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
        return value


NAME = Field("Name", 128, r"[^\x00-\x1f\x7f]+", "Use letters, spaces and punctuation.")
EMAIL = Field("Email", 254, r"[^@\s]+@[^@\s]+\.[^@\s]+", "Use an address like name@example.com.")
USERNAME = Field("Username", 128, r"[\w.@+-]+", "Use letters, digits and . _ - + @, without spaces.")
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


def json_body(raw_body: bytes | None, *required: str) -> dict[str, str]:
    """The named fields of a JSON object body, each checked; 4xx on anything off."""
    raw_body = raw_body or b""
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8", "surrogatepass")
    if len(raw_body) > MAX_BODY_BYTES:
        raise ApiError(f"The request body is larger than {MAX_BODY_BYTES} bytes.",
                       code="PayloadTooLarge", status=413)
    try:
        body = json.loads(raw_body or b"null")
    # RecursionError: deeply nested arrays/objects ("[[[[..."), which fit in the size limit.
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The request body is not valid JSON.", code="MalformedJSON") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", code="MalformedJSON")
    return {key: FIELDS[key].clean(body.get(key)) for key in required}

# The account page's fields (chalicelib/account.py).
FIELDS.update({
    "currentPassword": Field("Current password", 256, r"[\S ]+", strip=False),
    "newPassword": Field("New password", 256, r"[\S ]+", strip=False),
})
