"""The API stage's own settings: API Gateway's answers and its throttling.

API Gateway answers some requests itself, before the app runs (the Cognito
authorizer's 401, an unknown path, a throttled client, a body too large, a WAF
block). By default those bodies are {"message": ...}; the gateway responses make
them the app's {"error", "message"} shape, with the error code that follows from
the response type's status (429 is TooManyRequests, never BadRequest).

Throttling: a stage-wide limit, and tight limits on the public routes that send
email (sign-up, resend, forgot-password) or hit Cognito's per-account quotas.

Chalice cannot declare either. `make deploy` puts them after every deploy (its
deploy overwrites the API definition); `make package` writes the same into the
template (infra/package.py). One definition here serves both.
"""
from __future__ import annotations

from typing import Any

# Every response type API Gateway answers by itself, and its status.
RESPONSE_TYPES: dict[str, int | None] = {
    "ACCESS_DENIED": 403, "API_CONFIGURATION_ERROR": 500, "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500, "BAD_REQUEST_BODY": 400, "BAD_REQUEST_PARAMETERS": 400,
    "EXPIRED_TOKEN": 403, "INTEGRATION_FAILURE": 504, "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403, "INVALID_SIGNATURE": 403,
    # API Gateway's 403 for a path it does not know: to a person that is a 404.
    "MISSING_AUTHENTICATION_TOKEN": 404,
    "QUOTA_EXCEEDED": 429, "REQUEST_TOO_LARGE": 413, "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429, "UNAUTHORIZED": 401, "UNSUPPORTED_MEDIA_TYPE": 415, "WAF_FILTERED": 403,
    "DEFAULT_4XX": None, "DEFAULT_5XX": None,  # any type AWS adds later
}
CODES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
         413: "PayloadTooLarge", 415: "UnsupportedMediaType", 429: "TooManyRequests",
         500: "ServiceUnavailable", 504: "GatewayTimeout"}
MESSAGES = {
    "UNAUTHORIZED": "Log in to see this page.",
    "ACCESS_DENIED": "You may not see this page.",
    "MISSING_AUTHENTICATION_TOKEN": "There is nothing at this address.",
    "THROTTLED": "Too many requests: wait a moment and try again.",
    "QUOTA_EXCEEDED": "Too many requests: wait a moment and try again.",
    "REQUEST_TOO_LARGE": "The request is too large.",
    "WAF_FILTERED": "The request was blocked.",
}


def _security_headers() -> dict[str, str]:
    """The app's security headers as gateway-response parameters (static values in '...').

    A value that holds a single quote (the CSP's 'none') cannot be written as a static
    value, so those answers go without a CSP: they are JSON, sent with nosniff, and
    X-Frame-Options is their frame policy.
    """
    from chalicelib.headers import SECURITY_HEADERS

    return {f"gatewayresponse.header.{name}": f"'{value}'"
            for name, value in SECURITY_HEADERS.items() if "'" not in value}


HEADERS = _security_headers()


def error_code(response_type: str) -> str:
    status = RESPONSE_TYPES[response_type]
    if status is None:
        return "ServiceUnavailable" if response_type == "DEFAULT_5XX" else "BadRequest"
    return CODES[status]


def body_template(response_type: str) -> str:
    """The mapping template of the body (VTL: messageString is already a JSON string)."""
    message = MESSAGES.get(response_type)
    text = f'"{message}"' if message else "$context.error.messageString"
    return f'{{"error": "{error_code(response_type)}", "message": {text}}}'


def gateway_responses() -> dict[str, dict[str, Any]]:
    """As the OpenAPI extension x-amazon-apigateway-gateway-responses writes them."""
    out: dict[str, dict[str, Any]] = {}
    for response_type, status in RESPONSE_TYPES.items():
        response: dict[str, Any] = {"responseParameters": dict(HEADERS),
                                    "responseTemplates": {
                                        "application/json": body_template(response_type)}}
        if status is not None:
            response["statusCode"] = str(status)
        out[response_type] = response
    return out


# (resource path, method) -> (requests per second, burst). "/*", "*": the whole stage.
THROTTLES: dict[tuple[str, str], tuple[float, int]] = {
    ("/*", "*"): (100.0, 200),
    ("/api/auth/signup", "POST"): (1.0, 5),   # sends an email
    ("/api/auth/resend", "POST"): (1.0, 5),   # sends an email
    ("/api/auth/forgot", "POST"): (1.0, 5),   # sends an email
    ("/api/auth/confirm", "POST"): (5.0, 10),
    ("/api/auth/reset", "POST"): (5.0, 10),
    ("/api/auth/login", "POST"): (20.0, 40),  # Cognito InitiateAuth: ~120/s per account
}


def _escaped(path: str) -> str:
    return path if path == "/*" else "/" + path.replace("/", "~1")


def method_settings() -> list[dict[str, Any]]:
    """As AWS::ApiGateway::Stage (and SAM's Api) MethodSettings write them."""
    return [{"ResourcePath": _escaped(path), "HttpMethod": method,
             "ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
            for (path, method), (rate, burst) in THROTTLES.items()]


def throttling_patch() -> list[dict[str, str]]:
    """The same, as UpdateStage patch operations."""
    operations = []
    for setting in method_settings():
        prefix = f"{setting['ResourcePath']}/{setting['HttpMethod']}/throttling"
        operations += [{"op": "replace", "path": f"{prefix}/rateLimit",
                        "value": str(setting["ThrottlingRateLimit"])},
                       {"op": "replace", "path": f"{prefix}/burstLimit",
                        "value": str(setting["ThrottlingBurstLimit"])}]
    return operations


def configure_api(apigateway: Any, rest_api_id: str, api_stage: str) -> None:
    """Put the gateway responses, deploy them to the stage, and set its throttling."""
    for response_type, response in gateway_responses().items():
        apigateway.put_gateway_response(
            restApiId=rest_api_id, responseType=response_type,
            responseTemplates=response["responseTemplates"],
            responseParameters=response["responseParameters"],
            **({"statusCode": response["statusCode"]} if "statusCode" in response else {}))
    apigateway.create_deployment(restApiId=rest_api_id, stageName=api_stage,
                                 description="JSON gateway responses")
    apigateway.update_stage(restApiId=rest_api_id, stageName=api_stage,
                            patchOperations=throttling_patch())
