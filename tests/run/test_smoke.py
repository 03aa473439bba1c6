"""`make smoke` against `make run`'s stack: the module `make smoke` runs (python -m infra.smoke,
no STAGE) passes on a healthy stack, and fails with a clear FAIL line, no traceback, and
everything it made removed, when something is broken on purpose."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import boto3
import pytest

from infra.smoke import deletion, runner
from tests.running import ROOT, RunningStack, free_port

LINE = re.compile(r"^(PASS|FAIL|SKIP) (?P<check>[^:]+): (?P<detail>.+)$")


@pytest.fixture(scope="module")
def stack():
    with RunningStack() as running:
        yield running


def run_smoke(port: int, aws_port: int, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k != "STAGE" and not k.startswith("AWS_")}  # no STAGE: the local stack
    env.update(PORT=str(port), LOCAL_AWS_PORT=str(aws_port))
    return subprocess.run([sys.executable, "-m", "infra.smoke", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def outcomes(result: subprocess.CompletedProcess) -> dict[str, tuple[str, str]]:
    """check -> (PASS|FAIL|SKIP, detail); every line but the first must be one."""
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines and lines[0].startswith("Smoke test of stage local"), result.stdout
    found = {}
    for line in lines[1:]:
        match = LINE.match(line)
        assert match, f"not a PASS/FAIL/SKIP line: {line!r}\n{result.stdout}"
        found[match["check"]] = (match[1], match["detail"])
    return found


def aws(stack: RunningStack, service: str) -> Any:
    return boto3.client(service, endpoint_url=stack.aws_endpoint, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def stack_outputs(stack: RunningStack) -> dict[str, str]:
    from tests.helpers import http_json

    status, outputs = http_json(stack.aws_endpoint, "POST", "/_local/outputs", {})
    assert status == 200, outputs
    return outputs


def throwaway(found: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """(username, sub) of the run's throwaway user, as its lines name them."""
    username = found["create user"][1].split(" ", 1)[0]
    sub = found["log in"][1].rsplit("sub ", 1)[1]
    return username, sub


def assert_nothing_left(stack: RunningStack, username: str, sub: str = "") -> None:
    outputs = stack_outputs(stack)
    idp = aws(stack, "cognito-idp")
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=outputs["USER_POOL_ID"], Username=username)
    s3, bucket = aws(stack, "s3"), outputs["USERS_BUCKET_NAME"]
    token = username.removeprefix("smoke-")
    for prefix in [f"users/smoke-other-{token}/"] + ([f"users/{sub}/"] if sub else []):
        listed = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        assert not listed.get("Versions") and not listed.get("DeleteMarkers"), (prefix, listed)
    if sub:
        ssm = aws(stack, "ssm")
        with pytest.raises(ssm.exceptions.ParameterNotFound):
            ssm.get_parameter(Name=f"/comm-it/local/users/{sub}/name")


def test_smoke_passes_against_make_run_with_skips_only_for_what_exists_only_in_aws(stack):
    result = run_smoke(stack.port, stack.aws_port)

    found = outcomes(result)
    assert result.returncode == 0, result.stdout
    skipped = {check for check, (outcome, _) in found.items() if outcome == "SKIP"}
    assert skipped == set(runner.AWS_ONLY_CHECKS), result.stdout
    assert all(outcome in ("PASS", "SKIP") for outcome, _ in found.values()), result.stdout
    for check in ("create user", "log in", "users table record", "profile document",
                  "name parameter", "greeting", "own profile with identity-pool credentials",
                  "another person's key refused", "passkey", "alarms", "delete account",
                  "nothing left but the tombstone", "cleanup"):
        assert found[check][0] == "PASS", (check, result.stdout)
    username, sub = throwaway(found)
    assert_nothing_left(stack, username, sub)
    # What the deletion documents as left: the tombstones, and nothing personal in them.
    outputs = stack_outputs(stack)
    item = aws(stack, "dynamodb").get_item(TableName=outputs["USERS_TABLE_NAME"],
                                           Key={"sub": {"S": sub}})["Item"]
    assert set(item) == deletion.TOMBSTONE_FIELDS
    aws(stack, "s3").head_object(Bucket=outputs["USERS_BUCKET_NAME"], Key=f"tombstones/{sub}.json")


def test_smoke_fails_clearly_and_cleans_up_when_the_signed_in_role_reads_every_persons_files(stack):
    outputs = stack_outputs(stack)
    role_arn = aws(stack, "cognito-identity").get_identity_pool_roles(
        IdentityPoolId=outputs["IDENTITY_POOL_ID"])["Roles"]["authenticated"]
    role, iam = role_arn.rsplit("/", 1)[1], aws(stack, "iam")
    iam.put_role_policy(RoleName=role, PolicyName="broken-on-purpose", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                       "Resource": f"{outputs['USERS_BUCKET_ARN']}/users/*"}]}))
    try:
        result = run_smoke(stack.port, stack.aws_port)
    finally:
        iam.delete_role_policy(RoleName=role, PolicyName="broken-on-purpose")

    found = outcomes(result)
    assert result.returncode == 1, result.stdout
    outcome, detail = found["another person's key refused"]
    assert outcome == "FAIL" and "READ another person's" in detail, result.stdout
    assert [c for c, (o, _) in found.items() if o == "FAIL"] == ["another person's key refused"]
    assert found["cleanup"][0] == "PASS", result.stdout
    assert_nothing_left(stack, *throwaway(found))


def test_smoke_removes_the_user_it_made_when_the_app_does_not_answer(stack):
    nobody = free_port()  # the local AWS is up, the app is not there: login fails

    result = run_smoke(nobody, stack.aws_port, "--wait", "5")

    found = outcomes(result)
    assert result.returncode == 1, result.stdout
    assert found["create user"][0] == "PASS" and found["log in"][0] == "FAIL", result.stdout
    assert ("Connection refused" in found["log in"][1]
            or "URLError" in found["log in"][1]), result.stdout
    assert found["cleanup"] == ("PASS", "removed the Cognito user"), result.stdout
    assert_nothing_left(stack, found["create user"][1].split(" ", 1)[0])


def test_smoke_without_a_running_stack_says_how_to_start_one_in_one_line():
    result = run_smoke(free_port(), free_port())

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.startswith("FAIL setup: No local stack answers at http://127.0.0.1:")
    assert "make run" in result.stdout and "STAGE=" in result.stdout


@pytest.mark.parametrize("args, env, expected", [
    ((), {}, "-m infra.smoke"),                             # no STAGE: make run's stack
    (("STAGE=dev",), {}, "-m infra.smoke --stage dev"),     # on the command line
    ((), {"STAGE": "prod"}, "-m infra.smoke --stage prod"),  # in the environment
])
def test_make_smoke_checks_the_local_stack_only_when_no_stage_is_given(args, env, expected):
    base = {k: v for k, v in os.environ.items() if k != "STAGE"}
    result = subprocess.run(["make", "-n", "smoke", *args], cwd=ROOT, env={**base, **env},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "infra.smoke" in line)
    assert line.rstrip().endswith(expected), line
    # The deploy targets keep their dev default.
    deploy = subprocess.run(["make", "-n", "deploy"], cwd=ROOT, env=base, capture_output=True,
                            text=True, timeout=60, check=False)
    assert "-m infra.deploy deploy --stage dev" in deploy.stdout, deploy.stdout
