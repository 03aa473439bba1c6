"""The throwaway person created, logged in through the app, and carried by the pipeline: the
users table's record, app/<sub>/profile.json, the name parameter, the greeting."""
from __future__ import annotations

import json
from typing import Any

from infra.smoke import app_api
from infra.smoke.outcomes import Failed, Pending, wait_for
from infra.smoke.state import Run


def create_user(run: Run) -> str:
    idp, pool = run.target.client("cognito-idp"), run.target.env["USER_POOL_ID"]
    idp.admin_create_user(UserPoolId=pool, Username=run.username, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": run.email},
                                          {"Name": "email_verified", "Value": "true"},
                                          {"Name": "name", "Value": run.name}])
    run.created = True
    idp.admin_set_user_password(UserPoolId=pool, Username=run.username,
                                Password=run.password, Permanent=True)
    return f"{run.username} in {pool}, admin-confirmed (no email sent)"


def log_in(run: Run) -> str:
    status, body = app_api.http(run.target, "POST", "/api/auth/login",
                                {"username": run.username, "password": run.password})
    if status != 200 or not isinstance(body, dict) or "idToken" not in body:
        raise Failed(f"POST /api/auth/login answered {status} {body}")
    run.tokens = body
    run.sub = app_api.claims_of(body["idToken"])["sub"]
    return f"POST /api/auth/login answered 200 with tokens; sub {run.sub}"


def record(run: Run) -> str:
    table = run.target.env["USERS_TABLE_NAME"]

    def probe() -> Any:
        item = run.target.client("dynamodb").get_item(
            TableName=table, Key={"sub": {"S": run.sub}}, ConsistentRead=True).get("Item")
        return item if item and item.get("name", {}).get("S") == run.name else Pending(item)

    item = wait_for(probe, run.wait_seconds, f"record of {run.sub} in {table}")
    return (f"{table} holds {run.sub} named {run.name!r} "
            f"(login_count {item.get('login_count', {}).get('N')})")


def profile_document(run: Run) -> str:
    from chalicelib.user_keys import profile_key

    s3, key, bucket = run.target.client("s3"), profile_key(run.sub), run.target.bucket

    def probe() -> Any:
        try:
            return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            return None

    document = wait_for(probe, run.wait_seconds, f"s3://{bucket}/{key}")
    if document.get("email") != run.email:
        raise Failed(f"s3://{bucket}/{key} holds email {document.get('email')!r}, "
                     f"not {run.email!r}")
    return f"s3://{bucket}/{key} with the user's email"


def name_parameter(run: Run) -> str:
    ssm, name = run.target.client("ssm"), run.target.name_parameter(run.sub)

    def probe() -> Any:
        try:
            value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            return None
        return value if value == run.name else Pending(value)

    wait_for(probe, run.wait_seconds, f"parameter {name} = {run.name!r}")
    return f"{name} = {run.name!r}"


def greeting(run: Run) -> str:
    def probe() -> Any:
        status, body = app_api.http(run.target, "GET", "/api/greeting",
                                    token=run.tokens["idToken"])
        ok = status == 200 and isinstance(body, dict) and body.get("name") == run.name
        return body if ok else Pending(f"{status} {body}")

    body = wait_for(probe, run.wait_seconds, f"greeting with the name {run.name!r}")
    return f"GET /api/greeting answered 200 {json.dumps(body)}"
