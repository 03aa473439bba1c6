"""Least privilege, proven: every AWS call the app makes is allowed by the policy
infra/policy.py generates for the Lambda that makes it, and the policy allows
nothing the app does not use.

The app's flows run against the local AWS (every route, then each pipeline
Lambda invoked with the events its event source would deliver). A botocore hook
on the clients of chalicelib.aws records each call; each call becomes the IAM
actions and exact resource ARNs AWS would authorize it against, and a small
policy evaluator (tests/helpers.py: policy_allows) checks them. Calls this module
cannot map fail the test: map them here when the code starts using a new operation.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import pytest
from chalice.app import DynamoDBEventConfig, SQSEventConfig

from chalicelib import user_keys
from infra import policy
from tests.helpers import PAGE, PASSWORD, app_routes, cookie_header, page_paths, post
from tests.stack.helpers import (Need, as_list, chalice_client, iam_match, policy_allows, route_of,
                                 stack_for, users_stream_records)

# The flows record every call and read whole tables and queues: they run once, on a stack of
# their own (the module-scoped `recorded` below), and every test reads what they recorded.

# Cognito's public operations: called with a token or a client id, never authorized by IAM.
UNAUTHENTICATED = {
    ("cognito-idp", op) for op in ("SignUp", "ConfirmSignUp", "ResendConfirmationCode",
                                   "InitiateAuth", "GlobalSignOut", "RevokeToken",
                                   "ForgotPassword",
                                   "ConfirmForgotPassword", "RespondToAuthChallenge")
} | {("cognito-identity", "GetId"), ("cognito-identity", "GetCredentialsForIdentity")} | {
    # The person's own operations, authorized by their access token (your account).
    ("cognito-idp", op) for op in ("GetUser", "UpdateUserAttributes", "VerifyUserAttribute",
                                   "GetUserAttributeVerificationCode", "ChangePassword",
                                   "DeleteUser", "AssociateSoftwareToken",
                                   "VerifySoftwareToken", "SetUserMFAPreference",
                                   "StartWebAuthnRegistration", "CompleteWebAuthnRegistration",
                                   "ListWebAuthnCredentials", "DeleteWebAuthnCredential")
}


@dataclass
class Recorder:
    function: str = ""
    calls: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of the flows
    missing: set[int] = field(default_factory=set)  # the calls S3 answered 404 (no such key)

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.function:
            self.calls.append((self.function, model.service_model.service_name, model.name,
                               json.loads(json.dumps(params, default=str))))

    def answered(self, http_response: Any, model: Any, **_: Any) -> None:
        """after-call: the last recorded read found no object."""
        if self.function and self.calls and http_response.status_code == 404 and \
                model.name in ("GetObject", "HeadObject"):
            self.missing.add(len(self.calls) - 1)


# --- from a botocore call to what IAM checks ---------------------------------------

class Arns:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        _, self.partition, _, self.region, self.account, _ = env["USERS_TABLE_ARN"].split(":", 5)

    def of(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"


def needs(service: str, operation: str, params: dict[str, Any], arns: Arns,
          missing: bool = False) -> list[Need]:
    """What IAM checks for one call; `missing`: S3 answered it 404 (no such key)."""
    call = f"{service}:{operation}"
    if (service, operation) in UNAUTHENTICATED:
        return []
    if service == "sns" and operation == "Publish":
        # The topic is encrypted: SNS uses its key with the publisher's permissions.
        return [Need("sns:Publish", params["TopicArn"], call=call),
                Need("kms:GenerateDataKey", arns.env["EVENTS_KEY_ARN"], call=call),
                Need("kms:Decrypt", arns.env["EVENTS_KEY_ARN"], call=call)]
    if service == "ssm" and operation in ("GetParameter", "PutParameter", "DeleteParameter",
                                          "GetParameterHistory"):
        return [Need(f"ssm:{operation}", arns.of("ssm", "parameter/" + params["Name"].lstrip("/")),
                     call=call)]
    if service == "ssm" and operation == "GetParameters":
        return [Need("ssm:GetParameters", arns.of("ssm", "parameter/" + name.lstrip("/")),
                     call=call) for name in params["Names"]]
    if service == "dynamodb" and operation == "BatchGetItem":
        return [Need("dynamodb:BatchGetItem", arns.of("dynamodb", f"table/{table}"), call=call)
                for table in params["RequestItems"]]
    if service == "dynamodb" and operation == "TransactWriteItems":
        kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                 "ConditionCheck": "ConditionCheckItem"}
        return [Need(f"dynamodb:{kinds[kind]}", arns.of("dynamodb", f"table/{body['TableName']}"),
                     call=call)
                for item in params["TransactItems"] for kind, body in item.items()]
    if service == "dynamodb" and operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem",
                                               "Query"):
        return [Need(f"dynamodb:{operation}", arns.of("dynamodb", f"table/{params['TableName']}"),
                     call=call)]
    if service == "s3" and operation == "GetObject" and "VersionId" in params:
        return [Need("s3:GetObjectVersion",
                     f"arn:{arns.partition}:s3:::{params['Bucket']}/{params['Key']}", call=call)]
    if service == "s3" and operation == "GetObject" and \
            params["Key"] == user_keys.export_key(params["Key"].split("/")[1]):
        # The presigned link to the archive the route just wrote: never a missing key.
        return [Need("s3:GetObject",
                     f"arn:{arns.partition}:s3:::{params['Bucket']}/{params['Key']}",
                     call=call)]
    if service == "s3" and operation in ("GetObject", "HeadObject"):
        bucket, key = params["Bucket"], params["Key"]
        # S3 answers a missing key 404 only to a caller who may list the bucket, and asks that
        # with no s3:prefix in the context (else 403): code that reads a key which may not be
        # there lists the exact key first (ListObjectsV2, whose prefix a condition sees).
        return [Need("s3:GetObject", f"arn:{arns.partition}:s3:::{bucket}/{key}", call=call)] + (
            [Need("s3:ListBucket", f"arn:{arns.partition}:s3:::{bucket}", call=call)]
            if missing else [])
    if service == "s3" and operation == "PutObject":
        return [Need("s3:PutObject",
                     f"arn:{arns.partition}:s3:::{params['Bucket']}/{params['Key']}",
                     call=call)]
    if service == "cognito-idp" and operation in ("ListUsers", "AdminUserGlobalSignOut",
                                                  "AdminSetUserMFAPreference"):
        return [Need(f"cognito-idp:{operation}",
                     arns.of("cognito-idp", f"userpool/{params['UserPoolId']}"), call=call)]
    if service == "cognito-identity" and operation == "DeleteIdentities":
        # Authorized on the identity pool (Service Authorization Reference: identitypool*).
        return [Need("cognito-identity:DeleteIdentities",
                     arns.of("cognito-identity", f"identitypool/{arns.env['IDENTITY_POOL_ID']}"),
                     call=call)]
    if service == "s3" and operation in ("ListObjectsV2", "ListObjectVersions"):
        # A list with no prefix has no s3:prefix in its context: only an IfExists holds.
        action = "s3:ListBucket" if operation == "ListObjectsV2" else "s3:ListBucketVersions"
        return [Need(action, f"arn:{arns.partition}:s3:::{params['Bucket']}",
                     (("s3:prefix", params["Prefix"]),) if "Prefix" in params else (),
                     call=call)]
    if service == "s3" and operation == "DeleteObjects":
        # S3 authorizes each object of the batch: DeleteObjectVersion when a version is named.
        return [Need("s3:DeleteObjectVersion" if "VersionId" in item else "s3:DeleteObject",
                     f"arn:{arns.partition}:s3:::{params['Bucket']}/{item['Key']}", call=call)
                for item in params["Delete"]["Objects"]]
    if service == "sqs" and operation == "GetQueueUrl":
        owner = params.get("QueueOwnerAWSAccountId", arns.account)
        return [Need("sqs:GetQueueUrl",
                     f"arn:{arns.partition}:sqs:{arns.region}:{owner}:{params['QueueName']}",
                     call=call)]
    if service == "sqs" and operation in ("DeleteMessage", "DeleteMessageBatch",
                                          "GetQueueAttributes", "ReceiveMessage",
                                          "SendMessage"):
        *_, owner, name = params["QueueUrl"].rstrip("/").split("/")
        action = "DeleteMessage" if operation == "DeleteMessageBatch" else operation
        return [Need(f"sqs:{action}", f"arn:{arns.partition}:sqs:{arns.region}:{owner}:{name}",
                     call=call)]
    raise AssertionError(f"{call} is not mapped to IAM actions in "
                         "tests/stack/test_lambda_least_privilege.py: "
                         "map it (see the Service Authorization Reference) and grant it in "
                         "infra/policy.py")


def event_source_needs(app: Any, env: dict[str, str], arns: Arns) -> dict[str, list[Need]]:
    """What Lambda's event source mappings do with each function's role."""
    out: dict[str, list[Need]] = {}
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            queue = arns.of("sqs", source.queue)
            out.setdefault(source.name, []).extend(
                Need(action, queue, call="event source mapping") for action in policy.SQS_POLLING)
        elif isinstance(source, DynamoDBEventConfig):
            stream = env["USERS_TABLE_STREAM_ARN"]  # what `make deploy` gives the decorator
            out.setdefault(source.name, []).extend(
                Need(action, stream, call="event source mapping")
                for action in policy.STREAM_READING)
            out[source.name].append(Need("dynamodb:ListStreams",
                                         env["USERS_TABLE_ARN"] + "/stream/*",
                                         call="event source mapping"))
            out[source.name].append(Need("sqs:SendMessage", env["NAME_SYNC_DEAD_LETTER_QUEUE_ARN"],
                                         call="event source mapping's on-failure destination"))
        else:
            raise AssertionError(f"event source {type(source).__name__} of {source.name}: "
                                 "add what its mapping needs here and in infra/policy.py")
    return out


def log_needs(function: str, stage: str, arns: Arns) -> list[Need]:
    name = f"comm-it-{stage}" if function == policy.API_HANDLER else f"comm-it-{stage}-{function}"
    group = arns.of("logs", f"log-group:/aws/lambda/{name}")
    stream = f"{group}:log-stream:2026/11/26/[$LATEST]0123abcd"
    return [Need("logs:CreateLogGroup", group, call="Lambda runtime"),
            Need("logs:CreateLogStream", stream, call="Lambda runtime"),
            Need("logs:PutLogEvents", stream, call="Lambda runtime")]


# --- the flows -----------------------------------------------------------------------

def hooked_recorder(patch: pytest.MonkeyPatch) -> Recorder:
    """Record every call made through chalicelib.aws's clients (fresh clients, hooked)."""
    import boto3

    record = Recorder()
    session = boto3.session.Session()
    session.events.register("provide-client-params", record)
    session.events.register("after-call.s3", record.answered)
    patch.setattr(boto3, "DEFAULT_SESSION", session)
    _cold_start()
    return record


def _cold_start() -> None:
    """Forget what a warm Lambda container remembers (clients, queue URLs, cached names),
    so every call a cold start makes is made and recorded."""
    import importlib
    import pkgutil

    import chalicelib

    for info in pkgutil.iter_modules(chalicelib.__path__):
        module = importlib.import_module(f"chalicelib.{info.name}")
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and \
                    getattr(value, "__module__", "") == module.__name__:
                value.cache_clear()
        if callable(getattr(module, "forget_cache", None)):
            module.forget_cache()


def _sqs_event(sqs: Any, queue_url: str, region: str, extra_body: str | None = None) -> dict:
    from local.event_sources.events import sqs_record

    if extra_body is not None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=extra_body)
    arn = sqs.get_queue_attributes(QueueUrl=queue_url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                    AttributeNames=["All"], MessageAttributeNames=["All"],
                                    WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    assert messages, f"nothing to deliver from {queue_url}"
    return {"Records": [sqs_record(m, arn, region) for m in messages]}


def _stream_event(session: Any, stack: dict[str, str], region: str, seen: set[str]) -> dict:
    from local.event_sources.events import stream_record

    streams = session.client("dynamodbstreams", endpoint_url=stack["AWS_ENDPOINT_URL"])
    arn = stack["USERS_TABLE_STREAM_ARN"]
    records = users_stream_records(streams, stack)
    fresh = [r for r in records if r["eventID"] not in seen]
    seen.update(r["eventID"] for r in fresh)
    assert fresh, "the users table's stream has nothing new"
    return {"Records": [stream_record(r, arn, region) for r in fresh]}


def _invoke(client: Any, recorder: Recorder, name: str, event: dict,
            may_fail: bool = False) -> None:
    recorder.function = name
    try:
        client.lambda_.invoke(name, event)
    except Exception:
        if not may_fail:
            raise
    finally:
        recorder.function = ""


def run_every_flow(client: Any, stack: dict[str, str], outbox: Any, recorder: Recorder,
                   local_session: Any) -> None:
    """Every route the app serves, then every Lambda of the pipeline, as in AWS."""
    from app import app

    region = stack["AWS_REGION"]
    sqs = local_session.client("sqs", endpoint_url=stack["AWS_ENDPOINT_URL"])
    ddb = local_session.client("dynamodb", endpoint_url=stack["AWS_ENDPOINT_URL"])
    username = f"iam{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.com"

    recorder.function = policy.API_HANDLER
    assert post(client, "/api/auth/signup", {"name": "Ada", "email": email, "username": username,
                                             "password": PASSWORD}).status_code == 201
    assert post(client, "/api/auth/resend", {"username": username}).status_code == 200
    assert post(client, "/api/auth/confirm", {"username": username,
                                              "code": outbox.last_code(email)}).status_code == 200
    login = post(client, "/api/auth/login", {"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.body
    tokens = login.json_body
    bearer = {"Authorization": f"{tokens['idToken']}"}
    # Before the pipeline ran: the name is not in Parameter Store yet.
    assert client.http.get("/api/greeting", headers=bearer).status_code < 500
    recorder.function = ""

    for source in app.event_sources:
        if isinstance(source, SQSEventConfig) and source.name != policy.ENFORCE_QUOTA:
            url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
            # A poison message in the batch: reported as a batch item failure.
            _invoke(client, recorder, source.name,
                    _sqs_event(sqs, url, region, extra_body="not an event"), may_fail=True)
            # A second login, delivered alone: the document/record already exists.
            recorder.function = policy.API_HANDLER
            assert post(client, "/api/auth/login",
                        {"username": username, "password": PASSWORD}).status_code == 200
            recorder.function = ""
            _invoke(client, recorder, source.name, _sqs_event(sqs, url, region))

    seen: set[str] = set()
    streams = [s for s in app.event_sources if isinstance(s, DynamoDBEventConfig)]
    for source in streams:
        _invoke(client, recorder, source.name, _stream_event(local_session, stack, region, seen))

    recorder.function = policy.API_HANDLER
    for path in ("/api/greeting", "/api/greeting/card"):
        assert client.http.get(path, headers=bearer).status_code == 200
    assert client.http.post("/api/auth/credentials", headers=bearer).status_code == 200
    # Your files: S3 signed with the person's own credentials (chalicelib/my_files.py), so
    # none of it may need the API Lambda's role; only the identity-pool exchange is recorded.
    assert post(client, "/api/account/files", {"name": "iam.txt", "content": "aGk="},
                bearer).status_code == 201
    assert client.http.get("/api/account/files", headers=bearer).status_code == 200
    assert client.http.get("/api/account/profile-document", headers=bearer).status_code == 200
    assert client.http.delete("/api/account/files/iam.txt", headers=bearer).status_code == 200
    # The quota: S3's events (the profile, the upload and its delete marker, a file over the
    # limit and 21 more written around the app) reach enforce_quota, which removes the big one
    # and the deleted one's versions, and will look again at the 21st once it is settled.
    import jwt

    from chalicelib import inputs, my_files, user_keys
    sub = jwt.decode(tokens["idToken"], options={"verify_signature": False})["sub"]
    around_the_app = local_session.client("s3", endpoint_url=stack["AWS_ENDPOINT_URL"])
    around_the_app.put_object(Bucket=stack["USERS_BUCKET_NAME"],
                              Key=user_keys.file_key(sub, "big.bin"),
                              Body=b"x" * (inputs.MAX_FILE_BYTES + 1))
    for number in range(my_files.MAX_FILES + 1):
        around_the_app.put_object(Bucket=stack["USERS_BUCKET_NAME"],
                                  Key=user_keys.file_key(sub, f"{number}.txt"), Body=b"x")
    recorder.function = ""
    [quota] = [s for s in app.event_sources if getattr(s, "name", "") == policy.ENFORCE_QUOTA]
    _invoke(client, recorder, quota.name,
            _sqs_event(sqs, sqs.get_queue_url(QueueName=quota.queue)["QueueUrl"], region))
    listed = around_the_app.list_object_versions(Bucket=stack["USERS_BUCKET_NAME"],
                                                 Prefix=user_keys.files_prefix(sub))
    around_the_app.delete_objects(Bucket=stack["USERS_BUCKET_NAME"], Delete={"Objects": [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]})
    recorder.function = policy.API_HANDLER
    assert post(client, "/api/auth/refresh",
                {"refreshToken": tokens["refreshToken"]}).status_code == 200
    assert post(client, "/api/auth/forgot", {"username": username}).status_code == 200
    assert post(client, "/api/auth/reset", {"username": username, "code": outbox.last_code(email),
                                            "password": PASSWORD + "2"}).status_code == 200
    assert post(client, "/api/auth/logout",
                {"accessToken": tokens["accessToken"]}).status_code == 200
    run_session_flows(client, username)
    for path in page_paths():  # read from app.routes: a new page is visited too
        assert client.http.get(path).status_code == 200, path
    recorder.function = ""

    run_account_flows(client, stack, outbox, recorder, local_session, username, email, seen)

    # The record removed: the stream Lambda removes the name.
    items = ddb.scan(TableName=stack["USERS_TABLE_NAME"])["Items"]
    assert items, "save_profile wrote no record"
    for item in items:
        ddb.delete_item(TableName=stack["USERS_TABLE_NAME"], Key={"sub": item["sub"]})
    for source in streams:
        _invoke(client, recorder, source.name, _stream_event(local_session, stack, region, seen))


def run_session_flows(client: Any, username: str) -> None:
    """The page's session (its refresh token in the cookie): log in, refresh, log out this
    device (RevokeToken); a script's log-out with its refresh token in the body."""
    login = post(client, "/api/auth/login", {"username": username, "password": PASSWORD + "2"},
                 PAGE)
    assert login.status_code == 200, login.body
    cookie = cookie_header(login)
    assert post(client, "/api/auth/refresh", {}, cookie).status_code == 200
    assert post(client, "/api/auth/logout", {}, cookie).status_code == 200
    script = post(client, "/api/auth/login", {"username": username, "password": PASSWORD + "2"})
    assert post(client, "/api/auth/logout",
                {"refreshToken": script.json_body["refreshToken"]}).status_code == 200


def run_account_flows(client: Any, stack: dict[str, str], outbox: Any, recorder: Recorder,
                      local_session: Any, username: str, email: str, seen: set[str]) -> None:
    """Your account: log in by email, see the account, change name, email and password,
    delete; then the pipeline's Lambdas with the user.updated and user.deleted events."""
    from app import app

    region = stack["AWS_REGION"]
    sqs = local_session.client("sqs", endpoint_url=stack["AWS_ENDPOINT_URL"])
    recorder.function = policy.API_HANDLER
    login = post(client, "/api/auth/login", {"username": email.upper(), "password": PASSWORD + "2"})
    assert login.status_code == 200, login.body
    tokens = login.json_body
    bearer = {"Authorization": f"{tokens['idToken']}", "Content-Type": "application/json"}

    def account(method: str, path: str, **body: str) -> dict[str, Any]:
        response = client.http.request(method, path, headers=bearer, body=json.dumps(
            {"accessToken": tokens["accessToken"], **body}))
        assert response.status_code == 200, (path, response.body)
        if "idToken" in response.json_body:  # a password change: the session's new tokens
            tokens.update(response.json_body)
            bearer["Authorization"] = tokens["idToken"]
        return response.json_body

    assert client.http.get("/api/account", headers=bearer).status_code == 200
    change = account("POST", "/api/account/name", name="Ada King")
    new_email = f"new-{email}"
    account("POST", "/api/account/email", email=new_email)
    account("POST", "/api/account/email/verify", code=outbox.last_code(new_email))
    account("POST", "/api/account/password", currentPassword=PASSWORD + "2",
            newPassword=PASSWORD + "3")  # ends every other session: this one gets new tokens
    account("POST", "/api/account/logout-everywhere")
    login = post(client, "/api/auth/login", {"username": username, "password": PASSWORD + "3"})
    assert login.status_code == 200, login.body
    tokens.update(login.json_body)
    bearer["Authorization"] = tokens["idToken"]
    # Your data in AWS: read as the person (not recorded) except the profile's versions and
    # the archive, which the app's role writes and links.
    assert post(client, "/api/account/files", {"name": "zip.txt", "content": "aGk="},
                bearer).status_code == 201
    account("POST", "/api/account/data")
    account("POST", "/api/account/data/export")
    account("POST", "/api/account/access-check")
    # Two-step verification: set up, on, a log-in with the code, off (chalicelib/two_step.py).
    import pyotp

    account("POST", "/api/account/two-step")
    setup = client.http.post("/api/account/two-step/setup", headers=bearer,
                             body=json.dumps({"accessToken": tokens["accessToken"],
                                              "password": PASSWORD + "3"}))
    totp = pyotp.TOTP(setup.json_body["setupKey"])
    account("POST", "/api/account/two-step/on", appCode=totp.now())
    step = post(client, "/api/auth/login", {"username": new_email, "password": PASSWORD + "3"})
    assert step.json_body["challenge"] == "SOFTWARE_TOKEN_MFA", step.body
    other = post(client, "/api/auth/login/code", {
        "username": step.json_body["username"], "session": step.json_body["session"],
        "appCode": totp.now()})
    assert other.status_code == 200, other.body
    # The Security page: the sessions and activity, another session signed out, new recovery
    # codes, and a log-in with one (it turns two-step verification off: AdminSetUserMFAPreference).
    recorder.function = ""
    [sign_ins] = [s for s in app.event_sources if getattr(s, "name", "") == policy.RECORD_SIGN_IN]
    _invoke(client, recorder, sign_ins.name, _sqs_event(  # the log-ins' sessions, listed
        sqs, sqs.get_queue_url(QueueName=sign_ins.queue)["QueueUrl"], region))
    recorder.function = policy.API_HANDLER
    listed = client.http.get("/api/account/security", headers=bearer).json_body["sessions"]
    account("POST", "/api/account/sessions/sign-out",
            sessionId=next(s["id"] for s in listed if not s["thisDevice"]))
    codes = account("POST", "/api/account/two-step/recovery-codes",
                    appCode=totp.now())["recoveryCodes"]
    step = post(client, "/api/auth/login", {"username": new_email, "password": PASSWORD + "3"})
    assert post(client, "/api/auth/login/recovery", {
        "username": step.json_body["username"], "session": step.json_body["session"],
        "password": PASSWORD + "3", "recoveryCode": codes[0]}).status_code == 200
    setup = client.http.post("/api/account/two-step/setup", headers=bearer,
                             body=json.dumps({"accessToken": tokens["accessToken"],
                                              "password": PASSWORD + "3"}))
    totp = pyotp.TOTP(setup.json_body["setupKey"])
    account("POST", "/api/account/two-step/on", appCode=totp.now())
    account("POST", "/api/account/two-step/off", appCode=totp.now())
    # A log-in with an emailed code (chalicelib/email_sign_in.py: USER_AUTH, EMAIL_OTP).
    assert post(client, "/api/auth/email-code", {"username": new_email}).status_code == 200
    assert post(client, "/api/auth/login/email-code", {
        "username": new_email, "signInCode": outbox.last_code(new_email)}).status_code == 200
    # Passkeys (chalicelib/passkeys.py): added, listed, a log-in with one, removed.
    from infra.smoke.soft_authenticator import SoftAuthenticator

    device, origin = SoftAuthenticator(), "http://localhost:8000"
    created = device.create(account("POST", "/api/account/passkeys/start")["options"], origin)
    [key] = account("POST", "/api/account/passkeys/add", credential=json.dumps(created))["passkeys"]
    account("POST", "/api/account/passkeys")
    options = post(client, "/api/auth/passkey", {"username": new_email}).json_body["options"]
    assert post(client, "/api/auth/login/passkey", {"username": new_email, "credential": json.dumps(
        device.get(options, origin))}).status_code == 200
    account("POST", "/api/account/passkeys/remove", credentialId=key["id"])
    recorder.function = ""
    sqs_sources = [s for s in app.event_sources if isinstance(s, SQSEventConfig)  # not fed
                   and s.name not in (policy.ENFORCE_QUOTA,  # by user events but by S3,
                                      policy.RECORD_SIGN_IN)]  # by log-ins only
    streams = [s for s in app.event_sources if isinstance(s, DynamoDBEventConfig)]
    for source in sqs_sources:  # user.updated, twice
        url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        _invoke(client, recorder, source.name, _sqs_event(sqs, url, region))
    for source in streams:
        _invoke(client, recorder, source.name, _stream_event(local_session, stack, region, seen))

    recorder.function = policy.API_HANDLER
    # The name change's journey: every stage's record, read back.
    journey = client.http.get(f"/api/account/changes/{change['eventId']}", headers=bearer)
    assert journey.status_code == 200 and journey.json_body["complete"], journey.body
    run_failed_journeys(client, stack, recorder, sqs, account, bearer, sqs_sources)
    account("DELETE", "/api/account", password=PASSWORD + "3")
    recorder.function = ""
    for source in sqs_sources:  # user.deleted: the tombstone, every object version
        url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        _invoke(client, recorder, source.name, _sqs_event(sqs, url, region))
    for source in streams:  # the tombstone: the name goes
        _invoke(client, recorder, source.name, _stream_event(local_session, stack, region, seen))
    recorder.function = policy.API_HANDLER
    # The deleted account's ID token: the tombstone answers.
    from chalicelib import names
    names.forget_cache()
    assert client.http.get("/api/greeting", headers=bearer).status_code == 401
    recorder.function = ""


def run_failed_journeys(client: Any, stack: dict[str, str], recorder: Recorder, sqs: Any,
                        account: Callable[..., dict[str, Any]], bearer: dict[str, str],
                        sqs_sources: list[Any]) -> None:
    """Changes the pipeline gave up on: the journey looks into each waiting stage's
    dead-letter queue (save_profile's and archive_profile's, then sync_name's)."""
    import datetime

    region = stack["AWS_REGION"]

    def states(change: dict[str, Any]) -> list[str]:
        journey = client.http.get(f"/api/account/changes/{change['eventId']}", headers=bearer)
        assert journey.status_code == 200, journey.body
        return [stage["state"] for stage in journey.json_body["stages"]]

    recorder.function = policy.API_HANDLER
    failing = account("POST", "/api/account/name", name="Ada Failing")
    recorder.function = ""
    for source in sqs_sources:  # SQS after the fifth receive: each to its dead-letter queue
        dead = sqs.get_queue_url(QueueName=f"{source.queue}-dlq")["QueueUrl"]
        url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        for record in _sqs_event(sqs, url, region)["Records"]:
            sqs.send_message(QueueUrl=dead, MessageBody=record["body"])
    recorder.function = policy.API_HANDLER
    assert states(failing)[1:3] == ["failed", "failed"]

    renamed = account("POST", "/api/account/name", name="Ada Again")
    for source in sqs_sources:
        url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        _invoke(client, recorder, source.name, _sqs_event(sqs, url, region))
    # The stream mapping gave up on the batch holding the record just written.
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    dead = sqs.get_queue_url(
        QueueName=stack["NAME_SYNC_DEAD_LETTER_QUEUE_ARN"].rsplit(":", 1)[-1])["QueueUrl"]
    sqs.send_message(QueueUrl=dead, MessageBody=json.dumps({"DDBStreamBatchInfo": {
        "approximateArrivalOfFirstRecord": now, "approximateArrivalOfLastRecord": now}}))
    recorder.function = policy.API_HANDLER
    assert states(renamed)[1:4] == ["done", "done", "failed"]


@dataclass
class Recorded:
    stack: dict[str, str]
    recorder: Recorder
    flows: dict[str, list[Need]]  # every authorization the app needs, by Lambda


@pytest.fixture(scope="module")
def recorded(_stacks: Any, local_aws: Any) -> Iterator[Recorded]:
    """Every flow, run once on a stack of its own: its calls, event sources and logs."""
    from app import app

    with stack_for(_stacks, f"{__name__}::recorded", alone=True) as stack, \
            pytest.MonkeyPatch.context() as patch:
        recorder = hooked_recorder(patch)
        with chalice_client(patch) as client:
            request = client.http.request

            def recording(method: str, path: str, **kwargs: Any) -> Any:
                recorder.requests.append((method.upper(), path))
                return request(method, path, **kwargs)

            patch.setattr(client.http, "request", recording)
            run_every_flow(client, stack, local_aws.outbox, recorder, local_aws.session())
        arns = Arns(stack)
        by_function: dict[str, list[Need]] = {}
        for index, (function, service, operation, params) in enumerate(recorder.calls):
            by_function.setdefault(function, []).extend(
                needs(service, operation, params, arns, missing=index in recorder.missing))
        for function, extra in event_source_needs(app, stack, arns).items():
            by_function.setdefault(function, []).extend(extra)
        for function in list(by_function):
            by_function[function].extend(log_needs(function, stack["APP_STAGE"], arns))
        yield Recorded(dict(stack), recorder, by_function)
        _cold_start()


@pytest.fixture
def flows(recorded: Recorded) -> dict[str, list[Need]]:
    return recorded.flows


@pytest.fixture
def recorder(recorded: Recorded) -> Recorder:
    return recorded.recorder


@pytest.fixture
def stack(recorded: Recorded) -> dict[str, str]:
    """The recorded stack's outputs (the tests read them; no AWS is called after the flows)."""
    return recorded.stack


def _operations(recorder: Recorder) -> set[tuple[str, str, str]]:
    return {(f, s, o) for f, s, o, _ in recorder.calls}


# --- the proofs ------------------------------------------------------------------------

def test_the_flows_request_every_route_of_the_app(flows, recorder):
    requested = {(method, route_of(path)) for method, path in recorder.requests}
    missed = [f"{method} {path}" for method, path in app_routes()
              if (method, path) not in requested]
    assert missed == [], "run_every_flow never calls these routes: add them there"


def test_the_flows_exercise_every_lambda_and_every_kind_of_call(flows, recorder):
    from app import app

    functions = {policy.API_HANDLER} | {s.name for s in app.event_sources}
    assert functions <= set(flows)
    operations = _operations(recorder)
    for expected in [("api_handler", "sns", "Publish"), ("api_handler", "ssm", "GetParameters"),
                     ("api_handler", "cognito-idp", "InitiateAuth"),
                     ("api_handler", "cognito-identity", "GetCredentialsForIdentity"),
                     ("save_profile", "dynamodb", "TransactWriteItems"),
                     ("archive_profile", "s3", "GetObject"), ("archive_profile", "s3", "PutObject"),
                     ("sync_name", "ssm", "PutParameter"), ("sync_name", "ssm", "DeleteParameter"),
                     ("api_handler", "cognito-idp", "ListUsers"),
                     ("api_handler", "cognito-idp", "AdminSetUserMFAPreference"),
                     ("api_handler", "cognito-idp", "DeleteUser"),
                     ("api_handler", "dynamodb", "GetItem"),
                     ("api_handler", "dynamodb", "BatchGetItem"),
                     ("archive_profile", "s3", "ListObjectVersions"),
                     ("archive_profile", "s3", "DeleteObjects")]:
        assert expected in operations, f"{expected} was never exercised"


def test_every_aws_call_is_allowed_for_the_lambda_that_makes_it(flows, stack):
    documents = policy.documents(stack, stack["APP_STAGE"])
    denied = [f"{function}: {need.call} needs {need.action} on {need.resource}"
              for function, required in flows.items() for need in required
              if not policy_allows(
                  documents.get(function, policy.fallback(stack, stack["APP_STAGE"])), need)]
    assert denied == []


def test_the_policy_grants_nothing_the_app_does_not_use(flows, stack):
    unused = []
    for function, document in policy.documents(stack, stack["APP_STAGE"]).items():
        required = flows.get(function, [])
        for statement in document["Statement"]:
            for action in as_list(statement["Action"]):
                for resource in as_list(statement["Resource"]):
                    used = any(need.action.lower() == action.lower()
                               and iam_match(resource, need.resource) for need in required)
                    # Log streams are matched by the group's ':*' form; the bare group by
                    # CreateLogGroup.
                    if not used and action.startswith("logs:") and any(
                            n.action.startswith("logs:") and iam_match(resource, n.resource)
                            for n in required):
                        used = True
                    if not used:
                        unused.append(f"{function}: {statement['Sid']} {action} on {resource}")
    assert unused == []


# The one overlap by design: a person's files go, every version, both when the account is
# deleted (archive_profile's sweep) and when one breaks the quota (enforce_quota); any file
# may be either. Only that action, and only on people's files.
SHARED_BY_DESIGN = {frozenset({policy.ARCHIVE_PROFILE, policy.ENFORCE_QUOTA}):
                    ("s3:DeleteObjectVersion", "/files/")}


def _shared_by_design(function: str, other: str, need: Need) -> bool:
    action, part = SHARED_BY_DESIGN.get(frozenset({function, other}), ("", "-"))
    return need.action == action and part in need.resource


def test_each_lambda_is_denied_what_only_another_lambda_needs(flows, stack):
    documents = policy.documents(stack, stack["APP_STAGE"])
    leaks = [f"{other} may {need.action} on {need.resource} ({function} needs it)"
             for function, required in flows.items() for need in required
             if not need.action.startswith("logs:")
             for other, document in documents.items()
             if other != function and policy_allows(document, need)
             and not _shared_by_design(function, other, need)
             and not any(n.action == need.action and n.resource == need.resource
                         for n in flows.get(other, []))]
    assert leaks == []


def test_only_peoples_files_are_shared_by_the_quota_and_the_account_sweep(flows, stack):
    documents = policy.documents(stack, stack["APP_STAGE"])
    profile = [n for n in flows[policy.ARCHIVE_PROFILE]
               if n.action == "s3:DeleteObjectVersion" and n.resource.endswith("/profile.json")]
    assert profile, "the account sweep removes the profile's versions"
    assert not any(policy_allows(documents[policy.ENFORCE_QUOTA], n) for n in profile)
