"""The gaps local/ patches close, shown against moto and chalice local unpatched.

Each canary asserts that a gap listed in local/moto_patches/ is still there in the moto
(or chalice) installed. Patches are process-global once installed, so the canaries run in a
process of their own that never imports local/: `python -m tests.canaries.gaps` runs them
all (moto's in-process `mock_aws()`, each canary with its own pools, tables, queues and
buckets; chalice local's server on a free port) and prints one JSON object, {canary: null
when the gap is there, else why not}, and whether anything imported local/.
tests/canaries/test_canaries.py runs it once and names, for a canary that fails, the patch
to delete. A canary may count calls or wrap moto's methods: this process is thrown away.
"""
from __future__ import annotations

import functools
import json
import os
import sys
import time
import traceback
from typing import Any, Callable, NamedTuple


class Canary(NamedTuple):
    name: str
    covers: tuple[tuple[str, str], ...]  # (target, by) of the registry entries it watches
    run: Callable[[], None]


CANARIES: list[Canary] = []

_IDP = "moto.cognitoidp"
_IDENTITY = "moto.cognitoidentity.responses.CognitoIdentityResponse"
_CHALICE = "chalice.local"


def canary(*covers: tuple[str, str]) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(function: Callable[[], None]) -> Callable[[], None]:
        CANARIES.append(Canary(function.__name__, covers, function))
        return function
    return register


def _error(call: Callable[[], Any]) -> str:
    """The error code of a boto3 call expected to fail ("" when it succeeds)."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 (what a call raises is what is observed)
        return getattr(error, "response", {}).get("Error", {}).get("Code") or \
            type(error).__name__
    return ""


@functools.lru_cache(maxsize=None)
def _client(service: str, **kwargs: Any) -> Any:
    """One client per service (and credentials): making one costs about 0.1 s."""
    import boto3
    from botocore.config import Config

    return boto3.client(service, region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}), **kwargs)


class _Pool(NamedTuple):
    idp: Any
    pool: str
    client: str


def _pool(**settings: Any) -> _Pool:
    idp = _client("cognito-idp")
    pool = idp.create_user_pool(PoolName="p", **settings)["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="c",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return _Pool(idp, pool, client)


def _user(p: _Pool, name: str, password: str = "Passw0rd!x") -> dict[str, str]:
    """A confirmed user, signed in: its tokens."""
    p.idp.admin_create_user(UserPoolId=p.pool, Username=name, MessageAction="SUPPRESS",
                            UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"},
                                            {"Name": "email_verified", "Value": "true"}])
    p.idp.admin_set_user_password(UserPoolId=p.pool, Username=name, Password=password,
                                  Permanent=True)
    return _sign_in(p, name, password)


def _sign_in(p: _Pool, name: str, password: str = "Passw0rd!x") -> Any:
    return p.idp.initiate_auth(ClientId=p.client, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": name, "PASSWORD": password}
                               ).get("AuthenticationResult")


# --- Cognito user pools ---------------------------------------------------------------

@canary((f"{_IDP}.models.CognitoIdpBackend.sign_up", "local.cognito.codes"),
        (f"{_IDP}.responses.CognitoIdpResponse.confirm_sign_up", "local.cognito.codes"))
def moto_confirm_sign_up_accepts_any_code_as_sign_up_made_none() -> None:
    p = _pool()
    p.idp.sign_up(ClientId=p.client, Username="alice", Password="Passw0rd!x",
                  UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    p.idp.confirm_sign_up(ClientId=p.client, Username="alice", ConfirmationCode="000000")
    user = p.idp.admin_get_user(UserPoolId=p.pool, Username="alice")
    assert user["UserStatus"] == "CONFIRMED"


@canary((f"{_IDP}.responses.CognitoIdpResponse.resend_confirmation_code", "local.cognito.codes"))
def moto_has_no_resend_confirmation_code() -> None:
    p = _pool()
    p.idp.sign_up(ClientId=p.client, Username="alice", Password="Passw0rd!x")
    assert _error(lambda: p.idp.resend_confirmation_code(ClientId=p.client, Username="alice")) \
        == "NotImplementedError"


@canary((f"{_IDP}.models.CognitoIdpBackend.forgot_password", "local.cognito.codes"))
def moto_forgot_password_answers_for_an_unknown_user() -> None:
    p = _pool()
    assert _error(lambda: p.idp.forgot_password(ClientId=p.client, Username="nobody")) == ""


@canary((f"{_IDP}.models.CognitoIdpBackend.confirm_forgot_password", "local.cognito.codes"))
def moto_confirm_forgot_password_accepts_any_code() -> None:
    p = _pool()
    _user(p, "alice")
    p.idp.forgot_password(ClientId=p.client, Username="alice")
    p.idp.confirm_forgot_password(ClientId=p.client, Username="alice",
                                  ConfirmationCode="not-the-code", Password="Passw0rd!new")
    assert _sign_in(p, "alice", "Passw0rd!new")


@canary((f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.codes"),
        (f"{_IDP}.models.CognitoIdpUserPool._get_user", "local.cognito.codes"))
def moto_usernames_are_case_sensitive_in_a_pool_that_says_they_are_not() -> None:
    p = _pool(UsernameConfiguration={"CaseSensitive": False})
    _user(p, "Alice")
    assert _error(lambda: _sign_in(p, "alice")) == "UserNotFoundException"
    assert _error(lambda: p.idp.admin_get_user(UserPoolId=p.pool, Username="ALICE")) \
        == "UserNotFoundException"


@canary((f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.lockout"))
def moto_locks_nobody_out_after_wrong_passwords() -> None:
    p = _pool()
    _user(p, "alice")
    for _ in range(10):
        assert _error(lambda: _sign_in(p, "alice", "wrong")) == "NotAuthorizedException"
    assert _sign_in(p, "alice")


@canary((f"{_IDP}.models.CognitoIdpBackend.associate_software_token", "local.cognito.totp"),
        (f"{_IDP}.models.CognitoIdpBackend.verify_software_token", "local.cognito.totp"))
def moto_gives_every_user_one_totp_secret_and_accepts_any_code() -> None:
    p = _pool()
    secrets = {p.idp.associate_software_token(AccessToken=_user(p, name)["AccessToken"])
               ["SecretCode"] for name in ("alice", "bob")}
    assert len(secrets) == 1
    token = _sign_in(p, "alice")["AccessToken"]
    assert p.idp.verify_software_token(AccessToken=token, UserCode="000000")["Status"] \
        == "SUCCESS"


@canary((f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.totp"),
        (f"{_IDP}.models.CognitoIdpBackend.respond_to_auth_challenge", "local.cognito.totp"))
def moto_answers_one_users_totp_challenge_with_the_tokens_of_the_user_the_request_names() -> None:
    p = _pool(MfaConfiguration="OPTIONAL")
    for name in ("alice", "bob"):
        token = _user(p, name)["AccessToken"]
        p.idp.associate_software_token(AccessToken=token)
        p.idp.verify_software_token(AccessToken=token, UserCode="000000")
        p.idp.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={
            "Enabled": True, "PreferredMfa": True})
    challenge = p.idp.initiate_auth(ClientId=p.client, AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "alice",
                                                    "PASSWORD": "Passw0rd!x"})
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    answer = p.idp.respond_to_auth_challenge(
        ClientId=p.client, ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "bob", "SOFTWARE_TOKEN_MFA_CODE": "000000"})
    user = p.idp.get_user(AccessToken=answer["AuthenticationResult"]["AccessToken"])
    assert user["Username"] == "bob"


@canary((f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.email_otp"),
        (f"{_IDP}.models.CognitoIdpBackend.respond_to_auth_challenge",
         "local.cognito.email_otp"))
def moto_has_no_choice_based_sign_in_with_an_email_code() -> None:
    p = _pool(UserPoolTier="ESSENTIALS",
              Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})
    client = p.idp.create_user_pool_client(
        UserPoolId=p.pool, ClientName="u", ExplicitAuthFlows=["ALLOW_USER_AUTH"],
    )["UserPoolClient"]["ClientId"]
    _user(p, "alice")
    assert _error(lambda: p.idp.initiate_auth(
        ClientId=client, AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": "alice", "PREFERRED_CHALLENGE": "EMAIL_OTP"},
    )) == "InvalidParameterException"
    assert _error(lambda: p.idp.respond_to_auth_challenge(
        ClientId=client, ChallengeName="EMAIL_OTP", Session="x" * 20,
        ChallengeResponses={"USERNAME": "alice", "EMAIL_OTP_CODE": "12345678"},
    )) == "ResourceNotFoundException"


@canary(*((f"{_IDP}.responses.CognitoIdpResponse.{name}", "local.cognito.passkeys")
          for name in ("start_web_authn_registration", "complete_web_authn_registration",
                       "list_web_authn_credentials", "delete_web_authn_credential")),
        *((f"{_IDP}.responses.CognitoIdpResponse.{name}", "local.cognito.passkey_settings")
          for name in ("set_user_pool_mfa_config", "set_user_mfa_preference")))
def moto_has_no_passkeys_and_drops_the_pools_and_users_webauthn_settings() -> None:
    p = _pool(MfaConfiguration="OPTIONAL")
    p.idp.set_user_pool_mfa_config(
        UserPoolId=p.pool, MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"RelyingPartyId": "localhost", "UserVerification": "required"})
    assert "WebAuthnConfiguration" not in p.idp.get_user_pool_mfa_config(UserPoolId=p.pool)
    token = _user(p, "alice")["AccessToken"]
    p.idp.set_user_mfa_preference(AccessToken=token, WebAuthnMfaSettings={"Enabled": True})
    from moto.cognitoidp.models import cognitoidp_backends

    [user] = [u for pool in cognitoidp_backends["123456789012"]["us-east-1"].user_pools.values()
              if pool.id == p.pool for u in pool.users.values()]
    assert not any("webauthn" in name.lower() for name in vars(user)), vars(user)
    calls = {
        "StartWebAuthnRegistration": lambda: p.idp.start_web_authn_registration(
            AccessToken=token),
        "CompleteWebAuthnRegistration": lambda: p.idp.complete_web_authn_registration(
            AccessToken=token, Credential={}),
        "ListWebAuthnCredentials": lambda: p.idp.list_web_authn_credentials(AccessToken=token),
        "DeleteWebAuthnCredential": lambda: p.idp.delete_web_authn_credential(
            AccessToken=token, CredentialId="x"),
    }
    errors = {name: _error(call) for name, call in calls.items()}
    assert errors == dict.fromkeys(calls, "NotImplementedError"), errors


@canary((f"{_IDP}.responses.CognitoIdpResponse.update_user_attributes",
         "local.cognito.attributes"))
def moto_applies_a_new_email_at_once_though_the_pool_requires_its_verification() -> None:
    p = _pool(AutoVerifiedAttributes=["email"], UserAttributeUpdateSettings={
        "AttributesRequireVerificationBeforeUpdate": ["email"]})
    token = _user(p, "alice")["AccessToken"]
    p.idp.update_user_attributes(AccessToken=token, UserAttributes=[
        {"Name": "email", "Value": "new@example.com"}])
    attributes = {a["Name"]: a["Value"] for a in p.idp.get_user(AccessToken=token)
                  ["UserAttributes"]}
    assert attributes["email"] == "new@example.com"


@canary((f"{_IDP}.responses.CognitoIdpResponse.verify_user_attribute",
         "local.cognito.attributes"),
        (f"{_IDP}.responses.CognitoIdpResponse.get_user_attribute_verification_code",
         "local.cognito.attributes"),
        (f"{_IDP}.responses.CognitoIdpResponse.delete_user", "local.cognito.attributes"),
        (f"{_IDP}.responses.CognitoIdpResponse.revoke_token", "local.cognito.revoke"))
def moto_has_no_verify_user_attribute_get_its_code_delete_user_nor_revoke_token() -> None:
    p = _pool()
    tokens = _user(p, "alice")
    token = tokens["AccessToken"]
    calls = {
        "VerifyUserAttribute": lambda: p.idp.verify_user_attribute(
            AccessToken=token, AttributeName="email", Code="123456"),
        "GetUserAttributeVerificationCode": lambda: p.idp.get_user_attribute_verification_code(
            AccessToken=token, AttributeName="email"),
        "RevokeToken": lambda: p.idp.revoke_token(Token=tokens["RefreshToken"],
                                                  ClientId=p.client),
        "DeleteUser": lambda: p.idp.delete_user(AccessToken=token),
    }
    errors = {name: _error(call) for name, call in calls.items()}
    assert errors == dict.fromkeys(calls, "NotImplementedError"), errors


@canary((f"{_IDP}.models.CognitoIdpUserPool.create_jwt", "local.cognito.signing_key"),
        (f"{_IDP}.responses.CognitoIdpJsonWebKeyResponse.json_web_key",
         "local.cognito.signing_key"))
def moto_signs_every_pools_tokens_with_the_key_it_ships_and_publishes_it() -> None:
    import jwt
    import requests

    kids = set()
    for _ in range(2):
        p = _pool()
        kids.add(jwt.get_unverified_header(_user(p, "alice")["IdToken"])["kid"])
        jwks = requests.get(f"https://cognito-idp.us-east-1.amazonaws.com/{p.pool}"
                            "/.well-known/jwks.json", timeout=5).json()
        kids.update(key["kid"] for key in jwks["keys"])
    assert kids == {"dummy"}


@canary((f"{_IDP}.models.jwk", "local.cognito.signing_key"))
def moto_imports_the_key_it_ships_for_every_new_pool() -> None:
    from joserfc import jwk

    imported = []
    original = jwk.RSAKey.import_key

    def import_key(value: Any, *args: Any, **kwargs: Any) -> Any:
        imported.append(value)
        return original(value, *args, **kwargs)
    jwk.RSAKey.import_key = import_key  # type: ignore[method-assign]
    try:
        for _ in range(2):
            _pool()
    finally:
        jwk.RSAKey.import_key = original  # type: ignore[method-assign]
    assert len(imported) == 2 and all(value["kid"] == "dummy" for value in imported), imported


# --- Cognito identity pools -----------------------------------------------------------

def _identity_pool(p: _Pool, server_side_check: bool = True) -> tuple[Any, str, str]:
    identity = _client("cognito-identity")
    provider = f"cognito-idp.us-east-1.amazonaws.com/{p.pool}"
    pool_id = identity.create_identity_pool(
        IdentityPoolName="ip", AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": p.client,
                                   "ServerSideTokenCheck": server_side_check}],
    )["IdentityPoolId"]
    return identity, pool_id, provider


@canary((f"{_IDENTITY}.get_id", "local.iam.identity_pool"))
def moto_get_id_checks_no_login_and_answers_a_new_id_each_time() -> None:
    p = _pool()
    identity, pool_id, provider = _identity_pool(p)
    ids = {identity.get_id(IdentityPoolId=pool_id, Logins={provider: "not-a-token"})
           ["IdentityId"] for _ in range(2)}
    assert len(ids) == 2


@canary((f"{_IDENTITY}.get_credentials_for_identity", "local.iam.identity_pool"))
def moto_gives_every_identity_the_same_static_keys() -> None:
    p = _pool()
    identity, pool_id, provider = _identity_pool(p)
    keys = set()
    for name in ("alice", "bob"):
        logins = {provider: _user(p, name)["IdToken"]}
        identity_id = identity.get_id(IdentityPoolId=pool_id, Logins=logins)["IdentityId"]
        keys.add(identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)
                 ["Credentials"]["AccessKeyId"])
    assert len(keys) == 1


@canary((f"{_IDP}.models.CognitoIdpUserPool.sign_out", "local.cognito.sessions"),
        (f"{_IDP}.models.CognitoIdpUserPool.__init__", "local.cognito.sessions"))
def moto_server_side_token_check_accepts_signed_out_and_deleted_users_id_tokens() -> None:
    p = _pool()
    identity, pool_id, provider = _identity_pool(p)
    alice, bob = _user(p, "alice"), _user(p, "bob")
    p.idp.global_sign_out(AccessToken=alice["AccessToken"])
    p.idp.admin_delete_user(UserPoolId=p.pool, Username="bob")
    for tokens in (alice, bob):
        logins = {provider: tokens["IdToken"]}
        identity_id = identity.get_id(IdentityPoolId=pool_id, Logins=logins)["IdentityId"]
        identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)


@canary((f"{_IDENTITY}.get_id", "local.iam.identity_deletion"),
        (f"{_IDENTITY}.describe_identity", "local.iam.identity_deletion"),
        (f"{_IDENTITY}.delete_identities", "local.iam.identity_deletion"),
        (f"{_IDENTITY}.set_identity_pool_roles", "local.iam.identity_pool"),
        (f"{_IDENTITY}.get_identity_pool_roles", "local.iam.identity_pool"),
        (f"{_IDENTITY}.set_principal_tag_attribute_map", "local.iam.identity_pool"),
        (f"{_IDENTITY}.get_principal_tag_attribute_map", "local.iam.identity_pool"))
def moto_identity_pools_lack_describe_delete_roles_and_principal_tags() -> None:
    p = _pool()
    identity, pool_id, provider = _identity_pool(p)
    identity_id = identity.get_id(IdentityPoolId=pool_id, Logins={provider: "x"})["IdentityId"]
    role = "arn:aws:iam::123456789012:role/r"
    calls = {
        "DescribeIdentity": lambda: identity.describe_identity(IdentityId=identity_id),
        "DeleteIdentities": lambda: identity.delete_identities(IdentityIdsToDelete=[identity_id]),
        "SetIdentityPoolRoles": lambda: identity.set_identity_pool_roles(
            IdentityPoolId=pool_id, Roles={"authenticated": role}),
        "GetIdentityPoolRoles": lambda: identity.get_identity_pool_roles(IdentityPoolId=pool_id),
        "SetPrincipalTagAttributeMap": lambda: identity.set_principal_tag_attribute_map(
            IdentityPoolId=pool_id, IdentityProviderName=provider, UseDefaults=True),
        "GetPrincipalTagAttributeMap": lambda: identity.get_principal_tag_attribute_map(
            IdentityPoolId=pool_id, IdentityProviderName=provider),
    }
    errors = {name: _error(call) for name, call in calls.items()}
    assert errors == dict.fromkeys(calls, "NotImplementedError"), errors


# --- IAM as moto enforces it ----------------------------------------------------------

def _iam_user_with_policy(name: str, statement: dict[str, Any]) -> dict[str, str]:
    iam = _client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"]}


@canary(("moto.s3.responses.S3Response._authenticate_and_authorize_s3_action",
         "local.iam.enforcement"),
        ("moto.core.authorization.ActionAuthenticatorMixin."
         "_authenticate_and_authorize_normal_action", "local.iam.enforcement"))
def moto_iam_substitutes_no_policy_variable() -> None:
    from moto.core.authorization import enable_iam_authentication

    _client("s3").create_bucket(Bucket="canary-policy-variables")
    for folder in ("canary-user", "spelled-out"):
        _client("ssm").put_parameter(Name=f"/{folder}/p", Value="v", Type="String")
    keys = _iam_user_with_policy("canary-user", {"Effect": "Allow", "Action": [
        "s3:PutObject", "ssm:GetParameter"], "Resource": [
        "arn:aws:s3:::canary-policy-variables/${aws:username}/*",
        "arn:aws:s3:::canary-policy-variables/spelled-out/*",
        "arn:aws:ssm:us-east-1:123456789012:parameter/${aws:username}/*",
        "arn:aws:ssm:us-east-1:123456789012:parameter/spelled-out/*"]})
    anywhere = _iam_user_with_policy("canary-anywhere", {
        "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"})
    s3, ssm = _client("s3", **keys), _client("ssm", **keys)
    with enable_iam_authentication():
        s3_refused = {folder: _error(lambda folder=folder: s3.put_object(
            Bucket="canary-policy-variables", Key=f"{folder}/f", Body=b"x"))
            for folder in ("spelled-out", "canary-user")}
        ssm_refused = {folder: _error(lambda folder=folder: ssm.get_parameter(
            Name=f"/{folder}/p")) for folder in ("spelled-out", "canary-user")}
        anywhere_refused = _error(lambda: _client("ssm", **anywhere).get_parameter(
            Name="/spelled-out/p"))
    # S3: the user's own folder, named by ${aws:username}, is refused; one spelled out is not
    assert s3_refused == {"spelled-out": "", "canary-user": "AccessDenied"}, s3_refused
    # Parameter Store: moto checks every action against resource "*", so a policy naming
    # parameters (spelled out or by a variable) grants nothing; one granting "*" does
    assert all(ssm_refused.values()) and anywhere_refused == "", (ssm_refused, anywhere_refused)


# --- DynamoDB ---------------------------------------------------------------------------

def _table(name: str, stream: bool = False) -> Any:
    dynamodb = _client("dynamodb")
    extra: dict[str, Any] = {"StreamSpecification": {
        "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          **extra)
    return dynamodb


def _stream_records(table: str) -> list[dict[str, Any]]:
    """The table's stream records, read from moto's backend (mock_aws() does not route the
    DynamoDB Streams API: DescribeStream answers 404)."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    streams = dynamodbstreams_backends["123456789012"]["us-east-1"]
    arn = _client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams._get_table_from_arn(arn).stream_shard.id
    iterator = streams.get_shard_iterator(arn, shard, "TRIM_HORIZON")
    return streams.get_records(iterator.arn, 100)["Records"]


class _Counting:
    """Counts calls of `owner.name` (and who made them) until undone."""

    def __init__(self, owner: Any, name: str, wrap_as: Callable[[Any], Any] = lambda f: f):
        self.owner, self.name, self.calls = owner, name, []  # type: ignore[var-annotated]
        self.original = owner.__dict__[name]
        function = self.original.__func__ if isinstance(self.original, classmethod) else \
            self.original.fget if isinstance(self.original, property) else self.original

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(args[0] if args else None)
            return function(*args, **kwargs)
        setattr(owner, name, wrap_as(counting))

    def __enter__(self) -> _Counting:
        return self

    def __exit__(self, *_: Any) -> None:
        setattr(self.owner, self.name, self.original)


@canary(("moto.dynamodb.models.DynamoDBBackend.transact_write_items",
         "local.dynamodb.transactions"))
def moto_transact_write_items_deep_copies_each_table_it_touches() -> None:
    import copy

    from moto.dynamodb.models.table import Table

    dynamodb = _table("canary-transaction-copy")
    copied = []
    original = copy.deepcopy

    def recording(value: Any, *args: Any) -> Any:
        copied.append(type(value))
        return original(value, *args)
    copy.deepcopy = recording
    try:
        dynamodb.transact_write_items(TransactItems=[{"Put": {
            "TableName": "canary-transaction-copy", "Item": {"pk": {"S": "a"}}}}])
    finally:
        copy.deepcopy = original
    assert Table in copied, copied


@canary(("moto.dynamodb.models.DynamoDBBackend.put_item", "local.dynamodb.transactions"),
        ("moto.dynamodb.models.DynamoDBBackend.update_item", "local.dynamodb.transactions"),
        ("moto.dynamodb.models.DynamoDBBackend.delete_item", "local.dynamodb.transactions"),
        ("moto.dynamodbstreams.models.DynamoDBStreamsBackend.get_records",
         "local.dynamodb.transactions"))
def moto_lets_writes_and_stream_reads_run_inside_a_transaction_in_flight() -> None:
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    dynamodb = _table("canary-isolation", stream=True)
    dynamodb.put_item(TableName="canary-isolation", Item={"pk": {"S": "gone"}})
    key = {"pk": {"S": "other"}}
    done: list[str] = []

    def meanwhile() -> None:
        dynamodb.put_item(TableName="canary-isolation", Item=key)
        done.append("PutItem")
        dynamodb.update_item(TableName="canary-isolation", Key=key,
                             UpdateExpression="SET n = :n",
                             ExpressionAttributeValues={":n": {"N": "1"}})
        done.append("UpdateItem")
        dynamodb.delete_item(TableName="canary-isolation", Key={"pk": {"S": "gone"}})
        done.append("DeleteItem")
        _stream_records("canary-isolation")
        done.append("GetRecords")

    original = DynamoDBBackend.put_item
    in_flight = threading.local()

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(in_flight, "yes", False):  # the transaction's own write, half done
            in_flight.yes = False
            other = threading.Thread(target=meanwhile, daemon=True)
            other.start()
            other.join(timeout=5)  # a transaction isolated from them would keep them waiting
        return original(self, *args, **kwargs)
    DynamoDBBackend.put_item = put_item  # type: ignore[method-assign]
    try:
        in_flight.yes = True
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "canary-isolation", "Item": {"pk": {"S": p}}}}
            for p in ("t1", "t2")])
    finally:
        DynamoDBBackend.put_item = original  # type: ignore[method-assign]
    assert done == ["PutItem", "UpdateItem", "DeleteItem", "GetRecords"], done


@canary(("moto.dynamodb.models.DynamoDBBackend.update_item", "local.dynamodb.updates"),
        ("moto.dynamodb.models.table.StreamShard.add", "local.dynamodb.updates"))
def moto_records_two_inserts_for_an_update_that_creates_its_item() -> None:
    dynamodb = _table("canary-two-inserts", stream=True)
    dynamodb.update_item(TableName="canary-two-inserts", Key={"pk": {"S": "a"}},
                         UpdateExpression="SET n = :n",
                         ExpressionAttributeValues={":n": {"N": "1"}})
    events = [r["eventName"] for r in _stream_records("canary-two-inserts")]
    assert events == ["INSERT", "INSERT"], events


def _two_updates(table: str) -> None:
    dynamodb = _table(table)
    for n in ("1", "2"):
        dynamodb.update_item(TableName=table, Key={"pk": {"S": "a"}},
                             UpdateExpression="SET n = :n, m = :n",
                             ExpressionAttributeValues={":n": {"N": n}})


@canary(("moto.dynamodb.parsing.expressions.UpdateExpressionParser.make",
         "local.dynamodb.updates"))
def moto_parses_an_update_expression_twice_per_write() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    with _Counting(UpdateExpressionParser, "make", classmethod) as parses:
        _two_updates("canary-parses")
    assert len(parses.calls) == 4, parses.calls


@canary(("moto.dynamodb.parsing.ast_nodes.DepthFirstTraverser.nodes_to_be_processed",
         "local.dynamodb.updates"),
        ("moto.dynamodb.parsing.ast_nodes.DepthFirstTraverser.process",
         "local.dynamodb.updates"))
def moto_builds_a_passes_map_of_node_kinds_once_per_node() -> None:
    from moto.dynamodb.parsing import validators

    passes = [c for c in vars(validators).values() if isinstance(c, type)
              and "_processing_map" in vars(c)]
    counters = [_Counting(c, "_processing_map") for c in passes]
    try:
        _two_updates("canary-node-kinds")
    finally:
        for counter in counters:
            counter.__exit__()
    from collections import Counter

    per_pass = Counter(id(self) for counter in counters for self in counter.calls)
    assert max(per_pass.values()) > 1, "each pass builds its map of node kinds once"


@canary(("moto.dynamodb.parsing.validators.UpdateExpressionValidator.__init__",
         "local.dynamodb.updates"),
        ("moto.dynamodb.parsing.validators.UpdateExpressionValidator.validate",
         "local.dynamodb.updates"))
def moto_deep_copies_and_checks_an_update_expression_again_on_every_write() -> None:
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node

    copied = []
    original = validators.deepcopy

    def recording(value: Any, *args: Any) -> Any:
        copied.append(isinstance(value, Node))
        return original(value, *args)
    validators.deepcopy = recording
    try:
        with _Counting(validators.UpdateExpressionValidator, "get_ast_processors") as checks:
            _two_updates("canary-validations")
    finally:
        validators.deepcopy = original
    assert copied.count(True) >= 2, copied
    assert len(checks.calls) >= 2, "the checks of the expression alone ran once for two writes"


# --- moto's server, SQS, S3 -------------------------------------------------------------

@canary(("moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host",
         "local.server.dispatch"))
def moto_lists_its_package_directory_for_every_request() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    listed = []
    original = os.listdir

    def listdir(path: Any = ".") -> Any:
        listed.append(path)
        return original(path)
    dispatcher = DomainDispatcherApplication(create_backend_app)
    os.listdir = listdir  # type: ignore[assignment]
    try:
        for _ in range(2):
            dispatcher.get_backend_for_host("sqs.us-east-1.amazonaws.com")
    finally:
        os.listdir = original
    assert len(listed) == 2, listed


@canary(("moto.core.responses.method_names_from_class", "local.server.dispatch"))
def moto_lists_a_response_classs_functions_for_every_request() -> None:
    import inspect

    from moto.core import utils

    listed = []
    original = inspect.getmembers

    def getmembers(owner: Any, predicate: Any = None) -> Any:
        listed.append(owner)
        return original(owner, predicate)
    sqs = _client("sqs")
    utils.inspect.getmembers = getmembers  # type: ignore[attr-defined]
    try:
        for _ in range(2):
            sqs.list_queues()
    finally:
        utils.inspect.getmembers = original  # type: ignore[attr-defined]
    assert len([owner for owner in listed if owner.__name__ == "SQSResponse"]) == 2, listed


def _queue_with_message(name: str) -> Any:
    from moto.sqs.models import sqs_backends

    sqs = _client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    return sqs, url, sqs_backends["123456789012"]["us-east-1"].queues[name]


@canary(("moto.sqs.models.SQSBackend.is_message_valid_based_on_retention_period",
         "local.sqs.scans"))
def moto_builds_the_queues_attributes_for_each_message_received() -> None:
    from moto.sqs.models import Queue

    sqs, url, _ = _queue_with_message("canary-retention")
    with _Counting(Queue, "attributes", property) as built:
        assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1
    assert len(built.calls) >= 3, "ReceiveMessage builds the queue's attributes " \
        f"{len(built.calls)} times for one message"


@canary(("moto.sqs.models.Message.visible", "local.sqs.scans"),
        ("moto.sqs.models.Message.delayed", "local.sqs.scans"))
def moto_reads_the_clock_through_a_datetime_for_a_messages_visibility_and_delay() -> None:
    from moto.sqs import models

    _, _, queue = _queue_with_message("canary-clock")
    message = queue._messages[0]
    original = models.unix_time_millis
    read: list[int] = []

    def unix_time_millis(*args: Any) -> float:
        read.append(1)
        return original(*args)
    models.unix_time_millis = unix_time_millis  # type: ignore[assignment]
    try:
        assert message.visible and not message.delayed
    finally:
        models.unix_time_millis = original  # type: ignore[assignment]
    assert len(read) == 2, read


@canary(("moto.sqs.models.Queue.wait_for_messages", "local.run.state"))
def moto_long_poll_waits_in_queue_wait_for_messages() -> None:
    from moto.sqs.models import Queue

    import threading

    sqs = _client("sqs")
    url = sqs.create_queue(QueueName="canary-long-poll")["QueueUrl"]
    later = threading.Timer(0.05, lambda: sqs.send_message(QueueUrl=url, MessageBody="m"))
    with _Counting(Queue, "wait_for_messages") as waits:
        later.start()
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
    later.join()
    assert waits.calls, "a long poll no longer waits in Queue.wait_for_messages: " \
        "local/run/state.py's patch no longer lets go of the snapshot gate"


@canary(("moto.s3.models.S3Backend._set_delete_marker", "local.s3.delete_markers"))
def moto_sends_no_event_for_a_delete_marker() -> None:
    s3, sqs = _client("s3"), _client("sqs")
    url = sqs.create_queue(QueueName="canary-s3-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    s3.create_bucket(Bucket="canary-delete-marker")
    s3.put_bucket_versioning(Bucket="canary-delete-marker",
                             VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket="canary-delete-marker", NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
    s3.put_object(Bucket="canary-delete-marker", Key="f", Body=b"x")
    s3.delete_object(Bucket="canary-delete-marker", Key="f")
    events = []
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]:
        events += [r["eventName"] for r in json.loads(message["Body"]).get("Records", [])]
    assert "ObjectCreated:Put" in events, events  # moto does send S3 events...
    assert not any(e.startswith("ObjectRemoved:DeleteMarker") for e in events), events


@canary(("moto.cloudformation.models.CloudFormationBackend.create_stack",
         "local.cloudformation.stacks"))
def moto_cloudformation_cannot_create_the_apps_template() -> None:
    from pathlib import Path

    body = (Path(__file__).resolve().parents[2] / "infra" / "template.yaml").read_text()
    cfn = _client("cloudformation")
    error = _error(lambda: cfn.create_stack(
        StackName="canary-template", TemplateBody=body, Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": "canary"}]))
    if not error:  # created: then with the template's outputs?
        stack = cfn.describe_stacks(StackName="canary-template")["Stacks"][0]
        outputs = {o["OutputKey"] for o in stack.get("Outputs", [])}
        assert stack["StackStatus"] != "CREATE_COMPLETE" or "UserPoolId" not in outputs, stack


_SWAGGER = {"swagger": "2.0", "info": {"title": "canary", "version": "1"},
            "paths": {"/": {"get": {"responses": {"200": {"description": "ok"}}}}}}


@canary(("moto.apigateway.models.APIGatewayBackend.import_rest_api",
         "local.apigateway.rest_api_import"),
        ("moto.apigateway.models.APIGatewayBackend.put_rest_api",
         "local.apigateway.rest_api_import"))
def moto_refuses_to_import_swagger_2_and_makes_no_authorizer_of_openapi_3() -> None:
    apigateway = _client("apigateway")
    assert _error(lambda: apigateway.import_rest_api(body=json.dumps(_SWAGGER)))
    api = apigateway.create_rest_api(name="canary-put")["id"]
    assert _error(lambda: apigateway.put_rest_api(
        restApiId=api, mode="overwrite", body=json.dumps(_SWAGGER))) == "BadRequestException"
    pool = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_canary"
    openapi3 = {"openapi": "3.0.1", "info": {"title": "c", "version": "1", "description": "c"},
                "components": {"securitySchemes": {"pool": {
                    "type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authtype": "cognito_user_pools",
                    "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                                                       "providerARNs": [pool]}}}},
                "paths": {"/": {"get": {"security": [{"pool": []}],
                                        "responses": {"200": {"description": "ok"}}}}}}
    imported = apigateway.import_rest_api(body=json.dumps(openapi3))["id"]
    assert apigateway.get_authorizers(restApiId=imported)["items"] == []
    root = apigateway.get_resources(restApiId=imported)["items"][0]["id"]
    method = apigateway.get_method(restApiId=imported, resourceId=root, httpMethod="GET")
    assert method.get("authorizationType") in (None, "NONE"), method


@canary(("moto.wafv2.responses.WAFV2Response.list_resources_for_web_acl",
         "local.wafv2.resources_for_web_acl"))
def moto_has_no_list_resources_for_web_acl() -> None:
    wafv2 = _client("wafv2")
    arn = wafv2.create_web_acl(
        Name="canary", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
        VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                          "MetricName": "canary"})["Summary"]["ARN"]
    assert _error(lambda: wafv2.list_resources_for_web_acl(WebACLArn=arn,
                                                           ResourceType="API_GATEWAY"))


# --- chalice local (its API Gateway and its HTTP server) -------------------------------

def _chalice_app() -> Any:
    from chalice import Chalice, CognitoUserPoolAuthorizer

    app = Chalice(app_name="canary")
    guard = CognitoUserPoolAuthorizer("pool", provider_arns=["arn:aws:cognito-idp:x"])

    @app.route("/api/page")
    def page() -> dict[str, str]:
        return {"hello": "world"}

    @app.route("/api/mine", authorizer=guard)
    def mine() -> dict[str, str]:
        return {}
    return app


def _exchange(request: bytes) -> bytes:
    """What chalice local's server answers to raw request bytes (b"" when it hangs up); what
    it printed is in _PRINTED."""
    import contextlib
    import io

    with contextlib.redirect_stderr(io.StringIO()) as printed:
        answer = _serve_once(request)
    _PRINTED[:] = [printed.getvalue()]
    return answer


_PRINTED: list[str] = []


def _serve_once(request: bytes) -> bytes:
    import socket
    import threading

    from chalice.config import Config
    from chalice.local import LocalDevServer

    server = LocalDevServer(_chalice_app(), Config(), "127.0.0.1", 0)
    thread = threading.Thread(target=server.server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        with socket.create_connection(server.server.server_address, timeout=5) as client:
            client.sendall(request)
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
            return answer
    finally:
        server.shutdown()
        server.server.server_close()


@canary((f"{_CHALICE}.LocalGatewayAuthorizer._decode_jwt_payload", "local.run.serve"))
def chalice_local_crashes_on_a_token_that_is_not_three_base64_parts() -> None:
    from chalice.local import LocalGatewayAuthorizer

    assert _error(lambda: LocalGatewayAuthorizer(_chalice_app())._decode_jwt_payload("junk"))


@canary((f"{_CHALICE}.LocalGateway._generate_lambda_event", "local.run.serve"),
        (f"{_CHALICE}.ChaliceRequestHandler._send_headers", "local.run.serve"))
def chalice_local_answers_an_unknown_path_403_missing_authentication_token_bare() -> None:
    answer = _exchange(b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403"), head
    assert b"Missing Authentication Token" in body, body
    assert b"x-content-type-options" not in head.lower(), head


@canary((f"{_CHALICE}.ThreadedHTTPServer.request_queue_size", "local.run.serve"))
def chalice_local_listens_with_pythons_backlog_of_5() -> None:
    from chalice.local import ThreadedHTTPServer

    assert ThreadedHTTPServer.request_queue_size == 5


@canary(*((f"{_CHALICE}.ChaliceRequestHandler.do_{method}", "local.run.serve")
          for method in ("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH", "OPTIONS")),
        (f"{_CHALICE}.ChaliceRequestHandler._generic_handle", "local.run.serve"))
def chalice_local_hangs_up_on_a_content_length_that_is_not_a_number() -> None:
    answer = _exchange(b"POST /api/page HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n"
                       b"Connection: close\r\n\r\n")
    assert answer == b"", answer
    assert "ValueError" in _PRINTED[0], _PRINTED


@canary((f"{_CHALICE}.ChaliceRequestHandler._send_http_response_with_body", "local.run.serve"))
def chalice_local_sends_a_body_with_a_head_answer() -> None:
    answer = _exchange(b"HEAD /api/page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    _, _, body = answer.partition(b"\r\n\r\n")
    assert body, answer  # (chalice local answers HEAD 405, a route's methods in Allow)


@canary((f"{_CHALICE}.ChaliceRequestHandler.send_error", "local.run.serve"))
def chalice_local_answers_a_method_it_has_no_handler_for_with_an_html_501() -> None:
    answer = _exchange(b"TRACE /api/page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 501"), head
    assert b"text/html" in head and b"<html" in body.lower(), answer


@canary((f"{_CHALICE}.ThreadedHTTPServer.handle_error", "local.run.serve"))
def chalice_local_prints_a_traceback_when_a_client_hangs_up() -> None:
    import contextlib
    import io

    from chalice.local import ThreadedHTTPServer

    with contextlib.redirect_stderr(io.StringIO()) as printed:
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except BrokenPipeError:
            ThreadedHTTPServer.handle_error(None, None, ("127.0.0.1", 1))  # type: ignore[arg-type]
    assert "Traceback" in printed.getvalue() and "BrokenPipeError" in printed.getvalue()


def main() -> int:
    """Run every canary in one `mock_aws()` (each makes its own pools, tables, queues, buckets:
    a fresh mock per canary cost a third of a second); print {name: null or why not} as JSON."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):  # mock_aws() intercepts no endpoint set
        os.environ.pop(name, None)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",  # noqa: S105
                      AWS_DEFAULT_REGION="us-east-1")
    from moto import mock_aws

    results: dict[str, str | None] = {}
    with mock_aws():
        for each in CANARIES:
            started = time.perf_counter()
            try:
                each.run()
                results[each.name] = None
            except Exception:  # noqa: BLE001 (a canary that fails says why; the others run)
                results[each.name] = traceback.format_exc(limit=-3)
            print(f"{each.name}: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    imported = sorted(m for m in sys.modules if m == "local" or m.startswith("local."))
    print(json.dumps({"results": results, "imported_local": imported}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
