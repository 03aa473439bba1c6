"""Properties of the whole API under any input (hypothesis): every route of app.routes,
given any body (JSON of any shape, field values of any script or control character,
bytes that are no JSON), any content type and any token, answers a success or a 4xx in
the {"error", "message"} shape, with the security headers: never a 5xx, never a trace.

The routes come from app.routes, so a route added later is fuzzed without a change here.
Examples are bounded and the deadline off, so the suite stays quick; the real local AWS
is behind the app, so inputs that pass validation reach Cognito, SNS and the rest.
"""
from __future__ import annotations

import functools
import json
import re
import unicodedata
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib import inputs
from chalicelib.errors import ApiError
from chalicelib.headers import SECURITY_HEADERS
from tests.helpers import PASSWORD

# Tokens without cognito:username (garbage, forged claims) make chalice's local gateway warn
# that it lets them through; the app's guard refuses them, which is what is checked here.
pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")

FUZZ = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def routes() -> list[tuple[str, str]]:
    from app import app

    return sorted((path, method) for path, methods in app.routes.items() for method in methods)


# --- strategies -------------------------------------------------------------------------------

HOSTILE = ["\x1b[31m", "\x00", "\x07", "\x7f", "\x9b", "\u202e", "\ud800", "' OR 1=1 --",
           "<script>alert(1)</script>", "../../etc/passwd", "${jndi:ldap://x}", "%00", "a" * 300,
           "١٢٣٤٥٦", "１２３４５６", " ", "\t", "null", "Ada\nBcc: x@example.com"]

any_text = st.one_of(
    st.text(max_size=30),
    # every code point, lone surrogates and controls included (JSON escapes them)
    st.text(st.characters(exclude_categories=()), max_size=12),
    st.sampled_from(HOSTILE),
)

# Values that pass the field checks, so requests also get as far as AWS.
plausible = {
    "name": st.sampled_from(["Ada Lovelace", "李小龍", "Zoë O'Brien-Smith 🙂"]),
    "email": st.from_regex(r"[a-z]{1,10}@example\.(com|org)", fullmatch=True),
    "username": st.from_regex(r"[a-z][a-z0-9._+-]{2,15}", fullmatch=True),
    "password": st.sampled_from([PASSWORD, "weak", "nodigits-HERE", "Sp ace 1a", "Ab1" * 50]),
    "code": st.from_regex(r"[0-9]{6}", fullmatch=True),
    "refreshToken": st.from_regex(r"[A-Za-z0-9._~+/=-]{1,60}", fullmatch=True),
    "accessToken": st.from_regex(r"[A-Za-z0-9._-]{1,60}", fullmatch=True),
}

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), any_text)
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)


@st.composite
def field_value(draw: Any, name: str) -> Any:
    return draw(st.one_of(plausible.get(name, any_text), any_text, json_value))


@st.composite
def json_object(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.one_of(st.sampled_from(sorted(inputs.FIELDS)), st.text(max_size=8)),
                          max_size=8, unique=True))
    return {name: draw(field_value(name)) for name in names}


bodies = st.one_of(
    json_object().map(lambda body: json.dumps(body).encode()),
    json_object().map(lambda body: json.dumps(body, ensure_ascii=False)
                      .encode("utf-8", "surrogatepass")),
    json_value.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"", b"{", b"[" * 5000, b'{"a":' * 3000, b"\xff\xfe", b"null", b"{}"]),
)
content_types = st.one_of(  # mostly JSON, so most requests get past Chalice's 415
    st.just("application/json"),
    st.sampled_from(["application/json; charset=utf-8", "text/plain",
                     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]))
token_kinds = st.sampled_from(["valid", "none", "garbage", "forged", "unsigned"])
queries = st.dictionaries(st.sampled_from(["notice", "username", "next"]), any_text, max_size=2)


# --- the properties ------------------------------------------------------------------------

def assert_well_formed(response: Any) -> None:
    status = response.status_code
    body = response.body if isinstance(response.body, bytes) else str(response.body).encode()
    assert status < 500, (status, body[:300])
    assert b"Traceback" not in body and b'File "' not in body
    headers = {name.lower(): value for name, value in response.headers.items()}
    for name in SECURITY_HEADERS:
        assert name.lower() in headers, (name, status)
    if status >= 400:
        assert headers["content-type"] == "application/json", (status, headers)
        answer = json.loads(body)
        assert set(answer) == {"error", "message"}, answer
        assert isinstance(answer["error"], str) and re.fullmatch(r"[A-Z][A-Za-z]+", answer["error"])
        assert isinstance(answer["message"], str) and answer["message"].strip()


@pytest.fixture(scope="module")
def person_tokens() -> dict[str, str]:
    return {}


@pytest.fixture
def tokens(register, make_token, person_tokens) -> dict[str, str]:
    """Authorization headers of each kind: a real person's, none, garbage, forged, unsigned."""
    if not person_tokens:
        person_tokens["valid"] = register()["idToken"]
    forged = make_token(key=_other_key())
    header, payload, _ = person_tokens["valid"].split(".")
    return {"valid": f"{person_tokens['valid']}", "none": "", "garbage": "Bearer garbage",
            "forged": f"{forged}", "unsigned": f"{header}.{payload}."}


@functools.lru_cache(maxsize=1)
def _other_key() -> Any:
    """A key that is not the pool's, made once (a 2048-bit key costs ~40 ms; every route's
    test forges with it)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("path,method", routes())
@FUZZ
@given(body=bodies, content_type=content_types, token=token_kinds, query=queries)
@example(body=b"[" * 5000, content_type="application/json", token="valid", query={})
@example(body=b'{"username": "ab\\ud800cd", "password": "\\u0000"}',
         content_type="application/json", token="valid", query={})
@example(body=b'{"name": "Ada\\u001b[31m", "email": "ada\\u001b[31m@example.com", '
              b'"username": "ada", "password": "Corr3ct-horse"}',
         content_type="application/json", token="valid", query={})
def test_any_request_gets_a_success_or_a_4xx_in_our_shape_never_a_5xx(
        client, tokens, path, method, body, content_type, token, query):
    url = re.sub(r"\{[^}]+\}", "x", path)
    if query:
        url += "?" + urllib.parse.urlencode(
            {k: v.encode("utf-8", "surrogatepass") for k, v in query.items()})
    headers = {"Content-Type": content_type} if content_type else {}
    if tokens[token]:
        headers["Authorization"] = tokens[token]
    response = client.http.request(method, url, body=body, headers=headers)
    assert_well_formed(response)


# --- the input checks on their own (no app, many examples) ---------------------------------

@settings(max_examples=300, deadline=None, database=None)
@given(raw=bodies, required=st.lists(st.sampled_from(sorted(inputs.FIELDS)), unique=True,
                                     max_size=4))
def test_json_body_returns_only_clean_text_or_refuses_with_a_4xx(raw, required):
    try:
        fields = inputs.json_body(raw, *required)
    except ApiError as error:
        assert 400 <= error.status < 500 and error.code and error.message.endswith(".")
        return
    assert set(fields) == set(required)
    for name, value in fields.items():
        field = inputs.FIELDS[name]
        assert isinstance(value, str) and value.strip() and len(value) <= field.max_length
        value.encode("utf-8")  # no lone surrogate
        assert not any(unicodedata.category(char) == "Cc" for char in value), repr(value)


@settings(max_examples=300, deadline=None, database=None)
@given(name=st.sampled_from(sorted(inputs.FIELDS)),
       value=st.text(st.characters(exclude_categories=()), max_size=20),
       control=st.characters(categories=["Cc"]), cut=st.integers(min_value=0, max_value=20))
def test_no_field_lets_a_control_character_through(name, value, control, cut):
    field = inputs.FIELDS[name]
    with pytest.raises(ApiError):  # inside the text, it is refused
        field.clean("a" + value[:cut] + control + value[cut:] + "b")
    try:  # at an edge, it is refused or stripped with the spaces
        cleaned = field.clean(control + value + control)
    except ApiError:
        return
    assert not any(unicodedata.category(char) == "Cc" for char in cleaned), repr(cleaned)
