"""moto's patches: every method of moto the local AWS replaces, and why (local/moto_patches/)."""
from __future__ import annotations

from local.moto_patches.kinds import GAP, RUNTIME, SPEED, Patch

_IDP = "moto.cognitoidp"
_IDENTITY = "moto.cognitoidentity.responses.CognitoIdentityResponse"
_NOT_IMPLEMENTED = "implement {} (moto answers HTTP 500 today)"
_ISOLATED = ("writes and stream reads are not isolated from a transaction in flight "
             "(one of them sees, or changes, a transaction half done)")
_ISOLATION_FIX = "make TransactWriteItems atomic with respect to other writes and stream reads"
_TRANSACTIONS_KEPT = (
    "it is a copy of moto's transact_write_items with the deep copy of every table touched "
    "replaced by an undo log of the touched items: a login's transaction cost grew with the "
    "number of people stored (docs/local-aws.md); re-copy it from moto at each upgrade")
_EXPRESSIONS_KEPT = ("a login's transaction was the local AWS's largest cost under the 200-person "
                     "crowd, most of it in the expression: 4.7 ms -> 1.8 ms (bench/README.md, "
                     "docs/local-aws.md)")
_SQS_KEPT = ("a receive cost 10 x 6 scans of the waiting messages: about a tenth of the local "
             "AWS's time under the 200-person crowd (bench/README.md)")
PATCHES = (
    Patch(f"{_IDP}.models.CognitoIdpBackend.sign_up", "local.cognito.codes",
          "sign-up generates and sends no confirmation code", GAP,
          "generate a confirmation code at sign-up and expose it (as it does the reset code)"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.confirm_sign_up", "local.cognito.codes",
          "ConfirmSignUp accepts any code", GAP,
          "check the code against the one sign-up generated (CodeMismatchException)"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.resend_confirmation_code", "local.cognito.codes",
          "no ResendConfirmationCode (HTTP 500)", GAP,
          _NOT_IMPLEMENTED.format("ResendConfirmationCode")),
    Patch(f"{_IDP}.models.CognitoIdpBackend.forgot_password", "local.cognito.codes",
          "reset codes go to unverified addresses; unknown users are not UserNotFound", GAP,
          "answer UserNotFoundException for an unknown user and InvalidParameterException "
          "when no verified address can receive the code"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.confirm_forgot_password", "local.cognito.codes",
          "ConfirmForgotPassword accepts any code", GAP,
          "check the code against the one ForgotPassword generated"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.codes",
          "usernames do not ignore case when the pool says so (sign-in)", GAP,
          "honour UsernameConfiguration.CaseSensitive=False when finding a user"),
    Patch(f"{_IDP}.models.CognitoIdpUserPool._get_user", "local.cognito.codes",
          "usernames do not ignore case when the pool says so", GAP,
          "honour UsernameConfiguration.CaseSensitive=False when finding a user"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.lockout",
          "no lockout after 5 wrong passwords", GAP,
          "lock a user out (NotAuthorizedException 'Password attempts exceeded') after "
          "repeated wrong passwords"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.associate_software_token", "local.cognito.totp",
          "one fixed TOTP secret for every user", GAP,
          "generate a random secret per user"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.verify_software_token", "local.cognito.totp",
          "codes checked only behind an environment switch, against the fixed secret", GAP,
          "check every code against the user's own secret (RFC 6238)"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.initiate_auth", "local.cognito.totp",
          "a SOFTWARE_TOKEN_MFA challenge's session bound to no user and never expiring", GAP,
          "bind a challenge's session to its user and expire it after 3 minutes"),
    Patch(f"{_IDP}.models.CognitoIdpBackend.respond_to_auth_challenge", "local.cognito.totp",
          "the challenge's user read from the request, not the session; wrong codes not counted",
          GAP, "read the user from the session, check the code, count wrong codes"),
    *(Patch(f"{_IDP}.models.CognitoIdpBackend.{name}", "local.cognito.email_otp",
            "no USER_AUTH (choice-based sign-in), no EMAIL_OTP challenge", GAP, "implement "
            "USER_AUTH and EMAIL_OTP") for name in ("initiate_auth", "respond_to_auth_challenge")),
    *(Patch(f"{_IDP}.responses.CognitoIdpResponse.{verb}_web_authn_{what}", "local.cognito."
            "passkeys", "no WebAuthn calls (HTTP 500)", GAP, "implement passkeys") for verb, what
      in (("start", "registration"), ("complete", "registration"), ("list", "credentials"),
          ("delete", "credential"))),
    *(Patch(f"{_IDP}.responses.CognitoIdpResponse.{name}", "local.cognito.passkey_settings",
            "WebAuthnConfiguration and WebAuthnMfaSettings dropped", GAP, "keep them")
      for name in ("set_user_pool_mfa_config", "set_user_mfa_preference")),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.update_user_attributes",
          "local.cognito.attributes",
          "a new email is applied at once, unverified (AttributesRequireVerificationBeforeUpdate)",
          GAP, "keep a new email pending until verified when the pool's "
          "UserAttributeUpdateSettings says so, and send a code"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.verify_user_attribute",
          "local.cognito.attributes", "no VerifyUserAttribute", GAP,
          _NOT_IMPLEMENTED.format("VerifyUserAttribute")),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.get_user_attribute_verification_code",
          "local.cognito.attributes", "no GetUserAttributeVerificationCode", GAP,
          _NOT_IMPLEMENTED.format("GetUserAttributeVerificationCode")),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.delete_user", "local.cognito.attributes",
          "no DeleteUser", GAP, _NOT_IMPLEMENTED.format("DeleteUser")),
    Patch(f"{_IDP}.models.CognitoIdpUserPool.sign_out", "local.cognito.sessions",
          "GlobalSignOut leaves the ID tokens valid for ServerSideTokenCheck", GAP,
          "remember a sign-out, and refuse the ID tokens it ended in the identity pool's "
          "ServerSideTokenCheck (moto checks no token there at all)"),
    Patch(f"{_IDP}.models.CognitoIdpUserPool.__init__", "local.cognito.sessions",
          "a deleted user's sub is forgotten (ServerSideTokenCheck cannot refuse it)", GAP,
          "refuse a deleted user's ID token in the identity pool's ServerSideTokenCheck"),
    Patch(f"{_IDP}.responses.CognitoIdpResponse.revoke_token", "local.cognito.revoke",
          "no RevokeToken: one session (a refresh token and its access tokens) cannot end alone",
          GAP, _NOT_IMPLEMENTED.format("RevokeToken")),
    Patch(f"{_IDP}.models.CognitoIdpUserPool.create_jwt", "local.cognito.signing_key",
          "every pool's tokens signed with one private key shipped inside moto (kid \"dummy\"): "
          "anyone can sign a token for any sub", GAP,
          "generate a signing key per user pool"),
    Patch(f"{_IDP}.responses.CognitoIdpJsonWebKeyResponse.json_web_key",
          "local.cognito.signing_key", "the JWKS publishes the public half of that shipped key",
          GAP, "publish each pool's own public key"),
    Patch(f"{_IDP}.models.jwk", "local.cognito.signing_key",
          "(not a gap of AWS) every new pool imports that shipped private key (~0.1 s of CPU), "
          "which the patch of create_jwt never signs with", SPEED,
          "make a pool's key when it first signs (or one per pool, as above)",
          "a stack build makes a pool: ~1.5 s of CPU over `make check`; the pool holds the "
          "local AWS's own key from its start"),
    Patch(f"{_IDENTITY}.get_id", "local.iam.identity_pool",
          "GetId checks no login and returns a new identity id on every call", GAP,
          "check the login's token and return one identity id per login"),
    Patch(f"{_IDENTITY}.get_credentials_for_identity", "local.iam.identity_pool",
          "every identity gets the same static keys, tied to no role", GAP,
          "issue credentials of the pool's authenticated role (AssumeRoleWithWebIdentity), "
          "with principal tags"),
    Patch(f"{_IDENTITY}.get_id", "local.iam.identity_deletion",
          "no identity's creation date (DescribeIdentity's CreationDate)", GAP,
          "remember when an identity was created"),
    Patch(f"{_IDENTITY}.describe_identity", "local.iam.identity_deletion",
          "no DescribeIdentity", GAP, "implement DescribeIdentity with its dates"),
    Patch(f"{_IDENTITY}.delete_identities", "local.iam.identity_deletion",
          "no DeleteIdentities: an identity outlives its deleted account", GAP,
          _NOT_IMPLEMENTED.format("DeleteIdentities")),
    *(Patch(f"{_IDENTITY}.{name}", "local.iam.identity_pool", f"no {action}", GAP,
            _NOT_IMPLEMENTED.format(action))
      for name, action in (("set_identity_pool_roles", "SetIdentityPoolRoles"),
                           ("get_identity_pool_roles", "GetIdentityPoolRoles"),
                           ("set_principal_tag_attribute_map", "SetPrincipalTagAttributeMap"),
                           ("get_principal_tag_attribute_map", "GetPrincipalTagAttributeMap"))),
    Patch("moto.s3.responses.S3Response._authenticate_and_authorize_s3_action",
          "local.iam.enforcement",
          "no policy variables or role-policy conditions, no presigned-URL signature check", GAP,
          "substitute policy variables, evaluate Condition blocks, check presigned URLs' "
          "signatures"),
    Patch("moto.core.authorization.ActionAuthenticatorMixin."
          "_authenticate_and_authorize_normal_action", "local.iam.enforcement",
          "no policy variables or role-policy conditions; DynamoDB's and Parameter Store's "
          "actions checked against resource \"*\" only", GAP,
          "authorise against the resource's ARN, substitute policy variables, evaluate "
          "Condition blocks (dynamodb:LeadingKeys)"),
    Patch("moto.dynamodb.models.DynamoDBBackend.transact_write_items",
          "local.dynamodb.transactions",
          "TransactWriteItems costs O(table size) (it deep-copies every table it touches); "
          "AWS: per item", SPEED,
          "roll back a cancelled transaction without copying whole tables",
          _TRANSACTIONS_KEPT),
    *(Patch(f"moto.dynamodb.models.DynamoDBBackend.{name}", "local.dynamodb.transactions",
            _ISOLATED, GAP, _ISOLATION_FIX) for name in ("put_item", "update_item", "delete_item")),
    Patch("moto.dynamodbstreams.models.DynamoDBStreamsBackend.get_records",
          "local.dynamodb.transactions", _ISOLATED, GAP, _ISOLATION_FIX),
    Patch("moto.dynamodb.models.DynamoDBBackend.update_item", "local.dynamodb.updates",
          "an update that creates an item records two INSERTs on the stream (the bare key's, "
          "then the item's); AWS: one", GAP,
          "record one INSERT for an UpdateItem that creates its item"),
    Patch("moto.dynamodb.models.table.StreamShard.add", "local.dynamodb.updates",
          "an update that creates an item records two INSERTs on the stream; AWS: one", GAP,
          "record one INSERT for an UpdateItem that creates its item"),
    Patch("moto.dynamodb.parsing.expressions.UpdateExpressionParser.make",
          "local.dynamodb.updates",
          "(not a gap of AWS) every UpdateExpression is parsed twice per write", SPEED,
          "parse an UpdateExpression once per request (or remember parses)", _EXPRESSIONS_KEPT),
    *(Patch(f"moto.dynamodb.parsing.ast_nodes.DepthFirstTraverser.{name}",
            "local.dynamodb.updates",
            "(not a gap of AWS) an expression's passes rebuild their map of node kinds per node",
            SPEED, "build a pass's map of node kinds once", _EXPRESSIONS_KEPT)
      for name in ("nodes_to_be_processed", "process")),
    Patch("moto.dynamodb.parsing.validators.UpdateExpressionValidator.__init__",
          "local.dynamodb.updates",
          "(not a gap of AWS) the parsed expression is deep-copied for every validation", SPEED,
          "copy the parsed expression cheaply, or not at all", _EXPRESSIONS_KEPT),
    Patch("moto.dynamodb.parsing.validators.UpdateExpressionValidator.validate",
          "local.dynamodb.updates",
          "(not a gap of AWS) checks of the expression alone rerun on every write", SPEED,
          "run the checks that read only the expression once per expression",
          _EXPRESSIONS_KEPT),
    Patch("moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host",
          "local.server.dispatch",
          "(not a gap of AWS) every request lists moto's package directory under a global lock",
          SPEED, "list the backends once per process",
          "every request to the local AWS paid it, under a lock that serialised the server's "
          "threads (docs/local-aws.md)"),
    Patch("moto.core.responses.method_names_from_class", "local.server.dispatch",
          "(not a gap of AWS) every request lists its response class's functions "
          "(inspect.getmembers) to find its action", SPEED,
          "ask the class for the one action (getattr) instead of listing all its functions",
          "about 1 s of CPU in `make check` (the server's largest per-request cost after the "
          "services' own work); a container answering `action in` from the class as it is now"),
    Patch("moto.sqs.models.SQSBackend.is_message_valid_based_on_retention_period",
          "local.sqs.scans",
          "(not a gap of AWS) each received message builds the queue's attributes three times",
          SPEED, "read the retention period from the queue, not its full attributes", _SQS_KEPT),
    Patch("moto.sqs.models.Message.visible", "local.sqs.scans",
          "(not a gap of AWS) a message's visibility reads the clock through a datetime", SPEED,
          "compare times as numbers", _SQS_KEPT),
    Patch("moto.sqs.models.Message.delayed", "local.sqs.scans",
          "(not a gap of AWS) a message's delay reads the clock through a datetime", SPEED,
          "compare times as numbers", _SQS_KEPT),
    Patch("moto.s3.models.S3Backend._set_delete_marker", "local.s3.delete_markers",
          "a delete marker sends no s3:ObjectRemoved:DeleteMarkerCreated notification", GAP,
          "send s3:ObjectRemoved:DeleteMarkerCreated when a delete creates a marker"),
    Patch("moto.cloudformation.models.CloudFormationBackend.create_stack",
          "local.cloudformation.stacks", "no AWS::Cognito::*, SNS subscription, metric filter or "
          "alarm: infra/template.yaml (make deploy's stack) cannot be created", GAP,
          "support every resource type of infra/template.yaml"),
    *(Patch(f"moto.apigateway.models.APIGatewayBackend.{name}", "local.apigateway.rest_api_import",
            "Swagger 2.0 (chalice deploy's) refused; no authorizer made of an OpenAPI 3 "
            "document's security", GAP, "import Swagger 2.0, authorizers and each method's "
            "security as AWS does") for name in ("import_rest_api", "put_rest_api")),
    Patch("moto.wafv2.responses.WAFV2Response.list_resources_for_web_acl",
          "local.wafv2.resources_for_web_acl", "no ListResourcesForWebACL (HTTP 500)", GAP,
          _NOT_IMPLEMENTED.format("ListResourcesForWebACL")),
    Patch("moto.sqs.models.Queue.wait_for_messages", "local.run.state",
          "(not a gap of moto) a long poll lets go of the snapshot gate while it waits", RUNTIME,
          "nothing: run/state.py's snapshots need it while moto's long poll blocks its thread"),
)
