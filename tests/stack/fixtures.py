"""The fixtures of the tiers that run against the local AWS in this process: tests/stack (is
the app right) and tests/local (is the emulation right). Registered once for the whole session
(tests/conftest.py's pytest_plugins), so both tiers share one moto server per worker.

One moto server (the same local AWS `make run` uses, Cognito gaps closed) runs
for the whole session. Each module gets one stack (the server reset, the resources of
infra/template.yaml freshly created in it) that its tests share: they make their own
users. A test that counts global state asks for `fresh_stack` and gets a stack of its own.
"""
from __future__ import annotations

import functools
import io
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from tests.helpers import PASSWORD, Clock, post
from tests.stack.deploying import clone
from tests.stack.helpers import chalice_client, stack_for

if TYPE_CHECKING:  # imported when the local AWS starts: the other tiers never import local/ here
    from local.local_aws import LocalAWS
    from local.run.outbox import Outbox


@pytest.fixture(scope="session")
def local_aws() -> LocalAWS:
    from local.local_aws import LocalAWS
    from local.run.outbox import Outbox

    aws = LocalAWS(Outbox(stream=io.StringIO())).start()
    yield aws
    aws.stop()


class _Stacks:
    """The one stack the session's moto server holds, and whom it was built for.

    A stack is built (server reset, the template's resources created, the outbox
    emptied) when a test's owner differs from the current one: its module, or the
    test itself when it asked for `fresh_stack`.
    """

    def __init__(self, local_aws: LocalAWS) -> None:
        self.local_aws = local_aws
        self.owner: str | None = None
        self.env: dict[str, str] = {}
        self._created: tuple[bytes, dict[str, str]] | None = None

    def for_owner(self, owner: str) -> dict[str, str]:
        if owner != self.owner:
            self.owner = None  # a failed build leaves no stack anyone may reuse
            self.local_aws.reset()
            self.local_aws.outbox.messages.clear()
            self.env = self._build()
            self.owner = owner
        return self.env

    def _build(self) -> dict[str, str]:
        """The template's resources, created through the API once per session; after that
        the same freshly created backends restored from their snapshot (local/run/moto_pickle.py,
        what `make run` saves across restarts): about 0.1 s instead of 1.3 s."""
        import pickle

        from local.run import moto_pickle

        if self._created is None:
            env = self.local_aws.create_resources("local")
            snapshot = io.BytesIO()
            moto_pickle.Pickler(snapshot, protocol=pickle.HIGHEST_PROTOCOL).dump(
                moto_pickle.dump_backends())
            self._created = (snapshot.getvalue(), env)
            return dict(env)
        snapshot_bytes, env = self._created
        moto_pickle.load_backends(pickle.loads(snapshot_bytes))  # noqa: S301 - made just above
        return dict(env)


@pytest.fixture(scope="session")
def _stacks(local_aws: LocalAWS) -> _Stacks:
    return _Stacks(local_aws)


@pytest.fixture
def stack(request: pytest.FixtureRequest, _stacks: _Stacks) -> Iterator[dict[str, str]]:
    """The stack of this test's module, shared by its tests (each makes its own users, so
    they need no stack of their own: about 1.5 s saved per test); or a stack of the test's
    own when it (or its module, by `pytestmark = pytest.mark.usefixtures("fresh_stack")`)
    asks for `fresh_stack`. Its outputs are in os.environ, like a deployed stage's, and the
    app's caches are cleared around every test."""
    fresh = "fresh_stack" in request.fixturenames
    with stack_for(_stacks, request.node.nodeid if fresh else request.module.__name__,
                   alone=fresh) as env:
        yield env


@pytest.fixture
def fresh_stack(stack: dict[str, str]) -> dict[str, str]:
    """A stack built for this test alone: for a test that counts or lists global state
    (every item of a table, every message of a queue or the outbox, every recorded call)."""
    return stack


@pytest.fixture
def outbox(local_aws: LocalAWS) -> Outbox:
    return local_aws.outbox


@pytest.fixture
def client(stack: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    with chalice_client(monkeypatch) as made:
        yield made


@pytest.fixture
def register(client: Any, outbox: Outbox) -> Callable[..., dict[str, str]]:
    """Sign up, verify with the emailed code, log in: returns the login tokens + who."""

    def make(name: str = "Ada Lovelace", username: str | None = None,
             password: str = PASSWORD, log_in: bool = True) -> dict[str, Any]:
        username = username or f"user{uuid.uuid4().hex[:8]}"
        email = f"{username}@example.com"
        response = post(client, "/api/auth/signup",
                        {"name": name, "email": email, "username": username, "password": password})
        assert response.status_code == 201, response.body
        code = outbox.last_code(email)
        response = post(client, "/api/auth/confirm", {"username": username, "code": code})
        assert response.status_code == 200, response.body
        person = {"name": name, "email": email, "username": username, "password": password}
        if log_in:
            response = post(client, "/api/auth/login", {"username": username, "password": password})
            assert response.status_code == 200, response.body
            person.update(response.json_body)
        return person

    return make


@pytest.fixture(scope="session")
def signing_key(local_aws: LocalAWS) -> Any:
    """The private key the local AWS signs every pool's tokens with (a valid signature)."""
    return local_aws.signing_key.private


@pytest.fixture
def make_token(stack: dict[str, str], local_aws: LocalAWS,
               signing_key: Any) -> Callable[..., str]:
    """An ID token signed with the pool's real key, with any claim overridden."""
    import jwt

    def make(key: Any = None, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{stack['USER_POOL_ID']}",
            "sub": str(uuid.uuid4()),
            "aud": stack["USER_POOL_CLIENT_ID"],
            "token_use": "id",
            "iat": now,
            "auth_time": now,
            "exp": now + 3600,
            "cognito:username": "mallory",
            "name": "Mallory",
            "email": "mallory@example.com",
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key or signing_key, algorithm="RS256",
                          headers={"kid": local_aws.signing_key.kid, **(headers or {})})

    return make


@pytest.fixture
def signed_up(client: Any) -> dict[str, str]:
    """A person who signed up and has not entered the emailed code yet."""
    from tests.stack.helpers import assert_ok, new_person

    person = new_person()
    assert_ok(post(client, "/api/auth/signup", person), 201)
    return person


@pytest.fixture
def no_cached_credentials() -> Iterator[None]:
    """chalicelib/cognito_credentials.py forgets every cached credential before and after."""
    from chalicelib import cognito_credentials

    cognito_credentials.forget_all()
    yield
    cognito_credentials.forget_all()


@pytest.fixture
def s3(local_aws: LocalAWS) -> Any:
    """The local AWS's S3 with the operator's keys: to look behind the app's back."""
    return local_aws.session().client("s3", endpoint_url=local_aws.endpoint)


@pytest.fixture
def person(client: Any, register: Callable[..., dict], stack: dict[str, str],
           dev_s3: Any) -> Callable[[], Any]:
    """A newly registered person with credentials (tests.helpers.Person), whose profile the
    pipeline archived."""
    from tests.stack.helpers import Person, credentials_for

    def make() -> Any:
        tokens = register()
        someone = Person(tokens, credentials_for(client, tokens), stack)
        # What the archive Lambda writes (the app's own keys).
        dev_s3.put_object(Bucket=someone.bucket, Key=someone.profile, Body=b'{"name": "x"}')
        return someone

    return make


@pytest.fixture
def dev_s3(local_aws: Any, stack: dict[str, str]) -> Any:
    """S3 with the app's own development keys."""
    return local_aws.session().client("s3", endpoint_url=stack["AWS_ENDPOINT_URL"])


@pytest.fixture
def console(stack, local_aws):
    """The event pump delivering to the app's handlers, as `make run` runs it: its console lines."""
    from app import app
    from local.event_sources.pump import Pump

    lines: list[str] = []
    pump = Pump(app, local_aws.session(), local_aws.endpoint, "us-east-1", say=lines.append,
                retry_delay=0, queue_wait=1).start()
    yield lines
    pump.stop()


# --- moto in-process, for the deploy commands (infra/) -----------------------------------------

@pytest.fixture
def no_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere: no variables, no files, no instance metadata."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws(no_aws_env: None, monkeypatch: pytest.MonkeyPatch):
    """moto in-process, with credentials and a region, like a configured shell; its session
    keeps its clients (the deploy commands ask for the same ones many times)."""
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield _deploy_session()


@functools.lru_cache(maxsize=1)
def _deploy_session() -> Any:
    """One session for every test's in-process moto (each mock_aws starts from nothing, and
    moto answers a client made under an earlier one: its stub is in every client botocore
    makes once moto is imported)."""
    import boto3

    from local.kept_session import KeptSession

    return KeptSession(boto3.session.Session())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A checkout of the project's .chalice/ (config.json only) to deploy from."""
    return clone(tmp_path)


@pytest.fixture
def outputs(aws: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The stack stood in for (moto's CloudFormation has no Cognito): its outputs, with the
    queues and the stream the mappings read made in moto."""
    from infra import stack
    from tests.stack.chalice_in_moto import stage_sources

    made = stage_sources(aws)
    monkeypatch.setattr(stack, "deploy_stack", lambda *a, **k: "unchanged")
    monkeypatch.setattr(stack, "stack_outputs", lambda cfn, stage: made)
    return made


@pytest.fixture
def clock(stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """One fake time for the app's limits and the local AWS (its codes, TOTP and locks)."""
    from chalicelib import attempts
    from local.server import clock as local_clock

    fake = Clock()
    monkeypatch.setattr(attempts.limits(), "clock", fake)
    with local_clock.set(fake):
        yield fake


@pytest.fixture(scope="module")
def idp_client(local_aws: Any) -> Any:
    """Cognito of the local AWS, asked once (no retries: a refusal is the answer tested)."""
    from botocore.config import Config

    return local_aws.session().client("cognito-idp", endpoint_url=local_aws.endpoint,
                                      config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def idp(idp_client: Any, stack: dict[str, str]) -> Any:
    """Cognito of the module's stack."""
    return idp_client


@pytest.fixture
def now() -> Iterator[list[float]]:
    """The local emulations' clock (local/server/clock.py), moved by the test: now[0] seconds."""
    from local.server import clock as local_clock

    moment = [100.0]
    with local_clock.set(lambda: moment[0]):
        yield moment
