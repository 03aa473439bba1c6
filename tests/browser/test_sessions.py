"""Sessions per device in a real Chromium, against `make run`'s stack. A browser context is
a device (its own cookies and storage); two pages of one context are two tabs of one browser.

Log out ends this device's session only, Log out everywhere ends them all, a password change
ends every other device's session; an ended session is over at that browser's next load. The
refresh token lives in an HttpOnly cookie no page script can see; Keep me signed in makes it
outlive the browser.
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterator

import pytest
from playwright.sync_api import Page, expect

from chalicelib.errors import SESSION_ENDED
from chalicelib.session_cookie import COOKIE, REFRESH_TOKEN_SECONDS
from tests.browser.test_account import NEW_PASSWORD, log_out, open_account
from tests.browser.helpers import axe_violations, log_in_on_page, path_of, sign_up
from tests.helpers import PASSWORD
from tests.running import RunningStack


@pytest.fixture
def devices(browser: Any, running_stack: RunningStack) -> Iterator[Any]:
    """new_device(storage_state=None) -> a page in a browser context of its own."""
    contexts = []

    def new_device(**options: Any) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US",
                                      **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield new_device
    for context in contexts:
        context.close()


def expect_signed_in_on_account(page: Page, stack: RunningStack, person: dict) -> None:
    page.goto(stack.app_url + "account")
    expect(page).to_have_url(path_of(stack, "account"))
    expect(page.locator("#who-username")).to_have_text(person["username"])


def expect_session_ended_on_reload(page: Page, stack: RunningStack) -> None:
    page.reload()
    expect(page).to_have_url(path_of(stack, "login"))
    expect(page.get_by_role("status")).to_have_text(SESSION_ENDED)


def test_log_out_on_one_device_leaves_another_signed_in_and_log_out_everywhere_ends_both(
        page: Page, devices: Any, running_stack: RunningStack):
    person = sign_up(running_stack)
    laptop, phone = page, devices()
    open_account(laptop, running_stack, person)
    open_account(phone, running_stack, person)

    log_out(laptop, running_stack)
    expect_signed_in_on_account(phone, running_stack, person)
    phone.reload()
    expect(phone.locator("#who-username")).to_have_text(person["username"])
    laptop.goto(running_stack.app_url + "account")  # this device: no session any more
    expect(laptop).to_have_url(path_of(running_stack, "login"))
    log_in_on_page(laptop, running_stack, person["username"], person["password"])
    expect(laptop).to_have_url(path_of(running_stack, "account"))  # where it was going
    expect(laptop.locator("#who-username")).to_have_text(person["username"])
    phone.get_by_role("navigation", name="Account").get_by_role("link", name="Security").click()
    phone.get_by_role("button", name="Log out everywhere").click()
    dialog = phone.get_by_role("dialog", name="Log out everywhere?")
    expect(dialog).to_be_visible()
    assert axe_violations(phone) == [], "the Security page with Log out everywhere's dialog"
    dialog.get_by_role("button", name="Cancel").click()  # asked first: Cancel changes nothing
    expect(dialog).to_be_hidden()
    expect(phone).to_have_url(path_of(running_stack, "account/security"))
    phone.get_by_role("button", name="Log out everywhere").click()
    dialog.get_by_role("button", name="Log out everywhere").click()
    expect(phone).to_have_url(path_of(running_stack, "login"))
    expect(phone.get_by_role("status")).to_have_text("You are logged out on every device.")
    assert axe_violations(phone) == [], "the login page after Log out everywhere"
    expect_session_ended_on_reload(laptop, running_stack)


def test_a_password_change_ends_the_other_devices_session_and_this_one_goes_on(
        page: Page, devices: Any, running_stack: RunningStack):
    person = sign_up(running_stack)
    laptop, phone = page, devices()
    open_account(laptop, running_stack, person, to="Security")
    open_account(phone, running_stack, person)

    laptop.get_by_label("Current password").fill(PASSWORD)
    laptop.get_by_label("New password").fill(NEW_PASSWORD)
    laptop.get_by_role("button", name="Change password").click()
    expect(laptop.locator("#password-status")).to_contain_text("You stay logged in here")
    assert axe_violations(laptop) == [], "the Security page after a password change"

    expect_session_ended_on_reload(phone, running_stack)
    laptop.reload()
    expect(laptop).to_have_url(path_of(running_stack, "account/security"))
    expect(laptop.get_by_text("Two-step verification is off")).to_be_visible()
    log_in_on_page(phone, running_stack, person["username"], NEW_PASSWORD)
    expect(phone).to_have_url(path_of(running_stack, "account"))  # back where it was


def test_a_second_tab_is_signed_in_and_no_script_can_see_the_refresh_token(
        page: Page, context: Any, running_stack: RunningStack):
    person = sign_up(running_stack)
    answers: dict[str, list] = {}

    def read(route: Any) -> None:  # what the page's script receives from the API
        response = route.fetch()
        answers.setdefault(route.request.url.rsplit("/", 1)[-1], []).append(
            (response.status, response.json()))
        route.fulfill(response=response)

    context.route("**/api/auth/*", read)
    log_in_on_page(page, running_stack, person["username"], person["password"])
    expect(page).to_have_url(path_of(running_stack, "hello"))

    second = context.new_page()
    second.goto(running_stack.app_url + "account")
    expect(second.locator("#who-username")).to_have_text(person["username"])
    second.goto(running_stack.app_url + "hello")
    expect(second.locator("#greeting h1")).to_have_text(f"Hello, {person['name']}")
    assert [status for status, _ in answers["login"]] == [200]
    assert [status for status, _ in answers["refresh"]] == [200, 200, 200]  # hello, account, hello
    assert all("refreshToken" not in body for _, body in answers["login"] + answers["refresh"])

    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE and
                c["path"].endswith("api/auth/refresh")]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert len(cookie["value"]) > 10
    for tab in (page, second):
        seen = tab.evaluate("""() => JSON.stringify({cookie: document.cookie,
            local: Object.entries(localStorage), session: Object.entries(sessionStorage)})""")
        assert cookie["value"] not in seen and COOKIE not in seen and "refreshToken" not in seen
        assert "idToken" in seen  # the tab's own tokens are there: the check looked


@pytest.mark.parametrize("keep", [True, False])
def test_keep_me_signed_in_makes_the_session_outlive_the_browser(
        page: Page, context: Any, devices: Any, running_stack: RunningStack, keep: bool):
    person = sign_up(running_stack)
    page.goto(running_stack.app_url + "login")
    if keep:
        page.get_by_label("Keep me signed in").check()
    log_in_on_page(page, running_stack, person["username"], person["password"])
    expect(page).to_have_url(path_of(running_stack, "hello"))

    state = context.storage_state()
    cookies = [c for c in state["cookies"] if c["name"] == COOKIE]
    assert len(cookies) == 2
    if keep:
        assert all(c["expires"] > time.time() + REFRESH_TOKEN_SECONDS - 3600 for c in cookies)
    else:
        assert all(c["expires"] == -1 for c in cookies)  # a session cookie
    # The browser closes and opens again: its session cookies are gone, the others stay.
    restarted = {"cookies": [c for c in state["cookies"] if c["expires"] != -1], "origins": []}
    later = devices(storage_state=json.loads(json.dumps(restarted)))
    later.goto(running_stack.app_url + "account")
    if keep:
        expect(later.locator("#who-username")).to_have_text(person["username"])
    else:
        expect(later).to_have_url(path_of(running_stack, "login"))
        expect(later.get_by_role("heading", name="Log in")).to_be_visible()


def test_a_greeting_refused_for_a_garbage_id_token_refreshes_once_and_greets(
        page: Page, running_stack: RunningStack):
    """A 401 from the greeting (its ID token garbage, the session still good): the page
    refreshes once through the cookie and asks again, and is greeted, not sent to log in."""
    stack = running_stack
    person = sign_up(stack, name="Annie Easley")
    log_in_on_page(page, stack, person["username"], PASSWORD)
    expect(page.locator("#greeting h1")).to_have_text("Hello, Annie Easley", timeout=20_000)

    cards: list[int] = []
    refreshes: list[str] = []
    page.on("request", lambda request: refreshes.append(request.url)
            if request.url.endswith("/api/auth/refresh") else None)

    def garbage_first(route: Any) -> None:
        cards.append(1)
        headers = dict(route.request.headers)
        if len(cards) == 1:
            headers["authorization"] = "garbage"  # the real guard answers 401
        route.continue_(headers=headers)

    page.route("**/api/greeting/card", garbage_first)
    page.reload()
    expect(page.locator("#greeting h1")).to_have_text("Hello, Annie Easley", timeout=20_000)
    expect(page).to_have_url(path_of(stack, "hello"))
    # One refresh as every signed-in page starts, one for the 401; then the card again.
    assert (len(refreshes), len(cards)) == (2, 2), (refreshes, cards)
