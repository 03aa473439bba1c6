"""local/cognito/passkeys.py: the local Cognito's passkeys answer in the shapes Cognito's API
reference documents (StartWebAuthnRegistration, CompleteWebAuthnRegistration,
ListWebAuthnCredentials, DeleteWebAuthnCredential, InitiateAuth USER_AUTH with WEB_AUTHN and
RespondToAuthChallenge WEB_AUTHN with CREDENTIAL), checked as WebAuthn says, where moto 5.2.5
has none of them. A software authenticator (infra/smoke/soft_authenticator.py) plays the browser."""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.cognito import passkeys as local_passkeys
from infra.smoke.soft_authenticator import SoftAuthenticator
from tests.local.test_cognito_totp import error, idp, person, unique, with_mfa

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")
ORIGIN = "http://localhost:8000"


def register(stack: dict[str, str], me: dict[str, str], device: SoftAuthenticator,
             origin: str = ORIGIN) -> dict[str, Any]:
    cognito = idp(stack)
    options = cognito.start_web_authn_registration(AccessToken=me["AccessToken"])
    credential = device.create(options["CredentialCreationOptions"], origin)
    cognito.complete_web_authn_registration(AccessToken=me["AccessToken"], Credential=credential)
    return credential


def begin(stack: dict[str, str], name: str) -> dict[str, Any]:
    return idp(stack).initiate_auth(
        ClientId=stack["USER_POOL_CLIENT_ID"], AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": name, "PREFERRED_CHALLENGE": "WEB_AUTHN"})


def answer(stack: dict[str, str], started: dict[str, Any], name: str,
           credential: dict[str, Any]) -> dict[str, Any]:
    return idp(stack).respond_to_auth_challenge(
        ClientId=stack["USER_POOL_CLIENT_ID"], ChallengeName="WEB_AUTHN",
        Session=started["Session"],
        ChallengeResponses={"USERNAME": name, "CREDENTIAL": json.dumps(credential)})


def request_options(started: dict[str, Any]) -> dict[str, Any]:
    return json.loads(started["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])


def test_registration_options_name_the_local_relying_party_and_require_verification(stack):
    me = person(stack, unique("pk"))
    options = idp(stack).start_web_authn_registration(AccessToken=me["AccessToken"])
    created = options["CredentialCreationOptions"]
    assert created["rp"]["id"] == "localhost"
    assert created["authenticatorSelection"]["userVerification"] == "required"
    assert created["authenticatorSelection"]["residentKey"] == "required"
    assert created["challenge"] and created["user"]["id"]


def test_a_registered_passkey_is_listed_and_signs_in_with_a_growing_sign_count(stack):
    name = unique("pk")
    me = person(stack, name)
    device = SoftAuthenticator()
    credential = register(stack, me, device)
    [listed] = idp(stack).list_web_authn_credentials(AccessToken=me["AccessToken"])["Credentials"]
    assert listed["CredentialId"] == credential["id"]
    assert listed["RelyingPartyId"] == "localhost"
    assert listed["AuthenticatorAttachment"] == "platform"
    assert listed["AuthenticatorTransports"] == ["internal"]
    assert listed["CreatedAt"]
    for _ in range(2):
        started = begin(stack, name)
        assert started["ChallengeName"] == "WEB_AUTHN"
        options = request_options(started)
        assert options["rpId"] == "localhost"
        assert [c["id"] for c in options["allowCredentials"]] == [credential["id"]]
        tokens = answer(stack, started, name, device.get(options, ORIGIN))["AuthenticationResult"]
        assert idp(stack).get_user(AccessToken=tokens["AccessToken"])["Username"] == name


def test_an_answer_replayed_or_a_sign_count_that_does_not_grow_is_refused(stack):
    name = unique("pk")
    device = SoftAuthenticator()
    register(stack, person(stack, name), device)
    started = begin(stack, name)
    signed = device.get(request_options(started), ORIGIN)
    answer(stack, started, name, signed)
    with pytest.raises(ClientError) as replayed:  # the session is used up
        answer(stack, started, name, signed)
    assert error(replayed) == "NotAuthorizedException"
    again = begin(stack, name)
    key, rp, _ = device.keys[signed["id"]]
    device.keys[signed["id"]] = (key, rp, 0)  # a cloned authenticator's count
    with pytest.raises(ClientError) as cloned:
        answer(stack, again, name, device.get(request_options(again), ORIGIN))
    assert error(cloned) == "NotAuthorizedException"


def test_another_persons_passkey_never_signs_this_person_in(stack):
    alice, bob = unique("alice"), unique("bob")
    alices, bobs = SoftAuthenticator(), SoftAuthenticator()
    register(stack, person(stack, alice), alices)
    bob_credential = register(stack, person(stack, bob), bobs)
    started = begin(stack, alice)
    options = request_options(started)
    with pytest.raises(ClientError) as refused:
        answer(stack, started, alice, bobs.get(options, ORIGIN, credential_id=bob_credential["id"]))
    assert error(refused) == "NotAuthorizedException"


def test_a_removed_passkey_no_longer_signs_in(stack):
    name = unique("pk")
    me = person(stack, name)
    device = SoftAuthenticator()
    credential = register(stack, me, device)
    idp(stack).delete_web_authn_credential(AccessToken=me["AccessToken"],
                                           CredentialId=credential["id"])
    assert idp(stack).list_web_authn_credentials(AccessToken=me["AccessToken"])[
        "Credentials"] == []
    started = begin(stack, name)
    assert started["ChallengeName"] == "SELECT_CHALLENGE"
    assert "WEB_AUTHN" not in started["AvailableChallenges"]
    with pytest.raises(ClientError) as missing:
        idp(stack).delete_web_authn_credential(AccessToken=me["AccessToken"],
                                               CredentialId=credential["id"])
    assert error(missing) == "ResourceNotFoundException"


@pytest.mark.parametrize(("origin", "code"), [
    ("http://127.0.0.1:8000", "WebAuthnOriginNotAllowedException"),
    ("https://evil.example", "WebAuthnOriginNotAllowedException"),
    ("http://localhost.evil.example", "WebAuthnOriginNotAllowedException")])
def test_registration_from_an_origin_outside_the_relying_party_is_refused(stack, origin, code):
    me = person(stack, unique("pk"))
    with pytest.raises(ClientError) as refused:
        register(stack, me, SoftAuthenticator(), origin=origin)
    assert error(refused) == code


def test_registration_for_another_relying_party_is_refused(stack):
    me = person(stack, unique("pk"))
    cognito = idp(stack)
    options = cognito.start_web_authn_registration(AccessToken=me["AccessToken"])
    credential = SoftAuthenticator().create(options["CredentialCreationOptions"], ORIGIN,
                                            rp_id="example.com")
    with pytest.raises(ClientError) as refused:
        cognito.complete_web_authn_registration(AccessToken=me["AccessToken"],
                                                Credential=credential)
    assert error(refused) == "WebAuthnRelyingPartyMismatchException"


def test_an_authenticator_that_does_not_verify_the_person_is_refused(stack):
    me = person(stack, unique("pk"))
    with pytest.raises(ClientError) as refused:
        register(stack, me, SoftAuthenticator(verifies_user=False))
    assert error(refused) == "InvalidParameterException"


def test_the_registration_challenge_expires_and_works_once(stack, now):
    me = person(stack, unique("pk"))
    cognito = idp(stack)
    options = cognito.start_web_authn_registration(AccessToken=me["AccessToken"])
    now[0] += local_passkeys.REGISTRATION_SECONDS
    credential = SoftAuthenticator().create(options["CredentialCreationOptions"], ORIGIN)
    with pytest.raises(ClientError) as late:
        cognito.complete_web_authn_registration(AccessToken=me["AccessToken"],
                                                Credential=credential)
    assert error(late) == "WebAuthnChallengeNotFoundException"


def test_the_sign_in_challenge_expires_after_3_minutes(stack, now):
    name = unique("pk")
    device = SoftAuthenticator()
    register(stack, person(stack, name), device)
    started = begin(stack, name)
    now[0] += local_passkeys.SESSION_SECONDS
    with pytest.raises(ClientError) as late:
        answer(stack, started, name, device.get(request_options(started), ORIGIN))
    assert error(late) == "NotAuthorizedException"


def test_a_person_with_two_step_on_signs_in_with_a_passkey_only_with_passkey_mfa_on(stack):
    name = unique("mfa")
    me, _ = with_mfa(stack, name)
    device = SoftAuthenticator()
    register(stack, me, device)
    started = begin(stack, name)
    assert started["ChallengeName"] == "SELECT_CHALLENGE"
    assert started["AvailableChallenges"] == ["PASSWORD"]
    idp(stack).set_user_mfa_preference(AccessToken=me["AccessToken"],
                                       WebAuthnMfaSettings={"Enabled": True})
    started = begin(stack, name)
    assert started["ChallengeName"] == "WEB_AUTHN"
    tokens = answer(stack, started, name, device.get(request_options(started), ORIGIN))
    assert tokens["AuthenticationResult"]["AccessToken"]  # no SOFTWARE_TOKEN_MFA challenge


def _client_data(origin: Any) -> str:
    from infra.smoke.soft_authenticator import b64url

    return b64url(json.dumps({"type": "webauthn.create", "challenge": "x",
                              "origin": origin}).encode())


@pytest.mark.parametrize("credential", [
    {}, {"response": 5}, {"response": {"clientDataJSON": "%%%"}},
    {"response": {"clientDataJSON": _client_data(5)}},
    {"response": {"clientDataJSON": _client_data("http://localhost:99999999")}},
    {"id": "x", "rawId": "x", "type": "public-key",
     "response": {"clientDataJSON": _client_data(ORIGIN), "attestationObject": "AAAA"}}])
def test_a_credential_that_is_not_webauthns_json_is_refused_not_a_500(stack,
                                                                                  credential):
    me = person(stack, unique("pk"))
    cognito = idp(stack)
    cognito.start_web_authn_registration(AccessToken=me["AccessToken"])
    with pytest.raises(ClientError) as refused:
        cognito.complete_web_authn_registration(AccessToken=me["AccessToken"],
                                                Credential=credential)
    assert error(refused) == "InvalidParameterException"
    name = unique("pk")
    register(stack, person(stack, name), SoftAuthenticator())
    started = begin(stack, name)
    with pytest.raises(ClientError) as answered:
        answer(stack, started, name, {**credential, "id": request_options(started)[
            "allowCredentials"][0]["id"]})
    assert error(answered) in ("InvalidParameterException", "NotAuthorizedException")
