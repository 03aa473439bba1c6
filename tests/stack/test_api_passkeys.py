"""Passkeys through the API (chalicelib/passkeys.py), a software authenticator playing the
browser (infra/smoke/soft_authenticator.py): added, listed with `Added` and `Last used`, signing in
like a password (tokens, the event, `Signed in with a passkey`), removed and refused after;
another person's passkey never signs anyone in; an unknown username gets options of the same
shape; refused passkeys count (attempts.PASSKEY), and so do log-ins started
(attempts.PASSKEY_STARTS)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import my_security, passkeys
from tests.helpers import post
from infra.smoke.soft_authenticator import SoftAuthenticator
from tests.stack.helpers import assert_error, assert_ok
from tests.stack.test_attempt_limits import account_call, paused
from tests.stack.test_my_security import security

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")
ORIGIN = "http://localhost:8000"


def add(client: Any, person: dict[str, str], device: SoftAuthenticator) -> dict[str, Any]:
    options = assert_ok(account_call(client, "/api/account/passkeys/start", person))["options"]
    credential = device.create(options, ORIGIN)
    return assert_ok(account_call(client, "/api/account/passkeys/add", person,
                                  credential=json.dumps(credential)))


def options_for(client: Any, username: str) -> dict[str, Any]:
    return assert_ok(post(client, "/api/auth/passkey", {"username": username}))["options"]


def sign_in(client: Any, username: str, answer: dict[str, Any]) -> Any:
    return post(client, "/api/auth/login/passkey", {"username": username,
                                                    "credential": json.dumps(answer)})


def test_a_passkey_is_added_listed_and_signs_in_like_a_password(client, register):
    person = register()
    device = SoftAuthenticator()
    [listed] = add(client, person, device)["passkeys"]
    assert listed["name"] == passkeys.NAME and listed["added"] and listed["lastUsed"] == ""
    options = options_for(client, person["username"])
    assert [c["id"] for c in options["allowCredentials"]] == [listed["id"]]
    tokens = assert_ok(sign_in(client, person["username"], device.get(options, ORIGIN)))
    assert {"idToken", "accessToken", "expiresIn"} <= set(tokens)
    again = {**person, **tokens}
    [used] = assert_ok(account_call(client, "/api/account/passkeys", again))["passkeys"]
    assert used["lastUsed"] >= used["added"]
    activity = [a["what"] for a in security(client, again)["activity"]]
    assert activity[:2] == [my_security.SIGNED_IN_WITH_PASSKEY, my_security.PASSKEY_ADDED]


def test_a_removed_passkey_no_longer_signs_in(client, register):
    person = register()
    device = SoftAuthenticator()
    [listed] = add(client, person, device)["passkeys"]
    left = assert_ok(account_call(client, "/api/account/passkeys/remove", person,
                                  credentialId=listed["id"]))
    assert left["passkeys"] == []
    options = options_for(client, person["username"])
    assert options["allowCredentials"] == []
    refused = sign_in(client, person["username"], device.get(options, ORIGIN, listed["id"]))
    assert assert_error(refused, 401, "PasskeyRefused") == passkeys.REFUSED
    assert_error(account_call(client, "/api/account/passkeys/remove", person,
                              credentialId=listed["id"]), 404, "NoSuchPasskey")
    activity = [a["what"] for a in security(client, person)["activity"]]
    assert my_security.PASSKEY_REMOVED in activity and my_security.PASSKEY_REFUSED in activity


def test_another_persons_passkey_never_signs_this_person_in(client, register):
    alice, bob = register(), register()
    alices, bobs = SoftAuthenticator(), SoftAuthenticator()
    add(client, alice, alices)
    [bobs_key] = add(client, bob, bobs)["passkeys"]
    options = options_for(client, alice["username"])
    assert_error(sign_in(client, alice["username"], bobs.get(options, ORIGIN, bobs_key["id"])),
                 401, "PasskeyRefused")


def test_an_unknown_username_gets_options_of_the_same_shape_and_is_refused(client, register):
    person = register()
    add(client, person, SoftAuthenticator())
    real, unknown = options_for(client, person["username"]), options_for(client, "nobody-pk")
    assert {"challenge", "timeout", "allowCredentials", "userVerification"} <= set(unknown)
    assert set(unknown) <= set(real)
    answer = SoftAuthenticator()
    answer.create({"challenge": "x", "rp": {"id": "localhost"}}, ORIGIN)
    assert_error(sign_in(client, "nobody-pk", answer.get(unknown, ORIGIN,
                                                         next(iter(answer.keys)))),
                 401, "PasskeyRefused")


def test_a_person_with_two_step_on_signs_in_with_a_passkey_and_no_app_code(client, register):
    from tests.stack.test_attempt_limits import with_two_step

    person = register()
    with_two_step(client, person)
    device = SoftAuthenticator()
    add(client, person, device)
    tokens = assert_ok(sign_in(client, person["username"],
                               device.get(options_for(client, person["username"]), ORIGIN)))
    assert "challenge" not in tokens and tokens["idToken"]


def test_asking_again_for_the_username_never_spoils_a_log_in_under_way(client, register):
    person = register()
    device = SoftAuthenticator()
    add(client, person, device)
    first = options_for(client, person["username"])
    options_for(client, person["username"])  # anyone may ask, for any username
    assert_ok(sign_in(client, person["username"], device.get(first, ORIGIN)))


def test_an_answer_for_another_username_is_refused(client, register):
    alice, bob = register(), register()
    device = SoftAuthenticator()
    add(client, alice, device)
    options = options_for(client, alice["username"])
    assert_error(sign_in(client, bob["username"], device.get(options, ORIGIN)), 401,
                 "PasskeyRefused")


def test_an_answer_used_twice_is_refused(client, register):
    person = register()
    device = SoftAuthenticator()
    add(client, person, device)
    answer = device.get(options_for(client, person["username"]), ORIGIN)
    assert_ok(sign_in(client, person["username"], answer))
    assert_error(sign_in(client, person["username"], answer), 401, "PasskeyRefused")


def test_refused_passkeys_are_paused_after_five(client, register):
    person = register()
    device = SoftAuthenticator()
    [listed] = add(client, person, device)["passkeys"]
    stranger = SoftAuthenticator()
    stranger.create({"challenge": "x", "rp": {"id": "localhost"}}, ORIGIN)
    for _ in range(5):
        options = options_for(client, person["username"])
        assert_error(sign_in(client, person["username"], stranger.get(
            options, ORIGIN, next(iter(stranger.keys)))), 401, "PasskeyRefused")
    options = options_for(client, person["username"])
    paused(sign_in(client, person["username"], device.get(options, ORIGIN, listed["id"])),
           "refused passkeys")


def test_passkey_log_ins_started_for_an_account_are_paused_after_ten(client, register):
    person = register()
    for _ in range(10):
        options_for(client, person["username"])
    paused(post(client, "/api/auth/passkey", {"username": person["username"]}),
           "Passkey log-ins were started")


def test_an_unknown_username_is_paused_alike_when_starting(client):
    for _ in range(10):
        options_for(client, "nobody-at-all")
    paused(post(client, "/api/auth/passkey", {"username": "nobody-at-all"}),
           "Passkey log-ins were started")


def test_a_passkey_log_in_clears_the_count_of_starts(client, register):
    person = register()
    device = SoftAuthenticator()
    [listed] = add(client, person, device)["passkeys"]
    for _ in range(9):
        options_for(client, person["username"])
    options = options_for(client, person["username"])  # the tenth
    assert_ok(sign_in(client, person["username"], device.get(options, ORIGIN, listed["id"])))
    options_for(client, person["username"])  # would be the eleventh: asked again, not paused


def test_the_answer_must_be_the_browsers_json(client):
    assert_error(post(client, "/api/auth/login/passkey",
                      {"username": "someone", "credential": "{not json}"}), 400,
                 "InvalidParameter")
