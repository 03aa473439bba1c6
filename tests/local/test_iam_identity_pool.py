"""The identity pool's credentials in the local AWS (local/iam/identity_pool.py): per
person, for the template's authenticated role, the same identity for the same user,
and none for another person's login, a deleted user or a signed-out token.

Every person gets their credentials from Cognito Identity with their own ID token, as anyone
holding it can (`POST /api/auth/credentials` answers only whose and until when).
What those credentials may do: tests/local/test_iam_enforcement.py.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from infra import template as infra_template
from local.event_sources.events import ACCOUNT_ID
from tests.helpers import post
from tests.stack.helpers import LOCAL_REGION, credentials_for


# --- the role in the template -----------------------------------------------------------

def test_the_authenticated_role_grants_exactly_the_contract_and_nothing_else():
    role = infra_template.load()["Resources"]["AuthenticatedRole"]["Properties"]
    assert "ManagedPolicyArns" not in role and "PermissionsBoundary" not in role
    (policy,) = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    own = "${UsersBucket.Arn}/users/${!aws:PrincipalTag/sub}"
    normalised = [{"Effect": s["Effect"],
                   "Action": sorted(s["Action"] if isinstance(s["Action"], list)
                                    else [s["Action"]]),
                   "Resource": s["Resource"], "Condition": s.get("Condition")}
                  for s in statements]
    assert normalised == [
        {"Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": {"Fn::Sub": "${UsersBucket.Arn}/app/${!aws:PrincipalTag/sub}/profile.json"},
         "Condition": None},
        {"Effect": "Allow", "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
         "Resource": {"Fn::Sub": f"{own}/files/*"}, "Condition": None},
        {"Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": {"Fn::GetAtt": ["UsersBucket", "Arn"]},
         "Condition": {"StringLike": {"s3:prefix": [
             "users/${aws:PrincipalTag/sub}/files/",
             "users/${aws:PrincipalTag/sub}/files/*",
             "app/${aws:PrincipalTag/sub}/profile.json"]}}},
        {"Effect": "Allow", "Action": ["dynamodb:GetItem"],
         "Resource": {"Fn::GetAtt": ["UsersTable", "Arn"]},
         "Condition": {"ForAllValues:StringEquals": {
             "dynamodb:LeadingKeys": ["${aws:PrincipalTag/sub}"]}}},
        {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameterHistory"],
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                                 "parameter/comm-it/${Stage}/users/${!aws:PrincipalTag/sub}/*"},
         "Condition": None},
    ]
    assert all(set(s) <= {"Sid", "Effect", "Action", "Resource", "Condition"} for s in statements)


def test_the_local_role_is_the_templates_role(local_aws, stack):
    iam = local_aws.session().client("iam", endpoint_url=stack["AWS_ENDPOINT_URL"])
    identity = local_aws.session().client("cognito-identity",
                                          endpoint_url=stack["AWS_ENDPOINT_URL"])
    arn = identity.get_identity_pool_roles(IdentityPoolId=stack["IDENTITY_POOL_ID"])["Roles"]
    name = arn["authenticated"].split("/")[-1]
    (policy_name,) = iam.list_role_policies(RoleName=name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
    bucket = f"arn:aws:s3:::{stack['USERS_BUCKET_NAME']}"
    assert [s["Resource"] for s in document["Statement"]] == [
        f"{bucket}/app/${{aws:PrincipalTag/sub}}/profile.json",
        f"{bucket}/users/${{aws:PrincipalTag/sub}}/files/*", bucket,
        f"arn:aws:dynamodb:{LOCAL_REGION}:{ACCOUNT_ID}:table/{stack['USERS_TABLE_NAME']}",
        f"arn:aws:ssm:{LOCAL_REGION}:{ACCOUNT_ID}:parameter/comm-it/local/users/"
        "${aws:PrincipalTag/sub}/*"]
    tags = identity.get_principal_tag_attribute_map(
        IdentityPoolId=stack["IDENTITY_POOL_ID"],
        IdentityProviderName=f"cognito-idp.{LOCAL_REGION}.amazonaws.com/{stack['USER_POOL_ID']}")
    assert tags["PrincipalTags"] == {"sub": "sub"} and tags["UseDefaults"] is False


# --- the credentials ----------------------------------------------------------------------

def test_credentials_are_the_persons_own_for_the_authenticated_role(person):
    alice, bob = person(), person()
    assert alice.credentials["accessKeyId"] != bob.credentials["accessKeyId"]
    assert alice.credentials["accessKeyId"].startswith("ASIA")
    caller = alice.client("sts").get_caller_identity()
    assert caller["Arn"].endswith(":assumed-role/comm-it-local-AuthenticatedRole/"
                                  "CognitoIdentityCredentials")


def test_credentials_expire_in_about_an_hour(person):
    expiration = datetime.fromisoformat(person().credentials["expiration"])
    left = (expiration - datetime.now(timezone.utc)).total_seconds()
    assert 3500 < left <= 3600


def test_the_same_user_gets_the_same_identity_id_every_time(client, register, stack):
    tokens = register()
    first = credentials_for(client, tokens)
    second = credentials_for(client, tokens)
    assert first["identityId"] == second["identityId"]
    assert first["accessKeyId"] != second["accessKeyId"]  # fresh credentials each time
    assert credentials_for(client, register())["identityId"] != first["identityId"]


def test_the_secret_key_is_never_logged(client, register, caplog):
    # INFO: what the app and chalice log. (botocore's DEBUG wire log prints every response
    # body, secrets included, in AWS too: it is never switched on.)
    from chalicelib import cognito_credentials

    caplog.set_level(logging.INFO)
    tokens = register()
    assert post(client, "/api/auth/credentials", {},
                {"Authorization": tokens["idToken"]}).status_code == 200
    exchanged = cognito_credentials.aws_credentials(tokens["idToken"])  # the app's own exchange
    assert exchanged.secret_key not in caplog.text
    assert exchanged.session_token not in caplog.text


def test_one_persons_login_cannot_get_credentials_for_anothers_identity(client, register,
                                                                        local_aws, stack):
    from botocore.exceptions import ClientError

    alice, bob = register(), register()
    alice_id = credentials_for(client, alice)["identityId"]
    identity = local_aws.session().client("cognito-identity",
                                          endpoint_url=stack["AWS_ENDPOINT_URL"])
    provider = f"cognito-idp.{LOCAL_REGION}.amazonaws.com/{stack['USER_POOL_ID']}"
    with pytest.raises(ClientError) as error:
        identity.get_credentials_for_identity(IdentityId=alice_id,
                                              Logins={provider: bob["idToken"]})
    assert error.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_a_deleted_user_gets_no_credentials(client, register, local_aws, stack):
    tokens = register()
    local_aws.session().client("cognito-idp", endpoint_url=stack["AWS_ENDPOINT_URL"]) \
        .admin_delete_user(UserPoolId=stack["USER_POOL_ID"], Username=tokens["username"])
    response = post(client, "/api/auth/credentials", {},
                    {"Authorization": f"{tokens['idToken']}"})
    assert response.status_code == 401, response.body


def test_after_logging_out_the_old_id_token_gets_no_credentials(client, register):
    tokens = register()
    assert credentials_for(client, tokens)
    response = post(client, "/api/auth/logout", {"accessToken": tokens["accessToken"]})
    assert response.status_code in (200, 204), response.body
    response = post(client, "/api/auth/credentials", {},
                    {"Authorization": f"{tokens['idToken']}"})
    assert response.status_code == 401, response.body


# --- DescribeIdentity and DeleteIdentities (local/iam/identity_deletion.py) ---------------------

def _identities(local_aws, stack):
    return local_aws.session().client("cognito-identity", endpoint_url=stack["AWS_ENDPOINT_URL"])


def test_describe_identity_says_the_provider_and_when_it_was_made(client, register, local_aws,
                                                                   stack):
    before = datetime.now(timezone.utc)
    identity_id = credentials_for(client, register())["identityId"]
    described = _identities(local_aws, stack).describe_identity(IdentityId=identity_id)
    assert described["IdentityId"] == identity_id
    assert described["Logins"] == [
        f"cognito-idp.{LOCAL_REGION}.amazonaws.com/{stack['USER_POOL_ID']}"]
    assert described["CreationDate"] >= before.replace(microsecond=0)
    assert described["LastModifiedDate"] >= described["CreationDate"]


def test_a_deleted_identity_is_gone_and_the_same_user_gets_a_new_one(client, register,
                                                                      local_aws, stack):
    from botocore.exceptions import ClientError

    tokens = register()
    identity_id = credentials_for(client, tokens)["identityId"]
    identities = _identities(local_aws, stack)
    assert identities.delete_identities(IdentityIdsToDelete=[identity_id])[
        "UnprocessedIdentityIds"] == []
    for call in (lambda: identities.describe_identity(IdentityId=identity_id),
                 lambda: identities.get_credentials_for_identity(
                     IdentityId=identity_id, Logins={
                         f"cognito-idp.{LOCAL_REGION}.amazonaws.com/{stack['USER_POOL_ID']}":
                         tokens["idToken"]})):
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert credentials_for(client, tokens)["identityId"] not in ("", identity_id)
    # Deleting it again, or an id that never existed, is no error (nothing to do).
    assert identities.delete_identities(IdentityIdsToDelete=[
        identity_id, f"{LOCAL_REGION}:00000000-0000-0000-0000-000000000000"])[
        "UnprocessedIdentityIds"] == []


@pytest.mark.parametrize("ids", [["not-an-identity-id"], [f"{LOCAL_REGION}:{'a' * 60}"],
                                 [f"{LOCAL_REGION}:0"] * 61])
def test_identity_ids_outside_the_documented_constraints_are_invalid(local_aws, stack, ids):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as error:
        _identities(local_aws, stack).delete_identities(IdentityIdsToDelete=ids)
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
