"""The role's IAM policy, enforced on requests signed with identity pool credentials.

moto checks IAM only when enforcement is on for every request
(`INITIAL_NO_AUTH_ACTION_COUNT`); even then it substitutes no policy variable,
evaluates no condition of a role policy, and cannot read a presigned URL's
signature. Here, every request to the moto server of this process signed with
credentials minted by local/iam/identity_pool.py (header or presigned URL) is
authenticated (key, session token, signature, expiry: local/iam/signatures.py) and
authorised against the role's policies with the session's tags substituted
(local/iam/policy.py). S3, DynamoDB (table ARNs and `dynamodb:LeadingKeys`:
local/iam/dynamodb_ssm.py) and Parameter Store (parameter ARNs) follow the role's policy;
other services refuse what it does not grant.

Requests signed with the app's own development keys (`install(dev_access_keys)`)
keep moto's behaviour: unrestricted. In S3, an access key that is neither the
app's nor a live session is refused (InvalidAccessKeyId) and an unsigned request
is refused (AccessDenied): the buckets are private, as in AWS.
"""
from __future__ import annotations

import calendar
import hmac
import time
from typing import Any, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from local import moto_patches
from local.server import clock
from local.iam import dynamodb_ssm
from local.iam import policy as iam_policy
from local.iam import signatures

_dev_access_keys: frozenset[str] = frozenset()  # set by install(): moto's behaviour for these

# Called with a user pool's access token or unsigned, like AWS; not SigV4-authorised.
NOT_SIGV4_AUTHORISED = {"cognito-idp", "cognito-identity"}
# moto's name for an S3 request -> the IAM action AWS authorises it as.
S3_IAM_ACTIONS = {"HeadBucket": "ListBucket", "ListObjects": "ListBucket",
                  "ListObjectsV2": "ListBucket"}


def install(dev_access_keys: Iterable[str]) -> None:
    """Patch moto's request authorisation (once, from local.iam.install); requests signed
    with `dev_access_keys` stay unrestricted."""
    global _dev_access_keys
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.s3.responses import S3Response

    _dev_access_keys = frozenset(dev_access_keys)
    original_s3 = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action
    original_normal = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def s3_action(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        if not _enforced(self) or self.method == "OPTIONS":  # CORS preflights carry no auth
            return original_s3(self, bucket_name=bucket_name, key_name=key_name)
        session = _authenticate_s3(self)
        if session is None:
            return original_s3(self, bucket_name=bucket_name, key_name=key_name)
        _authorise_s3(self, session, bucket_name, key_name)

    def normal_action(self: Any, resource: str = "*") -> None:
        if _enforced(self) and self.service_name not in NOT_SIGV4_AUTHORISED:
            session = _authenticate_other(self)
            if session is not None:
                return _authorise_other(self, session, resource)
        return original_normal(self, resource)

    moto_patches.replace(S3Response, "_authenticate_and_authorize_s3_action", s3_action,
                         by=__name__)
    moto_patches.replace(ActionAuthenticatorMixin, "_authenticate_and_authorize_normal_action",
                         normal_action, by=__name__)


def _enforced(response: Any) -> bool:
    # Only requests that came over HTTP to the server (not an in-process mock_aws).
    return bool(getattr(response, "is_werkzeug_request", False))


# --- errors ---------------------------------------------------------------------------

def _s3_error(code: str, message: str, bucket: str | None = None) -> Exception:
    from moto.s3.exceptions import BucketAccessDeniedError, S3ClientError

    if code == "AccessDenied" and bucket and message == "Access Denied":
        return BucketAccessDeniedError(bucket)  # moto's multi-object delete expects this type
    error = S3ClientError(code, message)
    error.code = code
    return error


# --- authentication ---------------------------------------------------------------------

def _session(account: str, access_key_id: str) -> Any:
    from moto.sts.models import sts_backends

    for backend in sts_backends[account].values():
        session = backend.get_assumed_role_from_access_key(access_key_id)
        if session is not None:
            return session
    return None


def _expires_at(session: Any) -> float:
    mine = getattr(session, "comm_it_iam", None)
    if mine:
        return mine["expires_at"]
    return float(calendar.timegm(session.expiration.timetuple()))


def _authenticate(response: Any, signed: signatures.Signed, raw_query: str) -> Any:
    """The live STS session that signed the request; SignatureError otherwise."""
    session = _session(response.current_account, signed.access_key_id)
    if session is None:
        raise signatures.SignatureError("InvalidAccessKeyId", "The AWS Access Key Id you "
                                        "provided does not exist in our records.")
    now = clock.now()
    if now >= _expires_at(session):
        raise signatures.SignatureError("ExpiredToken", "The provided token has expired.")
    if not signed.session_token or not hmac.compare_digest(signed.session_token,
                                                           session.session_token):
        raise signatures.SignatureError("InvalidToken", "The provided token is malformed or "
                                        "otherwise invalid.")
    signatures.check_time(signed, now)
    signatures.verify(signed, session.secret_access_key, response.method, response.raw_path,
                      raw_query, response.headers, _body(response))
    return session


def _body(response: Any) -> bytes:
    """The body as sent. A form-encoded body (query-protocol services) reached moto parsed:
    encode it again as botocore does."""
    body = response.raw_body
    if not body and getattr(response, "form_data", None):
        from botocore.utils import percent_encode_sequence

        body = percent_encode_sequence(list(response.form_data.items(multi=True)))
    return body if isinstance(body, bytes) else (body or "").encode()


def _authenticate_s3(response: Any) -> Any:
    """None for the app's own keys (moto decides); the session; or an S3 error."""
    raw_query = urlsplit(response.uri).query
    bucket = getattr(response, "bucket_name", None) or None
    try:
        signed = signatures.parse(response.headers, raw_query)
        if signed is None:
            raise signatures.SignatureError("AccessDenied", "Access Denied")
        if signed.access_key_id in _dev_access_keys:
            return None
        return _authenticate(response, signed, raw_query)
    except signatures.SignatureError as error:
        raise _s3_error(error.code, error.message, bucket) from None


def _refusal(response: Any, code: str, message: str, status: int) -> Exception:
    """An error in the protocol of the service the request went to (JSON or XML)."""
    from moto.core.exceptions import JsonRESTError, _RESTError

    json_protocol = "json" in (response.headers.get("Content-Type") or "")
    error = JsonRESTError(code, message) if json_protocol else _RESTError(code, message)
    error.code = status
    return error


def _authenticate_other(response: Any) -> Any:
    raw_query = urlsplit(response.uri).query
    try:
        signed = signatures.parse(response.headers, raw_query)
        if signed is None or signed.access_key_id in _dev_access_keys or \
                not signed.access_key_id.startswith("ASIA"):
            return None
        return _authenticate(response, signed, raw_query)
    except signatures.SignatureError as error:
        code = {"InvalidAccessKeyId": "InvalidClientTokenId"}.get(error.code, error.code)
        raise _refusal(response, code, error.message, 403 if code != "ExpiredToken" else 400) \
            from None


# --- authorisation ----------------------------------------------------------------------

def _role_policies(account: str, session: Any) -> list[Any]:
    from moto.iam.models import iam_backends

    iam = iam_backends[account][session.partition]
    name = session.role_arn.split("/")[-1]
    try:
        documents: list[Any] = [iam.get_role_policy(name, policy)[1]
                                for policy in iam.list_role_policies(name)]
        attached, _ = iam.list_attached_role_policies(name)
    except Exception:  # noqa: BLE001 (the role is gone: nothing is allowed)
        return []
    for policy in attached:
        version = next(v for v in policy.versions if v.is_default)
        documents.append(version.document)
    return documents


def _context(response: Any, session: Any) -> dict[str, Any]:
    mine = getattr(session, "comm_it_iam", None) or {}
    context: dict[str, Any] = dict(mine.get("context", {}))
    for tag, value in mine.get("tags", {}).items():
        context[f"aws:PrincipalTag/{tag}"] = value
        context[f"aws:RequestTag/{tag}"] = value
    now = clock.now()
    context.update({
        "aws:PrincipalArn": session.role_arn,
        "aws:PrincipalAccount": session.account_id,
        "aws:PrincipalType": "AssumedRole",
        "aws:userid": session.user_id,
        "aws:SecureTransport": "true" if str(response.uri).startswith("https") else "false",
        "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "aws:EpochTime": str(int(now)),
    })
    return context


def _permitted(account: str, session: Any, checks: list[tuple[str, str]],
               context: Mapping[str, Any]) -> bool:
    documents = _role_policies(account, session)
    for action, resource in checks:
        if iam_policy.decide(documents, action, resource, context) != iam_policy.ALLOW:
            return False
        if session.policy and iam_policy.decide([session.policy], action, resource,
                                                context) != iam_policy.ALLOW:
            return False
    return True


def _delete_keys(body: Any) -> list[str]:
    import xmltodict

    objects = (xmltodict.parse(body or b"<Delete/>").get("Delete") or {}).get("Object") or []
    return [o.get("Key", "") for o in (objects if isinstance(objects, list) else [objects])]


def _authorise_s3(response: Any, session: Any, bucket: str | None, key: str | None) -> None:
    moto_action = str(response.data.get("Action", ""))
    action = "s3:" + S3_IAM_ACTIONS.get(moto_action, moto_action)
    arn = f"arn:{session.partition}:s3:::"
    context = _context(response, session)
    for name in ("prefix", "delimiter", "max-keys"):
        if name in response.querystring:
            context[f"s3:{name}"] = response.querystring[name][0]
    if moto_action == "DeleteObject" and bucket and not key and response.is_delete_keys():
        checks = [("s3:DeleteObject", f"{arn}{bucket}/{k}") for k in _delete_keys(response.body)]
    else:
        checks = [(action, f"{arn}{bucket or '*'}" + (f"/{key}" if key else ""))]
    source = response.headers.get("x-amz-copy-source")
    if source and moto_action == "PutObject":  # a copy reads its source too
        path, _, version = unquote(source).lstrip("/").partition("?versionId=")
        checks.append(("s3:GetObjectVersion" if version else "s3:GetObject", f"{arn}{path}"))
    if not _permitted(response.current_account, session, checks, context):
        raise _s3_error("AccessDenied", "Access Denied", bucket)


def _authorise_other(response: Any, session: Any, resource: str) -> None:
    action = f"{response.service_name}:{response._get_action()}"
    if action == "sts:GetCallerIdentity":  # AWS always allows it
        return
    context = _context(response, session)
    checks = dynamodb_ssm.checks(response, _body(response), session, action, context) or [
        (action, resource)]
    if not _permitted(response.current_account, session, checks, context):
        json_protocol = "json" in (response.headers.get("Content-Type") or "")
        raise _refusal(response, "AccessDeniedException" if json_protocol else "AccessDenied",
                       f"User: {session.arn} is not authorized to perform: {action}", 403)
