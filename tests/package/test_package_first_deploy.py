"""Issue 13, on `make package`'s build: the documented deploy works with a template of this
size, the SAM transform makes exactly one (throttled) API stage, and the runtime is one
Lambda keeps supporting."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra import gateway
from infra.stack import INLINE_LIMIT
from infra import package as infra_package
from tests.helpers import REGION, ROOT



@pytest.fixture(scope="module")
def template(packaged_dev: Path) -> dict[str, Any]:
    return json.loads((packaged_dev / "template.json").read_text())


def commands(text: str, verb: str) -> list[str]:
    """Every `aws cloudformation <verb>` command in the text, continuation lines joined."""
    joined = re.sub(r"\\\s*\n\s*", " ", text)
    return [m.group(0) for m in re.finditer(rf"aws cloudformation {verb}\b[^\n`]*", joined)]


def test_the_documented_deploy_uploads_a_template_over_the_inline_limit(template):
    minified = len(json.dumps(template, separators=(",", ":")).encode())
    # The commands a person copies: the doc's code blocks (its prose may name the command).
    deploy_doc = "\n".join(re.findall(r"```sh\n(.*?)```", (ROOT / "docs" / "deploy.md").read_text(),
                                      re.S))
    printed = "\n".join(infra_package.deploy_commands("dev"))
    for where, text in (("docs/deploy.md", deploy_doc), ("infra/package.py", printed)):
        found = commands(text, "deploy")
        assert found, where
        for command in found:
            if minified > INLINE_LIMIT:
                assert "--s3-bucket" in command, (where, command)
                assert "--s3-prefix comm-it/dev" in command or "--s3-prefix comm-it/<stage>" \
                    in command, (where, command)
    assert minified > INLINE_LIMIT  # why: the test above would pass vacuously otherwise


def _transformed(template: dict[str, Any]) -> dict[str, Any]:
    """The SAM transform, offline, as CloudFormation runs it after `aws cloudformation
    package` has put the code in S3."""
    import copy

    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/comm-it/dev/0123abcd"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    return translator.translate(packaged, parameter_values={}, get_managed_policy_map=lambda: {})


def test_the_sam_transform_makes_exactly_one_api_stage_and_it_is_throttled(template):
    resources = _transformed(template)["Resources"]
    stages = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    deployment_stages = [r["Properties"]["StageName"] for r in resources.values()
                         if r["Type"] == "AWS::ApiGateway::Deployment"
                         and "StageName" in r["Properties"]]
    assert len(stages) + len(deployment_stages) == 1, (stages, deployment_stages)
    (only,) = stages
    assert only["StageName"] == "dev"
    throttles = {(s["ResourcePath"], s["HttpMethod"]): (s["ThrottlingRateLimit"],
                                                        s["ThrottlingBurstLimit"])
                 for s in only["MethodSettings"]}
    assert throttles == {(s["ResourcePath"], s["HttpMethod"]): (s["ThrottlingRateLimit"],
                                                                s["ThrottlingBurstLimit"])
                         for s in gateway.method_settings()}


def test_the_rate_limit_guards_the_one_stage_and_is_made_after_it(template):
    """SAM turns ${RestAPI.Stage} into a reference to the stage it makes: the association
    waits for the stage (WAF refuses a stage that does not exist yet)."""
    from infra.package import WAF_ASSOCIATION

    resources = _transformed(template)["Resources"]
    (stage,) = [name for name, r in resources.items() if r["Type"] == "AWS::ApiGateway::Stage"]
    arn = resources[WAF_ASSOCIATION]["Properties"]["ResourceArn"]["Fn::Sub"]
    assert arn.endswith(f"/restapis/${{RestAPI}}/stages/${{{stage}}}")
    assert resources["RestAPI"]["Type"] == "AWS::ApiGateway::RestApi"


def test_the_functions_runtime_is_supported_past_the_docs_date(template):
    runtimes = {r["Properties"]["Runtime"] for r in template["Resources"].values()
                if r["Type"] == "AWS::Serverless::Function"}
    (runtime,) = runtimes
    doc = (ROOT / "docs" / "deploy.md").read_text()
    assert f"`{runtime}`" in doc
    if runtime == "python3.11":
        assert "2027-06-30" in doc and "python3.13" in doc
