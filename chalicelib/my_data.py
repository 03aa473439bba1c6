"""Your data in AWS: every place Comm-IT keeps something of a person, what it holds and
how long it stays, read with the person's own credentials wherever their role allows.

The identity pool's credentials (chalicelib/cognito_credentials.py) reach, by the
authenticated role in infra/template.yaml: the person's profile document and files in S3,
their item in the users table (GetItem, `dynamodb:LeadingKeys` = their sub) and their
name parameter (GetParameter, GetParameterHistory). The user pool's record is read with
their access token (GetUser). Only the older versions of the profile document need the
app's own role (ListBucketVersions, GetObjectVersion: infra/policy.py). Every row says
which of these read it (`readWith`).

`collect` gathers everything once; `places` turns it into the rows of the account
page's table; chalicelib/my_data_export.py into `data.json` of the ZIP.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable

from chalicelib import cognito_account, lambdas, names, user_keys
from chalicelib.acting_as import AsPerson, act_as
from chalicelib.aws import client, error_code
from chalicelib.config import settings
from chalicelib.errors import Forbidden
from chalicelib.my_files import Person


# How long things stay: the settings of infra/template.yaml (the users bucket's lifecycle
# rule, the log groups' retention), pinned to it by tests/unit/test_my_data.py.
NONCURRENT_VERSION_DAYS = 30
LOG_RETENTION_DAYS = 30

YOUR_CREDENTIALS = "your AWS credentials"
YOUR_ACCESS_TOKEN = "your access token"  # noqa: S105 (a label, not a secret)
APP_ROLE = "the app's own role"
NOT_READ = "not read (the app cannot search logs)"
# The person's credentials only need to outlive the page's few reads.
CREDENTIALS_LIFE = 60


def as_person(person: Person, operation: Callable[[AsPerson], Any]) -> Any:
    """Run `operation(me)` with clients signed as the person (chalicelib/acting_as.py)."""
    return act_as(person, operation, outliving=CREDENTIALS_LIFE, service="AWS",
                  failed="Your data could not be reached just now. Please try again.")


def collect(person: Person, access_token: str, me: AsPerson) -> dict[str, Any]:
    """Everything Comm-IT holds about the person, read from the services themselves."""
    cfg = settings()
    user = cognito_account.current_user(access_token)
    if user["sub"] != person.sub:
        raise Forbidden("Your sign-in tokens do not match. Log out, then log in again.",
                        code="TokenMismatch")
    key = user_keys.profile_key(person.sub)
    item = me("dynamodb").get_item(TableName=cfg.users_table,
                                   Key={"sub": {"S": person.sub}}).get("Item")
    return {
        "cognito": {"userPoolId": cfg.user_pool_id, "username": user["username"],
                    "attributes": {k: v for k, v in user.items() if k != "username"},
                    "status": "CONFIRMED, enabled (you are signed in with it)"},
        "identity": {"identityPoolId": cfg.identity_pool_id,
                     "identityId": me.credentials.identity_id,
                     "credentialsExpire": me.credentials.expiration},
        "dynamodb": {"table": cfg.users_table, "key": {"sub": person.sub},
                     "item": _plain(item) if item else None},
        "profile": {"bucket": cfg.users_bucket, "key": key, **_profile(me, key)},
        "parameter": _parameter(me, names.parameter_name(person.sub)),
        "files": {"bucket": cfg.users_bucket, "prefix": user_keys.files_prefix(person.sub),
                  "files": _files(me, person)},
        "security": _security(person.sub),
    }


def _security(sub: str) -> dict[str, Any]:
    """The Security page's sessions and activity, and how many recovery codes are left (their
    hashes stay in the table): the app's role reads them, the person's credentials cannot."""
    from chalicelib import my_security, recovery_codes

    return {**my_security.stored(sub), "recoveryCodesLeft": recovery_codes.state(sub)["left"],
            "recoveryCodesKey": recovery_codes.key(sub)}


def places(person: Person, access_token: str) -> dict[str, Any]:
    """The rows of `Your data in AWS`: service, resource, what it holds, how long, read with."""
    return as_person(person, lambda me: _rows(person, collect(person, access_token, me)))


def _rows(person: Person, data: dict[str, Any]) -> dict[str, Any]:
    cfg, sub = settings(), person.sub
    c, i, d, p, n, f, s = (data[k] for k in ("cognito", "identity", "dynamodb", "profile",
                                             "parameter", "files", "security"))
    versions = p["versions"]
    older = sum(1 for v in versions if not v["isLatest"])
    tombstone = ("When you delete your account, a tombstone with only your sub and when "
                 "stays, so that no late event brings your details back.")
    rows = [
        _row("Amazon Cognito user pool", f"User pool {c['userPoolId']}, username {c['username']}",
             [f"{k}: {v or '(none)'}" for k, v in c["attributes"].items()]
             + [f"status: {c['status']}"],
             "Until you delete your account.", YOUR_ACCESS_TOKEN),
        _row("Amazon Cognito identity pool",
             f"Identity pool {i['identityPoolId']}, identity id {i['identityId']}",
             ["Your identity id, which gets you temporary AWS credentials (they expire "
              f"{i['credentialsExpire']})"],
             "The identity stays in the pool after your account is deleted; it holds no "
             "personal data and gets no credentials any more.", "your ID token"),
        _row("Amazon DynamoDB", f"Table {d['table']}, key sub = {sub}",
             [f"{k}: {v}" for k, v in (d["item"] or {}).items()] or ["no record yet"],
             "Until you delete your account. " + tombstone, YOUR_CREDENTIALS),
        _row("Amazon S3", f"Bucket {p['bucket']}, key {p['key']}",
             [f"{p['size']} bytes, {len(versions)} version(s) ({older} older)"
              if p["document"] is not None else "not archived yet"],
             f"Older versions {NONCURRENT_VERSION_DAYS} days after they are replaced; every "
             f"version is removed when you delete your account. The tombstone "
             f"{user_keys.tombstone_key(sub)} holds only your sub and when.",
             f"{YOUR_CREDENTIALS} (the document); {APP_ROLE} (its older versions)"),
        _row("Amazon S3", f"Bucket {f['bucket']}, prefix {f['prefix']}",
             [f"{len(f['files'])} file(s), {sum(x['size'] for x in f['files'])} bytes"] +
             [f"{x['name']}: {x['size']} bytes" for x in f["files"]],
             "Until you delete them; a deleted file goes with every version within moments, "
             "and no older version of a file is kept.", YOUR_CREDENTIALS),
        _row("AWS Systems Manager Parameter Store", f"Parameter {n['name']}",
             [f"value: {n['value']}", f"{len(n['history'])} version(s)"]
             if n["value"] is not None else ["not written yet"],
             "Until you delete your account.", YOUR_CREDENTIALS),
        _row("Amazon DynamoDB", f"Table {s['table']}, keys {s['key']} and "
             f"{s['recoveryCodesKey']}",
             [f"{len(s['sessions'])} signed-in session(s): device, IP, started, last active"] +
             [f"{x['device']} ({x['ip']}), last active {x['lastActive']}" for x in s["sessions"]] +
             [f"{len(s['activity'])} line(s) of activity: what, when, device, IP",
              f"{len(s['devices'])} device(s) seen signing in",
              f"{s['recoveryCodesLeft']} recovery code(s) left, as salted hashes only"],
             "Activity 90 days; a session until it ends (30 days at most); recovery codes "
             "until replaced or two-step verification is off. All of it goes when you delete "
             "your account.", APP_ROLE),
        _row("Amazon CloudWatch Logs",
             "Log groups " + ", ".join(f"/aws/lambda/{lambdas.deployed_name(cfg.stage, f)}"
                                       for f in lambdas.FUNCTIONS),
             ["Lines about your requests may name your sub; never your name, email, "
              "password or tokens."],
             f"{LOG_RETENTION_DAYS} days.", NOT_READ),
    ]
    return {"places": rows, "sub": sub}


def _row(service: str, resource: str, holds: list[str], stays: str,
         read_with: str) -> dict[str, Any]:
    return {"service": service, "resource": resource, "holds": holds, "stays": stays,
            "readWith": read_with}


def _profile(me: AsPerson, key: str) -> dict[str, Any]:
    """The current document (the person's credentials) and its versions (the app's role)."""
    bucket = settings().users_bucket
    try:
        body = me("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        if error_code(exc) not in ("NoSuchKey", "404"):
            raise
        return {"document": None, "size": 0, "versions": []}
    listed = client("s3").list_object_versions(Bucket=bucket, Prefix=key)
    versions = [{"versionId": v["VersionId"], "isLatest": bool(v["IsLatest"]),
                 "size": int(v["Size"]), "lastModified": v["LastModified"].isoformat()}
                for v in listed.get("Versions", []) if v["Key"] == key]
    return {"document": _json(body), "size": len(body), "versions": versions}


def older_profile_versions(key: str, versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each noncurrent version of the profile document with its content (the app's role)."""
    s3 = client("s3")
    return [{**v, "document": _json(s3.get_object(Bucket=settings().users_bucket, Key=key,
                                                  VersionId=v["versionId"])["Body"].read())}
            for v in versions if not v["isLatest"]]


def _parameter(me: AsPerson, name: str) -> dict[str, Any]:
    try:
        history = me("ssm").get_parameter_history(Name=name)["Parameters"]
    except Exception as exc:
        if error_code(exc) != "ParameterNotFound":
            raise
        history = []
    return {"name": name, "value": history[-1]["Value"] if history else None,
            "history": [{"version": h["Version"], "value": h["Value"],
                         "lastModified": h["LastModifiedDate"].isoformat()} for h in history]}


def _files(me: AsPerson, person: Person) -> list[dict[str, Any]]:
    listed = me("s3").list_objects_v2(Bucket=settings().users_bucket,
                                      Prefix=person.files_prefix, MaxKeys=1000)
    return sorted(({"name": o["Key"][len(person.files_prefix):], "size": int(o["Size"]),
                    "key": o["Key"]} for o in listed.get("Contents", [])
                   if o["Key"] != person.files_prefix),
                  key=lambda f: f["name"])


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain JSON values."""
    from boto3.dynamodb.types import TypeDeserializer

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == int(value) else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, set)):
            return [plain(v) for v in value]
        return value

    deserialize = TypeDeserializer().deserialize
    return {k: plain(deserialize(v)) for k, v in sorted(item.items())}
