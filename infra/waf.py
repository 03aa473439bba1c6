"""The per-client rate limit on `/api/auth/*`: AWS WAF's web ACL in front of the API stage.

infra/template.yaml defines the web ACL (`AuthRateLimitAcl`; the `AuthRateLimit`
parameter, 0 = off). The REST API is Chalice's. In the package's template it is a
resource of the same template, so the association is one more resource there
(infra/package.py). `make deploy` makes the API after the stack, so it associates the
stage here, after `chalice deploy`: one call, the same on every deploy.

WAF refuses to delete a web ACL that still protects something, and CloudFormation does
not know of an association it did not make: before an update that turns the limit off,
and before the stack is deleted, `release` lets go of the stage.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from infra import template as infra_template
from infra.errors import DeployError, aws_error

ACL = "AuthRateLimitAcl"  # the template's logical id
PARAMETER = "AuthRateLimit"  # the template's parameter: requests per IP in 5 minutes, 0 = off
OFF = "0"
# The ARN WAF knows an API Gateway REST API stage by (AssociateWebACL's ResourceArn).
STAGE_ARN = "arn:{partition}:apigateway:{region}::/restapis/{api}/stages/{stage}"
# WAF answers WAFUnavailableEntityException while a new web ACL or stage has not reached
# it yet ("retry"): waits 2, 4, 8, ... capped at 30 s, about 5 minutes in all.
FIRST_WAIT, MAX_WAIT, MAX_ATTEMPTS = 2.0, 30.0, 13


def acl_name(stage: str) -> str:
    """The web ACL's name for a stage, as the template gives it."""
    name = infra_template.load()["Resources"][ACL]["Properties"]["Name"]["Fn::Sub"]
    return name.replace("${Stage}", stage)


def find_acl(wafv2: Any, stage: str) -> dict[str, Any] | None:
    """The stage's web ACL ({"Name", "Id", "ARN", ...}), or None when the limit is off."""
    name, marker = acl_name(stage), None
    while True:
        page = wafv2.list_web_acls(Scope="REGIONAL", Limit=100,
                                   **({"NextMarker": marker} if marker else {}))
        found = next((acl for acl in page.get("WebACLs", []) if acl["Name"] == name), None)
        marker = page.get("NextMarker")
        if found is not None or not marker or not page.get("WebACLs"):
            return found


def stage_arn(acl_arn: str, rest_api_id: str, api_stage: str) -> str:
    """The stage's ARN, in the partition and region of the web ACL (regional: the same)."""
    partition, region = acl_arn.split(":")[1], acl_arn.split(":")[3]
    return STAGE_ARN.format(partition=partition, region=region, api=rest_api_id,
                            stage=api_stage)


def protect(wafv2: Any, stage: str, rest_api_id: str, api_stage: str,
            sleep: Callable[[float], None] = time.sleep) -> str | None:
    """Put the stage's web ACL in front of the API stage; its ARN, or None when it is off."""
    acl = find_acl(wafv2, stage)
    if acl is None:
        return None
    resource = stage_arn(acl["ARN"], rest_api_id, api_stage)
    waits = [min(FIRST_WAIT * 2 ** n, MAX_WAIT) for n in range(MAX_ATTEMPTS)]
    for wait in waits:
        try:
            wafv2.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=resource)
            return str(acl["ARN"])
        except Exception as exc:  # botocore's ClientError; its class is per client
            if aws_error(exc)[0] != "WAFUnavailableEntityException":
                raise
            sleep(wait)
    raise DeployError(f"AWS WAF kept answering WAFUnavailableEntityException for {sum(waits):.0f} "
                      f"s when asked to put {acl['Name']} in front of {resource}: the API's "
                      "per-client rate limit is NOT on. Run `make deploy` again in a few minutes.")


def outcome(stage: str, acl_arn: str | None, limit: str | None) -> str:
    """What `make deploy` says of the rate limit: on, off by the stack's parameter, or missing
    (the parameter asks for it, yet the stack holds no web ACL: said, not hidden)."""
    if acl_arn:
        return f"AWS WAF's per-client rate limit on /api/auth/* guards the stage ({acl_arn})."
    if limit == OFF:
        return f"No per-client rate limit on /api/auth/* ({PARAMETER}={OFF})."
    return (f"WARNING: the stack's {PARAMETER} is {limit} but there is no web ACL "
            f"{acl_name(stage)}: the stage has NO per-client rate limit on /api/auth/*.")


def release(wafv2: Any, stage: str) -> list[str]:
    """Take the stage's web ACL off everything it protects; what it protected."""
    acl = find_acl(wafv2, stage)
    if acl is None:
        return []
    protected = wafv2.list_resources_for_web_acl(WebACLArn=acl["ARN"],
                                                 ResourceType="API_GATEWAY")["ResourceArns"]
    for resource in protected:
        wafv2.disassociate_web_acl(ResourceArn=resource)
    return list(protected)
