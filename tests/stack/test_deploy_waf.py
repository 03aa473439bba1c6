"""The per-client rate limit on /api/auth/* in `make deploy` and `make destroy`
(infra/waf.py), against moto's in-process AWS, whose WAFv2 associates web ACLs with API
Gateway stages.

moto's CloudFormation knows no WAFv2 type: the stack step is stood in for by `Stack`,
which creates or deletes the template's web ACL (tests/helpers.py web_acl_request) as
CloudFormation would, and refuses to delete one that still protects a stage, as WAF does.
moto 5.2.5 lacks ListResourcesForWebACL: `Wafv2` answers it from moto's associations.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from infra import deploy, stack, teardown, waf
from tests.helpers import ROOT, fake_outputs, web_acl_request


class Wafv2:
    """moto's wafv2 client, plus ListResourcesForWebACL (every API stage it protects)."""

    def __init__(self, session: Any) -> None:
        self.client = session.client("wafv2")
        self.apigateway = session.client("apigateway")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def list_resources_for_web_acl(self, WebACLArn: str, ResourceType: str) -> dict[str, Any]:  # noqa: N803
        assert ResourceType == "API_GATEWAY"
        protected = []
        for api in self.apigateway.get_rest_apis()["items"]:
            for stage in self.apigateway.get_stages(restApiId=api["id"])["item"]:
                arn = waf.stage_arn(WebACLArn, api["id"], stage["stageName"])
                acl = self.client.get_web_acl_for_resource(ResourceArn=arn).get("WebACL")
                if acl and acl["ARN"] == WebACLArn:
                    protected.append(arn)
        return {"ResourceArns": protected}


class Session:
    """The moto session, with `Wafv2` for wafv2."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.region_name = session.region_name
        self.wafv2 = Wafv2(session)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def client(self, service: str) -> Any:
        return self.wafv2 if service == "wafv2" else self.session.client(service)


class Stack:
    """CloudFormation's part: the web ACL exists unless AuthRateLimit is 0."""

    def __init__(self, wafv2: Wafv2) -> None:
        self.wafv2 = wafv2
        self.limit = "500"

    def deploy(self, cfn: Any, stage: str, body: str, **kwargs: Any) -> str:
        self.limit = (kwargs.get("parameters") or {}).get(waf.PARAMETER) or self.limit
        acl = waf.find_acl(self.wafv2, stage)
        if self.limit != waf.OFF and acl is None:
            self.wafv2.create_web_acl(**web_acl_request(stage))
        elif self.limit == waf.OFF and acl is not None:
            self.delete(stage)
        return "updated"

    def delete(self, stage: str) -> None:
        acl = waf.find_acl(self.wafv2, stage)
        if acl is None:
            return
        protected = self.wafv2.list_resources_for_web_acl(WebACLArn=acl["ARN"],
                                                          ResourceType="API_GATEWAY")
        if protected["ResourceArns"]:
            raise AssertionError("WAFAssociatedItemException: the web ACL still protects "
                                 f"{protected['ResourceArns']}")
        self.wafv2.delete_web_acl(Name=acl["Name"], Scope="REGIONAL", Id=acl["Id"],
                                  LockToken=acl["LockToken"])


class Chalice:
    """`chalice deploy` makes the REST API once (later deploys update it); `delete` removes
    nothing here, as when the stage's record is lost."""

    def __init__(self, apigateway: Any) -> None:
        self.apigateway = apigateway
        self.api_id = ""

    def __call__(self, command: list[str], cwd: Path, check: bool) -> None:
        if command[1] != "deploy":
            return
        if not self.api_id:
            self.api_id = self.apigateway.create_rest_api(name="comm-it")["id"]
            root = self.apigateway.get_resources(restApiId=self.api_id)["items"][0]["id"]
            self.apigateway.put_method(restApiId=self.api_id, resourceId=root,
                                       httpMethod="GET", authorizationType="NONE")
            self.apigateway.put_integration(restApiId=self.api_id, resourceId=root,
                                            httpMethod="GET", type="MOCK")
        deployed = Path(cwd) / ".chalice" / "deployed"
        deployed.mkdir(exist_ok=True)
        (deployed / f"{command[-1]}.json").write_text(json.dumps({"resources": [
            {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": self.api_id,
             "rest_api_url":
                 f"https://{self.api_id}.execute-api.eu-west-1.amazonaws.com/{command[-1]}/"}]}))


@pytest.fixture
def aws_stage(aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    (tmp_path / ".chalice").mkdir()
    shutil.copy2(ROOT / ".chalice" / "config.json", tmp_path / ".chalice" / "config.json")
    session = Session(aws)
    cloudformation = Stack(session.wafv2)
    monkeypatch.setattr(stack, "deploy_stack", cloudformation.deploy)
    monkeypatch.setattr(stack, "stack_outputs", lambda cfn, stage: fake_outputs(stage))
    said: list[str] = []
    chalice = Chalice(aws.client("apigateway"))

    def run(**parameters: str) -> None:
        deploy.deploy("dev", session, project_dir=tmp_path, run=chalice, say=said.append,
                      parameters=parameters)

    return {"session": session, "stack": cloudformation, "chalice": chalice, "said": said,
            "deploy": run, "project": tmp_path}


def guard_of(aws_stage: dict[str, Any]) -> str | None:
    """The name of the web ACL in front of the dev stage of the API, if any."""
    wafv2 = aws_stage["session"].wafv2
    arn = waf.STAGE_ARN.format(partition="aws", region="eu-west-1",
                               api=aws_stage["chalice"].api_id, stage="dev")
    acl = wafv2.get_web_acl_for_resource(ResourceArn=arn).get("WebACL")
    return acl["Name"] if acl else None


def test_make_deploy_puts_the_rate_limit_in_front_of_the_api_stage_and_a_redeploy_keeps_it(
        aws_stage):
    aws_stage["deploy"]()
    assert guard_of(aws_stage) == "comm-it-dev-auth-rate-limit" == waf.acl_name("dev")
    assert any("rate limit on /api/auth/*" in line and "comm-it-dev-auth-rate-limit" in line
               for line in aws_stage["said"])
    aws_stage["deploy"]()
    assert guard_of(aws_stage) == "comm-it-dev-auth-rate-limit"


def test_make_deploy_with_the_limit_off_leaves_the_stage_unguarded_and_says_so(aws_stage):
    aws_stage["deploy"](AuthRateLimit="0")
    assert guard_of(aws_stage) is None
    assert f"No per-client rate limit on /api/auth/* ({waf.PARAMETER}=0)." in aws_stage["said"]


def test_turning_the_limit_off_lets_go_of_the_stage_before_the_stack_deletes_the_web_acl(
        aws_stage):
    aws_stage["deploy"]()
    aws_stage["deploy"](AuthRateLimit="0")  # the stand-in refuses a web ACL still in use
    assert guard_of(aws_stage) is None
    assert waf.find_acl(aws_stage["session"].wafv2, "dev") is None
    aws_stage["deploy"](AuthRateLimit="200")  # and on again
    assert guard_of(aws_stage) == "comm-it-dev-auth-rate-limit"


def test_destroy_lets_go_of_the_stage_before_the_stack_is_deleted(aws_stage, monkeypatch):
    aws_stage["deploy"]()
    deleted = []

    def delete_stack(cfn: Any, stage: str) -> bool:
        aws_stage["stack"].delete(stage)
        deleted.append(stage)
        return True

    monkeypatch.setattr(teardown, "find", lambda cfn, name: {"Outputs": []})
    monkeypatch.setattr(teardown, "delete_stack", delete_stack)
    teardown.destroy("dev", aws_stage["session"], aws_stage["project"], run=aws_stage["chalice"],
                     say=lambda _: None)
    assert deleted == ["dev"]
    assert guard_of(aws_stage) is None


def test_a_web_acl_waf_does_not_know_yet_is_retried_then_associated():
    """WAF answers WAFUnavailableEntityException while a new web ACL or stage has not
    reached it; the deploy waits and tries again rather than leave the stage unguarded."""
    from botocore.exceptions import ClientError

    acl = {"Name": "comm-it-dev-auth-rate-limit", "ARN": "arn:aws:wafv2:eu-west-1:1:regional/"
           "webacl/comm-it-dev-auth-rate-limit/0f"}

    class Waf:
        calls = 0

        def list_web_acls(self, **kwargs: Any) -> dict[str, Any]:
            return {"WebACLs": [acl]}

        def associate_web_acl(self, WebACLArn: str, ResourceArn: str) -> None:  # noqa: N803
            self.calls += 1
            if self.calls < 3:
                raise ClientError({"Error": {"Code": "WAFUnavailableEntityException",
                                             "Message": "retry"}}, "AssociateWebACL")

    slept: list[float] = []
    client = Waf()
    assert waf.protect(client, "dev", "abc123", "dev", sleep=slept.append) == acl["ARN"]
    assert client.calls == 3 and slept == [2.0, 4.0]
