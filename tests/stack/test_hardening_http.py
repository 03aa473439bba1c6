"""Every answer of the app, whoever makes it, carries the security headers, and every
route refuses a body larger than it accepts (chalicelib/headers.py, chalicelib/inputs.py).

The routes come from app.routes, so a route added later is covered without a change here.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from chalice import Chalice

from chalicelib import inputs
from chalicelib.headers import SECURITY_HEADERS, security_headers
from chalicelib.inputs import MAX_BODY_BYTES
from tests.helpers import ROOT, deployable_rest_api


def routes() -> list[tuple[str, str]]:
    from app import app

    return sorted((path, method) for path, methods in app.routes.items() for method in methods)


def concrete(path: str) -> str:
    """A request path for a route path: every {capture} filled in."""
    return re.sub(r"\{[^}]+\}", "x", path)


def assert_secure(response: Any) -> None:
    headers = {name.lower(): value for name, value in response.headers.items()}
    for name, value in SECURITY_HEADERS.items():
        assert name.lower() in headers, (name, response.status_code, response.headers)
        if name != "Content-Security-Policy":  # a page has its own, with a script nonce
            assert headers[name.lower()] == value, (name, headers[name.lower()])
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


@pytest.fixture(scope="module")
def bare_client():
    """The app with no AWS behind it: nothing asked of it here gets that far."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local", project_dir=str(ROOT)) as test_client:
        yield test_client


def request(client: Any, method: str, path: str, body: bytes = b"{}",
            headers: dict[str, str] | None = None) -> Any:
    return client.http.request(method, path, body=body,
                               headers={"Content-Type": "application/json", **(headers or {})})


# --- security headers ---------------------------------------------------------------------

@pytest.mark.parametrize("path,method", routes())
def test_every_route_answers_with_the_security_headers(bare_client, path, method):
    response = request(bare_client, method, concrete(path))
    assert response.status_code < 500, response.body
    assert_secure(response)


def lacking() -> list[tuple[str, str, list[str]]]:
    """(path, a method the route lacks, the route's methods) for every route."""
    from app import app

    return sorted((path, method, sorted(methods)) for path, methods in app.routes.items()
                  for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
                  if method not in methods)


@pytest.mark.parametrize("path,method,allowed", lacking())
def test_every_route_refuses_a_method_it_lacks_with_allow_and_the_security_headers(
        bare_client, path, method, allowed):
    response = request(bare_client, method, concrete(path))
    assert response.status_code == 405
    assert json.loads(response.body)["error"] == "MethodNotAllowed"
    assert sorted(response.headers["Allow"].split(", ")) == allowed  # RFC 9110: a 405 MUST
    assert_secure(response)


def test_chalices_own_415_carries_the_security_headers(bare_client):
    response = request(bare_client, "POST", "/api/auth/login", b"username=ada",
                       {"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert_secure(response)


def test_the_500_of_a_crash_carries_the_security_headers(bare_client, monkeypatch):
    from chalicelib import cognito_sign_in

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cognito_sign_in, "log_in", crash)
    response = request(bare_client, "POST", "/api/auth/login",
                       json.dumps({"username": "ada", "password": "Corr3ct-horse"}).encode())
    assert response.status_code == 500
    assert_secure(response)


def test_a_header_an_answer_sets_itself_is_kept():
    from chalice import Response

    page = Response(body="<p>hi</p>", headers={"content-security-policy": "script-src 'nonce-1'"})
    response = security_headers(None, lambda event: page)
    assert response.headers["content-security-policy"] == "script-src 'nonce-1'"
    assert "Content-Security-Policy" not in response.headers  # not sent twice
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_keep_their_own_csp_with_a_script_nonce(bare_client):
    response = bare_client.http.get("/login")
    assert response.status_code == 200
    assert "script-src 'nonce-" in response.headers["Content-Security-Policy"]
    assert_secure(response)


def test_api_gateways_own_answers_carry_the_headers_a_static_value_can_hold(monkeypatch):
    """Deployed, API Gateway answers unknown paths and bad tokens itself (infra/gateway.py)."""
    import boto3
    from moto import mock_aws

    from infra import gateway

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # or mock_aws intercepts nothing
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name="eu-west-1")
        api_id = deployable_rest_api(apigateway)
        gateway.configure_api(apigateway, api_id, "api")
        for response_type in gateway.RESPONSE_TYPES:
            answer = apigateway.get_gateway_response(restApiId=api_id, responseType=response_type)
            headers = {k.removeprefix("gatewayresponse.header."): v.strip("'")
                       for k, v in answer["responseParameters"].items()}
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["X-Frame-Options"] == "DENY"
            assert headers["Cache-Control"] == "no-store"
            assert headers["Referrer-Policy"] == "no-referrer"


# --- the body limit -------------------------------------------------------------------------

def oversized(limit: int = MAX_BODY_BYTES) -> bytes:
    return json.dumps({"username": "ada", "pad": "x" * limit}).encode()


def assert_too_large(response: Any, limit: int = MAX_BODY_BYTES) -> None:
    assert response.status_code == 413, (response.status_code, response.body[:200])
    body = json.loads(response.body)
    assert body == {"error": "PayloadTooLarge",
                    "message": f"The request body is larger than {limit} bytes."}
    assert_secure(response)


def limit_of(path: str, method: str) -> int:
    """The body limit of a route: MAX_BODY_BYTES unless its view declares one (max_body)."""
    from app import app

    view = app.routes[path][method].view_function
    return getattr(view, "max_body_bytes", MAX_BODY_BYTES)


@pytest.mark.parametrize("path,method", routes())
def test_every_route_refuses_a_body_over_its_limit_with_413(bare_client, path, method):
    limit = limit_of(path, method)
    assert_too_large(request(bare_client, method, concrete(path), oversized(limit)), limit)


@pytest.mark.parametrize("path,method", routes())
def test_a_declared_content_length_over_the_limit_is_refused_before_the_body_is_read(
        bare_client, path, method):
    limit = limit_of(path, method)
    response = request(bare_client, method, concrete(path), b"{}",
                       {"Content-Length": str(limit + 1)})
    assert_too_large(response, limit)


def test_no_route_accepts_more_than_api_gateway_would_pass_on():
    from local.run.serve import MAX_REQUEST_BYTES

    assert all(limit_of(path, method) < MAX_REQUEST_BYTES for path, method in routes())


def test_a_10_mb_body_with_a_valid_token_is_413_on_the_guarded_credentials_route(client,
                                                                                 make_token):
    response = client.http.post(
        "/api/auth/credentials", body=b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json", "Authorization": f"{make_token()}"})
    assert_too_large(response)


def test_a_body_of_exactly_the_limit_reaches_the_route(bare_client):
    raw = json.dumps({"username": "ada", "pad": ""}).encode()
    raw = raw[:-2] + b"x" * (MAX_BODY_BYTES - len(raw)) + raw[-2:]
    response = request(bare_client, "POST", "/api/auth/login", raw)
    assert response.status_code == 400  # no password: the route read it
    assert json.loads(response.body)["error"] == "MissingParameter"


def test_a_route_may_declare_a_larger_limit_and_gets_exactly_it():
    from chalice.test import Client

    tiny = Chalice(app_name="limits")
    tiny.register_middleware(security_headers, "http")
    from chalicelib.errors import json_errors

    tiny.register_middleware(json_errors, "http")
    tiny.register_middleware(inputs.body_limit(tiny), "http")

    @tiny.route("/upload", methods=["POST"])
    @inputs.max_body(64 * 1024)
    def upload():
        return {"size": len(tiny.current_request.raw_body)}

    @tiny.route("/small", methods=["POST"])
    def small():
        return {"size": len(tiny.current_request.raw_body)}

    with Client(tiny) as test_client:
        fits = b"x" * (64 * 1024)
        assert json.loads(request(test_client, "POST", "/upload", fits).body) == {"size": len(fits)}
        assert_too_large(request(test_client, "POST", "/upload", fits + b"x"), 64 * 1024)
        assert_too_large(request(test_client, "POST", "/small", oversized()))
