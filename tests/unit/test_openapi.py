"""docs/openapi.yaml, the API's OpenAPI document, held to app.py and chalicelib/inputs.py.

The fuzz (tests/run/test_fuzz.py) generates its requests from the document, so a route
missing from it would never be fuzzed, and a limit that drifted from inputs.py would
fuzz the wrong edges: these tests fail first.
"""
from __future__ import annotations

import base64
import functools
import json
from typing import Any

import pytest
import yaml

from chalicelib import file_names, inputs
from tests.helpers import ROOT, app_routes

DOCUMENT = ROOT / "docs" / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


def resolve(node: Any) -> Any:
    """`node` with its `$ref` (a local one, #/...) followed."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation the document names."""
    return sorted(((method.upper(), path, operation)
                   for path, item in document()["paths"].items()
                   for method, operation in item.items() if method in METHODS),
                  key=lambda found: found[:2])


def json_body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    body = resolve(operation.get("requestBody"))
    if not body:
        return None
    return resolve(body["content"]["application/json"]["schema"])


def documented_routes() -> list[tuple[str, str]]:
    return [(method, path) for method, path, _ in operations()]


def test_the_openapi_document_is_valid_openapi_3():
    from openapi_spec_validator import validate

    assert document()["openapi"].startswith("3.")
    validate(document())


def test_every_route_and_method_of_app_py_is_in_the_openapi_document():
    missing = sorted(set(app_routes()) - set(documented_routes()))
    assert not missing, f"add these routes of app.py to {DOCUMENT.name}: {missing}"


def test_the_openapi_document_names_no_route_or_method_app_py_does_not_have():
    extra = sorted(set(documented_routes()) - set(app_routes()))
    assert not extra, f"{DOCUMENT.name} names routes app.py does not have: {extra}"


def test_the_guarded_routes_and_only_they_require_the_id_token():
    from app import app

    guarded = sorted((method, path) for path, methods in app.routes.items()
                     for method, route in methods.items() if route.authorizer is not None)
    # An operation requires the token when every alternative of its security names one
    # ({} is "none needed": logout takes a token if it is sent).
    requiring = sorted((method, path) for method, path, operation in operations()
                       if (alternatives := operation.get("security", document().get("security")))
                       and all(alternatives))
    assert guarded and requiring == guarded
    scheme = document()["components"]["securitySchemes"]["idToken"]
    # The token itself, no "Bearer " (chalicelib/tokens.header_token): an apiKey header.
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")


def test_every_operation_documents_its_4xx_answers_in_the_error_shape():
    error = document()["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message"]
    assert error["additionalProperties"] is False
    assert {name: field["type"] for name, field in error["properties"].items()} == {
        "error": "string", "message": "string"}
    for method, path, operation in operations():
        answer = resolve(operation["responses"].get("4XX"))
        assert answer, f"{method} {path} documents no 4XX answer"
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}, (method, path)


# The upload's body is no form: inputs.upload_body and file_names check its name and content.
UPLOAD = ("POST", "/api/account/files")


def body_fields() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(METHOD, path, field, its schema) for every field of every JSON request body but the
    upload's."""
    return [(method, path, name, resolve(field))
            for method, path, operation in operations() if (method, path) != UPLOAD
            for name, field in (json_body_schema(operation) or {}).get("properties", {}).items()]


@pytest.mark.parametrize("field", sorted(inputs.FIELDS))
def test_each_body_field_has_the_length_limit_and_pattern_of_chalicelib_inputs(field):
    expected = inputs.FIELDS[field]
    uses = [(method, path, schema) for method, path, name, schema in body_fields()
            if name == field]
    assert uses, f"no request body of {DOCUMENT.name} has the field {field!r}"
    for method, path, schema in uses:
        assert schema["type"] == "string", (method, path)
        assert schema["maxLength"] == expected.max_length, (method, path)
        # inputs.py matches the whole value (re.fullmatch): anchored here.
        assert schema["pattern"] == f"^(?:{expected.pattern})$", (method, path)


def test_every_body_field_the_document_names_is_one_chalicelib_checks():
    unknown = sorted({(method, path, name) for method, path, name, _ in body_fields()
                      if name not in inputs.FIELDS and name != "keepSignedIn"})
    assert not unknown


def test_the_upload_limits_are_those_of_chalicelib():
    operation = document()["paths"]["/api/account/files"]["post"]
    fields = json_body_schema(operation)["properties"]
    assert resolve(fields["name"])["maxLength"] == file_names.MAX_NAME_BYTES
    # The base64 of the largest file, the part of the body's limit that is not the name.
    assert fields["content"]["maxLength"] == 4 * ((inputs.MAX_FILE_BYTES + 2) // 3)
    assert fields["content"]["maxLength"] < inputs.MAX_UPLOAD_BODY_BYTES


# Their bodies are read by chalicelib/session_cookie.py (every field optional: the page's
# cookie, or another client's token), or by inputs.upload_body: not by inputs.arguments.
NOT_ASKED_BY_ARGUMENTS = {("POST", "/api/auth/refresh"), ("POST", "/api/auth/logout"), UPLOAD}
SOME_PATH_VALUES = {"event_id": "0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0", "name": "notes.txt"}
CLAIMS = {"sub": "5f0c2b1a-0000-4000-8000-000000000000", "cognito:username": "ada"}
# Any token with these claims: the guard's check is replaced by one that accepts it (and
# chalice's test gateway only decodes the middle part).
A_TOKEN = "e30." + base64.urlsafe_b64encode(json.dumps(CLAIMS).encode()).decode().rstrip("=") \
    + ".c2ln"


@pytest.mark.parametrize(("method", "path"), [
    (method, path) for method, path, _ in operations()
    if method != "GET" and (method, path) not in NOT_ASKED_BY_ARGUMENTS])
def test_the_body_fields_a_route_asks_for_are_the_documented_required_ones(
        client, monkeypatch, method, path):
    from chalicelib import guard
    from chalicelib.errors import ApiError

    asked: list[str] = []

    def arguments(raw_body: Any, *fields: str) -> dict[str, str]:
        asked.extend(fields)  # every body reaches chalicelib this way (app.py's _body)
        raise ApiError("asked", code="Asked", status=418)

    monkeypatch.setattr(inputs, "arguments", arguments)
    monkeypatch.setattr(guard, "verify_id_token", lambda token: CLAIMS)
    operation = document()["paths"][path][method.lower()]
    schema = json_body_schema(operation) or {}
    response = client.http.request(method, path.format(**SOME_PATH_VALUES), body=b"{}",
                                   headers={"Content-Type": "application/json",
                                            "Authorization": A_TOKEN})
    assert sorted(asked) == sorted(schema.get("required", [])), (response.status_code,
                                                                 response.body)
    # No field the route ignores: every documented one is one it asks for.
    assert sorted(set(schema.get("properties", {})) - {"keepSignedIn"}) == sorted(
        schema.get("required", []))
