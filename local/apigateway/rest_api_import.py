"""API Gateway's ImportRestApi and PutRestApi of a Swagger 2.0 definition, which `chalice
deploy` sends and moto refuses.

moto 5.2.5 reads only OpenAPI 3 (a `swagger` document is InvalidOpenApiDocVersionException;
ImportRestApi also wants info.description), and even then makes no authorizer of the
security definitions and leaves every method unauthorised. AWS imports both versions. Here
a Swagger 2.0 document is imported as AWS does: its paths (the same keys in both versions:
methods, responses, x-amazon-apigateway-integration) go through moto's own importer, then
the authorizers of its securityDefinitions (x-amazon-apigateway-authorizer: a Cognito user
pool's, or a Lambda's) are created, each method's `security` names its authorizer, and the
API takes the document's binary media types and resource policy. PutRestApi's overwrite
replaces the authorizers too. An OpenAPI 3 document stays moto's.
"""
from __future__ import annotations

import json
from typing import Any

from local import moto_patches

METHODS = {"get", "put", "post", "delete", "options", "head", "patch",
           "x-amazon-apigateway-any-method"}
AUTHORIZER_TYPES = {"cognito_user_pools": "COGNITO_USER_POOLS", "token": "TOKEN",
                    "request": "REQUEST"}


def install() -> None:
    """Patch moto's APIGatewayBackend in this process (once)."""
    from moto.apigateway.models import APIGatewayBackend

    if moto_patches.is_applied(APIGatewayBackend, "put_rest_api", by=__name__):
        return
    original_import = APIGatewayBackend.import_rest_api
    original_put = APIGatewayBackend.put_rest_api

    def put_rest_api(self: Any, function_id: str, api_doc: dict[str, Any],
                     fail_on_warnings: bool, mode: str = "merge") -> Any:
        if not is_swagger(api_doc):
            return original_put(self, function_id, api_doc, fail_on_warnings, mode=mode)
        api = original_put(self, function_id, as_openapi3(api_doc), False, mode=mode)
        _security(self, api, api_doc, replace=mode == "overwrite")
        return api

    def import_rest_api(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        if not is_swagger(api_doc):
            return original_import(self, api_doc, fail_on_warnings)
        info = api_doc.get("info", {})
        api = self.create_rest_api(name=info.get("title", ""),
                                   description=info.get("description", ""))
        self.put_rest_api(api.id, api_doc, fail_on_warnings=fail_on_warnings)
        return api

    moto_patches.replace(APIGatewayBackend, "put_rest_api", put_rest_api, by=__name__)
    moto_patches.replace(APIGatewayBackend, "import_rest_api", import_rest_api, by=__name__)


def is_swagger(document: dict[str, Any]) -> bool:
    return str(document.get("swagger", "")).startswith("2")


def as_openapi3(document: dict[str, Any]) -> dict[str, Any]:
    """What moto's importer reads of a Swagger 2.0 document, as OpenAPI 3: the paths'
    operations (ANY is x-amazon-apigateway-any-method), their responses and integrations
    (the integration's type and passthrough behaviour upper case, as API Gateway keeps them:
    Chalice writes aws_proxy and when_no_match)."""
    paths = {}
    for path, item in document.get("paths", {}).items():
        paths[path] = {("any" if verb == "x-amazon-apigateway-any-method" else verb):
                       _upper_case_integration(operation)
                       for verb, operation in item.items() if verb in METHODS}
    info = {"title": "", "description": "", **document.get("info", {})}
    return {"openapi": "3.0.1", "info": info, "paths": paths}


def _upper_case_integration(operation: dict[str, Any]) -> dict[str, Any]:
    integration = operation.get("x-amazon-apigateway-integration")
    if not integration:
        return operation
    upper = {k: integration[k].upper() for k in ("type", "passthroughBehavior")
             if isinstance(integration.get(k), str)}
    return {**operation, "x-amazon-apigateway-integration": {**integration, **upper}}


def _security(backend: Any, api: Any, document: dict[str, Any], replace: bool) -> None:
    """The document's authorizers, each method's, the binary media types and the policy."""
    if replace:
        api.authorizers.clear()
    authorizers = {}
    for name, definition in document.get("securityDefinitions", {}).items():
        spec = definition.get("x-amazon-apigateway-authorizer")
        if not spec:
            continue
        header = definition.get("name", "Authorization")
        authorizers[name] = backend.create_authorizer(
            api.id, name=name, authorizer_type=AUTHORIZER_TYPES[spec["type"].lower()],
            provider_arns=spec.get("providerARNs"), auth_type=definition.get(
                "x-amazon-apigateway-authtype"),
            authorizer_uri=spec.get("authorizerUri"),
            authorizer_credentials=spec.get("authorizerCredentials"),
            identity_source=spec.get("identitySource", f"method.request.header.{header}"),
            authorizer_result_ttl=spec.get("authorizerResultTtlInSeconds"))
    for path, item in document.get("paths", {}).items():
        resource = api.get_resource_for_path(path)
        for verb, operation in item.items():
            if verb not in METHODS:
                continue
            method = resource.resource_methods["ANY" if verb.startswith("x-") else verb.upper()]
            method.authorization_type = "NONE"
            for requirement in operation.get("security", []):
                for name, scopes in requirement.items():
                    if name in authorizers:
                        authorizer = authorizers[name]
                        lambdas = authorizer.type in ("TOKEN", "REQUEST")
                        method.authorization_type = "CUSTOM" if lambdas else authorizer.type
                        method.authorizer_id = authorizer.id
                        method.authorization_scopes = scopes or None
    if "x-amazon-apigateway-binary-media-types" in document:
        api.binaryMediaTypes = list(document["x-amazon-apigateway-binary-media-types"])
    if "x-amazon-apigateway-policy" in document:
        api.policy = json.dumps(document["x-amazon-apigateway-policy"])
