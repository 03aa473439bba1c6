"""The API fuzzed: schemathesis sends what docs/openapi.yaml allows, and much that it does
not, to every operation of `make run`, as a real person signed in.

Whatever it sends, the app answers no 5xx, every 4xx is JSON with exactly
{"error": <text>, "message": <text>}, every answer conforms to the document (status code,
content type, body, documented headers), a guarded route refuses a request without its
token or with a wrong one (ignored_auth), and a method a route does not have gets 405 with
Allow. Bounded: schemathesis's coverage cases (each field's edges: missing, empty, too long,
wrong type, not matching; other content types and methods), then FUZZ_EXAMPLES generated
cases per operation, valid and not; no shrinking (a failure is reported as found).

The person's ID token goes with every request; their access token replaces a well-formed
generated one on their own account's routes (with_access_token), so the fuzz gets past the
first Cognito call there too.
"""
from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks

from chalicelib import inputs
from tests.helpers import PASSWORD, ROOT, app_routes, http_json
from tests.running import RunningStack

DOCUMENT = ROOT / "docs" / "openapi.yaml"
FUZZ_EXAMPLES = 20
ERROR_KEYS = {"error", "message"}

CONFIG = schemathesis.Config.from_dict({
    "generation": {"max-examples": FUZZ_EXAMPLES, "mode": "all", "database": "none",
                   "no-shrink": True},
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": True},
               "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
    "request-timeout": 30,
    # How long generating a case takes says nothing about the API, and 2 busy cores are slow.
    "suppress-health-check": ["too_slow"],
})
schema = schemathesis.openapi.from_path(DOCUMENT, config=CONFIG)


@schemathesis.check
def error_shape(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx is JSON and exactly {"error": <text>, "message": <text>}."""
    if not 400 <= response.status_code < 500:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (
        f"a {response.status_code} answered {content_type!r}, not JSON: {response.text[:200]!r}")
    body = json.loads(response.content)
    assert isinstance(body, dict) and set(body) == ERROR_KEYS, (
        f"a {response.status_code} answered {body!r}, not the error shape")
    assert all(isinstance(body[key], str) and body[key] for key in ERROR_KEYS), body


# Not negative_data_rejection nor positive_data_acceptance: the app strips fields before it
# checks them and Cognito has its own rules (password policy, codes), so "invalid per the
# document" and "refused by the app" differ on purpose at the edges.
CHECKS = [not_a_server_error, error_shape,
          openapi_checks.status_code_conformance, openapi_checks.content_type_conformance,
          openapi_checks.response_schema_conformance, openapi_checks.response_headers_conformance,
          openapi_checks.ignored_auth, openapi_checks.unsupported_method]


@pytest.fixture(scope="module")
def stack():
    with RunningStack() as running:
        yield running


@pytest.fixture(scope="module")
def sessions(stack: RunningStack) -> dict[str, dict[str, str]]:
    """A real person with two sessions: "main" for every request, "to end" for the logout
    route, which ends the session of the ID token it is sent (the main one must last)."""
    stack.sign_up("Fuzz Person", "fuzzperson", PASSWORD)
    found = {}
    for session in ("main", "to end"):
        status, answer = stack.log_in("fuzzperson", PASSWORD)
        assert status == 200, answer
        found[session] = answer
    return found


# Where the person's real access token goes: their own account's routes, but not
# logout-everywhere (nor the public logout), which would end the session the fuzz uses.
KEEPS_THE_SESSION = re.compile(r"/api/account(?!/logout-everywhere)(/.*)?")
ENDS_ITS_SESSION = {("POST", "/api/auth/logout")}


def with_access_token(case: schemathesis.Case, access_token: str) -> None:
    """The real access token in place of a generated one that is well formed; a field the
    case breaks on purpose (wrong type, too long, bad characters) stays broken."""
    body = case.body
    if (KEEPS_THE_SESSION.fullmatch(case.path) and isinstance(body, dict)
            and isinstance(body.get("accessToken"), str)
            and len(body["accessToken"]) <= inputs.TOKEN.max_length
            and re.fullmatch(inputs.TOKEN.pattern, body["accessToken"])):
        body["accessToken"] = access_token


def test_the_fuzz_covers_every_route_and_method_of_app_py():
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted((op.method.upper(), op.path) for op in operations) == app_routes()


@schema.parametrize()
def test_the_api_answers_no_5xx_and_every_4xx_in_the_error_shape(
        case: schemathesis.Case, stack: RunningStack, sessions: dict[str, dict[str, str]],
        request: pytest.FixtureRequest) -> None:
    ending = (case.method.upper(), case.path) in ENDS_ITS_SESSION
    tokens = sessions["to end" if ending else "main"]
    with_access_token(case, tokens["accessToken"])
    mark, err_mark = stack.mark(), len(stack.err_lines)
    try:
        case.call_and_validate(base_url=stack.app_url.rstrip("/"), checks=CHECKS,
                               headers={"Authorization": tokens["idToken"]})
    # schemathesis's FailureGroup is a BaseExceptionGroup; re-raised below.
    except BaseException:  # noqa: BLE001
        time.sleep(0.5)  # the console's reader threads catch up
        # Shown under the failure (pytest's report sections): a 5xx's traceback is there.
        request.node.add_report_section("call", "make run's console meanwhile", "\n".join(
            stack.lines[mark:] + stack.err_lines[err_mark:]))
        raise


def test_the_fuzz_ends_with_the_persons_main_session_alive(stack, sessions):
    # Else the guarded routes were fuzzed past their token check only until it ended.
    token = sessions["main"]["idToken"]
    status, answer = http_json(stack.app_url, "GET", "/api/account", token=token)
    assert status == 200, answer
    status, answer = http_json(stack.app_url, "POST", "/api/account/two-step", token=token,
                               body={"accessToken": sessions["main"]["accessToken"]})
    assert status == 200, answer
