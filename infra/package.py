"""`make package STAGE=dev`: ONE CloudFormation template (the stack and the app) and the zip.

    python -m infra.package --stage dev      # -> build/dev/template.json, build/dev/deployment.zip

Offline, without AWS credentials. The stage is configured in a copy of the
project (build/<stage>/.work) the way `make deploy` configures it, except that
every stack output is the CloudFormation expression of its value
("${UsersTable.Arn}"): Chalice writes them into the environment, the policies,
the authorizer and the event sources, and they become Fn::Sub of the resources
of the same template. `chalice package --merge-template` merges
infra/template.yaml with what Chalice cannot declare: the functions' names and
log groups, the event source settings (infra/event_sources.py), the gateway
responses and throttling (infra/gateway.py), and the association of the API stage with
the rate limit's web ACL (infra/waf.py). `make deploy` applies the same
definitions through the API, so both paths end with the same resources.

Deploy it from a pipeline with `deploy_commands` (printed by `make package`, shown in
docs/deploy.md): the template is over CloudFormation's 51,200-byte inline limit, so it goes
through an artifact bucket; a change set is shown before anything changes; the first create
leaves the user pool and the users table unprotected (so a failed create can roll back) and
the same deploy with DataDeletionProtection=ACTIVE follows it; the stack policy guards the
users' data.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any, Callable, Sequence

from chalicelib.lambdas import deployed_name as function_name
from infra import chalice_cli, event_sources, gateway, policy, runtime, stage as stage_config, waf
from infra.stack import PROTECTION
from infra import template as infra_template
from infra.errors import DeployError

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("app.py", "requirements.txt")
PROJECT_DIRS = ("chalicelib", "templates", "vendor")
# The policies split ARNs on ':' (partition, region, account): these stand in for the
# pseudo parameters until the template is written, then become ${AWS::...}.
_PSEUDO = {"@@Partition@@": "${AWS::Partition}", "@@Region@@": "${AWS::Region}",
           "@@AccountId@@": "${AWS::AccountId}"}


def deploy_commands(stage: str, bucket: str = "<artifact bucket>") -> list[str]:
    """The commands that deploy build/<stage>/, '#' lines saying when (docs/deploy.md shows
    the same). Two steps, as `make deploy` does it: the first create with the user pool's and
    the users table's deletion protection off, so a failed create can roll back (Cognito and
    DynamoDB refuse to delete them protected: ROLLBACK_FAILED), then every deploy, the first
    one too once its create is complete, with it on."""
    out, name, prefix = f"build/{stage}", f"{policy.APP_NAME}-{stage}", f"{policy.APP_NAME}/{stage}"

    def deploy(protection: str) -> list[str]:
        return [
            f"aws cloudformation deploy --template-file {out}/packaged.json --stack-name {name} "
            f"--s3-bucket {bucket} --s3-prefix {prefix} "
            "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-execute-changeset "
            f"--parameter-overrides {PROTECTION}={protection} "
            "[AlarmEmail=... SesIdentityArn=... SesFromAddress=... AuthRateLimit=...]",
            f"aws cloudformation describe-change-set --stack-name {name} "
            "--change-set-name <the ARN it printed>",
            "aws cloudformation execute-change-set --change-set-name <the ARN it printed>"]

    return [
        f"aws cloudformation package --template-file {out}/template.json "
        f"--s3-bucket {bucket} --s3-prefix {prefix} --output-template-file {out}/packaged.json",
        f"# 1. The first create only: the user pool and the users table unprotected "
        f"({PROTECTION}=INACTIVE), so a failed create rolls back to nothing",
        *deploy("INACTIVE"),
        f"aws cloudformation wait stack-create-complete --stack-name {name}",
        f"# 2. Every deploy, the first one too once step 1 is complete: the stack policy, then "
        f"the data protected ({PROTECTION}=ACTIVE; a parameter not given keeps its value)",
        f"aws cloudformation set-stack-policy --stack-name {name} "
        "--stack-policy-body file://infra/stack-policy.json",
        *deploy("ACTIVE"),
        f"aws cloudformation wait stack-update-complete --stack-name {name}",
    ]


def symbolic_outputs(template: dict[str, Any]) -> dict[str, str]:
    """Each stack output as the Fn::Sub expression of its value (a condition's choice between
    two words, Fn::If, as a marker `substitute` makes an Fn::If again)."""
    out = {}
    for name, output in template["Outputs"].items():
        value = output["Value"]
        if "Ref" in value:
            out[name] = "${%s}" % value["Ref"]
        elif "Fn::If" in value:  # a switch ("on" when SES is set up): made Fn::If again
            out[name] = "@@If:%s@@" % ":".join(value["Fn::If"])
        else:
            logical, attribute = value["Fn::GetAtt"]
            out[name] = "${%s.%s}" % (logical, attribute)
    out["UsersTableArn"] = "arn:@@Partition@@:dynamodb:@@Region@@:@@AccountId@@:table/${UsersTable}"
    return out


def _logical(function: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if function == policy.API_HANDLER else to_cfn_resource_name(function)


def event_kinds() -> dict[str, str]:
    """Function -> the kind of its event source, from app.py."""
    from chalice.app import DynamoDBEventConfig, SQSEventConfig

    from app import app

    kinds = {}
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            kinds[source.name] = event_sources.SQS
        elif isinstance(source, DynamoDBEventConfig):
            kinds[source.name] = event_sources.STREAM
    return kinds


def merge_template(stage: str, template: dict[str, Any], env: dict[str, str],
                   kinds: dict[str, str]) -> dict[str, Any]:
    """infra/template.yaml plus what Chalice's part of the template lacks."""
    from chalice.utils import to_cfn_resource_name

    merged = copy.deepcopy(template)
    # Chalice bakes the stage into the functions' names: the template is for this stage only.
    merged["Parameters"]["Stage"].update(Default=stage, AllowedValues=[stage])
    resources = merged["Resources"]
    for function in policy.FUNCTIONS:
        logical = _logical(function)
        entry: dict[str, Any] = {
            "DependsOn": [f"{to_cfn_resource_name(function)}LogGroup"],
            "Properties": {"FunctionName": function_name(stage, function)}}
        if function in kinds:
            suffix = ("SqsEventSource" if kinds[function] == event_sources.SQS
                      else "DynamodbEventSource")
            entry["Properties"]["Events"] = {f"{logical}{suffix}": {
                "Properties": event_sources.settings(kinds[function], env)}}
        resources[logical] = entry
    resources["RestAPI"] = {"Properties": {
        # Without it SAM adds a second deployment with StageName "Stage": a live stage with
        # none of the throttling (aws/serverless-application-model#191). Chalice's
        # definition is Swagger 2.0.
        "OpenApiVersion": "2.0",
        "MethodSettings": gateway.method_settings(),
        "DefinitionBody": {"x-amazon-apigateway-gateway-responses": gateway.gateway_responses()}}}
    resources[WAF_ASSOCIATION] = waf_association()
    return merged


WAF_ASSOCIATION = "AuthRateLimitAssociation"


def waf_association() -> dict[str, Any]:
    """The web ACL in front of the API stage (`make deploy` associates it through the API,
    infra/waf.py). ${RestAPI.Stage} makes it wait for the stage SAM creates."""
    acl = infra_template.load()["Resources"][waf.ACL]
    arn = waf.STAGE_ARN.format(partition="${AWS::Partition}", region="${AWS::Region}",
                               api="${RestAPI}", stage="${RestAPI.Stage}")
    return {"Type": "AWS::WAFv2::WebACLAssociation", "Condition": acl["Condition"],
            "Properties": {"WebACLArn": {"Fn::GetAtt": [waf.ACL, "Arn"]},
                           "ResourceArn": {"Fn::Sub": arn}}}


def _tokens(text: str) -> str:
    for token, expression in _PSEUDO.items():
        text = text.replace(token, expression)
    return text


def substitute(node: Any) -> Any:
    """Every string that names a resource ("${UsersTable.Arn}") becomes an Fn::Sub."""
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"}:
            value = node["Fn::Sub"]
            return {"Fn::Sub": _tokens(value) if isinstance(value, str)
                    else [_tokens(value[0]), *value[1:]]}
        return {k: substitute(v) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(v) for v in node]
    if isinstance(node, str) and (choice := _CHOICE.fullmatch(node)):
        return {"Fn::If": list(choice.groups())}
    if isinstance(node, str) and ("@@" in node or any(
            not _IAM_VARIABLE.match(name) for name in re.findall(r"\$\{([^}]*)\}", node))):
        # An IAM policy variable in the same string stays literal: ${!aws:...}.
        return {"Fn::Sub": _tokens(re.sub(r"\$\{(?=[a-z][\w.-]*:[^:])", "${!", node))}
    return node


# An output that is a condition's choice between two words (symbolic_outputs).
_CHOICE = re.compile(r"@@If:(\w+):([^:@]*):([^:@]*)@@")

# ${aws:PrincipalTag/sub}, ${cognito-identity.amazonaws.com:sub}: IAM fills these in, not
# CloudFormation, so a plain string holding only them must not become an Fn::Sub.
_IAM_VARIABLE = re.compile(r"[a-z][\w.-]*:[^:]")


def _copy_project(project_dir: Path, work: Path) -> None:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT_FILES:
        shutil.copy2(project_dir / name, work / name)
    for name in PROJECT_DIRS:
        if (project_dir / name).exists():
            shutil.copytree(project_dir / name, work / name, symlinks=True, ignore=ignore)
    (work / ".chalice").mkdir()
    shutil.copy2(project_dir / ".chalice" / "config.json", work / ".chalice" / "config.json")


def build(stage: str, out_dir: Path, project_dir: Path = ROOT,
          run: Callable[..., Any] = subprocess.run) -> Path:
    """Write out_dir/template.json and out_dir/deployment.zip; returns the template's path."""
    stage_config.check_stage(stage)
    template = infra_template.load()
    work = out_dir / ".work"
    _copy_project(project_dir, work)
    env = stage_config.configure_stage(work, stage, symbolic_outputs(template))
    merge = work / "merge.json"
    merge.write_text(json.dumps(merge_template(stage, template, env, event_kinds()), indent=2))
    chalice_out = work / "out"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # chalice wants a region, not credentials
    clean_env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    result = run([*chalice_cli.chalice_command(), "package", "--stage", stage,
                  "--merge-template", str(merge), str(chalice_out)],
                 cwd=work, env=clean_env, capture_output=True, text=True)
    if result.returncode != 0:  # chalice ends a failure with a traceback: kept, not shown
        out_dir.mkdir(parents=True, exist_ok=True)
        log = out_dir / "chalice-package.log"
        log.write_text(f"{result.stdout}\n{result.stderr}", encoding="utf-8")
        said = chalice_cli.said(result.stderr or result.stdout)
        raise DeployError(f"chalice package failed: {said} (its whole output: {log})")
    packaged = substitute(json.loads((chalice_out / "sam.json").read_text(encoding="utf-8")))
    _check_events(packaged)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "template.json"
    target.write_text(json.dumps(packaged, indent=2) + "\n", encoding="utf-8")
    add_bytecode(chalice_out / "deployment.zip", out_dir / "deployment.zip", packaged)
    shutil.rmtree(work)
    return target


def add_bytecode(source: Path, target: Path, template: dict[str, Any]) -> None:
    """The zip with every module's bytecode beside it (unchecked-hash .pyc, PEP 552).

    /var/task is read-only in Lambda: without .pyc files every cold start compiles what
    it imports from source. Measured (docs/scaling.md): boto3 and a first S3 client take
    about 1.2 s from a zip without bytecode, 0.6 s with it. Only when this Python is the
    functions' runtime (a .pyc is for one version).
    """
    import py_compile
    import tempfile
    import zipfile

    runtimes = {r["Properties"].get("Runtime") for r in template["Resources"].values()
                if r["Type"] == "AWS::Serverless::Function"}
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtimes != {here}:
        shutil.copy2(source, target)
        return
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(source) as old, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new, \
            tempfile.TemporaryDirectory() as scratch:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, data)
            if not info.filename.endswith(".py"):
                continue
            folder, _, name = info.filename.rpartition("/")
            compiled = Path(scratch) / "out.pyc"
            (Path(scratch) / "src.py").write_bytes(data)
            try:
                py_compile.compile(str(Path(scratch) / "src.py"), cfile=str(compiled), doraise=True,
                                   dfile=info.filename,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            except py_compile.PyCompileError:
                continue  # e.g. a Python 2 file some wheel ships: it was never importable
            pyc = f"{folder + '/' if folder else ''}__pycache__/{name[:-3]}.{tag}.pyc"
            pyc_info = zipfile.ZipInfo(pyc, date_time=info.date_time)
            pyc_info.external_attr = info.external_attr
            pyc_info.compress_type = zipfile.ZIP_DEFLATED
            new.writestr(pyc_info, compiled.read_bytes())


def _check_events(template: dict[str, Any]) -> None:
    """A merged event Chalice did not generate has no Type: its name drifted from Chalice's."""
    for name, resource in template["Resources"].items():
        for event, body in resource.get("Properties", {}).get("Events", {}).items():
            if "Type" not in body:
                raise DeployError(f"{name}.Events.{event}: Chalice no longer names this event "
                                  "source so; update infra/package.py")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", default=None, help="default: build/<stage>")
    parser.add_argument("--accept-runtime",
                        help="build for this Lambda runtime although AWS deprecates it within "
                             "a year (infra/runtime.py)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else ROOT / "build" / args.stage
    try:
        print(runtime.check(runtime.lambda_runtime(), date.today(), args.accept_runtime))
        target = build(args.stage, out)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target} and "
          f"{(out / 'deployment.zip').name} beside it: one template, the stack and the app "
          "together.\n"
          "Deploy it through an artifact bucket (the template is over CloudFormation's inline "
          "limit), reviewing the change set first:\n  " + "\n  ".join(deploy_commands(args.stage)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
