"""The person's own AWS credentials: never handed out by the app, exchanged at Cognito Identity
with the ID token alone (as anyone holding it can), reading the person's own profile and
refused another person's."""
from __future__ import annotations

import json
from typing import Any

from infra.errors import aws_error
from infra.smoke import app_api
from infra.smoke.outcomes import Failed
from infra.smoke.state import Run

# Keys POST /api/auth/credentials must never answer (the AWS credentials themselves).
SECRET_FIELDS = {"accessKeyId", "secretKey", "sessionToken", "AccessKeyId", "SecretKey",
                 "SessionToken", "SecretAccessKey"}


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


def own_profile(run: Run) -> str:
    from chalicelib.user_keys import profile_key

    status, body = app_api.http(run.target, "POST", "/api/auth/credentials", {},
                                token=run.tokens["idToken"])
    if status != 200 or not isinstance(body, dict) or "identityId" not in body:
        raise Failed(f"POST /api/auth/credentials answered {status} {body}")
    handed = sorted(SECRET_FIELDS & set(body))
    if handed:
        raise Failed(f"POST /api/auth/credentials answered {', '.join(handed)}: the app "
                     f"hands out the person's AWS keys")
    env = run.target.env
    credentials = identity_pool_credentials(run.target.unsigned("cognito-identity"),
                                            env["IDENTITY_POOL_ID"], env["USER_POOL_ID"],
                                            run.tokens["idToken"])
    if credentials["identityId"] != body["identityId"]:
        raise Failed(f"the app names identity {body['identityId']}, Cognito Identity gave "
                     f"the ID token {credentials['identityId']}")
    run.credentials = credentials
    s3, key = run.target.client_as("s3", credentials), profile_key(run.sub)
    document = json.loads(s3.get_object(Bucket=run.target.bucket, Key=key)["Body"].read())
    if document.get("email") != run.email:
        raise Failed(f"read {key} as the person but it holds email {document.get('email')!r}")
    return (f"POST /api/auth/credentials named identity {body['identityId']} and no key; "
            f"its credentials, from Cognito Identity with the ID token alone (unsigned), "
            f"read s3://{run.target.bucket}/{key}")


def other_key(run: Run) -> str:
    """Another person's file and profile (a decoy the run writes, and removes in cleanup) are
    refused to this person's credentials."""
    from botocore.exceptions import ClientError

    from chalicelib.user_keys import file_key, profile_key

    bucket = run.target.bucket
    keys = [file_key(run.decoy_sub, "decoy.txt"), profile_key(run.decoy_sub)]
    for key in keys:
        run.target.client("s3").put_object(Bucket=bucket, Key=key, Body=b'{"decoy": true}',
                                           ContentType="application/json")
        try:
            run.target.client_as("s3", run.credentials).get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code, _ = aws_error(exc)
            if code not in ("AccessDenied", "403"):
                raise Failed(f"reading another person's {key} failed with {code}, "
                             f"not AccessDenied") from None
            continue
        raise Failed(f"{run.username}'s identity-pool credentials READ another person's "
                     f"s3://{bucket}/{key}: the signed-in role is open to other "
                     f"people's data")
    return f"reading another person's {' and '.join(keys)} in s3://{bucket} was refused"
