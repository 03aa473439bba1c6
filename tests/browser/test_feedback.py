"""Feedback where the person acts, in a real Chromium against `make run`'s stack (issue 28):
every problem of a form said at once, in its own section, before any request; the field at
fault focused, marked and described by its message; the password rules ticked off as they are
typed; every password field's Show password; an answer of the app's own limits (429) said like
any error; nothing scrolls the page.
"""
from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import (PHONE, axe_violations, expect_greeting, log_in_on_page,
                                   save_screenshot, sign_up)
from tests.helpers import PASSWORD
from tests.running import RunningStack


def test_every_problem_of_the_sign_up_form_is_said_at_once_before_any_request(
        page: Page, running_stack: RunningStack):
    sent: list[str] = []
    page.on("request", lambda request: "api/auth/signup" in request.url and sent.append(1))
    page.goto(running_stack.app_url + "signup")
    name = page.get_by_label("Name", exact=True)
    expect(name).to_be_focused()  # every page focuses its first field

    page.get_by_role("button", name="Sign up").click()
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("listitem")).to_have_text(
        ["Name is required.", "Email is required.", "Username is required.",
         "Password is required."])
    expect(name).to_be_focused()
    for label in ("Name", "Email", "Username", "Password"):
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(  # the password's: then its rules
            re.compile("^" + re.escape(f"{label} is required.")))
    expect(page.get_by_label("Password", exact=True)).to_have_accessible_description(
        "Password is required. At least 8 characters (not yet) A lower-case letter (not yet) "
        "An upper-case letter (not yet) A number (not yet)")

    name.fill("Ada Lovelace")
    page.get_by_label("Email", exact=True).fill("ada@example")
    page.get_by_label("Username", exact=True).fill("ada")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(alert.get_by_role("listitem")).to_have_text(
        ["Email is not valid. Use an address like name@example.com.",
         "Password needs at least 8 characters, an upper-case letter, a number."])
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    expect(name).not_to_have_attribute("aria-invalid", "true")
    assert sent == [] and page.evaluate("() => window.scrollY") == 0
    save_screenshot(page, "desktop-signup-with-errors")
    assert axe_violations(page) == [], "the sign-up form with every problem shown"
    page.set_viewport_size(PHONE)
    save_screenshot(page, "phone-signup-with-errors")


def test_the_password_rules_tick_as_typed_and_show_password_shows_it(
        page: Page, running_stack: RunningStack):
    page.goto(running_stack.app_url + "signup")
    password = page.get_by_label("Password", exact=True)
    rules = page.locator("#password-rules li")
    expect(rules).to_have_count(4)
    password.fill("abc")
    expect(rules.filter(has_text="A lower-case letter")).to_have_attribute("data-met", "true")
    expect(rules.filter(has_text="A number")).to_have_attribute("data-met", "false")
    expect(rules.filter(has_text="A number")).to_contain_text("not yet")
    password.fill(PASSWORD)
    for rule in rules.all():
        expect(rule).to_have_attribute("data-met", "true")
        expect(rule).to_contain_text("done")

    show = page.get_by_role("button", name="Show password")
    expect(show).to_have_attribute("aria-pressed", "false")
    show.click()
    expect(password).to_have_attribute("type", "text")
    expect(show).to_have_attribute("aria-pressed", "true")
    assert axe_violations(page) == [], "the sign-up form with its password shown"
    show.click()
    expect(password).to_have_attribute("type", "password")
    expect(show).to_have_attribute("aria-pressed", "false")


def test_the_apps_own_limit_is_said_like_any_error_and_an_error_low_on_a_page_scrolls_nothing(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack)
    paused = ("Too many wrong passwords for this account: logging in is paused for 2 minutes. "
              "Wait, then try again.")
    page.route("**/api/auth/login", lambda route: route.fulfill(
        status=429, content_type="application/json", headers={"Retry-After": "120"},
        body=json.dumps({"error": "TooManyAttempts", "message": paused})))
    log_in_on_page(page, stack, person["username"], person["password"])
    expect(page.locator("#login-step").get_by_role("alert")).to_have_text(paused)
    assert axe_violations(page) == [], "the login page with the app's limit said"
    page.unroute("**/api/auth/login")

    log_in_on_page(page, stack, person["username"], person["password"])
    expect_greeting(page, stack, person["name"])
    page.set_viewport_size(PHONE)
    page.goto(stack.app_url + "account/security")
    expect(page.get_by_text("Two-step verification is off")).to_be_visible()
    page.get_by_role("button", name="Delete account").click()
    field = page.get_by_label("Password", exact=True)
    field.fill("Wr0ng-password")
    button = page.get_by_role("button", name="Delete my account")
    button.scroll_into_view_if_needed()  # where the person is when they press it
    assert page.evaluate("() => window.scrollY") > 0  # the section is low on the page
    where = field.bounding_box()["y"]
    button.click()
    delete = page.locator("section", has=page.get_by_role("heading", name="Delete your account"))
    expect(delete.get_by_role("alert")).to_contain_text("password is not right")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    assert abs(field.bounding_box()["y"] - where) <= 2  # the field stays where the person is
    box = page.locator("#delete-password-error").bounding_box()  # its message, under it
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    expect(field).to_have_accessible_description(re.compile("password is not right"))
    save_screenshot(page, "phone-security-delete-with-error")
