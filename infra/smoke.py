"""`make smoke`: prove that a stage works, end to end, with a throwaway user.

    python -m infra.smoke --stage dev   # a deployed stage, with the deployer's credentials
    python -m infra.smoke               # `make run`'s stack (PORT, LOCAL_AWS_PORT), dev keys

It creates a user (admin-confirmed: no inbox needed), logs in through the public
API, waits for the pipeline (the DynamoDB record, users/<sub>/profile.json, the
name parameter, the greeting), checks the person's identity-pool credentials
reach their own profile and are refused another person's, reads back what must
be live (the event source mappings' settings, one API stage, throttling's 429,
the alarms), deletes the user through the app and checks only the tombstone is
left. One line per check: PASS, FAIL or SKIP and what it saw; exit 1 on any
FAIL. Whatever happens, it removes what it made (user, name parameter, files).

Locally, what exists only in AWS (event source mappings, the API stage,
throttling) prints SKIP; everything else runs against the local AWS.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from infra import event_sources, gateway, policy, stack
from infra import template as infra_template
from infra.errors import DeployError, aws_error

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 90.0  # the pipeline in AWS: SQS polling, a cold start or two, the stream
# The record a deleted account leaves in the users table (chalicelib/users_table.record_deletion).
TOMBSTONE_FIELDS = {"sub", "deleted_at", "details_at", "last_event_id"}
AWS_ONLY = "exists only in AWS"
# The checks that print SKIP against `make run`'s stack (what exists only in AWS).
EVENT_SOURCE_MAPPINGS, API_STAGE, THROTTLING = "event source mappings", "API stage", "throttling"
DATA_PROTECTED = "data protected"
AWS_ONLY_CHECKS = (EVENT_SOURCE_MAPPINGS, API_STAGE, THROTTLING, DATA_PROTECTED)
# Requests fired at once at a throttled route that sends no email (gateway.THROTTLES).
THROTTLE_ROUTE = ("/api/auth/confirm", "POST")


class Failed(Exception):
    """A check saw something wrong; the message says what."""


class Skipped(Exception):
    """A check cannot run here; the message says why."""


# --- where the stage is ----------------------------------------------------------------------

@dataclass
class Target:
    stage: str
    local: bool
    app_url: str  # the app's routes are <app_url>/api/..., as in the pages
    session: Any
    env: dict[str, str]  # the stack's names, as the app's environment variables
    endpoint_url: str | None = None
    rest_api_id: str = ""
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            self._clients[service] = self.session.client(
                service, endpoint_url=self.endpoint_url,
                config=Config(retries={"max_attempts": 2 if self.local else 5},
                              connect_timeout=10, read_timeout=30))
        return self._clients[service]

    def unsigned(self, service: str) -> Any:
        """A client that signs nothing: what anyone without AWS keys has."""
        from botocore import UNSIGNED
        from botocore.config import Config

        return self.session.client(service, endpoint_url=self.endpoint_url,
                                   config=Config(signature_version=UNSIGNED,
                                                 retries={"max_attempts": 2}))

    def client_as(self, service: str, credentials: dict[str, str]) -> Any:
        """A client signed with a person's identity-pool credentials."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session(
            aws_access_key_id=credentials["accessKeyId"],
            aws_secret_access_key=credentials["secretKey"],
            aws_session_token=credentials["sessionToken"],
            region_name=self.session.region_name,
        ).client(service, endpoint_url=self.endpoint_url,
                 config=Config(retries={"max_attempts": 2}))

    @property
    def bucket(self) -> str:
        return self.env["USERS_BUCKET_NAME"]

    def name_parameter(self, sub: str) -> str:
        from chalicelib import config

        settings = config.Settings(**{**{f: "" for f in config.Settings._fields},
                                      "stage": self.stage})
        return f"{settings.name_parameter_prefix}/{sub}/name"


def local_target() -> Target:
    """`make run`'s stack: the app and the local AWS at the ports `make run` uses."""
    import boto3

    from local import ports
    from local.local_aws import CREDENTIALS, REGION

    port, aws_port = (_port(name, ports.DEFAULTS[name]) for name in ("PORT", "LOCAL_AWS_PORT"))
    endpoint = f"http://127.0.0.1:{aws_port}"
    request = urllib.request.Request(f"{endpoint}/_local/outputs", method="POST", data=b"{}",  # noqa: S310 (the stage's own https or 127.0.0.1 URL)
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the stage's own https or 127.0.0.1 URL)
            env = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeployError(f"No local stack answers at {endpoint} ({exc}): start it with `make run` "
                          "(PORT and LOCAL_AWS_PORT choose the ports), or give STAGE=<stage> "
                          "to check a deployed stage.") from None
    session = boto3.session.Session(aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                    region_name=REGION)
    from infra.stage import LOCAL_STAGE

    return Target(stage=LOCAL_STAGE, local=True, app_url=f"http://127.0.0.1:{port}",
                  session=session, env=env, endpoint_url=endpoint)


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DeployError(f"{name}={raw!r} is not a port number (1-65535).")
    return int(raw)


def aws_target(stage: str, session: Any = None, project_dir: Path = ROOT) -> Target:
    """A deployed stage: its names from the stack outputs, the API from the stack (the
    package path) or from Chalice's record of its deployment (`make deploy`)."""
    from infra import chalice_cli
    from infra.credentials import check_credentials
    from infra.stage import api_gateway_stage, check_stage

    check_stage(stage)
    if session is None:
        import boto3

        session = boto3.session.Session()
    check_credentials(session)
    outputs = stack.stack_outputs(session.client("cloudformation"), stage)
    env = {infra_template.env_name(name): value for name, value in outputs.items()}
    rest_api_id, url = outputs.get("RestAPIId", ""), outputs.get("EndpointURL", "")
    if not (rest_api_id and url) and chalice_cli.deployed_file(project_dir, stage).exists():
        api = chalice_cli.deployed_rest_api(project_dir, stage)
        rest_api_id, url = api["rest_api_id"], api["rest_api_url"]
    if not (rest_api_id and url):
        rest_api_id = api_of_function(session.client("lambda"), stage)
        url = (f"https://{rest_api_id}.execute-api.{session.region_name}.amazonaws.com/"
               f"{api_gateway_stage(project_dir, stage)}")
    return Target(stage=stage, local=False, app_url=url.rstrip("/"), session=session, env=env,
                  rest_api_id=rest_api_id)


def api_of_function(lambda_client: Any, stage: str) -> str:
    """The REST API that may invoke the stage's API function (the permission `chalice deploy`
    adds names it): for a clone without Chalice's record of the deployment."""
    from infra.package import function_name

    name = function_name(stage, policy.API_HANDLER)
    try:
        statements = json.loads(lambda_client.get_policy(FunctionName=name)["Policy"])["Statement"]
    except Exception as exc:  # noqa: BLE001 - said as the reason the API cannot be found
        code, message = aws_error(exc)
        raise DeployError(f"Cannot find the stage's REST API: no Chalice record in "
                          f".chalice/deployed/ and no permission on {name} to read "
                          f"({code or type(exc).__name__}: "
                          f"{message or exc}). Run `make deploy STAGE={stage}` first.") from None
    from infra.deployed_in_aws import rest_apis_in_policy

    apis = rest_apis_in_policy({"Statement": statements})
    if len(apis) != 1:
        raise DeployError(f"Cannot tell the stage's REST API: {name} may be invoked by "
                          f"{len(apis)} APIs {apis}, and .chalice/deployed/{stage}.json is not "
                          f"here.")
    return apis[0]


def identity_pool_credentials(cognito_identity: Any, identity_pool_id: str, user_pool_id: str,
                              id_token: str) -> dict[str, str]:
    """A person's temporary AWS credentials, exchanged at Cognito Identity with their ID token
    alone, as anyone holding it can (GetId and GetCredentialsForIdentity need no AWS
    signature): the app's POST /api/auth/credentials hands out no key."""
    region = user_pool_id.split("_", 1)[0]
    logins = {f"cognito-idp.{region}.amazonaws.com/{user_pool_id}": id_token}
    identity = cognito_identity.get_id(IdentityPoolId=identity_pool_id,
                                       Logins=logins)["IdentityId"]
    answer = cognito_identity.get_credentials_for_identity(IdentityId=identity, Logins=logins)
    keys, expiration = answer["Credentials"], answer["Credentials"]["Expiration"]
    return {"identityId": identity, "accessKeyId": keys["AccessKeyId"],
            "secretKey": keys["SecretKey"], "sessionToken": keys["SessionToken"],
            "expiration": expiration.isoformat() if hasattr(expiration, "isoformat")
            else str(expiration)}


# Keys POST /api/auth/credentials must never answer (the AWS credentials themselves).
SECRET_FIELDS = {"accessKeyId", "secretKey", "sessionToken", "AccessKeyId", "SecretKey",
                 "SessionToken", "SecretAccessKey"}


# --- talking to the app --------------------------------------------------------------------

def http(target: Target, method: str, path: str, body: Any = None, token: str = "",
         timeout: float = 30) -> tuple[int, Any]:
    """(status, JSON body or text) of one request to the app's public API."""
    headers = {"Content-Type": "application/json"}
    if token:
        # the token itself, as the pages send it (templates/app.js)
        headers["Authorization"] = token
    request = urllib.request.Request(target.app_url + path, method=method, headers=headers,  # noqa: S310 (the stage's own https or 127.0.0.1 URL)
                                     data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the stage's own https or 127.0.0.1 URL)
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")[:200]


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified (the app verified it; we only read the sub)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def wait_for(probe: Callable[[], Any], seconds: float, what: str, sleep: float = 1.0) -> Any:
    """probe()'s first truthy answer; Failed, with the last thing seen, after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        seen = probe()
        if seen and not isinstance(seen, Pending):
            return seen
        if time.monotonic() >= deadline:
            detail = f" (last seen: {seen.seen})" if isinstance(seen, Pending) else ""
            raise Failed(f"no {what} within {seconds:.0f} s{detail}")
        time.sleep(sleep)


class Pending:
    """A probe's 'not yet', with what it saw."""

    def __init__(self, seen: Any) -> None:
        self.seen = seen


# --- the run -------------------------------------------------------------------------------

class Smoke:
    def __init__(self, target: Target, write: Callable[[str], None],
                 wait_seconds: float = WAIT_SECONDS) -> None:
        self.target = target
        self.write = write
        self.wait_seconds = wait_seconds
        self.failures = 0
        token = secrets.token_hex(5)
        self.username = f"smoke-{token}"
        self.email = f"smoke-{token}@example.com"
        self.name = f"Smoke Test {token}"
        self.password = f"Sm0ke-{secrets.token_urlsafe(12)}-aA1"
        self.decoy_sub = f"smoke-other-{token}"  # another person's key, never a real sub
        self.created = False
        self.tokens: dict[str, str] = {}
        self.sub = ""
        self.credentials: dict[str, str] = {}
        self.deleted = False

    def line(self, outcome: str, check: str, detail: str) -> None:
        self.write(f"{outcome} {check}: {' '.join(str(detail).split())}")  # one line, always

    def check(self, name: str, run: Callable[[], str], needs: Sequence[str] = ()) -> bool:
        missing = [n for n in needs if not getattr(self, n)]
        if missing:
            self.line("SKIP", name, f"not run: an earlier check did not give the {missing[0]}")
            return False
        try:
            detail = run()
        except Skipped as skip:
            self.line("SKIP", name, str(skip))
            return False
        except Failed as failure:
            self.failures += 1
            self.line("FAIL", name, str(failure))
            return False
        except Exception as exc:  # noqa: BLE001 - one FAIL line per check, never a traceback
            self.failures += 1
            code, message = aws_error(exc)
            self.line("FAIL", name,
                      f"{code}: {message}" if code else f"{type(exc).__name__}: {exc}")
            return False
        self.line("PASS", name, detail)
        return True

    def run(self) -> int:
        try:
            self.check("create user", self.create_user)
            self.check("log in", self.log_in, needs=["created"])
            self.check("users table record", self.record, needs=["sub"])
            self.check("profile document", self.profile_document, needs=["sub"])
            self.check("name parameter", self.name_parameter, needs=["sub"])
            self.check("greeting", self.greeting, needs=["sub"])
            self.check("own profile with identity-pool credentials", self.own_profile,
                       needs=["sub"])
            self.check("another person's key refused", self.other_key, needs=["credentials"])
            self.check(EVENT_SOURCE_MAPPINGS, self.event_source_mappings)
            self.check(API_STAGE, self.api_stage)
            self.check(THROTTLING, self.throttling)
            self.check("alarms", self.alarms)
            self.check(DATA_PROTECTED, self.data_protected)
            self.check("delete account", self.delete_account, needs=["sub"])
            self.check("nothing left but the tombstone", self.nothing_left, needs=["deleted"])
        finally:
            self.check("cleanup", self.clean_up)
        return 1 if self.failures else 0

    # --- the throwaway user and the pipeline -------------------------------------------

    def create_user(self) -> str:
        idp, pool = self.target.client("cognito-idp"), self.target.env["USER_POOL_ID"]
        idp.admin_create_user(UserPoolId=pool, Username=self.username, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": self.email},
                                              {"Name": "email_verified", "Value": "true"},
                                              {"Name": "name", "Value": self.name}])
        self.created = True
        idp.admin_set_user_password(UserPoolId=pool, Username=self.username,
                                    Password=self.password, Permanent=True)
        return f"{self.username} in {pool}, admin-confirmed (no email sent)"

    def log_in(self) -> str:
        status, body = http(self.target, "POST", "/api/auth/login",
                            {"username": self.username, "password": self.password})
        if status != 200 or not isinstance(body, dict) or "idToken" not in body:
            raise Failed(f"POST /api/auth/login answered {status} {body}")
        self.tokens = body
        self.sub = claims_of(body["idToken"])["sub"]
        return f"POST /api/auth/login answered 200 with tokens; sub {self.sub}"

    def record(self) -> str:
        table = self.target.env["USERS_TABLE_NAME"]

        def probe() -> Any:
            item = self.target.client("dynamodb").get_item(
                TableName=table, Key={"sub": {"S": self.sub}}, ConsistentRead=True).get("Item")
            return item if item and item.get("name", {}).get("S") == self.name else Pending(item)

        item = wait_for(probe, self.wait_seconds, f"record of {self.sub} in {table}")
        return (f"{table} holds {self.sub} named {self.name!r} "
                f"(login_count {item.get('login_count', {}).get('N')})")

    def profile_document(self) -> str:
        from chalicelib.user_keys import profile_key

        s3, key = self.target.client("s3"), profile_key(self.sub)

        def probe() -> Any:
            try:
                return json.loads(s3.get_object(Bucket=self.target.bucket, Key=key)["Body"].read())
            except s3.exceptions.NoSuchKey:
                return None

        document = wait_for(probe, self.wait_seconds, f"s3://{self.target.bucket}/{key}")
        if document.get("email") != self.email:
            raise Failed(f"s3://{self.target.bucket}/{key} holds email {document.get('email')!r}, "
                         f"not {self.email!r}")
        return f"s3://{self.target.bucket}/{key} with the user's email"

    def name_parameter(self) -> str:
        ssm, name = self.target.client("ssm"), self.target.name_parameter(self.sub)

        def probe() -> Any:
            try:
                value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
            except ssm.exceptions.ParameterNotFound:
                return None
            return value if value == self.name else Pending(value)

        wait_for(probe, self.wait_seconds, f"parameter {name} = {self.name!r}")
        return f"{name} = {self.name!r}"

    def greeting(self) -> str:
        def probe() -> Any:
            status, body = http(self.target, "GET", "/api/greeting", token=self.tokens["idToken"])
            ok = status == 200 and isinstance(body, dict) and body.get("name") == self.name
            return body if ok else Pending(f"{status} {body}")

        body = wait_for(probe, self.wait_seconds, f"greeting with the name {self.name!r}")
        return f"GET /api/greeting answered 200 {json.dumps(body)}"

    # --- the person's own credentials ----------------------------------------------------

    def own_profile(self) -> str:
        from chalicelib.user_keys import profile_key

        status, body = http(self.target, "POST", "/api/auth/credentials", {},
                            token=self.tokens["idToken"])
        if status != 200 or not isinstance(body, dict) or "identityId" not in body:
            raise Failed(f"POST /api/auth/credentials answered {status} {body}")
        handed = sorted(SECRET_FIELDS & set(body))
        if handed:
            raise Failed(f"POST /api/auth/credentials answered {', '.join(handed)}: the app "
                         f"hands out the person's AWS keys")
        env = self.target.env
        credentials = identity_pool_credentials(self.target.unsigned("cognito-identity"),
                                                env["IDENTITY_POOL_ID"], env["USER_POOL_ID"],
                                                self.tokens["idToken"])
        if credentials["identityId"] != body["identityId"]:
            raise Failed(f"the app names identity {body['identityId']}, Cognito Identity gave "
                         f"the ID token {credentials['identityId']}")
        self.credentials = credentials
        s3, key = self.target.client_as("s3", credentials), profile_key(self.sub)
        document = json.loads(s3.get_object(Bucket=self.target.bucket, Key=key)["Body"].read())
        if document.get("email") != self.email:
            raise Failed(f"read {key} as the person but it holds email {document.get('email')!r}")
        return (f"POST /api/auth/credentials named identity {body['identityId']} and no key; "
                f"its credentials, from Cognito Identity with the ID token alone (unsigned), "
                f"read s3://{self.target.bucket}/{key}")

    def other_key(self) -> str:
        from botocore.exceptions import ClientError

        from chalicelib.user_keys import profile_key

        key = profile_key(self.decoy_sub)
        self.target.client("s3").put_object(Bucket=self.target.bucket, Key=key,
                                            Body=b'{"decoy": true}',
                                            ContentType="application/json")
        try:
            self.target.client_as("s3", self.credentials).get_object(Bucket=self.target.bucket,
                                                                     Key=key)
        except ClientError as exc:
            code, _ = aws_error(exc)
            if code in ("AccessDenied", "403"):
                return (f"reading another person's s3://{self.target.bucket}/{key} was refused "
                        f"({code})")
            raise Failed(f"reading another person's {key} failed with {code}, "
                         f"not AccessDenied") from None
        raise Failed(f"{self.username}'s identity-pool credentials READ another person's "
                     f"s3://{self.target.bucket}/{key}: the signed-in role is open to other "
                     f"people's files")

    # --- what must be live ----------------------------------------------------------------

    def event_source_mappings(self) -> str:
        if self.target.local:
            raise Skipped(f"{AWS_ONLY} (locally the pump delivers the events)")
        from infra.package import function_name

        lam, seen, wrong = self.target.client("lambda"), [], []
        for function in policy.FUNCTIONS:
            if function == policy.API_HANDLER:
                continue
            name = function_name(self.target.stage, function)
            mappings = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
            if len(mappings) != 1:
                wrong.append(f"{name} has {len(mappings)} mappings, not 1")
                continue
            mapping = mappings[0]
            kind = (event_sources.SQS if ":sqs:" in mapping["EventSourceArn"]
                    else event_sources.STREAM)
            for key, expected in event_sources.settings(kind, self.target.env).items():
                if mapping.get(key) != expected:
                    wrong.append(f"{name} {key}={mapping.get(key)!r}, not {expected!r}")
            if mapping.get("State") != "Enabled":
                wrong.append(f"{name} is {mapping.get('State')}")
            seen.append(f"{function} ({kind}, {mapping.get('State')})")
        if wrong:
            raise Failed("; ".join(wrong))
        return "as infra/event_sources.py says: " + ", ".join(seen)

    def api_stage(self) -> str:
        if self.target.local:
            raise Skipped(f"{AWS_ONLY} (locally chalice local serves the routes)")
        stages = self.target.client("apigateway").get_stages(
            restApiId=self.target.rest_api_id)["item"]
        names = [s["stageName"] for s in stages]
        if len(names) != 1:
            raise Failed(f"REST API {self.target.rest_api_id} has {len(names)} stages {names}, "
                         f"not 1")
        throttle = stages[0].get("methodSettings", {}).get("*/*", {})
        rate, burst = gateway.THROTTLES[("/*", "*")]
        if ((throttle.get("throttlingRateLimit"), throttle.get("throttlingBurstLimit"))
                != (rate, burst)):
            raise Failed(f"stage {names[0]} throttles */* at "
                         f"{throttle.get('throttlingRateLimit')}/s "
                         f"burst {throttle.get('throttlingBurstLimit')}, "
                         f"not {rate}/s burst {burst}")
        return (f"REST API {self.target.rest_api_id} has one stage, {names[0]!r}, "
                f"throttled {rate:g}/s burst {burst}")

    def throttling(self) -> str:
        if self.target.local:
            raise Skipped(f"{AWS_ONLY} (chalice local throttles nothing)")
        path, method = THROTTLE_ROUTE
        rate, burst = gateway.THROTTLES[THROTTLE_ROUTE]
        count = burst * 4
        # An empty body: the app answers 400 without calling Cognito; no email is sent.
        with ThreadPoolExecutor(max_workers=count) as pool:
            answers = list(pool.map(lambda _: http(self.target, method, path, {}), range(count)))
        throttled = [body for status, body in answers if status == 429]
        if not throttled:
            raise Failed(f"{count} requests at once to {method} {path} (limit {rate:g}/s, burst "
                         f"{burst}): none answered 429 ({sorted({s for s, _ in answers})})")
        body = throttled[0]
        if not (isinstance(body, dict) and body.get("error") == "TooManyRequests"
                and body.get("message")):
            raise Failed(f"429 answered {body!r}, not the app's {{\"error\", \"message\"}} shape")
        return (f"{len(throttled)} of {count} requests to {method} {path} answered 429 "
                f"{json.dumps(body)}")

    def alarms(self) -> str:
        expected = expected_alarms(self.target.stage)
        cloudwatch = self.target.client("cloudwatch")
        found: set[str] = set()
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
                AlarmNamePrefix=f"{policy.APP_NAME}-{self.target.stage}-"):
            found.update(a["AlarmName"]
                         for a in page["MetricAlarms"] + page.get("CompositeAlarms", []))
        missing = sorted(expected - found)
        if missing:
            raise Failed(f"{len(missing)} of {len(expected)} alarms missing: {', '.join(missing)}")
        return f"all {len(expected)} alarms of infra/template.yaml exist"

    def data_protected(self) -> str:
        """The user pool and the users table refuse deletion: a first create runs unprotected
        (so it can roll back), and the deploy right after it protects them (docs/deploy.md)."""
        if self.target.local:
            raise Skipped(f"{AWS_ONLY} (`make run CLEAN=1` starts the local data afresh)")
        env = self.target.env
        pool = self.target.client("cognito-idp").describe_user_pool(
            UserPoolId=env["USER_POOL_ID"])["UserPool"].get("DeletionProtection")
        table = self.target.client("dynamodb").describe_table(
            TableName=env["USERS_TABLE_NAME"])["Table"].get("DeletionProtectionEnabled")
        wrong = ([f"user pool {env['USER_POOL_ID']} DeletionProtection={pool!r}"]
                 if pool != "ACTIVE" else []) + \
                ([f"table {env['USERS_TABLE_NAME']} DeletionProtectionEnabled={table!r}"]
                 if table is not True else [])
        if wrong:
            raise Failed("; ".join(wrong) + ": deploy again with DataDeletionProtection=ACTIVE "
                         "(`make deploy` does; the package path's step 2, docs/deploy.md)")
        return (f"user pool {env['USER_POOL_ID']} and table {env['USERS_TABLE_NAME']} refuse "
                f"deletion (DeletionProtection ACTIVE, DeletionProtectionEnabled)")

    # --- deleting the user through the app ---------------------------------------------

    def delete_account(self) -> str:
        self._delete_through_app()
        return "DELETE /api/account answered 200"

    def nothing_left(self) -> str:
        from chalicelib.user_keys import tombstone_key

        def probe() -> Any:
            left = self.traces()
            return True if not left else Pending("; ".join(left))

        wait_for(probe, self.wait_seconds, "clean deletion")
        return (f"no Cognito user, no parameter, nothing under users/{self.sub}/; the tombstones "
                f"(the table's {sorted(TOMBSTONE_FIELDS)}, s3 {tombstone_key(self.sub)}) remain")

    def traces(self) -> list[str]:
        """What is left of the user beyond the documented tombstone."""
        from chalicelib.user_keys import tombstone_key

        left = []
        idp = self.target.client("cognito-idp")
        try:
            idp.admin_get_user(UserPoolId=self.target.env["USER_POOL_ID"], Username=self.username)
            left.append("the Cognito user")
        except idp.exceptions.UserNotFoundException:
            pass
        item = self.target.client("dynamodb").get_item(
            TableName=self.target.env["USERS_TABLE_NAME"], Key={"sub": {"S": self.sub}},
            ConsistentRead=True).get("Item")
        if not item or "deleted_at" not in item:
            left.append("no tombstone in the users table" if not item
                        else "a record that is no tombstone")
        elif set(item) - TOMBSTONE_FIELDS:
            left.append(f"tombstone fields {sorted(set(item) - TOMBSTONE_FIELDS)}")
        objects = self.versions(f"users/{self.sub}/")
        if objects:
            left.append(f"{len(objects)} object version(s) under users/{self.sub}/")
        s3 = self.target.client("s3")
        try:
            s3.head_object(Bucket=self.target.bucket, Key=tombstone_key(self.sub))
        except s3.exceptions.ClientError:
            left.append(f"no {tombstone_key(self.sub)}")
        ssm = self.target.client("ssm")
        try:
            ssm.get_parameter(Name=self.target.name_parameter(self.sub))
            left.append("the name parameter")
        except ssm.exceptions.ParameterNotFound:
            pass
        return left

    def versions(self, prefix: str) -> list[dict[str, str]]:
        s3, found = self.target.client("s3"), []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=self.target.bucket,
                                                                      Prefix=prefix):
            found += [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        return found

    # --- cleanup, whatever happened -------------------------------------------------------

    def clean_up(self) -> str:
        removed: list[str] = []
        errors: list[str] = []
        notes: list[str] = []

        def step(what: str, action: Callable[[], bool]) -> None:
            try:
                if action():
                    removed.append(what)
            except Exception as exc:  # noqa: BLE001 - try every step, report each failure
                code, message = aws_error(exc)
                errors.append(f"{what}: {code or type(exc).__name__}: {message or exc}")

        # Not deleted through the app yet (a check failed first): ask the app, so the pipeline
        # leaves its final tombstone and no late event of this user writes them again.
        if self.tokens and not self.deleted:
            try:
                self._delete_through_app()
                removed.append("the account (through the app)")
            except Exception as exc:  # noqa: BLE001 - the direct removals below still run
                notes.append(f"the app did not delete the account ({exc}), so directly")
        step("the Cognito user", self._delete_user)
        if self.sub:
            step("the name parameter", self._delete_parameter)
            step(f"the files under users/{self.sub}/",
                 lambda: self._delete_versions(f"users/{self.sub}/"))
            step("the users table record", self._delete_record)
        step("the other person's decoy", lambda: self._delete_versions(f"users/{self.decoy_sub}/"))
        if errors:
            raise Failed("could not remove " + "; ".join(errors))
        said = ("removed " + ", ".join(removed)) if removed else "nothing of the run was left"
        return "; ".join([*notes, said])

    def _delete_through_app(self) -> bool:
        status, body = http(self.target, "DELETE", "/api/account",
                            {"accessToken": self.tokens["accessToken"], "password": self.password},
                            token=self.tokens["idToken"])
        if status != 200:
            raise Failed(f"DELETE /api/account answered {status} {body}")
        self.deleted = True
        return True

    def _delete_user(self) -> bool:
        if not self.created:
            return False
        idp = self.target.client("cognito-idp")
        try:
            idp.admin_delete_user(UserPoolId=self.target.env["USER_POOL_ID"],
                                  Username=self.username)
        except idp.exceptions.UserNotFoundException:
            return False
        return True

    def _delete_parameter(self) -> bool:
        ssm = self.target.client("ssm")
        try:
            ssm.delete_parameter(Name=self.target.name_parameter(self.sub))
        except ssm.exceptions.ParameterNotFound:
            return False
        return True

    def _delete_versions(self, prefix: str) -> bool:
        objects = self.versions(prefix)
        for start in range(0, len(objects), 1000):
            self.target.client("s3").delete_objects(
                Bucket=self.target.bucket,
                Delete={"Objects": objects[start:start + 1000], "Quiet": True})
        return bool(objects)

    def _delete_record(self) -> bool:
        """The record, unless it is the documented tombstone (the deletion is final)."""
        dynamodb, table = self.target.client("dynamodb"), self.target.env["USERS_TABLE_NAME"]
        item = dynamodb.get_item(TableName=table, Key={"sub": {"S": self.sub}},
                                 ConsistentRead=True).get("Item")
        if not item or "deleted_at" in item:
            return False
        dynamodb.delete_item(TableName=table, Key={"sub": {"S": self.sub}})
        return True


def expected_alarms(stage: str) -> set[str]:
    """Every alarm of infra/template.yaml, named for the stage."""
    names = set()
    for resource in infra_template.load()["Resources"].values():
        if resource["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            name = resource["Properties"]["AlarmName"]
            name = name["Fn::Sub"] if isinstance(name, dict) else name
            names.add(name.replace("${Stage}", stage))
    return names


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")  # one write: a whole line
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.smoke",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--stage",
                        help="a deployed stage (e.g. dev); without it, `make run`'s stack")
    parser.add_argument("--wait", type=float, default=WAIT_SECONDS,
                        help="seconds to wait for each step of the pipeline (default %(default)g)")
    args = parser.parse_args(argv)
    try:
        target = aws_target(args.stage) if args.stage else local_target()
    except Exception as exc:  # noqa: BLE001 - one FAIL line, never a traceback
        code, message = aws_error(exc)
        detail = f"{code}: {message}" if code else (str(exc) if isinstance(exc, DeployError)
                                                    else f"{type(exc).__name__}: {exc}")
        _write(f"FAIL setup: {' '.join(detail.split())}")
        return 1
    where = f"stage {target.stage} at {target.app_url}" + (
        f" and the local AWS at {target.endpoint_url}" if target.local else "")
    _write(f"Smoke test of {where}")
    try:
        return Smoke(target, _write, wait_seconds=args.wait).run()
    except KeyboardInterrupt:  # Ctrl-C: the cleanup has run (run()'s finally)
        _write("FAIL interrupted: stopped before every check ran")
        return 130


if __name__ == "__main__":
    sys.exit(main())
