"""AWS WAF's ListResourcesForWebACL, which moto 5.2.5 lacks (HTTP 500): `make destroy` and a
deploy that turns the rate limit off ask it (infra/waf.py release) before the web ACL goes.

Answered from moto's own associations, as AWS answers: only resources that still exist (a
REST API deleted by `chalice delete` takes its stage's association with it), of the type asked.
"""
from __future__ import annotations

import json
from typing import Any

from local import moto_patches

# ListResourcesForWebACL's ResourceType -> how the resource's ARN reads.
ARN_PARTS = {"API_GATEWAY": ":apigateway:", "APPLICATION_LOAD_BALANCER": ":elasticloadbalancing:",
             "APPSYNC": ":appsync:", "COGNITO_USER_POOL": ":cognito-idp:"}


def install() -> None:
    """Patch moto's WAFV2Response in this process (once)."""
    from moto.wafv2.responses import WAFV2Response

    if moto_patches.is_applied(WAFV2Response, "list_resources_for_web_acl", by=__name__):
        return

    def list_resources_for_web_acl(self: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(self.body)
        backend = self.wafv2_backend
        acl = backend.wacls.get(body["WebACLArn"])
        if acl is None:
            from moto.wafv2.exceptions import WAFNonexistentItemException

            raise WAFNonexistentItemException
        part = ARN_PARTS[body.get("ResourceType", "APPLICATION_LOAD_BALANCER")]
        arns = [arn for arn in acl.associated_resources if part in arn
                and (part != ":apigateway:" or backend._find_apigw_stage(arn) is not None)]
        return 200, {"Content-Type": "application/json"}, json.dumps({"ResourceArns": arns})

    moto_patches.replace(WAFV2Response, "list_resources_for_web_acl",
                         list_resources_for_web_acl, by=__name__)
