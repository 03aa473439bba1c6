"""Security a person can see, in a real Chromium against `make run`'s stack (issue 29): two
browser contexts of one person both listed on the Security page, this one marked `This device`;
`Sign out` on the other ends it (its next page load goes to log in) and not this one; the
activity with `New device`, a wrong password, a password change, two-step on and off; 10
recovery codes when two-step verification is turned on, one signs in with `Use a recovery code`
and is refused the second time, `Get new recovery codes` ends the old set; the data page's
places name the sessions and the activity; axe-core finds nothing on each new state.
"""
from __future__ import annotations

import re

import jwt
import pyotp
from playwright.sync_api import Page, expect

from tests.browser.test_account import local_aws, tokens

from tests.browser.helpers import (alert, axe_violations, expect_greeting, log_in_on_page, path_of,
                                   sign_up)
from tests.running import RunningStack

FIREFOX_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
                   "Firefox/133.0")
NEW_PASSWORD = "N3w-password-9"


def security_page(page: Page, stack: RunningStack) -> None:
    page.goto(stack.app_url + "account/security")
    expect(page.locator("#sessions")).to_have_attribute("aria-busy", "false")


def rows(page: Page, table: str):
    return page.locator(f"#{table}-body tr")


def test_both_sessions_listed_sign_out_ends_the_other_and_the_activity_says_what_happened(
        page: Page, browser, running_stack: RunningStack):
    person = sign_up(running_stack)
    log_in_on_page(page, running_stack, person["username"], "Wr0ng-password")
    expect(alert(page)).to_contain_text("Incorrect username or password")
    log_in_on_page(page, running_stack, person["username"], person["password"])
    expect_greeting(page, running_stack, person["name"])

    other_context = browser.new_context(user_agent=FIREFOX_WINDOWS, locale="en-US")
    try:
        other = other_context.new_page()
        log_in_on_page(other, running_stack, person["username"], person["password"])
        expect_greeting(other, running_stack, person["name"])

        security_page(page, running_stack)
        sessions = rows(page, "sessions")
        expect(sessions).to_have_count(2)
        expect(sessions.nth(0)).to_contain_text("This device")
        expect(sessions.nth(1)).to_contain_text("Firefox on Windows")
        expect(sessions.nth(1)).to_contain_text("127.0.0.1")
        activity = rows(page, "activity")
        expect(activity.nth(0)).to_contain_text("Signed in · New device")
        expect(activity.nth(0)).to_contain_text("Firefox on Windows")
        expect(page.locator("#activity")).to_contain_text("Wrong password")
        assert axe_violations(page) == []

        sessions.nth(1).get_by_role("button", name="Sign out").click()
        expect(page.locator("section", has=page.get_by_role(
            "heading", name="Where you're signed in")).get_by_role("status")).to_have_text(
            "Firefox on Windows is signed out: its next page load asks it to log in.")
        expect(sessions).to_have_count(1)
        assert axe_violations(page) == []

        other.reload()
        expect(other).to_have_url(path_of(running_stack, "login"))
        security_page(page, running_stack)  # this one goes on
        expect(page).to_have_url(path_of(running_stack, "account/security"))
        expect(rows(page, "activity").nth(0)).to_contain_text("Signed out on another device")
    finally:
        other_context.close()

    form = page.locator("#password-form")
    form.get_by_label("Current password").fill(person["password"])
    form.get_by_label("New password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(page.locator("section", has=page.get_by_role("heading", name="Your password"))
           .get_by_role("status")).to_contain_text("Your password is changed")
    security_page(page, running_stack)
    expect(rows(page, "activity").nth(0)).to_contain_text("Password changed")
    expect(rows(page, "sessions")).to_have_count(1)

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Data").click()
    expect(page.locator("#places")).to_contain_text("1 signed-in session(s)")
    expect(page.locator("#places")).to_contain_text("line(s) of activity")

    # Deleting the account removes the sessions and the activity with it.
    sub = jwt.decode(tokens(page)["idToken"], options={"verify_signature": False})["sub"]
    dynamodb = local_aws(running_stack, "dynamodb")
    [table] = [n for n in dynamodb.list_tables()["TableNames"] if n.endswith("-security")]
    key = {"pk": {"S": f"security#{sub}"}}
    assert "Item" in dynamodb.get_item(TableName=table, Key=key)
    security_page(page, running_stack)
    page.get_by_role("button", name="Delete account").click()
    page.locator("#delete-form").get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(path_of(running_stack, "login"))
    # Only a tombstone stays (when: no late write brings the sessions or activity back).
    assert set(dynamodb.get_item(TableName=table, Key=key)["Item"]) == {
        "pk", "deleted", "version", "expires_at"}


def two_step(page: Page):
    return page.locator("section", has=page.get_by_role("heading", name="Two-step verification"))


def turn_on(page: Page, password: str) -> tuple[pyotp.TOTP, list[str]]:
    section = two_step(page)
    section.get_by_label("Your password").fill(password)
    section.get_by_role("button", name="Set up two-step verification").click()
    expect(section.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    expect(section.locator("#two-step-key")).not_to_be_empty()
    totp = pyotp.TOTP(section.locator("#two-step-key").inner_text().strip())
    section.get_by_label("Code from your app").filter(visible=True).fill(totp.now())
    section.get_by_role("button", name="Turn on two-step verification").click()
    codes = section.locator("#recovery-codes-list li")
    expect(codes).to_have_count(10)
    return totp, [c.strip() for c in codes.all_inner_texts()]


def log_in_with_recovery_code(page: Page, stack: RunningStack, person: dict, code: str) -> None:
    log_in_on_page(page, stack, person["username"], person["password"])
    page.get_by_role("button", name="Use a recovery code").click()
    recovery = page.locator("#recovery-form")
    expect(recovery.get_by_label("Recovery code")).to_be_focused()
    recovery.get_by_label("Recovery code").fill(code)
    recovery.get_by_label("Your password").fill(person["password"])
    recovery.get_by_role("button", name="Log in with the recovery code").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_hidden()


def test_recovery_codes_shown_once_one_signs_in_once_and_new_ones_end_the_old_set(
        page: Page, running_stack: RunningStack):
    person = sign_up(running_stack)
    log_in_on_page(page, running_stack, person["username"], person["password"])
    expect_greeting(page, running_stack, person["name"])
    security_page(page, running_stack)
    totp, codes = turn_on(page, person["password"])
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
    section = two_step(page)
    for name in ("Download codes", "Copy codes", "I have saved my codes"):
        expect(section.get_by_role("button", name=name)).to_be_visible()
    with page.expect_download() as download:
        section.get_by_role("button", name="Download codes").click()
    assert download.value.suggested_filename == "comm-it-recovery-codes.txt"
    assert all(code in open(download.value.path()).read() for code in codes)
    assert axe_violations(page) == []
    section.get_by_role("button", name="I have saved my codes").click()
    expect(section.locator("#recovery-codes-left")).to_have_text("10 recovery codes left.")
    expect(section.locator("#recovery-codes-list li")).to_have_count(0)
    assert axe_violations(page) == []

    log_out(page)
    log_in_with_recovery_code(page, running_stack, person, codes[0].upper())
    expect_greeting(page, running_stack, person["name"])
    security_page(page, running_stack)
    expect(two_step(page)).to_contain_text("You logged in with a recovery code")
    expect(two_step(page)).to_contain_text("Two-step verification is off")
    activity = page.locator("#activity")
    for what in ("Recovery code used", "Two-step verification turned off",
                 "Two-step verification turned on"):
        expect(activity).to_contain_text(what)
    assert axe_violations(page) == []

    totp, second = turn_on(page, person["password"])
    two_step(page).get_by_role("button", name="I have saved my codes").click()
    log_out(page)
    log_in_with_recovery_code(page, running_stack, person, codes[0])  # used: refused
    expect(page.locator("#login-step")).to_contain_text("That recovery code is not right")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Use the code from my app").click()
    page.get_by_label("Code from your app").fill(totp.now())
    expect_greeting(page, running_stack, person["name"])

    security_page(page, running_stack)
    section = two_step(page)
    expect(section.locator("#recovery-codes-left")).to_have_text("10 recovery codes left.")
    section.get_by_label("Current app code").fill(totp.now())
    section.get_by_role("button", name="Get new recovery codes").click()
    expect(section.locator("#recovery-codes-list li")).to_have_count(10)
    third = [c.strip() for c in section.locator("#recovery-codes-list li").all_inner_texts()]
    assert not set(third) & set(second)
    section.get_by_role("button", name="I have saved my codes").click()
    log_out(page)
    log_in_with_recovery_code(page, running_stack, person, second[1])  # the old set: refused
    expect(page.locator("#login-step")).to_contain_text("That recovery code is not right")
    page.locator("#recovery-form").get_by_label("Recovery code").fill(third[1])
    page.locator("#recovery-form").get_by_label("Your password").fill(person["password"])
    page.get_by_role("button", name="Log in with the recovery code").click()
    expect_greeting(page, running_stack, person["name"])
    security_page(page, running_stack)
    expect(page.locator("#activity")).to_contain_text("Recovery codes replaced")
