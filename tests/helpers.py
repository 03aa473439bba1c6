"""Helpers that several test modules share (fixtures stay in conftest.py)."""
from __future__ import annotations

import json
import re
import shutil
import time
import uuid
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
