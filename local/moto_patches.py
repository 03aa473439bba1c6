"""Every patch made to moto, in one list: what moto lacks, and the version it was written for.

The emulations (local/cognito/, local/iam/, local/state.py) replace moto's methods only
through `replace()`, which refuses a target that is not listed here: a new patch must
be named in PATCHES first. tests/unit/test_local_moto_patches.py fails clearly when the
installed moto is not MOTO_VERSION (the pin in requirements-dev.txt); after an upgrade,
re-check each line below against the new moto, then move the pin and MOTO_VERSION.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

MOTO_VERSION = "5.2.5"  # every patch below was written for, and tested with, this moto


class Patch(NamedTuple):
    target: str  # module.Class.method of moto
    by: str  # the local module that makes it
    lacks: str  # what moto does not do that AWS does


_IDP = "moto.cognitoidp"
_IDENTITY = "moto.cognitoidentity.responses.CognitoIdentityResponse"
PATCHES = (
    Patch(f"{_IDP}.models.CognitoIdpBackend.sign_up", "local.cognito.codes",
          "sign-up generates and sends no confirmation code"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.confirm_sign_up", "local.cognito.codes",
          "ConfirmSignUp accepts any code"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.resend_confirmation_code", "local.cognito.codes",
          "no ResendConfirmationCode (HTTP 500)"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.forgot_password", "local.cognito.codes",
          "reset codes go to unverified addresses; unknown users are not UserNotFound"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.confirm_forgot_password", "local.cognito.codes",
          "ConfirmForgotPassword accepts any code"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.codes",
          "usernames do not ignore case when the pool says so (sign-in)"),
    Patch(f"{_IDP}.models.CognitoIdpUserPool._get_user", "local.cognito.codes",
          "usernames do not ignore case when the pool says so"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.lockout",
          "no lockout after 5 wrong passwords"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.associate_software_token", "local.cognito.totp",
          "one fixed TOTP secret for every user"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.verify_software_token", "local.cognito.totp",
          "codes checked only behind an environment switch, against the fixed secret"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.totp",
          "a SOFTWARE_TOKEN_MFA challenge's session bound to no user and never expiring"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.respond_to_auth_challenge", "local.cognito.totp",
          "the challenge's user read from the request, not the session; wrong codes not counted"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.update_user_attributes",
          "local.cognito.attributes",
          "a new email is applied at once, unverified (AttributesRequireVerificationBeforeUpdate)"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.verify_user_attribute",
          "local.cognito.attributes", "no VerifyUserAttribute"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.get_user_attribute_verification_code",
          "local.cognito.attributes", "no GetUserAttributeVerificationCode"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.delete_user", "local.cognito.attributes",
          "no DeleteUser"),
    Patch(f"{_IDP}.models.CognitoIdpUserPool.sign_out", "local.cognito.sessions",
          "GlobalSignOut leaves the ID tokens valid for ServerSideTokenCheck"),
    Patch(f"{_IDP}.models.CognitoIdpUserPool.__init__", "local.cognito.sessions",
          "a deleted user's sub is forgotten (ServerSideTokenCheck cannot refuse it)"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.revoke_token", "local.cognito.revoke",
          "no RevokeToken: one session (a refresh token and its access tokens) cannot end alone"),
    Patch(f"{_IDP}.models.CognitoIdpUserPool.create_jwt", "local.cognito.signing_key",
          "every pool's tokens signed with one private key shipped inside moto (kid \"dummy\"): "
          "anyone can sign a token for any sub"),
    Patch(f"{_IDP}.responses.CognitoIdpJsonWebKeyResponse.json_web_key",
          "local.cognito.signing_key", "the JWKS publishes the public half of that shipped key"),
    Patch(f"{_IDENTITY}.get_id", "local.iam.identity_pool",
          "GetId checks no login and returns a new identity id on every call"),
    Patch(f"{_IDENTITY}.get_credentials_for_identity", "local.iam.identity_pool",
          "every identity gets the same static keys, tied to no role"),
    Patch(f"{_IDENTITY}.get_id", "local.iam.identity_deletion",
          "no identity's creation date (DescribeIdentity's CreationDate)"),
    Patch(f"{_IDENTITY}.describe_identity", "local.iam.identity_deletion",
          "no DescribeIdentity"),
    Patch(f"{_IDENTITY}.delete_identities", "local.iam.identity_deletion",
          "no DeleteIdentities: an identity outlives its deleted account"),
    Patch(f"{_IDENTITY}.set_identity_pool_roles", "local.iam.identity_pool",
          "no SetIdentityPoolRoles"),
    Patch(f"{_IDENTITY}.get_identity_pool_roles", "local.iam.identity_pool",
          "no GetIdentityPoolRoles"),
    Patch(f"{_IDENTITY}.set_principal_tag_attribute_map", "local.iam.identity_pool",
          "no SetPrincipalTagAttributeMap"),
    Patch(f"{_IDENTITY}.get_principal_tag_attribute_map", "local.iam.identity_pool",
          "no GetPrincipalTagAttributeMap"),
    Patch("moto.s3.responses.S3Response._authenticate_and_authorize_s3_action",
          "local.iam.enforcement",
          "no policy variables or role-policy conditions, no presigned-URL signature check"),
    Patch("moto.core.authorization.ActionAuthenticatorMixin."
          "_authenticate_and_authorize_normal_action", "local.iam.enforcement",
          "no policy variables or role-policy conditions"),
    Patch("moto.dynamodb.models.DynamoDBBackend.transact_write_items",
          "local.dynamodb_transactions",
          "TransactWriteItems costs O(table size) (it deep-copies every table it touches); "
          "AWS: per item"),
    Patch("moto.dynamodb.models.DynamoDBBackend.put_item", "local.dynamodb_transactions",
          "writes and stream reads are not isolated from a transaction in flight"),
    Patch("moto.dynamodb.models.DynamoDBBackend.update_item", "local.dynamodb_transactions",
          "writes and stream reads are not isolated from a transaction in flight"),
    Patch("moto.dynamodb.models.DynamoDBBackend.delete_item", "local.dynamodb_transactions",
          "writes and stream reads are not isolated from a transaction in flight"),
    Patch("moto.dynamodbstreams.models.DynamoDBStreamsBackend.get_records",
          "local.dynamodb_transactions",
          "writes and stream reads are not isolated from a transaction in flight"),
    Patch("moto.dynamodb.models.DynamoDBBackend.update_item", "local.dynamodb_updates",
          "an update that creates an item records two INSERTs on the stream (the bare key's, "
          "then the item's); AWS: one"),
    Patch("moto.dynamodb.models.table.StreamShard.add", "local.dynamodb_updates",
          "an update that creates an item records two INSERTs on the stream; AWS: one"),
    Patch("moto.dynamodb.parsing.expressions.UpdateExpressionParser.make",
          "local.dynamodb_updates",
          "(not a gap of AWS) every UpdateExpression is parsed twice per write"),
    Patch("moto.dynamodb.parsing.ast_nodes.DepthFirstTraverser.nodes_to_be_processed",
          "local.dynamodb_updates",
          "(not a gap of AWS) an expression's passes rebuild their map of node kinds per node"),
    Patch("moto.dynamodb.parsing.ast_nodes.DepthFirstTraverser.process",
          "local.dynamodb_updates",
          "(not a gap of AWS) an expression's passes rebuild their map of node kinds per node"),
    Patch("moto.dynamodb.parsing.validators.UpdateExpressionValidator.__init__",
          "local.dynamodb_updates",
          "(not a gap of AWS) the parsed expression is deep-copied for every validation"),
    Patch("moto.dynamodb.parsing.validators.UpdateExpressionValidator.validate",
          "local.dynamodb_updates",
          "(not a gap of AWS) checks of the expression alone rerun on every write"),
    Patch("moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host",
          "local.moto_dispatch",
          "(not a gap of AWS) every request lists moto's package directory under a global lock"),
    Patch("moto.sqs.models.SQSBackend.is_message_valid_based_on_retention_period",
          "local.sqs_scans",
          "(not a gap of AWS) each received message builds the queue's attributes three times"),
    Patch("moto.sqs.models.Message.visible", "local.sqs_scans",
          "(not a gap of AWS) a message's visibility reads the clock through a datetime"),
    Patch("moto.sqs.models.Message.delayed", "local.sqs_scans",
          "(not a gap of AWS) a message's delay reads the clock through a datetime"),
    Patch("moto.s3.models.S3Backend._set_delete_marker", "local.s3_events",
          "a delete marker sends no s3:ObjectRemoved:DeleteMarkerCreated notification"),
    Patch("moto.sqs.models.Queue.wait_for_messages", "local.state",
          "(not a gap of moto) a long poll lets go of the snapshot gate while it waits"),
)

_LISTED = {(p.target, p.by) for p in PATCHES}
applied: dict[tuple[str, str], Callable[..., Any]] = {}  # (target, by) -> what it replaced


def target(owner: type, name: str) -> str:
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


def is_applied(owner: type, name: str, by: str) -> bool:
    return (target(owner, name), by) in applied


def replace(owner: type, name: str, new: Any, *, by: str) -> Any:
    """Set `owner.name` to `new` (listed in PATCHES for `by`, at most once); return what was
    there before, for `new` to wrap."""
    key = (target(owner, name), by)
    if key not in _LISTED:
        raise LookupError(f"{key[0]} patched by {by} is not listed in local/moto_patches.py")
    if key in applied:
        raise RuntimeError(f"{key[0]} already patched by {by}")
    applied[key] = previous = getattr(owner, name, None)  # None: moto has no such method
    setattr(owner, name, new)
    return previous
