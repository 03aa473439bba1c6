"""Every page passes axe-core (WCAG 2 A/AA and best practice) in a real Chromium.

The pages are read from `app.routes` (every GET route outside /api), so a new page
cannot escape the check. Each is checked as a visitor first sees it, and the pages
that change once a person is signed in (the greeting, the account) are checked
again in that state, with an error shown too.
"""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import axe_violations
from tests.helpers import PASSWORD, call, page_paths
from tests.running import RunningStack


def signed_in(page: Page, stack: RunningStack) -> None:
    """A verified person (made through the API) logged in through the login page."""
    username = f"axe{uuid.uuid4().hex[:10]}"
    email = f"{username}@example.com"
    status, body = call(stack, "POST", "api/auth/signup", {"name": "Ada Lovelace", "email": email,
                                                  "username": username, "password": PASSWORD})
    assert status == 201, body
    status, body = call(stack, "POST", "api/auth/confirm",
                       {"username": username, "code": stack.wait_for_code(email)})
    assert status == 200, body
    page.goto(stack.app_url + "login")
    page.locator("input[autocomplete=username]").fill(username)
    page.locator("input[type=password]").first.fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    expect(page.locator("#greeting h1")).to_have_text("Hello, Ada Lovelace", timeout=20_000)


def test_the_page_list_holds_every_page():
    assert {"/", "/signup", "/confirm", "/login", "/forgot", "/reset", "/hello", "/account",
            "/account/security", "/account/data", "/how-it-works"} <= set(page_paths())


@pytest.mark.parametrize("path", page_paths())
def test_page_has_no_axe_violations_as_first_seen(page: Page, running_stack: RunningStack,
                                                   path: str):
    page.goto(running_stack.app_url + path.lstrip("/"))
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []


def test_login_page_with_an_error_shown_has_no_axe_violations(page: Page,
                                                              running_stack: RunningStack):
    page.goto(running_stack.app_url + "login")
    page.locator("input[autocomplete=username]").fill("nobody-" + uuid.uuid4().hex[:6])
    page.locator("input[type=password]").first.fill("Wrong-passw0rd")
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []


def test_login_pages_email_code_step_with_an_error_shown_has_no_axe_violations(
        page: Page, running_stack: RunningStack):
    page.goto(running_stack.app_url + "login")
    page.locator("input[autocomplete=username]").fill("nobody-" + uuid.uuid4().hex[:6])
    page.get_by_role("button", name="Email me a sign-in code").click()
    expect(page.get_by_label("Sign-in code")).to_be_focused()
    assert axe_violations(page) == []
    page.get_by_label("Sign-in code").fill("12345678")
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []


def test_signed_in_pages_have_no_axe_violations(page: Page, running_stack: RunningStack):
    signed_in(page, running_stack)
    assert axe_violations(page) == [], "the greeting"
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == [], "the account page"


def test_the_sign_up_pages_verify_step_has_no_axe_violations_nor_with_an_error(
        page: Page, running_stack: RunningStack):
    username = f"axe{uuid.uuid4().hex[:10]}"
    page.goto(running_stack.app_url + "signup")
    page.get_by_label("Name", exact=True).fill("Ada Lovelace")
    page.get_by_label("Email", exact=True).fill(f"{username}@example.com")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Verify your email")).to_be_visible()
    assert axe_violations(page) == [], "the verify step"
    page.get_by_label("Verification code").fill("000000")  # a complete code sends itself
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == [], "the verify step with an error"
