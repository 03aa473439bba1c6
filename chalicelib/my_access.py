"""`Check my access`: real requests signed with the person's own credentials, each with
what IAM answered, and the authenticated role's policy in words with their sub filled in.

The other person is NOBODY, an id no one has (user pool subs are random UUIDs): IAM
refuses before existence matters, so no real person's id is ever used or shown.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib import names, user_keys
from chalicelib.acting_as import DENIED as DENIED_CODES
from chalicelib.acting_as import AsPerson
from chalicelib.aws import error_code
from chalicelib.config import settings
from chalicelib.my_data import as_person
from chalicelib.my_files import Person

NOBODY = "00000000-0000-0000-0000-000000000000"
ALLOWED, DENIED = "allowed", "denied"
NOT_THERE_YET = {"NoSuchKey", "404", "ParameterNotFound"}

# The authenticated role's statements (infra/template.yaml, by Sid) in words;
# tests/unit/test_my_data.py checks every statement has its sentence here.
ROLE_IN_WORDS = {
    "ReadOwnProfile": "read your profile document, {profile}",
    "ManageOwnFiles": "read, upload and delete your files, {files}*",
    "ListOwnFiles": "list your files under {files} (and see whether {profile} exists)",
    "ReadOwnRecord": "read your item in the table {table} whose key is sub = {sub}, "
                     "and no other item (no scan, no query)",
    "ReadOwnNameParameter": "read the parameters under {parameters}/ and their history",
}


def policy_in_words(sub: str) -> list[str]:
    cfg = settings()
    values = {"profile": user_keys.profile_key(sub), "files": user_keys.files_prefix(sub),
              "table": cfg.users_table, "sub": sub,
              "parameters": names.parameter_name(sub).rsplit("/", 1)[0]}
    return [f"Your credentials may {text.format(**values)}." for text in ROLE_IN_WORDS.values()] \
        + ["Nothing else: any other object, item, parameter, table or service is refused."]


def check(person: Person) -> dict[str, Any]:
    """Run each request as the person; say what was expected and what AWS answered."""
    return as_person(person, lambda me: _check(me, person.sub))


def _check(me: AsPerson, sub: str) -> dict[str, Any]:
    cfg = settings()
    bucket, table = cfg.users_bucket, cfg.users_table
    outside = f"{user_keys.prefix(sub)}outside-files.txt"
    probes: list[tuple[str, str, str, Callable[[], Any]]] = [
        ("Read your profile document", f"s3:GetObject {user_keys.profile_key(sub)}", ALLOWED,
         lambda: me("s3").get_object(Bucket=bucket, Key=user_keys.profile_key(sub))),
        ("List your files", f"s3:ListBucket {user_keys.files_prefix(sub)}", ALLOWED,
         lambda: me("s3").list_objects_v2(Bucket=bucket, Prefix=user_keys.files_prefix(sub))),
        ("Read your item in the users table", f"dynamodb:GetItem {table} sub = {sub}", ALLOWED,
         lambda: me("dynamodb").get_item(TableName=table, Key={"sub": {"S": sub}})),
        ("Read your name parameter", f"ssm:GetParameter {names.parameter_name(sub)}", ALLOWED,
         lambda: me("ssm").get_parameter(Name=names.parameter_name(sub))),
        ("Read another person's profile document",
         f"s3:GetObject {user_keys.profile_key(NOBODY)}", DENIED,
         lambda: me("s3").get_object(Bucket=bucket, Key=user_keys.profile_key(NOBODY))),
        ("Read another person's item in the users table",
         f"dynamodb:GetItem {table} sub = {NOBODY}", DENIED,
         lambda: me("dynamodb").get_item(TableName=table, Key={"sub": {"S": NOBODY}})),
        ("Read another person's name parameter",
         f"ssm:GetParameter {names.parameter_name(NOBODY)}", DENIED,
         lambda: me("ssm").get_parameter(Name=names.parameter_name(NOBODY))),
        (f"Write outside {user_keys.files_prefix(sub)}", f"s3:PutObject {outside}", DENIED,
         lambda: me("s3").put_object(Bucket=bucket, Key=outside, Body=b"")),
    ]
    results = [_probe(*probe) for probe in probes]
    return {"results": results, "policy": policy_in_words(sub), "nobody": NOBODY}


def _probe(label: str, request: str, expected: str, call: Callable[[], Any]) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        call()
        outcome, code = ALLOWED, ""
    except ClientError as exc:
        code = error_code(exc)
        if code not in DENIED_CODES | NOT_THERE_YET:
            raise  # stale credentials, a failing service: chalicelib/acting_as.py
        # Not there yet (the pipeline has not written it) is past IAM: allowed.
        outcome = DENIED if code in DENIED_CODES else ALLOWED
    return {"label": label, "request": request, "expected": expected, "outcome": outcome,
            "code": code, "asExpected": outcome == expected}
