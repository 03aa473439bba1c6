"""Issue 13: what a first real deploy needs, proven without AWS (fake clients, the template,
the docs). Each test names the defect it guards against."""
from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib import lambdas
from infra import event_sources, policy, stack
from infra import template as infra_template
from infra.errors import DeployError
from tests.helpers import CHALICE_RECORD, STREAM_DLQ_ENV, fake_outputs, props

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOC = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
OPERATIONS_DOC = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in template["Resources"].items()
            if r["Type"] == "AWS::CloudWatch::Alarm"}


def dimension(alarm: dict[str, Any], name: str) -> Any:
    return next((d["Value"] for d in alarm.get("Dimensions", []) if d["Name"] == name), None)


def client_error(code: str, operation: str = "UpdateEventSourceMapping"):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": f"{code} (fake)"}}, operation)


# --- 3. event source mappings: wait, retry, read back ---------------------------------------

ENV, DEPLOYED = STREAM_DLQ_ENV, CHALICE_RECORD


class SettlingLambda:
    """A Lambda API whose mappings are `Creating` for a few reads after `chalice deploy`,
    answer ResourceInUseException meanwhile, then `Enabled`; an update makes them
    `Updating` for a read, as AWS does."""

    def __init__(self, creating_reads: int = 3, ignore: set[str] | None = None) -> None:
        self.mappings = {u: {"UUID": u, "State": "Creating", "FunctionResponseTypes": []}
                         for u in ("u1", "u2")}
        self.left = {u: creating_reads for u in self.mappings}
        self.ignore = ignore or set()  # settings this fake silently drops (a drift)
        self.updates: list[dict[str, Any]] = []
        self.refused = 0

    def _tick(self, uuid: str) -> None:
        if self.left[uuid] > 0:
            self.left[uuid] -= 1
        elif self.mappings[uuid]["State"] in ("Creating", "Updating"):
            self.mappings[uuid]["State"] = "Enabled"

    def get_event_source_mapping(self, UUID: str) -> dict[str, Any]:  # noqa: N803
        self._tick(UUID)
        return json.loads(json.dumps(self.mappings[UUID]))

    def update_event_source_mapping(self, UUID: str, **settings: Any) -> dict[str, Any]:  # noqa: N803
        if self.mappings[UUID]["State"] != "Enabled":
            self.refused += 1
            self._tick(UUID)
            raise client_error("ResourceInUseException")
        self.updates.append({"UUID": UUID, **settings})
        self.mappings[UUID].update({k: v for k, v in settings.items() if k not in self.ignore})
        self.mappings[UUID]["State"], self.left[UUID] = "Updating", 1
        return self.mappings[UUID]


def test_mappings_still_creating_are_waited_for_and_retried_then_read_back_as_defined():
    fake, slept = SettlingLambda(), []
    updated = event_sources.apply(fake, DEPLOYED, ENV, sleep=slept.append)
    assert updated == ["save_profile", "sync_name"]
    assert fake.mappings["u1"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert fake.mappings["u2"]["MaximumRetryAttempts"] == 3
    assert fake.mappings["u2"]["DestinationConfig"] == {"OnFailure": {"Destination": ENV[
        "NAME_SYNC_DEAD_LETTER_QUEUE_ARN"]}}
    assert [u["UUID"] for u in fake.updates] == ["u1", "u2"]  # once each, when settled
    assert slept and all(s > 0 for s in slept)


def test_resource_in_use_is_retried_with_growing_waits():
    fake, slept = SettlingLambda(creating_reads=0), []
    fake.mappings["u1"]["State"] = "Creating"
    real_get = fake.get_event_source_mapping
    fake.get_event_source_mapping = lambda UUID: {**real_get(UUID), "State": "Enabled"}  # lies
    fake.left["u1"] = 3
    event_sources.apply(fake, DEPLOYED[:2], ENV, sleep=slept.append)
    assert fake.refused >= 2
    assert slept == sorted(slept) and slept[-1] > slept[0]


def test_a_mapping_that_never_settles_stops_the_deploy_with_a_clear_error():
    fake = SettlingLambda(creating_reads=10_000)
    with pytest.raises(DeployError, match="save_profile.*Creating"):
        event_sources.apply(fake, DEPLOYED, ENV, sleep=lambda s: None)


def test_a_mapping_whose_settings_differ_after_the_update_stops_the_deploy():
    fake = SettlingLambda(ignore={"FunctionResponseTypes"})
    with pytest.raises(DeployError) as error:
        event_sources.apply(fake, DEPLOYED, ENV, sleep=lambda s: None)
    assert "save_profile" in str(error.value) and "FunctionResponseTypes" in str(error.value)
    assert "ReportBatchItemFailures" in str(error.value)


# --- 4. a failed first create ------------------------------------------------------------------

class FakeCloudFormation:
    def __init__(self, status: str | None) -> None:
        self.status = status
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        from botocore.exceptions import ClientError

        if self.status is None:
            raise ClientError({"Error": {"Code": "ValidationError",
                                         "Message": f"Stack with id {StackName} does not exist"}},
                              "DescribeStacks")
        return {"Stacks": [{"StackName": StackName, "StackStatus": self.status, "Parameters": []}]}

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((name, kwargs))
            return {}
        return call

    def get_waiter(self, name: str) -> Any:
        class Waiter:
            def wait(inner, **kwargs: Any) -> None:  # noqa: N805
                self.calls.append((f"wait:{name}", kwargs))
        return Waiter()


@pytest.mark.parametrize("status", ["ROLLBACK_FAILED", "DELETE_FAILED"])
def test_a_stack_that_could_not_roll_back_or_delete_gets_the_exact_recovery(status):
    cfn = FakeCloudFormation(status)
    with pytest.raises(DeployError) as error:
        stack.deploy_stack(cfn, "dev", "{}")
    message = str(error.value)
    assert status in message
    assert ("aws cognito-idp update-user-pool" in message
            and "--deletion-protection INACTIVE" in message)
    assert "aws cloudformation delete-stack --stack-name comm-it-dev" in message
    assert "make deploy STAGE=dev" in message
    assert not [c for c, _ in cfn.calls if c in ("update_stack", "create_stack")]


def test_a_new_stack_is_created_with_the_pool_unprotected_then_protected_once_complete():
    cfn = FakeCloudFormation(None)
    body = json.dumps({"Parameters": {"DataDeletionProtection": {"Type": "String"}}})
    assert stack.deploy_stack(cfn, "dev", body) == "created"
    names = [c for c, _ in cfn.calls]
    create = dict(cfn.calls)["create_stack"]
    given = {p["ParameterKey"]: p.get("ParameterValue") for p in create["Parameters"]}
    assert given["DataDeletionProtection"] == "INACTIVE"
    assert names.index("wait:stack_create_complete") < names.index("update_stack")
    update = dict(cfn.calls)["update_stack"]
    assert {"ParameterKey": "DataDeletionProtection", "ParameterValue": "ACTIVE"} in \
        update["Parameters"]


def test_the_protection_parameter_is_found_in_the_yaml_template_too():
    body = infra_template.TEMPLATE_PATH.read_text()
    assert stack.PROTECTION in stack._template_parameters(body)
    assert "Stage" in stack._template_parameters(body)


def test_the_pool_protection_is_a_parameter_that_is_active_by_default(template):
    assert template["Parameters"]["DataDeletionProtection"]["Default"] == "ACTIVE"
    assert props(template, "UserPool")["DeletionProtection"] == {
        "Ref": "DataDeletionProtection"}


# --- 6. the archive Lambda may list where the tombstones are -----------------------------------

def _allows_list(document: dict[str, Any], prefix: str) -> bool:
    for statement in document["Statement"]:
        if "s3:ListBucket" not in statement["Action"]:
            continue
        condition = statement.get("Condition", {})
        patterns = next(iter(condition.values()), {}).get("s3:prefix", []) if condition else ["*"]
        if any(fnmatch.fnmatchcase(prefix, p) for p in patterns):
            return True
    return False


def test_the_archive_lambda_may_list_the_tombstone_prefix_so_a_missing_one_is_a_404():
    env = {infra_template.env_name(k): v for k, v in fake_outputs().items()}
    document = policy.document(policy.ARCHIVE_PROFILE, env, "dev")
    from chalicelib.user_keys import tombstone_key

    assert _allows_list(document, tombstone_key("abc"))
    assert _allows_list(document, "app/abc/profile.json")
    assert not _allows_list(document, "other/abc")


def test_no_lambda_may_list_the_bucket_without_a_prefix():
    """A list request with no prefix has no s3:prefix in its context: a StringLikeIfExists
    would let it through, and with it every person's file names (issue 27, item 7)."""
    from tests.stack.helpers import Need, policy_allows

    env = {infra_template.env_name(k): v for k, v in fake_outputs().items()}
    for function, document in policy.documents(env, "dev").items():
        for action in ("s3:ListBucket", "s3:ListBucketVersions"):
            assert not policy_allows(document, Need(action, env["USERS_BUCKET_ARN"])), \
                (function, action)
    archive = policy.document(policy.ARCHIVE_PROFILE, env, "dev")
    from chalicelib.user_keys import profile_key, tombstone_key

    for key in (profile_key("abc"), tombstone_key("abc")):  # its existence checks
        assert policy_allows(archive, Need("s3:ListBucket", env["USERS_BUCKET_ARN"],
                                           (("s3:prefix", key),)))


# --- 7. app 500s raise an alarm of their own stage ------------------------------------------------

def test_the_api_5xx_alarm_watches_this_stages_api_gateway_stage(template):
    (five,) = [a for a in alarms(template).values() if a["MetricName"] == "5XXError"]
    assert dimension(five, "Stage") == {"Ref": "Stage"}
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["stages"]["dev"]["api_gateway_stage"] == "dev"


def test_a_new_stage_gets_its_own_api_gateway_stage(tmp_path):
    from infra import stage

    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"stages": {}}))
    stage.record_outputs(tmp_path / ".chalice", "qa", fake_outputs("qa"))
    assert stage.api_gateway_stage(tmp_path, "qa") == "qa"


def test_error_lines_of_the_api_are_counted_and_raise_an_alarm(template):
    filters = {n: props(template, n) for n, r in template["Resources"].items()
               if r["Type"] == "AWS::Logs::MetricFilter"}
    (api,) = [f for f in filters.values() if f["LogGroupName"] == {"Ref": "ApiHandlerLogGroup"}]
    assert api["FilterPattern"] == '{ $.level = "ERROR" }'
    (transform,) = api["MetricTransformations"]
    watching = [a for a in alarms(template).values()
                if (a.get("Namespace"), a["MetricName"]) == (transform["MetricNamespace"],
                                                             transform["MetricName"])]
    assert len(watching) == 1 and watching[0]["Threshold"] == 1


def test_operations_doc_says_what_every_alarm_sees(template):
    for alarm in alarms(template).values():
        name = alarm["AlarmName"]["Fn::Sub"].replace("${Stage}", "<stage>")
        assert f"`{name}`" in OPERATIONS_DOC or \
            re.sub(rf"-({'|'.join(lambdas.FUNCTIONS)})-", "[-<function>]-", name) in \
            OPERATIONS_DOC or name.replace("comm-it-<stage>-", "comm-it-<stage>[-<function>]-") \
            in OPERATIONS_DOC, name
    assert "share this metric" not in OPERATIONS_DOC


# --- 8. SES ---------------------------------------------------------------------------------------

def test_ses_sends_from_a_given_address_and_the_template_requires_it(template):
    email = props(template, "UserPool")["EmailConfiguration"]["Fn::If"]
    assert email[1]["From"] == {"Ref": "SesFromAddress"}
    assert "SesFromAddress" in template["Parameters"]
    (rule,) = [r for r in template.get("Rules", {}).values()
               if r.get("RuleCondition") == {"Fn::Not": [{"Fn::Equals": [
                   {"Ref": "SesIdentityArn"}, ""]}]}]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [
        {"Ref": "SesFromAddress"}, ""]}]}


def test_the_custom_subject_and_message_are_set_only_with_ses(template):
    """Cognito takes EmailSubject/EmailMessage only when EmailSendingAccount is DEVELOPER."""
    condition, with_ses, without = props(template,
                                         "UserPool")["VerificationMessageTemplate"]["Fn::If"]
    assert condition == "UsesSes"
    assert without == {"DefaultEmailOption": "CONFIRM_WITH_CODE"}
    assert with_ses["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert 1 <= len(with_ses["EmailSubject"]) <= 140 and "{####}" in with_ses["EmailMessage"]


def test_deploy_doc_names_the_service_linked_role_and_the_deployers_permissions():
    for needed in ("AWSServiceRoleForAmazonCognitoIdp", "iam:CreateServiceLinkedRole",
                   "iam:PassRole", "SES_FROM_ADDRESS"):
        assert needed in DEPLOY_DOC, needed


# --- 9. the user pool, the users table and the bucket are never replaced --------------------------

def test_the_stack_policy_denies_replacing_or_deleting_the_users_data():
    document = stack.stack_policy()
    denied = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    protected = {r.removeprefix("LogicalResourceId/") for s in denied for r in s["Resource"]}
    assert protected == {"UserPool", "UsersTable", "UsersBucket", "UsersBucketPolicy"}
    for statement in denied:
        assert set(statement["Action"]) == {"Update:Replace", "Update:Delete"}
    assert {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"} in \
        document["Statement"]
    assert stack.STACK_POLICY_PATH.is_relative_to(ROOT / "infra")


def test_make_deploy_sets_the_stack_policy_on_create_and_on_every_update():
    cfn = FakeCloudFormation(None)
    stack.deploy_stack(cfn, "dev", "{}")
    create = dict(cfn.calls)["create_stack"]
    assert json.loads(create["StackPolicyBody"]) == stack.stack_policy()
    cfn = FakeCloudFormation("UPDATE_COMPLETE")
    stack.deploy_stack(cfn, "dev", "{}")
    assert ("set_stack_policy", {"StackName": "comm-it-dev",
                                 "StackPolicyBody": json.dumps(stack.stack_policy())}) in cfn.calls


def _package_path() -> str:
    return DEPLOY_DOC.split("## The CI path", 1)[1].split("\n## ", 1)[0]


def test_the_package_path_shows_a_change_set_and_sets_the_stack_policy():
    section = _package_path()
    assert "--no-execute-changeset" in section and "execute-change-set" in section
    assert "set-stack-policy" in section and "infra/stack-policy.json" in section


# --- 10. smaller ---------------------------------------------------------------------------------

def test_list_streams_which_has_no_resource_level_is_granted_on_star():
    env = {infra_template.env_name(k): v for k, v in fake_outputs().items()}
    statements = policy.document(policy.SYNC_NAME, env, "dev")["Statement"]
    (streams,) = [s for s in statements if "dynamodb:ListStreams" in s["Action"]]
    assert streams["Action"] == ["dynamodb:ListStreams"] and streams["Resource"] == ["*"]
    assert policy.WITHOUT_RESOURCE_LEVEL == {"dynamodb:ListStreams"}


def test_the_users_table_is_deletion_protected(template):
    assert props(template, "UsersTable")["DeletionProtectionEnabled"] == {
        "Fn::If": ["DataProtected", True, False]}
    assert template["Conditions"]["DataProtected"] == {
        "Fn::Equals": [{"Ref": "DataDeletionProtection"}, "ACTIVE"]}


def test_delete_markers_left_alone_expire(template):
    (rule,) = props(template, "UsersBucket")["LifecycleConfiguration"]["Rules"]
    assert rule["ExpiredObjectDeleteMarker"] is True


def test_cloudwatch_may_use_the_key_only_for_this_stages_alarms(template):
    (service,) = [s for s in props(template, "EventsKey")["KeyPolicy"]["Statement"]
                  if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert service["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert service["Condition"]["ArnLike"] == {"aws:SourceArn": {"Fn::Sub": (
        "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}"
        ":alarm:comm-it-${Stage}-*")}}


def test_failed_notifications_and_old_messages_raise_alarms(template):
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for alarm in alarms(template).values():
        by_metric.setdefault(alarm["MetricName"], []).append(alarm)
    (failed,) = by_metric["NumberOfNotificationsFailed"]
    assert dimension(failed, "TopicName") == {"Fn::GetAtt": ["UserEventsTopic", "TopicName"]}
    aged = {dimension(a, "QueueName")["Fn::GetAtt"][0] for a in
            by_metric["ApproximateAgeOfOldestMessage"]}
    # Every queue a Lambda consumes (those with a redrive policy), the quota's too: its
    # dead-letter alarm fires only after 5 receives, a disabled mapping never.
    consumed = {name for name, r in template["Resources"].items()
                if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]}
    assert aged == consumed == {"ProfileQueue", "ArchiveQueue", "QuotaQueue", "SignInQueue"}


def test_the_user_pool_tier_is_explicit_and_essentials_which_its_sign_in_policy_needs(template):
    pool = props(template, "UserPool")
    assert pool["UserPoolTier"] == "ESSENTIALS"
    assert "SignInPolicy" in pool["Policies"]


def test_the_pool_allows_email_codes_only_with_ses_and_passkeys_only_with_a_relying_party(
        template):
    factors = props(template, "UserPool")["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"]
    passkeys = "HasPasskeyRelyingParty"
    assert factors == {"Fn::If": [
        "UsesSes",
        {"Fn::If": [passkeys, ["PASSWORD", "WEB_AUTHN", "EMAIL_OTP"], ["PASSWORD", "EMAIL_OTP"]]},
        {"Fn::If": [passkeys, ["PASSWORD", "WEB_AUTHN"], ["PASSWORD"]]}]}
    assert template["Outputs"]["EmailSignInCodes"]["Value"] == {"Fn::If": ["UsesSes", "on", "off"]}
    assert template["Outputs"]["Passkeys"]["Value"] == {"Fn::If": [passkeys, "on", "off"]}


def test_passkeys_require_user_verification_for_the_sites_host(template):
    pool = props(template, "UserPool")
    assert pool["WebAuthnUserVerification"] == "required"
    assert pool["WebAuthnRelyingPartyID"] == {"Fn::If": [
        "HasPasskeyRelyingParty", {"Ref": "PasskeyRelyingPartyId"}, {"Ref": "AWS::NoValue"}]}


def test_name_parameters_are_standard_so_the_account_limit_is_refused_and_alarmed(monkeypatch):
    from chalicelib import names

    calls: list[dict[str, Any]] = []

    class SSM:
        def put_parameter(self, **kwargs: Any) -> None:
            calls.append(kwargs)

    monkeypatch.setattr(names, "client", lambda service: SSM())
    monkeypatch.setattr(names, "parameter_name", lambda sub: f"/comm-it/dev/users/{sub}/name")
    names.put("abc", "Ada")
    # Standard: past the account's 10,000 the name is refused (never silently a paid advanced
    # parameter), the stream Lambda skips it with the line the alarm counts, as the docs say.
    assert calls[0]["Tier"] == "Standard"
    from chalicelib.pipeline import NEVER_SUCCEEDS

    assert "ParameterLimitExceeded" in NEVER_SUCCEEDS
    row = next(line for line in OPERATIONS_DOC.splitlines()
               if "`comm-it-<stage>-sync_name-skipped-records`" in line)
    assert "ParameterLimitExceeded" in row and "Standard" in row


def test_logout_is_documented_as_global_sign_out():
    assert "GlobalSignOut" in DEPLOY_DOC
    assert "revokes the refresh token (`EnableTokenRevocation`)" not in DEPLOY_DOC


def test_every_doc_a_scan_skip_cites_holds_the_section_it_names():
    from infra.scan import SKIPS

    cited = [(m.group(1), m.group(2)) for reason in SKIPS.values()
             for m in re.finditer(r"(docs/[\w.]+\.md)(?:#([\w-]+))?", reason)]
    assert cited
    for doc, anchor in cited:
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert anchor, f"{doc}: cite the section (docs/x.md#anchor)"
        headings = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                    for h in re.findall(r"^#+ (.*)$", text, re.M)}
        assert anchor in headings, (doc, anchor)


# --- 11. the runtime ----------------------------------------------------------------------------

def test_deploy_doc_says_when_and_how_the_runtime_moves_to_python313():
    assert "python3.13" in DEPLOY_DOC and "2027-06-30" in DEPLOY_DOC
    assert "## Runtime" in DEPLOY_DOC


# --- issue 27, item 2: the package path's first create is not protected ---------------------------

def _aws_commands(text: str) -> list[str]:
    """Each `aws ...` command of a shell text: continuations joined, comments and the
    optional `[...]` left out, spaces collapsed."""
    joined = re.sub(r"\\\s*\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = re.sub(r"\s+", " ", re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0])).strip()
        if line.startswith("aws "):
            found.append(line)
    return found


def _steps(commands: list[str]) -> list[str]:
    """The commands as verbs, a deploy with the protection it passes."""
    steps = []
    for command in commands:
        verb = " ".join(command.split()[2:4] if command.split()[2] == "wait"
                        else command.split()[2:3])
        protection = re.search(rf"{stack.PROTECTION}=(\w+)", command)
        steps.append(f"{verb} {protection.group(1)}" if protection else verb)
    return steps


FIRST_CREATE_THEN_PROTECTED = [
    "package", "deploy INACTIVE", "describe-change-set", "execute-change-set",
    "wait stack-create-complete",
    "set-stack-policy", "deploy ACTIVE", "describe-change-set", "execute-change-set",
    "wait stack-update-complete"]


def test_make_package_prints_an_unprotected_first_create_then_the_same_deploy_protected():
    from infra.package import deploy_commands

    printed = deploy_commands("dev")
    assert _steps(_aws_commands("\n".join(printed))) == FIRST_CREATE_THEN_PROTECTED
    deploys = [c for c in _aws_commands("\n".join(printed)) if " deploy " in c]
    assert deploys[0].replace("INACTIVE", "ACTIVE") == deploys[1]  # the same deploy otherwise


def test_the_docs_give_the_same_commands_make_package_prints():
    from infra.package import deploy_commands

    block = next(b for b in re.findall(r"```sh\n(.*?)```", _package_path(), re.S)
                 if "aws cloudformation" in b)
    assert _aws_commands(block) == _aws_commands("\n".join(deploy_commands("dev")))
