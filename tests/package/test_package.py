"""`make package`: one CloudFormation template (the stack and the app) and the Lambda zip,
built offline without AWS credentials, and proven to deploy what `make deploy` deploys.

One package per session (conftest's `packaged_dev`): `infra.package.build` on the
project, with every AWS_* variable removed. Chalice fetches the Linux wheels of
requirements.txt from PyPI; if it cannot, the fixture fails (it never skips).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra import chalice_cli, package as infra_package, policy
from infra import template as infra_template
from tests.helpers import (ACCOUNT, REGION, ROOT, deployable_rest_api, fake_outputs,
                           web_acl_request)


@pytest.fixture(scope="module")
def package(packaged_dev: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = packaged_dev
    template_path = out / "template.json"
    unpacked = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        names = set(archive.namelist())
        archive.extractall(unpacked)
    return {"out": out, "template": json.loads(template_path.read_text()), "names": names,
            "unpacked": unpacked}


def resolve(node: Any, outputs: dict[str, str] | None = None) -> Any:
    """The template's Fn::Sub/Ref/GetAtt of the stack's resources, as the fake stack
    outputs (tests/helpers.py) give them: what CloudFormation would put there."""
    outputs = outputs or fake_outputs()
    values = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
              "Stage": "dev"}
    choices = {}  # an output that is a condition's choice (Fn::If): the package keeps it one
    for name, output in infra_template.load()["Outputs"].items():
        value = output["Value"]
        if "Fn::If" in value:
            choices[tuple(value["Fn::If"])] = outputs[name]
            continue
        key = value["Ref"] if "Ref" in value else ".".join(value["Fn::GetAtt"])
        values[key] = outputs[name]
    values["UsersTable"] = outputs["UsersTableName"]
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            return re.sub(r"\$\{([^}!]+)\}", lambda m: values[m.group(1)], node["Fn::Sub"])
        if set(node) == {"Ref"} and node["Ref"] in values:
            return values[node["Ref"]]
        if set(node) == {"Fn::If"} and tuple(node["Fn::If"]) in choices:
            return choices[tuple(node["Fn::If"])]
        if set(node) == {"Fn::GetAtt"} and ".".join(node["Fn::GetAtt"]) in values:
            return values[".".join(node["Fn::GetAtt"])]
        return {k: resolve(v, outputs) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, outputs) for v in node]
    return node


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """function name (as app.py names it) -> its properties in the template."""
    by_name = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            name = resource["Properties"]["FunctionName"]
            function = next(f for f in policy.FUNCTIONS
                            if infra_package.function_name("dev", f) == name)
            by_name[function] = resource["Properties"]
    return by_name


# --- one template, valid and safe ------------------------------------------------------

def test_the_build_holds_one_template_and_the_zip(package):
    assert sorted(p.name for p in package["out"].iterdir()) == ["deployment.zip", "template.json"]
    resources = package["template"]["Resources"]
    # The stack's resources and the app's, in the same template.
    assert set(infra_template.load()["Resources"]) <= set(resources)
    assert {"RestAPI", "APIHandler", "SaveProfile", "ArchiveProfile", "SyncName"} <= set(resources)


def test_docs_deploy_says_the_packages_real_sizes(package):
    """docs/deploy.md's sizes of the template (as written and minified) and of the zip (packed,
    unpacked) are the build's own, within 10% (issue 27: they had drifted)."""
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    said = re.search(r"The template is about (\d+) KB \((\d+) KB minified\).*?the zip about "
                     r"([\d.]+) MB\s+\(([\d.]+) MB unpacked", text, re.S)
    assert said, "docs/deploy.md's sizes"
    written = (package["out"] / "template.json").stat().st_size / 1000
    minified = len(json.dumps(package["template"], separators=(",", ":"))) / 1000
    with zipfile.ZipFile(package["out"] / "deployment.zip") as archive:
        unpacked = sum(i.file_size for i in archive.infolist()) / 1e6
    packed = (package["out"] / "deployment.zip").stat().st_size / 1e6
    for doc, real in zip(map(float, said.groups()), (written, minified, packed, unpacked),
                         strict=True):
        assert abs(doc - real) <= real * 0.10, (doc, real)


def test_cfn_lint_passes_on_the_one_template(package):
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(package["out"] / "template.json", config=ManualArgs(regions=[REGION]))
    assert [str(m) for m in matches] == []


def test_the_stacks_part_is_infra_template_yaml_unchanged(package):
    template = infra_template.load()
    resources = package["template"]["Resources"]
    for name, resource in template["Resources"].items():
        assert resources[name] == resource, name
    assert package["template"]["Parameters"]["Stage"]["AllowedValues"] == ["dev"]
    assert package["template"]["Conditions"] == template["Conditions"]


def test_nothing_account_specific_or_unresolved_is_left_in_the_template(package):
    text = json.dumps(package["template"])
    assert "@@" not in text and "000000000000" not in text and "-local-" not in text
    assert "_unset" not in text

    def strays(node: Any) -> list[str]:
        if isinstance(node, dict):
            if "Fn::Sub" in node:
                return []
            return [s for v in node.values() for s in strays(v)]
        if isinstance(node, list):
            return [s for v in node for s in strays(v)]
        return [node] if isinstance(node, str) and "${" in node else []

    # IAM fills in its own policy variables (${aws:PrincipalTag/sub}); CloudFormation must not.
    iam_variables_only = [s for s in strays(package["template"])
                          if re.sub(r"\$\{aws:PrincipalTag/sub\}", "", s).count("${") == 0]
    assert strays(package["template"]) == iam_variables_only
    assert iam_variables_only, "the role's list condition keeps its policy variable"


# --- the zip ---------------------------------------------------------------------------

def test_the_zip_holds_the_app_all_of_chalicelib_and_the_templates(package):
    names = package["names"]
    assert "app.py" in names
    chalicelib = {f"chalicelib/{p.name}" for p in (ROOT / "chalicelib").glob("*.py")}
    assert chalicelib and chalicelib <= names
    templates = {f"templates/{p.name}" for p in (ROOT / "templates").iterdir() if p.is_file()}
    assert "templates/greeting.html" in templates and templates <= names


def test_the_zip_bundles_the_sdk_and_the_runtime_dependencies_but_no_dev_tools(package):
    tops = {name.split("/", 1)[0] for name in package["names"]}
    assert {"boto3", "botocore", "jinja2", "markupsafe", "jwt", "cryptography"} <= tops
    assert not {"moto", "pytest", "local", "tests", "infra", "bench", "cfnlint"} & tops
    assert (package["out"] / "deployment.zip").stat().st_size < 50 * 2**20  # direct upload limit


PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1]]
import app
from chalicelib import pages
html = pages.render("greeting.html", name="Ada")
import boto3, botocore, botocore.session, jinja2, jwt, cryptography
shape = botocore.session.get_session().get_service_model("s3")\
.operation_model("PutObject").input_shape
print(json.dumps({
    "html": html,
    "functions": sorted(app.app.handler_map),
    "modules": {m.__name__: m.__file__ for m in \
(app, pages, boto3, botocore, jinja2, jwt, cryptography)},
    "put_object": sorted(shape.members),
    "templates_dir": str(pages.TEMPLATES_DIR),
    "has_crypto": jwt.algorithms.has_crypto,
    "path": sys.path,
}))
"""


def test_the_unpacked_zip_alone_imports_renders_and_knows_s3_conditional_writes(package, tmp_path):
    unpacked = package["unpacked"]
    # -I -S: no site-packages, no PYTHONPATH, no user site: only the zip (Lambda puts the
    # function's code first on sys.path, before the runtime's own boto3).
    result = subprocess.run([sys.executable, "-I", "-S", "-c", PROBE, str(unpacked)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": REGION})
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert "Hello, Ada" in probe["html"]
    assert probe["templates_dir"] == str(unpacked / "templates")
    for name, path in probe["modules"].items():
        assert path.startswith(str(unpacked)), f"{name} came from {path}, not the package"
    assert {"IfMatch", "IfNoneMatch"} <= set(probe["put_object"])
    assert probe["has_crypto"] is True
    assert not any("site-packages" in p for p in probe["path"])
    assert set(policy.FUNCTIONS) - {policy.API_HANDLER} <= set(probe["functions"])


def test_the_zip_carries_bytecode_lambda_uses_without_checking_the_source(package):
    import importlib.util

    tag = sys.implementation.cache_tag
    names = package["names"]
    for module in ("app", "chalicelib/pipeline", "botocore/client", "jinja2/environment"):
        folder, _, name = module.rpartition("/")
        pyc = f"{folder + '/' if folder else ''}__pycache__/{name}.{tag}.pyc"
        assert pyc in names, pyc
        header = (package["unpacked"] / pyc).read_bytes()[:8]
        assert header[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, never checked


# --- offline, on a fresh clone ------------------------------------------------------------

def _fresh_clone(target: Path) -> Path:
    shutil.copytree(ROOT, target, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", "build", "test-artifacts", "__pycache__", ".git", "deployed", "policy-*.json"))
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage, entry in config["stages"].items():  # what the repository holds: no outputs
        entry["environment_variables"] = {"APP_STAGE": stage}
    (target / ".chalice" / "config.json").write_text(json.dumps(config))
    return target


@pytest.mark.parametrize("command", [["package", "out"], ["deploy"]])
def test_chalice_on_a_fresh_clone_says_in_one_line_what_to_run_instead(tmp_path, command):
    clone = _fresh_clone(tmp_path / "clone")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_DEFAULT_REGION=REGION, AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run([*chalice_cli.chalice_command(), *command, "--stage", "dev"],
                            cwd=clone, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert "make deploy STAGE=dev" in line and "make package STAGE=dev" in line


# --- `make deploy` and the package end with the same settings -------------------------------

def test_every_lambda_gets_its_own_role_with_the_policy_make_deploy_writes(package):
    template = package["template"]
    env = {infra_template.env_name(k): v for k, v in fake_outputs().items()} | {"APP_STAGE": "dev"}
    for function, properties in functions(template).items():
        role = template["Resources"][properties["Role"]["Fn::GetAtt"][0]]
        (document,) = [p["PolicyDocument"] for p in role["Properties"]["Policies"]]
        assert resolve(document) == policy.document(function, env, "dev"), function


def test_environment_authorizer_and_event_sources_are_the_stacks_resources(package):
    template = package["template"]
    expected_env = {infra_template.env_name(k): v for k, v in fake_outputs().items()} | {
        "APP_STAGE": "dev"}
    for function, properties in functions(template).items():
        assert resolve(properties["Environment"]["Variables"]) == expected_env, function
    authorizer = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "securityDefinitions"]["CommItUserPool"]["x-amazon-apigateway-authorizer"]
    assert resolve(authorizer["providerARNs"]) == [fake_outputs()["UserPoolArn"]]
    events = {f: next(iter(p["Events"].values()))["Properties"]
              for f, p in functions(template).items() if "Events" in p}
    assert resolve(events[policy.SYNC_NAME]["Stream"]) == fake_outputs()["UsersTableStreamArn"]
    assert resolve(events[policy.SAVE_PROFILE]["Queue"]) == fake_outputs()["ProfileQueueArn"]
    assert resolve(events[policy.ARCHIVE_PROFILE]["Queue"]) == fake_outputs()["ArchiveQueueArn"]
    assert resolve(events[policy.ENFORCE_QUOTA]["Queue"]) == fake_outputs()["QuotaQueueArn"]
    assert resolve(events[policy.RECORD_SIGN_IN]["Queue"]) == fake_outputs()["SignInQueueArn"]


def test_functions_have_the_names_log_groups_memory_and_timeouts_make_deploy_gives(package):
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]
    for function, properties in functions(package["template"]).items():
        settings = config["lambda_functions"][function]
        assert properties["MemorySize"] == settings["lambda_memory_size"], function
        assert properties["Timeout"] == settings["lambda_timeout"], function
        # Created (with its retention) before the function can write to it.
        resources = package["template"]["Resources"]
        (log_group,) = resources[properties_name(package, function)]["DependsOn"]
        assert resolve(resources[log_group]["Properties"]["LogGroupName"]) == \
            f"/aws/lambda/{properties['FunctionName']}"
        # ...which is the name `chalice deploy` gives it, and the one the policy allows.
        assert properties["FunctionName"] == infra_package.function_name("dev", function)
        assert any(r.endswith(f":log-group:/aws/lambda/{properties['FunctionName']}")
                   for r in policy.document(function, _env(), "dev")["Statement"][0]["Resource"])
    assert functions(package["template"])[policy.API_HANDLER]["Timeout"] < 29  # API Gateway's limit


def _env() -> dict[str, str]:
    return {infra_template.env_name(k): v for k, v in fake_outputs().items()}


def properties_name(package: dict[str, Any], function: str) -> str:
    return next(n for n, r in package["template"]["Resources"].items()
                if r["Type"] == "AWS::Serverless::Function"
                and r["Properties"]["FunctionName"] == infra_package.function_name("dev", function))


class _RecordingLambda:
    """Records the mapping updates; anything else (the record's rebuild from AWS,
    infra/deployed_in_aws.py) goes to moto's Lambda, `real`."""

    real: Any = None

    def __init__(self) -> None:
        self.updates: dict[str, dict[str, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def update_event_source_mapping(self, UUID: str, **settings: Any) -> None:  # noqa: N803
        self.updates[UUID] = settings

    def get_event_source_mapping(self, UUID: str) -> dict[str, Any]:  # noqa: N803
        return {"UUID": UUID, "State": "Enabled", **self.updates.get(UUID, {})}

    def get_function(self, FunctionName: str) -> None:  # noqa: N803
        """No app deployed yet (make deploy checks before it runs chalice without a record)."""
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": FunctionName}},
                          "GetFunction")


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`make deploy` of the dev stage against moto, Chalice's part stood in for: what the
    API stage and the event source mappings look like afterwards."""
    import boto3
    from moto import mock_aws

    from infra import deploy, stack

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    (tmp_path / ".chalice").mkdir()
    shutil.copy2(ROOT / ".chalice" / "config.json", tmp_path / ".chalice" / "config.json")
    monkeypatch.setattr(stack, "deploy_stack", lambda *a, **k: "unchanged")
    monkeypatch.setattr(stack, "stack_outputs", lambda cfn, stage: fake_outputs(stage))
    recording = _RecordingLambda()
    with mock_aws():
        session = boto3.session.Session()
        apigateway = session.client("apigateway")
        wafv2 = session.client("wafv2")
        recording.real = session.client("lambda")
        wafv2.create_web_acl(**web_acl_request("dev"))  # the stack's, as CloudFormation makes it
        kinds = infra_package.event_kinds()

        def chalice(command: list[str], cwd: Path, check: bool) -> None:
            api_id = deployable_rest_api(apigateway)
            resources = [{"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api_id,
                          "rest_api_url":
                              f"https://{api_id}.execute-api.{REGION}.amazonaws.com/api/"}]
            for function, kind in kinds.items():
                resources.append({"name": f"{function}-{kind}-event-source",
                                  "resource_type": ("sqs_event" if kind == "sqs"
                                                    else "dynamodb_event"),
                                  "event_uuid": f"uuid-{function}"})
            (cwd / ".chalice" / "deployed").mkdir(exist_ok=True)
            (cwd / ".chalice" / "deployed" / "dev.json").write_text(
                json.dumps({"resources": resources}))

        class Session:
            region_name = REGION

            def __getattr__(self, name: str) -> Any:
                return getattr(session, name)

            def client(self, service: str) -> Any:
                return recording if service == "lambda" else session.client(service)

        deploy.deploy("dev", Session(), project_dir=tmp_path, run=chalice, say=lambda _: None)
        api_id = apigateway.get_rest_apis()["items"][0]["id"]
        responses = apigateway.get_gateway_responses(restApiId=api_id)["items"]
        stage = apigateway.get_stage(restApiId=api_id, stageName="dev")
        guard = wafv2.get_web_acl_for_resource(
            ResourceArn=f"arn:aws:apigateway:{REGION}::/restapis/{api_id}/stages/dev")
    return {"responses": {r["responseType"]: r for r in responses},
            "method_settings": stage.get("methodSettings", {}),
            "web_acl": guard.get("WebACL", {}).get("Name"),
            "mappings": {uuid.removeprefix("uuid-"): s for uuid, s in recording.updates.items()}}


def test_make_deploy_and_the_package_give_the_same_event_source_settings(package, deployed):
    packaged = {f: next(iter(p["Events"].values()))["Properties"]
                for f, p in functions(package["template"]).items() if "Events" in p}
    assert set(deployed["mappings"]) == set(packaged) == {
        policy.SAVE_PROFILE, policy.ARCHIVE_PROFILE, policy.SYNC_NAME, policy.ENFORCE_QUOTA,
        policy.RECORD_SIGN_IN}
    for function, settings in deployed["mappings"].items():
        assert settings, function
        assert {k: resolve(packaged[function][k]) for k in settings} == settings, function
    assert packaged[policy.SAVE_PROFILE]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    stream = packaged[policy.SYNC_NAME]
    assert stream["StartingPosition"] == "TRIM_HORIZON" and stream["BisectBatchOnFunctionError"]
    assert 0 < stream["MaximumRetryAttempts"] <= 5
    assert resolve(stream["DestinationConfig"]["OnFailure"]["Destination"]) == \
        fake_outputs()["NameSyncDeadLetterQueueArn"]
    assert packaged[policy.SAVE_PROFILE]["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_make_deploy_and_the_package_give_the_same_gateway_responses(package, deployed):
    packaged = package["template"]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "x-amazon-apigateway-gateway-responses"]
    assert set(deployed["responses"]) == set(packaged)
    for response_type, response in packaged.items():
        put = deployed["responses"][response_type]
        assert put["responseTemplates"] == response["responseTemplates"], response_type
        assert put["responseParameters"] == response["responseParameters"], response_type
        assert put.get("statusCode") == response.get("statusCode"), response_type


def test_make_deploy_and_the_package_give_the_same_throttling(package, deployed):
    packaged = package["template"]["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    as_deployed = {f"{s['ResourcePath'].lstrip('/') or '*'}/{s['HttpMethod']}": (
        s["ThrottlingRateLimit"], s["ThrottlingBurstLimit"]) for s in packaged}
    got = {key: (value["throttlingRateLimit"], value["throttlingBurstLimit"])
           for key, value in deployed["method_settings"].items()}
    assert got == as_deployed
    assert got["~1api~1auth~1signup/POST"][0] <= 2


def test_make_deploy_and_the_package_put_the_same_web_acl_in_front_of_the_stage(package, deployed):
    from infra import waf

    resources = package["template"]["Resources"]
    association = resources[infra_package.WAF_ASSOCIATION]
    assert association["Type"] == "AWS::WAFv2::WebACLAssociation"
    # Only when the web ACL exists (AuthRateLimit not 0), and that web ACL.
    assert association["Condition"] == resources[waf.ACL]["Condition"] == "LimitsAuthRate"
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [waf.ACL, "Arn"]}
    arn = association["Properties"]["ResourceArn"]["Fn::Sub"]
    assert arn == ("arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}"
                   "/stages/${RestAPI.Stage}")
    assert deployed["web_acl"] == waf.acl_name("dev") == "comm-it-dev-auth-rate-limit"

