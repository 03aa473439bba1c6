"""Check a request's AWS signature the way AWS does, for the local AWS (local/iam/).

Signature Version 4 in both forms: the `Authorization` header, and the query
string of a presigned URL (X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
X-Amz-SignedHeaders, X-Amz-Signature). And S3's Signature Version 2, which is
what boto3's `generate_presigned_url` for S3 still produces by default
(AWSAccessKeyId, Expires, Signature, x-amz-security-token), header or query.
moto can only check the SigV4 header form, and only when IAM enforcement is on
for every request.
"""
from __future__ import annotations

import base64
import calendar
import email.utils
import hashlib
import hmac
import re
import time
from dataclasses import dataclass, replace
from typing import Mapping
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600


class SignatureError(Exception):
    """A request whose signature AWS would refuse; `code` is AWS's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Signed:
    """What a request claims: who signed it, for which scope, and how."""

    access_key_id: str
    date: str          # 20261126
    region: str
    service: str
    amz_date: str      # 20261126T083000Z
    signed_headers: tuple[str, ...]
    signature: str
    session_token: str | None
    presigned: bool
    expires: int       # presigned URLs only: SigV4 seconds, SigV2 epoch
    payload_hash: str
    version: int = 4


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def parse(headers: Mapping[str, str], raw_query: str) -> Signed | None:
    """The SigV4 claim of a request, or None when it carries no SigV4 signature."""
    auth = headers.get("Authorization") or ""
    if auth.startswith(ALGORITHM + " "):
        fields = dict(f.strip().split("=", 1) for f in auth[len(ALGORITHM):].split(",")
                      if "=" in f)
        credential = fields.get("Credential", "")
        signed_headers = fields.get("SignedHeaders", "")
        signature = fields.get("Signature", "")
        amz_date = headers.get("X-Amz-Date") or ""
        token = headers.get("X-Amz-Security-Token")
        presigned, expires = False, 0
        payload_hash = headers.get("X-Amz-Content-SHA256") or ""
    elif auth.startswith("AWS ") and ":" in auth:
        key, _, signature = auth[4:].rpartition(":")
        return Signed(key, "", "", "s3", headers.get("X-Amz-Date") or headers.get("Date") or "",
                      (), signature, headers.get("X-Amz-Security-Token"), False, 0, "", 2)
    else:
        query = dict(_query_pairs(raw_query))
        if "AWSAccessKeyId" in query and "Signature" in query:
            try:
                expires = int(query.get("Expires", ""))
            except ValueError:
                raise SignatureError("AccessDenied", "Query-string authentication requires the "
                                     "Signature, Expires and AWSAccessKeyId parameters") from None
            return Signed(query["AWSAccessKeyId"], "", "", "s3", "", (), query["Signature"],
                          query.get("x-amz-security-token"), True, expires, "", 2)
        if query.get("X-Amz-Algorithm") != ALGORITHM or "X-Amz-Credential" not in query:
            return None
        credential = query["X-Amz-Credential"]
        signed_headers = query.get("X-Amz-SignedHeaders", "")
        signature = query.get("X-Amz-Signature", "")
        amz_date = query.get("X-Amz-Date", "")
        token = query.get("X-Amz-Security-Token")
        presigned = True
        try:
            expires = int(query.get("X-Amz-Expires", ""))
        except ValueError:
            raise SignatureError("AuthorizationQueryParametersError",
                                 "X-Amz-Expires should be a number") from None
        payload_hash = query.get("X-Amz-Content-Sha256") or "UNSIGNED-PAYLOAD"
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not signature or not signed_headers:
        raise SignatureError("AuthorizationHeaderMalformed",
                             "The authorization header is malformed.")
    return Signed(parts[0], parts[1], parts[2], parts[3], amz_date,
                  tuple(signed_headers.lower().split(";")), signature, token, presigned,
                  expires, payload_hash)


def _amz_time(amz_date: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        raise SignatureError("AccessDenied", "AWS authentication requires a valid Date or "
                             "x-amz-date header") from None


def check_time(signed: Signed, now: float) -> None:
    """A header signature within 15 minutes of now; a presigned URL not past its expiry."""
    if signed.version == 2:
        if signed.presigned:
            if now > signed.expires:
                raise SignatureError("AccessDenied", "Request has expired")
            return
        parsed = email.utils.parsedate_tz(signed.amz_date)
        at = float(email.utils.mktime_tz(parsed)) if parsed else _amz_time(signed.amz_date)
        if abs(now - at) > MAX_SKEW_SECONDS:
            raise SignatureError("RequestTimeTooSkewed", "The difference between the request "
                                 "time and the current time is too large.")
        return
    at = _amz_time(signed.amz_date)
    if signed.presigned:
        if not 1 <= signed.expires <= MAX_PRESIGNED_SECONDS:
            raise SignatureError("AuthorizationQueryParametersError",
                                 "X-Amz-Expires must be between 1 and 604800 seconds")
        if now > at + signed.expires:
            raise SignatureError("AccessDenied", "Request has expired")
        if at > now + MAX_SKEW_SECONDS:
            raise SignatureError("AccessDenied", "Request is not valid yet")
    elif abs(now - at) > MAX_SKEW_SECONDS:
        raise SignatureError("RequestTimeTooSkewed", "The difference between the request time "
                             "and the current time is too large.")


def _canonical_query(raw_query: str, presigned: bool) -> str:
    pairs = [(quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in _query_pairs(raw_query)
             if not (presigned and k == "X-Amz-Signature")]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_path(raw_path: str, service: str) -> str:
    path = quote(unquote(raw_path or "/"), safe="/-_.~")
    if service != "s3":  # every other service encodes the path twice
        path = quote(path, safe="/-_.~")
    return path


def expected_signature(signed: Signed, secret_key: str, method: str, raw_path: str,
                       raw_query: str, headers: Mapping[str, str]) -> str:
    canonical_headers = "".join(
        f"{name}:{' '.join((headers.get(name) or '').split())}\n" for name in signed.signed_headers)
    canonical = "\n".join([
        method.upper(),
        _canonical_path(raw_path, signed.service),
        _canonical_query(raw_query, signed.presigned),
        canonical_headers,
        ";".join(signed.signed_headers),
        signed.payload_hash,
    ])
    scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, signed.amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (signed.date, signed.region, signed.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


_HEX64 = re.compile(r"[0-9a-f]{64}")


# The sub-resources S3's Signature Version 2 signs (as botocore's HmacV1Auth lists them).
V2_SUBRESOURCES = {
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber",
    "policy", "requestPayment", "torrent", "versioning", "versionId", "versions", "website",
    "uploads", "uploadId", "response-content-type", "response-content-language",
    "response-expires", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "delete", "lifecycle", "tagging", "restore", "storageClass",
    "notification", "replication", "analytics", "metrics", "inventory", "select",
    "select-type", "object-lock"}


def expected_signature_v2(signed: Signed, secret_key: str, method: str, raw_path: str,
                          raw_query: str, headers: Mapping[str, str]) -> str:
    if signed.presigned:  # what was signed as headers travels in the query string
        fields = {k.lower(): v for k, v in _query_pairs(raw_query)}
        date = str(signed.expires)
        amz = {k: v for k, v in fields.items() if k.startswith("x-amz-")}
    else:
        fields = {k.lower(): v for k, v in headers.items()}
        date = "" if "x-amz-date" in fields else fields.get("date", "")
        amz = {k: " ".join(v.split()) for k, v in fields.items() if k.startswith("x-amz-")}
    resource = raw_path or "/"
    sub = sorted((k, v) for k, v in _query_pairs(raw_query) if k in V2_SUBRESOURCES)
    if sub:
        resource += "?" + "&".join(f"{k}={v}" if v or f"{k}=" in raw_query else k for k, v in sub)
    to_sign = "\n".join([method.upper(), fields.get("content-md5", ""),
                         fields.get("content-type", ""), date]) + "\n"
    to_sign += "".join(f"{k}:{amz[k]}\n" for k in sorted(amz)) + resource
    digest = hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify(signed: Signed, secret_key: str, method: str, raw_path: str, raw_query: str,
           headers: Mapping[str, str], body: bytes) -> None:
    """SignatureDoesNotMatch unless the request is exactly what was signed."""
    if signed.version == 2:
        want = expected_signature_v2(signed, secret_key, method, raw_path, raw_query, headers)
        if not hmac.compare_digest(want, signed.signature):
            raise SignatureError("SignatureDoesNotMatch", "The request signature we calculated "
                                 "does not match the signature you provided. Check your key "
                                 "and signing method.")
        return
    if "host" not in signed.signed_headers or not signed.amz_date.startswith(signed.date):
        raise SignatureError("SignatureDoesNotMatch", "The request signature we calculated "
                             "does not match the signature you provided.")
    if not signed.presigned and _HEX64.fullmatch(signed.payload_hash) and \
            hashlib.sha256(body or b"").hexdigest() != signed.payload_hash:
        raise SignatureError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' "
                             "header does not match what was computed.")
    if not signed.payload_hash:  # services other than S3 sign the body's hash unannounced
        signed = replace(signed, payload_hash=hashlib.sha256(body or b"").hexdigest())
    want = expected_signature(signed, secret_key, method, raw_path, raw_query, headers)
    if not hmac.compare_digest(want, signed.signature):
        raise SignatureError("SignatureDoesNotMatch", "The request signature we calculated "
                             "does not match the signature you provided. Check your key and "
                             "signing method.")
