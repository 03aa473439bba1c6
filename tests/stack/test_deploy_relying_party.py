"""`make deploy` gives the passkeys their relying party itself (issue 30, infra/relying_party.py),
against moto in-process: once `chalice deploy` has made the REST API, the stack's
PasskeyRelyingPartyId becomes the API's host and, its Passkeys output turned on, the functions
are deployed again with it; a second deploy changes nothing; a custom domain given is kept.

The stack is tests/stack/deploying.py's STAND_IN with the template's parameter, condition and
output (moto's CloudFormation knows no AWS::Cognito::*); its Passkeys output joins the outputs
the real stack gives (tests/stack/conftest.py `outputs`). The chalice CLI is
tests/stack/chalice_in_moto.py's, which makes a real REST API in moto."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra import deploy, deployed_record, relying_party, stack, stage
from infra.errors import DeployError
from tests.stack.chalice_in_moto import ChaliceInMoto
from tests.stack.deploying import STAND_IN, clone

real_deploy_stack, real_stack_outputs = stack.deploy_stack, stack.stack_outputs
# The template's parameter, condition and output, in the stand-in.
PASSKEYS_STAND_IN = STAND_IN.replace(
    "Resources:\n", "Conditions:\n  HasPasskeyRelyingParty: "
    "!Not [!Equals [!Ref PasskeyRelyingPartyId, \"\"]]\nResources:\n", 1).replace(
    "  Stage: {Type: String}\n",
    "  Stage: {Type: String}\n  PasskeyRelyingPartyId: {Type: String, Default: \"\"}\n", 1) + \
    "  Passkeys: {Value: !If [HasPasskeyRelyingParty, \"on\", \"off\"]}\n"
CUSTOM = "comm-it.example.com"


class Chalice(ChaliceInMoto):
    """chalice_in_moto's CLI, noting the PASSKEYS each `chalice deploy` gave the functions."""

    def __init__(self, session: Any) -> None:
        super().__init__(session)
        self.passkeys: list[str | None] = []

    def __call__(self, command: list[str], cwd: Path, check: bool) -> None:
        if command[1] == "deploy":
            self.passkeys.append(stage.environment(Path(cwd), command[-1]).get("PASSKEYS"))
        super().__call__(command, cwd, check)


@pytest.fixture
def passkey_stack(aws: Any, outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """make deploy's stack is the stand-in with the relying party; its outputs the real
    stack's (`outputs`) with the stand-in's Passkeys. The steps after chalice deploy that need
    a real API's settings and mappings are left out."""
    from infra import event_sources, gateway

    monkeypatch.setattr(stack, "deploy_stack", lambda cfn, stage_name, body, **kw:
                        real_deploy_stack(cfn, stage_name, PASSKEYS_STAND_IN, **kw))
    monkeypatch.setattr(stack, "stack_outputs", lambda cfn, stage_name: {
        **outputs, "Passkeys": real_stack_outputs(cfn, stage_name)["Passkeys"]})
    monkeypatch.setattr(gateway, "configure_api", lambda *a, **k: None)
    monkeypatch.setattr(event_sources, "apply", lambda *a, **k: [])
    return aws.client("cloudformation")


def rp_of(cfn: Any) -> str | None:
    return stack.parameter(cfn, "dev", relying_party.PARAMETER)


def test_the_first_deploy_gives_the_stack_the_apis_host_and_a_second_changes_nothing(
        aws, tmp_path, passkey_stack):
    chalice, said = Chalice(aws), []
    url = deploy.deploy("dev", aws, project_dir=clone(tmp_path / "laptop"), run=chalice,
                        say=said.append)
    host = urlsplit(url).hostname
    assert host and host.endswith(".execute-api.eu-west-1.amazonaws.com")
    assert rp_of(passkey_stack) == host
    # The functions were deployed again, with passkeys on; the stored outputs say so too.
    assert chalice.passkeys == ["off", "on"]
    assert deployed_record.outputs(aws.client("ssm"), "dev")["Passkeys"] == "on"
    assert any(line.startswith(f"Passkeys: relying party {host} (the API host; the stack has "
                               "none): updating") for line in said), said
    assert "The stack's outputs changed (Passkeys: off -> on): chalice deploy again" in \
        " ".join(said)
    again: list[str] = []
    assert deploy.deploy("dev", aws, project_dir=clone(tmp_path / "ci"), run=chalice,
                         say=again.append) == url
    assert chalice.passkeys == ["off", "on", "on"]  # one chalice deploy, already on
    assert rp_of(passkey_stack) == host
    assert f"Passkeys: relying party {host}, the API's host: the stack has it already." in again
    assert [line for line in again if line.startswith("Stack comm-it-dev:")] == [
        "Stack comm-it-dev: unchanged."]


def test_a_given_custom_domain_is_the_relying_party_from_the_first_deploy_and_is_kept(
        aws, tmp_path, passkey_stack):
    chalice, said = Chalice(aws), []
    deploy.deploy("dev", aws, project_dir=clone(tmp_path / "laptop"), run=chalice,
                  say=said.append, parameters={relying_party.PARAMETER: CUSTOM})
    assert rp_of(passkey_stack) == CUSTOM
    assert chalice.passkeys == ["on"]  # on from the stack's create: one chalice deploy
    assert f"Passkeys: relying party {CUSTOM}, given (PASSKEY_RP_ID): the stack has it " \
        "already." in said
    later: list[str] = []
    deploy.deploy("dev", aws, project_dir=clone(tmp_path / "ci"), run=chalice, say=later.append)
    assert rp_of(passkey_stack) == CUSTOM  # not given again: kept, not the API's host
    assert chalice.passkeys == ["on", "on"]
    assert any("a custom domain, kept" in line for line in later), later


def test_a_re_created_api_moves_the_relying_party_to_its_host_without_a_second_chalice_deploy(
        aws, tmp_path, passkey_stack):
    chalice = Chalice(aws)
    first = deploy.deploy("dev", aws, project_dir=clone(tmp_path / "laptop"), run=chalice,
                          say=lambda _: None)
    apigateway = aws.client("apigateway")
    apigateway.delete_rest_api(restApiId=urlsplit(first).hostname.split(".")[0])
    said: list[str] = []
    second = deploy.deploy("dev", aws, project_dir=clone(tmp_path / "ci"), run=chalice,
                           say=said.append)
    assert second != first
    assert rp_of(passkey_stack) == urlsplit(second).hostname
    assert chalice.passkeys == ["off", "on", "on"]  # Passkeys stayed on: no deploy more
    assert "The stack's outputs are as they were: the functions need no second deploy." in said


def test_a_relying_party_that_is_not_a_host_name_stops_make_deploy_before_anything(
        aws, tmp_path, passkey_stack):
    chalice = Chalice(aws)
    with pytest.raises(DeployError, match="host name alone"):
        deploy.deploy("dev", aws, project_dir=clone(tmp_path / "laptop"), run=chalice,
                      say=lambda _: None,
                      parameters={relying_party.PARAMETER: f"https://{CUSTOM}/"})
    assert chalice.commands == [] and stack.find(passkey_stack, "comm-it-dev") is None


def test_a_failed_relying_party_update_leaves_the_stage_whole_and_free_and_the_next_deploy_ends_it(
        aws, tmp_path, passkey_stack, monkeypatch):
    from infra import gateway

    configured: list[str] = []
    monkeypatch.setattr(gateway, "configure_api", lambda apigateway, api, api_stage:
                        configured.append(api))

    def refusing(cfn: Any, stage_name: str, body: str, parameters: Any = None, **kw: Any) -> str:
        if (parameters or {}).get(relying_party.PARAMETER):
            raise DeployError("Stack comm-it-dev is UPDATE_ROLLBACK_COMPLETE: UserPool ...")
        return real_deploy_stack(cfn, stage_name, PASSKEYS_STAND_IN, parameters=parameters, **kw)

    with monkeypatch.context() as patched:
        patched.setattr(stack, "deploy_stack", refusing)
        chalice = Chalice(aws)
        with pytest.raises(DeployError, match="UPDATE_ROLLBACK_COMPLETE"):
            deploy.deploy("dev", aws, project_dir=clone(tmp_path / "laptop"), run=chalice,
                          say=lambda _: None)
    # Deployed, its API's own answers put before the update was tried; the lock let go.
    assert chalice.passkeys == ["off"] and len(configured) == 1
    ssm = aws.client("ssm")
    assert not ssm.get_parameters(Names=[deployed_record.parameter("dev", "lock")])["Parameters"]
    assert rp_of(passkey_stack) == ""
    url = deploy.deploy("dev", aws, project_dir=clone(tmp_path / "ci"), run=chalice,
                        say=lambda _: None)
    assert rp_of(passkey_stack) == urlsplit(url).hostname
    assert chalice.passkeys == ["off", "off", "on"]
    assert len(configured) == 3  # after each chalice deploy: the second overwrote the API
