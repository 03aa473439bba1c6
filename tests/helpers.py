"""Helpers that several tiers share (fixtures stay in each tier's conftest.py).

What only one tier uses lives beside it: tests/stack/helpers.py (the account API, files,
IAM, the pipeline's events), tests/browser/helpers.py (a person in Chromium).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Corr3ct-horse"

# Stack outputs as CloudFormation would return them (tests of deploy and package).
ACCOUNT = "210987654321"
REGION = "eu-west-1"


def post(client: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    """POST a JSON body through chalice's test client."""
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.http.post(path, body=raw,
                            headers={"Content-Type": "application/json", **(headers or {})})


def eventually(check: Callable[[], Any], timeout: float = 15, what: str = "it") -> Any:
    """The first truthy result of `check`, polled until `timeout` s (the pipeline is async)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def fake_outputs(stage: str = "dev", account: str = ACCOUNT,
                 region: str = REGION) -> dict[str, str]:
    """Stack outputs as CloudFormation would return them for infra/template.yaml."""
    pool = f"{region}_FakePool1"
    arn = f"arn:aws:{{}}:{region}:{account}:{{}}".format
    table = f"comm-it-{stage}-users"
    bucket = f"comm-it-{stage}-users-{account}-{region}"
    return {
        "UserPoolId": pool,
        "UserPoolArn": arn("cognito-idp", f"userpool/{pool}"),
        "UserPoolClientId": "fakeclientid0123456789abcd",
        "IdentityPoolId": f"{region}:3f1c2b7a-5d4e-4f60-9a8b-1c2d3e4f5a6b",
        "UsersTableName": table,
        "UsersTableArn": arn("dynamodb", f"table/{table}"),
        "UsersTableStreamArn": arn("dynamodb", f"table/{table}/stream/2026-11-26T00:00:00.000"),
        "ProcessedEventsTableName": f"comm-it-{stage}-processed-events",
        "ProcessedEventsTableArn": arn("dynamodb", f"table/comm-it-{stage}-processed-events"),
        "SecurityTableName": f"comm-it-{stage}-security",
        "SecurityTableArn": arn("dynamodb", f"table/comm-it-{stage}-security"),
        "UsersBucketName": bucket,
        "UsersBucketArn": f"arn:aws:s3:::{bucket}",
        "UserEventsTopicArn": arn("sns", f"comm-it-{stage}-user-authenticated"),
        "ProfileQueueName": f"comm-it-{stage}-save-profile",
        "ProfileQueueArn": arn("sqs", f"comm-it-{stage}-save-profile"),
        "ArchiveQueueName": f"comm-it-{stage}-archive-profile",
        "ArchiveQueueArn": arn("sqs", f"comm-it-{stage}-archive-profile"),
        "ProfileDeadLetterQueueArn": arn("sqs", f"comm-it-{stage}-save-profile-dlq"),
        "ArchiveDeadLetterQueueArn": arn("sqs", f"comm-it-{stage}-archive-profile-dlq"),
        "NameSyncDeadLetterQueueArn": arn("sqs", f"comm-it-{stage}-sync-name-dlq"),
        "QuotaQueueName": f"comm-it-{stage}-enforce-quota",
        "QuotaQueueArn": arn("sqs", f"comm-it-{stage}-enforce-quota"),
        "SignInQueueName": f"comm-it-{stage}-record-sign-in",
        "SignInQueueArn": arn("sqs", f"comm-it-{stage}-record-sign-in"),
        "EventsKeyArn": arn("kms", "key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"),
        "EmailSignInCodes": "off",  # no SES parameters given (the template's default)
        "Passkeys": "off",  # no relying party given
    }


def web_acl_request(stage: str = "dev") -> dict[str, Any]:
    """The template's web ACL (the per-client rate limit) as a CreateWebACL request, with
    the parameters' defaults: what CloudFormation creates for the stage."""
    from infra import template as infra_template
    from infra import waf

    template = infra_template.load()
    limit = int(template["Parameters"][waf.PARAMETER]["Default"])

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::Sub"}:
                return node["Fn::Sub"].replace("${Stage}", stage)
            if node == {"Ref": waf.PARAMETER}:
                return limit
            assert not any(key.startswith("Fn::") or key == "Ref" for key in node), node
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(template["Resources"][waf.ACL]["Properties"])


# --- the app's routes ------------------------------------------------------------------------

class Clock:
    """A clock the test moves, for code that takes its clock: `now`, in epoch seconds."""

    def __init__(self, now: float = 2_000_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def deployable_rest_api(apigateway: Any, name: str = "comm-it") -> str:
    """A REST API with one method (GET / on a MOCK integration), as `chalice deploy` leaves
    one: API Gateway deploys no API without a method. Its id."""
    api_id = apigateway.create_rest_api(name=name)["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET",
                          authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    return api_id


def app_routes() -> list[tuple[str, str]]:
    """Every (method, path) the app serves, read from app.routes (new routes included)."""
    from app import app

    return sorted((method, path) for path, methods in app.routes.items() for method in methods)


def page_paths() -> list[str]:
    """The app's pages: every GET route outside /api/ (without path parameters)."""
    return [path for method, path in app_routes()
            if method == "GET" and not path.startswith("/api/") and "{" not in path]


def app_paths_first_segments() -> set[str]:
    """The first segment of every route's path ("api", "login", ...), from app.routes."""
    return {path.strip("/").split("/")[0] for _, path in app_routes() if path.strip("/")}


# --- a running stack (tests.running.RunningStack, any server) ----------------------------------

def call(stack: Any, method: str, path: str, body: Any = None, token: str = "") -> tuple[int, Any]:
    """One HTTP request to a running stack's app (`tests.running.RunningStack`): (status, JSON)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        stack.app_url.rstrip("/") + "/" + path.lstrip("/"), method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": token} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def http_json(base_url: str, method: str, path: str, body: Any = None,
              token: str = "", timeout: float = 15) -> tuple[int, Any]:
    """A JSON request to any running server (the app, or the local AWS's /_local/ control
    calls): (status, decoded body, or the text when it is not JSON)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        base_url.rstrip("/") + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": token} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


# what the page sends on its every call (chalicelib/session_cookie.py)
PAGE = {"X-Comm-IT-Page": "1"}


def set_cookies(response: Any) -> list[str]:
    """The Set-Cookie headers of a chalice test client's answer (multi-valued: a list)."""
    for name, value in response.headers.items():
        if name.lower() == "set-cookie":
            return value if isinstance(value, list) else [value]
    return []


def cookie_header(response: Any) -> dict[str, str]:
    """The page's headers of its next call, with the cookie the answer set (name=value)."""
    pairs = {c.split(";", 1)[0] for c in set_cookies(response)}
    assert len(pairs) == 1, pairs
    return {**PAGE, "Cookie": pairs.pop()}


# --- the security table, in memory ---------------------------------------------------------

class MemoryTable:
    """chalicelib.security_table.SecurityTable's contract in a dict (versions, expiry): for
    tests that need no AWS, or whose AWS is one that does not answer."""

    def __init__(self) -> None:
        self.items: dict[str, dict] = {}

    def get(self, pk: str, now: float) -> dict | None:
        item = self.items.get(pk)
        return None if item is None or item["expires_at"] <= now else dict(item)

    def put(self, pk: str, values: dict, *, now: float, expires_at: float,
            replacing: dict | None) -> None:
        from chalicelib.security_table import Conflict

        current = self.items.get(pk)
        if replacing is None:
            if current is not None and current["expires_at"] > now:
                raise Conflict(pk)
        elif current is None or current["version"] != replacing["version"]:
            raise Conflict(pk)
        version = int((replacing or {}).get("version", 0)) + 1
        self.items[pk] = {**values, "version": version, "expires_at": expires_at}

    def delete(self, pk: str) -> None:
        self.items.pop(pk, None)


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical name."""
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def props(template: dict[str, Any], name: str) -> dict[str, Any]:
    """One resource's Properties."""
    return template["Resources"][name]["Properties"]


# A stage's record as `chalice deploy` writes it (.chalice/deployed/<stage>.json "resources"),
# small: the API's function and one event source mapping of each kind; and the environment
# naming the stream's dead-letter queue (what infra/event_sources.apply reads).
CHALICE_RECORD = [{"name": "api_handler", "resource_type": "lambda_function"},
                  {"name": "save_profile-sqs-event-source", "resource_type": "sqs_event",
                   "event_uuid": "u1"},
                  {"name": "sync_name-dynamodb-event-source", "resource_type": "dynamodb_event",
                   "event_uuid": "u2"}]
STREAM_DLQ_ENV = {
    "NAME_SYNC_DEAD_LETTER_QUEUE_ARN": "arn:aws:sqs:eu-west-1:1:comm-it-dev-sync-name-dlq"}
