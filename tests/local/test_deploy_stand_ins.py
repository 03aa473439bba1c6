"""The local AWS's stand-ins for what `make deploy` asks that moto lacks (the rehearsal,
tests/run/test_deploy_rehearsal.py, runs them for real): which templates the local
CloudFormation takes, that it can delete every type it creates, and how a Swagger 2.0
definition reaches moto's importer."""
from __future__ import annotations

from infra import template as infra_template
from local.apigateway import rest_api_import
from local.cloudformation import resource_changes, resources, stacks


def test_every_type_the_local_aws_creates_has_a_deleter():
    assert set(stacks.CREATORS) <= set(resource_changes.DELETERS)
    assert set(resources.CREATORS) | set(resources.DEPLOYED_ONLY) == set(stacks.CREATORS)


def test_the_apps_template_is_made_locally_and_a_template_moto_knows_stays_motos():
    assert stacks.ours(infra_template.TEMPLATE_PATH.read_text())
    assert not stacks.ours("Resources:\n  T: {Type: AWS::SNS::Topic}\n")
    assert not stacks.ours("Resources:\n  F: {Type: AWS::Lambda::Function}\n"
                                   "  P: {Type: AWS::Cognito::UserPool}\n")  # no Lambda made here
    assert not stacks.ours("not: [a template")


def test_a_swagger_document_reaches_motos_importer_as_openapi_3_with_api_gateways_case():
    swagger = {"swagger": "2.0", "info": {"title": "t"}, "paths": {"/a/{name}": {
        "parameters": [{"name": "name", "in": "path"}],
        "x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {
            "type": "aws_proxy", "passthroughBehavior": "when_no_match", "uri": "arn:x"}}}}}
    converted = rest_api_import.as_openapi3(swagger)
    assert converted["openapi"].startswith("3") and converted["info"]["description"] == ""
    (path,) = converted["paths"].values()
    assert list(path) == ["any"]
    assert path["any"]["x-amazon-apigateway-integration"] == {
        "type": "AWS_PROXY", "passthroughBehavior": "WHEN_NO_MATCH", "uri": "arn:x"}
    assert rest_api_import.is_swagger(swagger) and not rest_api_import.is_swagger(converted)
