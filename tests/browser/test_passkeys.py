"""Passkeys in a real Chromium with its virtual authenticator (the CDP WebAuthn domain through a
Playwright CDP session: ctap2, internal, resident key, user verification), against `make run`'s
stack at http://localhost:<PORT>/ (WebAuthn refuses an IP address): add a passkey on the
Security page, log out, sign in with it, see it listed with its last use and the activity, remove
it and be refused; a person with two-step verification on signs in with a passkey and no app
code (Cognito's passkey MFA); axe-core finds nothing on each new state."""
from __future__ import annotations

import re

import pyotp
from playwright.sync_api import Page, expect

from chalicelib import passkeys
from tests.browser.helpers import GREETING_TIMEOUT, axe_violations, sign_up
from tests.helpers import call
from tests.running import RunningStack


def virtual_authenticator(page: Page) -> str:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return str(added["authenticatorId"])


def localhost(stack: RunningStack) -> str:
    """The app's address under the name passkeys work at, as `make run` prints it."""
    url = stack.app_url.replace("://127.0.0.1:", "://localhost:")
    stack.wait_for_line(lambda line: line.startswith(f"Passkeys: {url} "), timeout=1)
    return url


def log_in(page: Page, url: str, username: str, password: str | None = None) -> None:
    page.goto(url + "login")
    form = page.locator("#login-form")
    form.get_by_label("Username", exact=True).fill(username)
    if password is None:
        page.get_by_role("button", name="Sign in with a passkey").click()
        return
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Log in").click()


def greeted(page: Page, url: str, name: str) -> None:
    expect(page).to_have_url(re.compile("^" + re.escape(url + "hello")))
    expect(page.locator("#greeting h1")).to_have_text(f"Hello, {name}", timeout=GREETING_TIMEOUT)


def passkeys_section(page: Page, url: str):
    page.goto(url + "account/security")
    return page.locator("section", has=page.get_by_role("heading", name="Passkeys"))


def test_add_a_passkey_sign_in_with_it_see_its_last_use_remove_it_and_be_refused(
        page: Page, running_stack: RunningStack):
    person = sign_up(running_stack)
    url = localhost(running_stack)
    virtual_authenticator(page)
    log_in(page, url, person["username"], person["password"])
    greeted(page, url, person["name"])

    section = passkeys_section(page, url)
    expect(section).to_contain_text("You have no passkey yet.")
    section.get_by_role("button", name="Add a passkey").click()
    expect(section.get_by_role("status")).to_contain_text("Your passkey is added")
    item = section.get_by_role("listitem")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(passkeys.NAME)
    expect(item).to_contain_text("Added ")
    expect(item).to_contain_text("Not used yet")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(re.compile("^" + re.escape(url + "login")))
    log_in(page, url, person["username"])
    greeted(page, url, person["name"])

    section = passkeys_section(page, url)
    expect(section.get_by_role("listitem")).to_contain_text("Last used ")
    expect(page.locator("#activity-body")).to_contain_text("Signed in with a passkey",
                                                           timeout=GREETING_TIMEOUT)
    section.get_by_role("button", name=re.compile("^Remove ")).click()
    expect(section.get_by_role("status")).to_contain_text("no longer signs you in")
    expect(section).to_contain_text("You have no passkey yet.")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Log out", exact=True).click()
    log_in(page, url, person["username"])  # the device still holds it: Cognito refuses it
    expect(page.get_by_role("alert")).to_have_text(passkeys.REFUSED)
    assert axe_violations(page) == []


def with_two_step(stack: RunningStack, person: dict) -> pyotp.TOTP:
    """Two-step verification turned on through the API (its own browser test is elsewhere)."""
    status, tokens = call(stack, "POST", "api/auth/login", {"username": person["username"],
                                                            "password": person["password"]})
    assert status == 200, tokens
    body = {"accessToken": tokens["accessToken"], "password": person["password"]}
    status, setup = call(stack, "POST", "api/account/two-step/setup", body, tokens["idToken"])
    assert status == 200, setup
    totp = pyotp.TOTP(setup["setupKey"])
    status, on = call(stack, "POST", "api/account/two-step/on",
                      {"accessToken": tokens["accessToken"], "appCode": totp.now()},
                      tokens["idToken"])
    assert status == 200, on
    return totp


def test_a_person_with_two_step_on_signs_in_with_a_passkey_and_no_app_code(
        page: Page, running_stack: RunningStack):
    person = sign_up(running_stack)
    totp = with_two_step(running_stack, person)
    url = localhost(running_stack)
    virtual_authenticator(page)
    log_in(page, url, person["username"], person["password"])
    page.get_by_label("Code from your app").fill(totp.now())
    greeted(page, url, person["name"])
    section = passkeys_section(page, url)
    section.get_by_role("button", name="Add a passkey").click()
    expect(section.get_by_role("status")).to_contain_text("Your passkey is added")

    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(re.compile("^" + re.escape(url + "login")))
    log_in(page, url, person["username"])  # the passkey verifies the person: both steps
    greeted(page, url, person["name"])
