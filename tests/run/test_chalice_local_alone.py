"""`chalice local` on its own, with no local AWS: the console says so at start, and the
sign-in answers say what is missing and how to start it (chalicelib/config.py,
chalicelib/aws.py, chalicelib/cognito.py). The handlers have no `if local:` branch:
the messages follow from the configuration alone.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from chalicelib import attempts, aws, cognito, config
from infra.template import env_name
from tests.helpers import ROOT, MemoryTable, eventually, fake_outputs, post
from tests.running import free_port, listening

PERSON = {"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada",
          "password": "Corr3ct-horse"}


def env_without_a_stack() -> dict[str, str]:
    stack_names = {env_name(name) for name in fake_outputs()} | {"COGNITO_JWKS_URL", "APP_STAGE"}
    return {k: v for k, v in os.environ.items()
            if k not in stack_names and not k.startswith("AWS_")}


@pytest.fixture(scope="module")
def chalice_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """`chalice local` as a person types it in the project, nothing else running."""
    port = free_port()
    out = tmp_path_factory.mktemp("chalice-local") / "console"
    env = {**env_without_a_stack(), "PYTHONUNBUFFERED": "1",
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
           "AWS_EC2_METADATA_DISABLED": "true"}
    chalice = Path(sys.executable).parent / "chalice"
    with out.open("wb") as console:
        process = subprocess.Popen([str(chalice), "local", "--no-autoreload", "--port", str(port)],
                                   cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=console, stderr=subprocess.STDOUT)

    try:
        eventually(lambda: listening(process, port, out.read_text), timeout=60,
                   what="chalice local to listen")
        yield port, out
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_console_says_at_start_that_no_stack_is_configured_and_how_to_run_one(chalice_local):
    _, out = chalice_local
    console = out.read_text()
    assert config.NO_STACK.format(name="USER_POOL_ARN") in console
    assert console.index("No AWS stack") < console.index("Serving on")


def test_the_pages_work_and_sign_up_says_what_is_missing_and_how_to_start_it(chalice_local):
    port, _ = chalice_local
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/signup", timeout=10) as page:
        assert page.status == 200
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/auth/signup", method="POST",
                                     data=json.dumps(PERSON).encode(),
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 503
    assert json.load(caught.value) == {"error": "ServiceUnavailable",
                                       "message": cognito.NOT_CONFIGURED}
    assert "make run" in cognito.NOT_CONFIGURED


@pytest.fixture
def bare_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from chalice.test import Client

    from app import app

    aws.forget_cache()
    config.settings.cache_clear()
    with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
        yield client
    aws.forget_cache()
    config.settings.cache_clear()


def test_a_configured_endpoint_that_does_not_answer_is_named_in_the_503(bare_app, monkeypatch):
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for name, value in {"USER_POOL_CLIENT_ID": "client", "SECURITY_TABLE_NAME": "security",
                        "AWS_ENDPOINT_URL": endpoint,
                        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    response = post(bare_app, "/api/auth/login", {"username": "ada", "password": "Corr3ct-horse"})
    assert response.status_code == 503
    message = json.loads(response.body)["message"]
    assert endpoint in message and "make run" in message


def test_without_a_configured_endpoint_the_503_names_none(bare_app, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    class Unreachable:
        def initiate_auth(self, **kwargs: object) -> None:
            raise EndpointConnectionError(
                endpoint_url="https://cognito-idp.eu-west-1.amazonaws.com/")

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("USER_POOL_CLIENT_ID", "client")
    monkeypatch.setattr(attempts.limits(), "table", MemoryTable())  # the limits answer
    monkeypatch.setattr(cognito, "client", lambda service: Unreachable())
    response = post(bare_app, "/api/auth/login", {"username": "ada", "password": "Corr3ct-horse"})
    assert response.status_code == 503
    assert json.loads(response.body)["message"] == \
        "The sign-in service did not answer. Please try again."
