"""API Gateway's own answers (before the app runs) in the app's {"error", "message"} shape.

The Cognito authorizer's 401 for a missing or invalid token and the 403 for an
unknown path are API Gateway's, and by default their bodies are {"message": ...}.
Chalice cannot declare gateway responses, and its deploy overwrites the API
definition, so `make deploy` puts them after every deploy.
"""
from __future__ import annotations

from typing import Any

GATEWAY_RESPONSES = {
    "UNAUTHORIZED": ("401", '{"error": "Unauthorized", "message": "Log in to see this page."}'),
    "ACCESS_DENIED": ("403", '{"error": "Forbidden", "message": "You may not see this page."}'),
    "MISSING_AUTHENTICATION_TOKEN": (
        "404", '{"error": "NotFound", "message": "There is nothing at this address."}'),
    "DEFAULT_4XX": (None, '{"error": "BadRequest", "message": $context.error.messageString}'),
    "DEFAULT_5XX": (None, '{"error": "ServiceUnavailable", "message": $context.error.messageString}'),
}


def put_gateway_responses(apigateway: Any, rest_api_id: str, api_stage: str) -> None:
    for response_type, (status, template) in GATEWAY_RESPONSES.items():
        apigateway.put_gateway_response(
            restApiId=rest_api_id, responseType=response_type,
            responseTemplates={"application/json": template},
            responseParameters={"gatewayresponse.header.Cache-Control": "'no-store'"},
            **({"statusCode": status} if status else {}))
    apigateway.create_deployment(restApiId=rest_api_id, stageName=api_stage,
                                 description="JSON gateway responses")
