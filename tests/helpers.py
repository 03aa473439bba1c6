"""Helpers that several test modules share (fixtures stay in conftest.py)."""
from __future__ import annotations

import base64
import json
import re
import shutil
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
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


def chromium_path() -> str:
    """Debian's chromium, or a failure that says how to install it (never a skip)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("The browser tests need Debian's chromium, and it is not on PATH. "
                    "Install it with `make chromium` (apt-get install chromium); "
                    "never `playwright install`.", pytrace=False)
    return path


def fake_outputs(stage: str = "dev", account: str = ACCOUNT, region: str = REGION) -> dict[str, str]:
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
        "UsersBucketName": bucket,
        "UsersBucketArn": f"arn:aws:s3:::{bucket}",
        "UserEventsTopicArn": arn("sns", f"comm-it-{stage}-user-authenticated"),
        "ProfileQueueName": f"comm-it-{stage}-save-profile",
        "ProfileQueueArn": arn("sqs", f"comm-it-{stage}-save-profile"),
        "ArchiveQueueName": f"comm-it-{stage}-archive-profile",
        "ArchiveQueueArn": arn("sqs", f"comm-it-{stage}-archive-profile"),
        "NameSyncDeadLetterQueueArn": arn("sqs", f"comm-it-{stage}-sync-name-dlq"),
        "QuotaQueueName": f"comm-it-{stage}-enforce-quota",
        "QuotaQueueArn": arn("sqs", f"comm-it-{stage}-enforce-quota"),
        "EventsKeyArn": arn("kms", "key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"),
    }


# --- the account API (/api/auth/*) -------------------------------------------------------

NEW_PASSWORD = "N3w-password-2"


def new_person(**overrides: Any) -> dict[str, str]:
    """A sign-up body for a person nobody has used yet (username unique per call)."""
    username = f"user{uuid.uuid4().hex[:8]}"
    person = {"name": "Grace Hopper", "email": f"{username}@example.com",
              "username": username, "password": PASSWORD}
    person.update(overrides)
    return person


def log_in(client: Any, username: str, password: str) -> Any:
    return post(client, "/api/auth/login", {"username": username, "password": password})


def emails_to(outbox: Any, address: str) -> list[Any]:
    return [email for email in outbox.messages if email.to.casefold() == address.casefold()]


def assert_human(message: Any) -> None:
    """A sentence for a person: capitalised, spaced words, ends like a sentence, no internals."""
    assert isinstance(message, str), message
    assert re.fullmatch(r"[A-Z][^\n]{9,}[.!?)]", message), message
    assert len(message.split()) >= 3, message
    assert not re.search(r"Exception|Traceback|botocore|moto|Error:|\{", message), message


def assert_error(response: Any, status: int, code: str) -> str:
    """`response` is our JSON error `status`/`code` with a human message; returns the message."""
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    assert_human(body["message"])
    return body["message"]


def assert_ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.body)


# --- the pipeline's events and the app's routes --------------------------------------------

def login_event(sub: str | None = None, name: str = "Ada Lovelace",
                at: str = "2026-11-26T10:00:00.000000Z", event_id: str | None = None) -> Any:
    """A "user authenticated" event, as the login publishes it."""
    from chalicelib.user_events import UserAuthenticated

    return UserAuthenticated(event_id=event_id or str(uuid.uuid4()), occurred_at=at,
                             sub=sub or str(uuid.uuid4()), username="ada", email="ada@example.com",
                             name=name)


def app_routes() -> list[tuple[str, str]]:
    """Every (method, path) the app serves, read from app.routes (new routes included)."""
    from app import app

    return sorted((method, path) for path, methods in app.routes.items() for method in methods)


def page_paths() -> list[str]:
    """The app's pages: every GET route outside /api/ (without path parameters)."""
    return [path for method, path in app_routes()
            if method == "GET" and not path.startswith("/api/") and "{" not in path]


def route_of(path: str) -> str | None:
    """The route pattern of app.routes that serves `path` (query ignored), or None."""
    from app import app

    asked = path.split("?", 1)[0].strip("/").split("/")
    for pattern in app.routes:
        parts = pattern.strip("/").split("/")
        if len(parts) == len(asked) and all(
                part == given or (part.startswith("{") and part.endswith("}"))
                for part, given in zip(parts, asked)):
            return pattern
    return None


def app_paths_first_segments() -> set[str]:
    """The first segment of every route's path ("api", "login", ...), from app.routes."""
    return {path.strip("/").split("/")[0] for _, path in app_routes() if path.strip("/")}


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


# --- the real-browser tests (tests/browser/): a person in Chromium against `make run` --------

GREETING_TIMEOUT = 20_000  # ms: the name reaches the greeting through an async pipeline
PHONE = {"width": 390, "height": 844}
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def unique(prefix: str = "user") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def sign_up(stack: Any, name: str = "Grace Hopper", verify: bool = True) -> dict:
    """A user made through the API (not the UI under test): verified unless told not to."""
    username = unique()
    person = {"name": name, "email": f"{username}@example.com", "username": username,
              "password": PASSWORD}
    status, body = call(stack, "POST", "api/auth/signup", person)
    assert status == 201, body
    if verify:
        code = stack.wait_for_code(person["email"])
        status, body = call(stack, "POST", "api/auth/confirm", {"username": username, "code": code})
        assert status == 200, body
    return person


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def path_of(stack: Any, path: str) -> re.Pattern:
    """The URL of an app page, with any query string."""
    return re.compile("^" + re.escape(stack.app_url + path) + r"(\?.*)?$")


def alert(page: Any) -> Any:
    return page.get_by_role("alert")


def log_in_on_page(page: Any, stack: Any, username: str, password: str) -> None:
    """Log in through the login page's form."""
    if not path_of(stack, "login").match(page.url):
        page.goto(stack.app_url + "login")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def expect_greeting(page: Any, stack: Any, name: str) -> None:
    from playwright.sync_api import expect

    expect(page).to_have_url(path_of(stack, "hello"))
    expect(page.locator("#greeting h1")).to_have_text(f"Hello, {name}", timeout=GREETING_TIMEOUT)


def session_storage(page: Any) -> dict:
    return page.evaluate("() => Object.fromEntries(Object.entries(sessionStorage))")


def horizontal_overflow(page: Any) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def axe_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2 A/AA and best-practice violations on the page as it is now."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make test` (it runs `npm ci`) or `npm ci`.",
                    pytrace=False)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # CDP evaluation: the page's CSP allows it
    found = page.evaluate(
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))", AXE_TAGS)
    return [json.dumps(violation) for violation in found]


# --- IAM: one authorization, and an evaluator for the policies infra/policy.py generates ---

@dataclass(frozen=True)
class Need:
    """One authorization AWS makes: this action on this resource, with this request context."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    call: str = ""


def iam_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, wanted in tests.items():
            if key not in context:
                if if_exists:
                    continue
                return False
            if base == "StringLike":
                ok = any(iam_match(w, context[key]) for w in as_list(wanted))
            elif base == "StringEquals":
                ok = context[key] in as_list(wanted)
            else:
                raise AssertionError(f"condition operator {operator} is not modelled here")
            if not ok:
                return False
    return True


def policy_allows(document: dict[str, Any], need: Need) -> bool:
    """Whether the policy document allows the need (no Deny, conditions as modelled)."""
    verdict = False
    for statement in document["Statement"]:
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement), statement
        if not any(iam_match(a, need.action, ignore_case=True)
                   for a in as_list(statement["Action"])):
            continue
        if not any(iam_match(r, need.resource) for r in as_list(statement["Resource"])):
            continue
        if not _conditions_hold(statement.get("Condition", {}), dict(need.context)):
            continue
        if statement["Effect"] == "Deny":
            return False
        verdict = True
    return verdict


# --- Your files (the /api/account/files routes) ---

FILES = "/api/account/files"
PROFILE = "/api/account/profile-document"


def bearer(person: dict) -> dict[str, str]:
    return {"Authorization": f"{person['idToken']}"}


def sub_of(person: dict) -> str:
    """The person's `sub`, read from their ID token."""
    import jwt

    return jwt.decode(person["idToken"], options={"verify_signature": False})["sub"]


def upload_file(client: Any, person: dict, name: Any, data: bytes = b"hello") -> Any:
    return post(client, FILES, {"name": name, "content": base64.b64encode(data).decode()},
                bearer(person))


def listed_files(client: Any, person: dict) -> dict:
    response = client.http.get(FILES, headers=bearer(person))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def listed_names(client: Any, person: dict) -> list[str]:
    return [item["name"] for item in listed_files(client, person)["files"]]


def delete_file(client: Any, person: dict, raw_path_name: str) -> Any:
    return client.http.delete(f"{FILES}/{raw_path_name}", headers=bearer(person))


def fetch_link(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def bucket_of(stack: dict[str, str]) -> str:
    return stack["USERS_BUCKET_NAME"]


class Refusing:
    """An S3 client on which IAM refuses everything (what AccessDenied looks like)."""

    def __init__(self, code: str = "AccessDenied"):
        self.code = code

    def __getattr__(self, operation: str):
        def refuse(**kwargs):
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": self.code, "Message": "Access Denied"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)
        return refuse


# --- A person of the local AWS with the identity pool's credentials ---

LOCAL_REGION = "us-east-1"  # the region of the local AWS (local/aws.py)


class Person:
    """Someone signed in, with the AWS credentials the app handed them."""

    def __init__(self, tokens: dict[str, Any], credentials: dict[str, str], stack: dict[str, str]):
        import jwt

        self.tokens = tokens
        self.credentials = credentials
        self.sub = jwt.decode(tokens["idToken"], options={"verify_signature": False})["sub"]
        self.bucket = stack["USERS_BUCKET_NAME"]
        self.endpoint = stack["AWS_ENDPOINT_URL"]

    def client(self, service: str = "s3", **changes: str) -> Any:
        import boto3

        keys = {"aws_access_key_id": self.credentials["accessKeyId"],
                "aws_secret_access_key": self.credentials["secretKey"],
                "aws_session_token": self.credentials["sessionToken"], **changes}
        return boto3.client(service, endpoint_url=self.endpoint, region_name=LOCAL_REGION, **keys)

    @property
    def s3(self) -> Any:
        return self.client("s3")

    def file(self, name: str) -> str:
        return f"users/{self.sub}/files/{name}"

    @property
    def profile(self) -> str:
        return f"users/{self.sub}/profile.json"


def credentials_for(client: Any, tokens: dict[str, Any]) -> dict[str, str]:
    response = post(client, "/api/auth/credentials", {},
                    {"Authorization": f"{tokens['idToken']}"})
    assert response.status_code == 200, response.body
    return response.json_body


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
