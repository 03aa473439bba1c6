"""Two-step verification in a real Chromium, against `make run`'s stack: set it up from the
account's Security page (the QR code drawn here, the setup key shown to copy), turn it on with
a code pyotp computes from that key, log in with a code (a complete code sends itself), a
wrong code refused, turn it off; each answer said in the section; axe-core finds nothing on
each new state of the pages.
"""
from __future__ import annotations

import re

import pyotp
from playwright.sync_api import Page, expect

from tests.browser.helpers import (alert, axe_violations, expect_greeting, log_in_on_page, path_of,
                                   sign_up)
from tests.running import RunningStack


def wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def open_account(page: Page, stack: RunningStack, person: dict) -> None:
    """From the greeting: its next step while two-step verification is off, else the header's
    Account link and the Account navigation's Security."""
    next_step = page.get_by_role("link", name="Set up two-step verification")
    data = page.get_by_role("link", name="See every place your data lives")
    expect(next_step.or_(data)).to_be_visible()
    if next_step.is_visible():
        next_step.click()
        expect(section(page).get_by_label("Your password")).to_be_focused()
    else:
        page.get_by_role("link", name="Account").click()
        expect(page.locator("#who-username")).to_have_text(person["username"])
        page.get_by_role("navigation", name="Account").get_by_role("link", name="Security").click()
    expect(page).to_have_url(re.compile(re.escape(stack.app_url + "account/security")))


def section(page: Page):
    return page.locator("section", has=page.get_by_role("heading", name="Two-step verification"))


def test_set_up_log_in_with_a_code_a_wrong_code_refused_and_turn_it_off(
        page: Page, running_stack: RunningStack):
    person = sign_up(running_stack)
    log_in_on_page(page, running_stack, person["username"], person["password"])
    expect_greeting(page, running_stack, person["name"])
    open_account(page, running_stack, person)
    two_step = section(page)
    expect(two_step).to_contain_text("Two-step verification is off")

    two_step.get_by_role("button", name="Set up two-step verification").click()
    expect(two_step.get_by_role("alert")).to_have_text("Your password is required.")
    two_step.get_by_label("Your password").fill("Wr0ng-password")
    two_step.get_by_role("button", name="Set up two-step verification").click()
    expect(alert(page)).to_contain_text("That password is not right")
    assert axe_violations(page) == []
    two_step.get_by_label("Your password").fill(person["password"])
    two_step.get_by_role("button", name="Set up two-step verification").click()
    qr = two_step.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert page.evaluate("i => i.complete && i.naturalWidth > 0", qr.element_handle())
    secret = two_step.locator("#two-step-key").inner_text().strip()
    totp = pyotp.TOTP(secret)
    assert axe_violations(page) == []

    two_step.get_by_label("Code from your app").filter(visible=True).fill(wrong(totp.now()))
    two_step.get_by_role("button", name="Turn on two-step verification").click()
    expect(alert(page)).to_contain_text("That code is not right")
    assert axe_violations(page) == []
    two_step.get_by_label("Code from your app").filter(visible=True).fill(totp.now())
    two_step.get_by_role("button", name="Turn on two-step verification").click()
    expect(two_step).to_contain_text("Two-step verification is on")
    expect(two_step.get_by_role("status")).to_have_text(
        "Two-step verification is on. Next time you log in, have your phone at hand.")
    expect(two_step.get_by_role("button", name="Turn off two-step verification")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(path_of(running_stack, "login"))
    log_in_on_page(page, running_stack, person["username"], person["password"])
    code = page.get_by_label("Code from your app")
    expect(code).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_be_hidden()
    assert page.evaluate("() => JSON.stringify(sessionStorage)").find(person["password"]) == -1
    assert axe_violations(page) == []
    code.fill(wrong(totp.now()))  # a complete code sends itself
    expect(alert(page)).to_contain_text("That code is not right")
    expect(code).to_be_focused()
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(path_of(running_stack, "login"))
    assert axe_violations(page) == []
    code.fill(totp.now())
    expect_greeting(page, running_stack, person["name"])

    open_account(page, running_stack, person)
    two_step = section(page)
    expect(two_step).to_contain_text("Two-step verification is on")
    two_step.get_by_label("Code from your app").filter(visible=True).fill(wrong(totp.now()))
    two_step.get_by_role("button", name="Turn off two-step verification").click()
    expect(alert(page)).to_contain_text("That code is not right")
    two_step.get_by_label("Code from your app").filter(visible=True).fill(totp.now())
    two_step.get_by_role("button", name="Turn off two-step verification").click()
    expect(two_step).to_contain_text("Two-step verification is off")
    expect(two_step.get_by_role("status")).to_have_text("Two-step verification is off.")
    expect(two_step.get_by_role("button", name="Set up two-step verification")).to_be_visible()
    expect(two_step).to_contain_text("Lost your phone?")

    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(path_of(running_stack, "login"))
    log_in_on_page(page, running_stack, person["username"], person["password"])
    expect_greeting(page, running_stack, person["name"])
