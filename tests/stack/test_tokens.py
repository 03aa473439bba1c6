"""ID token verification (chalicelib/tokens.py) and the guard of every route with an
authorizer (chalicelib/guard.py).

Locally nothing else checks tokens: chalice's local gateway only base64-decodes the
payload (see FIELD-NOTES). So every bad token below must get our 401 JSON from the
app itself, on every guarded route, and a good one must get through.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import time
from types import SimpleNamespace
from typing import Any, Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib import tokens
from chalicelib.errors import Unauthorized
from tests.helpers import post

GUARDED = [("GET", "/api/greeting"), ("GET", "/api/greeting/card"),
           ("POST", "/api/auth/credentials")]
# The account routes a person uses before having a token: the only public ones under /api.
PUBLIC_API = {f"/api/auth/{name}" for name in
              ("signup", "confirm", "resend", "login", "login/code", "login/recovery", "refresh",
               "logout", "forgot", "reset", "email-code", "login/email-code", "passkey",
               "login/passkey")}


def routes_with_an_authorizer() -> list[tuple[str, str]]:
    from app import app

    return sorted((method, path) for path, methods in app.routes.items()
                  for method, entry in methods.items() if entry.authorizer is not None)


# Every route with an authorizer, including any added later, gets every bad token.
ALL_GUARDED = sorted(set(GUARDED) | set(routes_with_an_authorizer()))

# chalice's local gateway warns when a token has no cognito:username; the guard decides.
pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64(data: bytes | dict) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def assert_401(response: Any, code: str) -> str:
    assert response.status_code == 401, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    message = body["message"]
    assert message[0].isupper() and message.endswith(".") and len(message.split()) >= 3, message
    assert "Error" not in message and "Traceback" not in message and "{" not in message
    return message


def call(client: Any, method: str, path: str, authorization: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    body = b"{}" if method in ("POST", "PUT", "PATCH") else b""
    path = re.sub(r"\{[^}]+\}", "x", path)  # any {param} of a route added later
    return client.http.request(method, path, headers=headers, body=body)


def assert_let_through(response: Any, path: str) -> None:
    # The greeting may answer 202 while it is prepared (Parameter Store, async pipeline).
    allowed = (200,) if path == "/api/auth/credentials" else (200, 202)
    assert response.status_code in allowed, response.body


# --- every kind of bad token, and every guarded route --------------------------------

def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def _alg_none(make_token: Callable, key: Any) -> str:
    token = make_token()
    payload = token.split(".")[1]
    return f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': kid_of(token)})}.{payload}."


def _hs256_with_the_public_key(make_token: Callable, key: Any) -> str:
    """The classic RS256/HS256 confusion: HMAC signed with the pool's public key as secret."""
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    token = make_token()
    payload = token.split(".")[1]
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid_of(token)})}.{payload}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def _tampered_payload(make_token: Callable, key: Any) -> str:
    header, _, signature = make_token().split(".")
    forged = {**claims_of(make_token()), "name": "Admin", "cognito:username": "admin"}
    return f"{header}.{b64(forged)}.{signature}"


def _attacker_key_in_the_header(make_token: Callable, other: Any) -> str:
    """Signed with the attacker's key, which the header offers as `jwk` (and `jku`)."""
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(other.public_key()))
    return make_token(key=other, headers={"jwk": public_jwk,
                                          "jku": "https://attacker.example/jwks.json"})


def _rs512_real_key(make_token: Callable, key: Any) -> str:
    token = make_token()
    return jwt.encode(claims_of(token), key, algorithm="RS512", headers={"kid": kid_of(token)})


def _payload_not_an_object(make_token: Callable, key: Any) -> str:
    header, _, signature = make_token().split(".")
    return f"{header}.{b64(b'[1, 2]')}.{signature}"


BAD_TOKENS: dict[str, tuple[Callable[..., str | None], str]] = {
    # name: (build(make_token, real_key, other_key, now) -> Authorization value, error code)
    "missing header": (lambda mk, key, other, now: None, "MissingToken"),
    "empty header": (lambda mk, key, other, now: "", "MissingToken"),
    "blank header": (lambda mk, key, other, now: "   ", "MissingToken"),
    "Bearer without a token": (lambda mk, key, other, now: "Bearer ", "InvalidToken"),
    "garbage": (lambda mk, key, other, now: "garbage", "InvalidToken"),
    "a.b.c": (lambda mk, key, other, now: "a.b.c", "InvalidToken"),
    "Bearer garbage": (lambda mk, key, other, now: "Bearer garbage", "InvalidToken"),
    # API Gateway's Cognito authorizer is documented with the token itself (tokens.py).
    "valid token after Bearer": (lambda mk, key, other, now: f"Bearer {mk()}", "InvalidToken"),
    "valid token after bearer": (lambda mk, key, other, now: f"bearer {mk()}", "InvalidToken"),
    "Basic credentials": (lambda mk, key, other, now: "Basic dXNlcjpwYXNz", "InvalidToken"),
    "forged signature": (lambda mk, key, other, now: mk(key=other), "InvalidToken"),
    "tampered payload": (lambda mk, key, other, now: _tampered_payload(mk, key), "InvalidToken"),
    "signature stripped": (lambda mk, key, other, now: mk().rsplit(".", 1)[0] + ".",
                           "InvalidToken"),
    "attacker's key offered in the header": (
        lambda mk, key, other, now: _attacker_key_in_the_header(mk, other), "InvalidToken"),
    "alg none (unsigned)": (lambda mk, key, other, now: _alg_none(mk, key), "InvalidToken"),
    "HS256 with the public key as secret": (
        lambda mk, key, other, now: _hs256_with_the_public_key(mk, key), "InvalidToken"),
    "RS512 with the real key": (lambda mk, key, other, now: _rs512_real_key(mk, key),
                                "InvalidToken"),
    "expired": (lambda mk, key, other, now: mk(exp=now - 60), "TokenExpired"),
    "expired long ago": (lambda mk, key, other, now: mk(exp=1, iat=0, auth_time=0),
                         "TokenExpired"),
    "not valid yet (nbf)": (lambda mk, key, other, now: mk(nbf=now + 3600), "InvalidToken"),
    "issued in the future (iat)": (lambda mk, key, other, now: mk(iat=now + 3600),
                                   "InvalidToken"),
    "wrong audience": (lambda mk, key, other, now: mk(aud="other-app-client"), "InvalidToken"),
    "other pool (issuer)": (
        lambda mk, key, other, now: mk(iss="https://cognito-idp.us-east-1.amazonaws.com/"
                                           "us-east-1_OtherPool"), "InvalidToken"),
    "issuer of another region": (
        lambda mk, key, other, now: mk(iss=claims_of(mk())["iss"].replace(
            "us-east-1.", "eu-west-1.", 1)), "InvalidToken"),
    "access token (token_use=access)": (lambda mk, key, other, now: mk(token_use="access"),
                                        "InvalidToken"),
    "no token_use": (lambda mk, key, other, now: mk(token_use=None), "InvalidToken"),
    "no exp": (lambda mk, key, other, now: mk(exp=None), "InvalidToken"),
    "no aud": (lambda mk, key, other, now: mk(aud=None), "InvalidToken"),
    "no iss": (lambda mk, key, other, now: mk(iss=None), "InvalidToken"),
    "unknown kid": (lambda mk, key, other, now: mk(headers={"kid": "rotated-away"}),
                    "InvalidToken"),
    "payload not an object": (lambda mk, key, other, now: _payload_not_an_object(mk, key),
                              "InvalidToken"),
}


# The guard looks only at whether a route has the authorizer, and the verification does not
# depend on the route: every kind of bad token on one guarded route, and one bad token on
# every guarded route (read from app.routes, so a new route is covered), prove what every
# combination would.
ONE_ROUTE = ("GET", "/api/greeting")
ONE_BAD_TOKEN = "forged signature"


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_every_kind_of_bad_token_gets_401_json(client, make_token, signing_key, other_key, case):
    build, code = BAD_TOKENS[case]
    authorization = build(make_token, signing_key, other_key, int(time.time()))
    assert_401(call(client, *ONE_ROUTE, authorization), code)


@pytest.mark.parametrize("method,path", ALL_GUARDED, ids=[f"{m} {p}" for m, p in ALL_GUARDED])
def test_a_bad_token_gets_401_json_on_every_guarded_route(client, make_token, signing_key,
                                                          other_key, method, path):
    build, code = BAD_TOKENS[ONE_BAD_TOKEN]
    authorization = build(make_token, signing_key, other_key, int(time.time()))
    assert_401(call(client, method, path, authorization), code)


def test_one_route_and_one_bad_token_stand_for_the_rest():
    assert ONE_ROUTE in ALL_GUARDED and ONE_BAD_TOKEN in BAD_TOKENS


def test_the_greeting_and_credentials_routes_have_an_authorizer():
    assert set(GUARDED) <= set(routes_with_an_authorizer())


def test_every_api_route_but_the_account_ones_has_an_authorizer():
    from app import app

    unguarded = sorted(f"{method} {path}" for path, methods in app.routes.items()
                       if path.startswith("/api/") and path not in PUBLIC_API
                       for method, entry in methods.items() if entry.authorizer is None)
    assert unguarded == []


def test_an_expired_token_says_the_session_expired(client, make_token):
    message = assert_401(call(client, "GET", "/api/greeting", make_token(exp=1)), "TokenExpired")
    assert message == "Your session has expired. Please log in again."


def test_an_access_token_is_told_to_use_the_id_token(client, make_token):
    message = assert_401(call(client, "GET", "/api/greeting", make_token(token_use="access")),
                         "InvalidToken")
    assert "ID token" in message


def test_a_missing_token_asks_to_log_in(client):
    message = assert_401(call(client, "GET", "/api/greeting", None), "MissingToken")
    assert message == "Log in to see this page."


def test_the_real_access_token_from_login_is_rejected(client, register):
    person = register()
    for method, path in GUARDED:
        assert_401(call(client, method, path, f"{person['accessToken']}"), "InvalidToken")


def test_a_token_signed_by_moto_for_another_pool_is_rejected(client, local_aws, make_token):
    """moto signs every pool's tokens with one key: only iss and aud tell pools apart."""
    idp = local_aws.session().client("cognito-idp", endpoint_url=local_aws.endpoint)
    pool = idp.create_user_pool(PoolName="someone-elses")["UserPool"]["Id"]
    app_client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="theirs",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="eve", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="eve", Password="Ev3-password",
                                Permanent=True)
    their_token = idp.initiate_auth(ClientId=app_client, AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "eve", "PASSWORD": "Ev3-password"},
                                    )["AuthenticationResult"]["IdToken"]
    for method, path in GUARDED:
        assert_401(call(client, method, path, f"{their_token}"), "InvalidToken")
    # ...even with our pool's issuer copied in: the audience is still theirs.
    assert_401(call(client, "GET", "/api/greeting",
                    make_token(aud=claims_of(their_token)["aud"])), "InvalidToken")


# --- a good token gets through ------------------------------------------------------------

@pytest.mark.parametrize("method,path", GUARDED, ids=[p for _, p in GUARDED])
@pytest.mark.parametrize("form", ["{}", "  {}  "])
def test_a_valid_token_is_let_through_as_the_header_itself(client, make_token, method, path,
                                                           form):
    assert_let_through(call(client, method, path, form.format(make_token())), path)


@pytest.mark.parametrize("method,path", GUARDED, ids=[p for _, p in GUARDED])
def test_the_id_token_from_a_real_login_is_let_through(client, register, method, path):
    person = register()
    assert_let_through(call(client, method, path, f"{person['idToken']}"), path)


def test_a_token_expired_within_the_leeway_is_still_accepted(client, make_token):
    token = make_token(exp=int(time.time()) - 1)
    assert_let_through(call(client, "GET", "/api/greeting", token), "/api/greeting")


def test_the_guard_leaves_public_routes_alone(client):
    assert client.http.get("/login", headers={"Authorization": "garbage"}).status_code == 200
    response = post(client, "/api/auth/login", {"username": "nobody", "password": "Wr0ng-pass"},
                    {"Authorization": "garbage"})
    assert response.status_code == 401
    # Cognito's answer, not the guard's
    assert json.loads(response.body)["error"] == "NotAuthorized"


def test_the_view_gets_the_verified_claims(client, make_token, monkeypatch):
    from chalicelib import guard

    seen = {}
    original = guard.claims

    def spy(request):
        seen.update(original(request))
        return seen

    monkeypatch.setattr(guard, "claims", spy)
    token = make_token(name="Ada Lovelace")
    call(client, "GET", "/api/greeting", f"{token}")
    assert seen == claims_of(token)


# --- tokens.py directly -----------------------------------------------------------------------

@pytest.mark.parametrize("header,token", [("abc.def.ghi", "abc.def.ghi"),
                                          ("  abc.def.ghi  ", "abc.def.ghi")])
def test_header_token_is_the_header_itself(header, token):
    assert tokens.header_token(header) == token


@pytest.mark.parametrize("header", [None, "", "   "])
def test_header_token_without_a_token_is_unauthorized_missing_token(header):
    with pytest.raises(Unauthorized) as caught:
        tokens.header_token(header)
    assert caught.value.code == "MissingToken" and caught.value.status == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "bearer    ", "Bearer abc.def.ghi",
                                    "bearer abc.def.ghi", "  Bearer   abc.def.ghi  ",
                                    "Basic dXNlcjpwYXNz"])
def test_header_token_refuses_a_scheme_before_the_token_saying_to_send_it_alone(header):
    with pytest.raises(Unauthorized) as caught:
        tokens.header_token(header)
    assert caught.value.code == "InvalidToken" and caught.value.status == 401
    assert "ID token itself" in caught.value.message


def test_verify_id_token_returns_the_claims_of_a_valid_token(stack, make_token):
    token = make_token(name="Ada Lovelace")
    claims = tokens.verify_id_token(token)
    assert claims == claims_of(token)
    assert claims["aud"] == stack["USER_POOL_CLIENT_ID"] and claims["token_use"] == "id"


@pytest.fixture
def jwks_fetches(stack, monkeypatch) -> SimpleNamespace:
    """A fresh key cache whose fetches are counted, and a clock the test moves."""
    state = SimpleNamespace(fetches=0, now=1000.0)

    def counting_fetch(url: str) -> dict:
        state.fetches += 1
        return tokens.fetch_keys(url)

    monkeypatch.setattr(tokens, "_keys", tokens.KeyCache(counting_fetch, lambda: state.now))
    return state


def test_unknown_kids_refetch_the_jwks_at_most_once_a_minute(client, make_token, jwks_fetches):
    good = make_token()
    unknown = [make_token(headers={"kid": f"forged-{i}"}) for i in range(10)]

    assert_let_through(call(client, "GET", "/api/greeting", good), "/api/greeting")
    assert jwks_fetches.fetches == 1
    for token in unknown:  # a flood of forged kids within the minute: no new fetch
        assert_401(call(client, "GET", "/api/greeting", token), "InvalidToken")
    assert jwks_fetches.fetches == 1

    jwks_fetches.now += tokens.MIN_REFETCH_SECONDS + 1
    for token in unknown:  # a minute later: one fetch (the kid may be a new key), not ten
        assert_401(call(client, "GET", "/api/greeting", token), "InvalidToken")
    assert jwks_fetches.fetches == 2

    assert_let_through(call(client, "GET", "/api/greeting", good), "/api/greeting")
    assert jwks_fetches.fetches == 2


def test_a_known_kid_uses_the_cached_keys_until_they_are_hours_old(make_token, jwks_fetches):
    for _ in range(5):
        tokens.verify_id_token(make_token())
    assert jwks_fetches.fetches == 1
    jwks_fetches.now += tokens.KEYS_TTL_SECONDS + 1
    tokens.verify_id_token(make_token())
    assert jwks_fetches.fetches == 2


def test_the_first_token_with_an_unknown_kid_fetches_the_keys_once(make_token, jwks_fetches):
    for i in range(5):
        with pytest.raises(Unauthorized):
            tokens.verify_id_token(make_token(headers={"kid": f"forged-{i}"}))
    assert jwks_fetches.fetches == 1


@pytest.fixture
def jwks_server(monkeypatch, jwks_fetches) -> SimpleNamespace:
    """Control what the key endpoint answers: the real JWKS, an outage, or any document."""
    import urllib.request

    real_urlopen = urllib.request.urlopen
    control = SimpleNamespace(down=False, document=None)

    def urlopen(url: str, timeout: float = 0) -> Any:
        if control.down:
            raise OSError("connection refused")
        if control.document is not None:
            return io.BytesIO(json.dumps(control.document).encode())
        return real_urlopen(url, timeout=timeout)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return control


def test_a_jwks_outage_keeps_the_cached_keys_and_retries_once_a_minute(
        client, make_token, jwks_fetches, jwks_server):
    good = make_token()
    assert_let_through(call(client, "GET", "/api/greeting", good), "/api/greeting")
    jwks_server.down = True
    jwks_fetches.now += tokens.KEYS_TTL_SECONDS + 1  # the keys are due for a refresh
    for _ in range(5):  # people stay logged in on the keys we have; one attempt
        assert_let_through(call(client, "GET", "/api/greeting", good), "/api/greeting")
        assert_401(call(client, "GET", "/api/greeting", make_token(headers={"kid": "new"})),
                   "InvalidToken")
    assert jwks_fetches.fetches == 2
    jwks_fetches.now += tokens.MIN_REFETCH_SECONDS + 1
    assert_let_through(call(client, "GET", "/api/greeting", good), "/api/greeting")
    assert jwks_fetches.fetches == 3
    jwks_server.down = False
    jwks_fetches.now += tokens.MIN_REFETCH_SECONDS + 1
    assert_let_through(call(client, "GET", "/api/greeting", good), "/api/greeting")
    assert_let_through(call(client, "GET", "/api/greeting", good), "/api/greeting")
    assert jwks_fetches.fetches == 4  # back to normal: cached for hours


@pytest.mark.parametrize("document", [[], {"keys": "none"}, {"no": "keys"}, "text"])
def test_a_key_endpoint_answering_something_else_is_401_not_500(client, make_token, jwks_server,
                                                                document):
    jwks_server.document = document
    message = assert_401(call(client, "GET", "/api/greeting", make_token()), "Unauthorized")
    assert "could not be checked" in message


def test_one_broken_key_in_the_jwks_does_not_hide_the_good_one(client, make_token, stack,
                                                               jwks_server):
    import urllib.request

    with urllib.request.urlopen(stack["COGNITO_JWKS_URL"], timeout=5) as response:
        real = json.load(response)
    jwks_server.document = {"keys": [{"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
                                     "not a key", *real["keys"]]}
    assert_let_through(call(client, "GET", "/api/greeting", make_token()), "/api/greeting")


def test_unreachable_keys_give_401_not_a_crash(client, make_token, monkeypatch):
    from chalicelib import config

    monkeypatch.setattr(tokens, "_keys", tokens.KeyCache())
    monkeypatch.setenv("COGNITO_JWKS_URL", "http://127.0.0.1:9/nowhere/.well-known/jwks.json")
    config.settings.cache_clear()
    try:
        message = assert_401(call(client, "GET", "/api/greeting", make_token()), "Unauthorized")
        assert "could not be checked" in message
    finally:
        monkeypatch.undo()
        config.settings.cache_clear()
