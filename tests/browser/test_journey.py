"""A person in a real Chromium, against `make run`'s stack: sign up to greeting and back.

Codes are read off the stack's console outbox, like a person running `make run`
would. Every test makes its own users (unique usernames), so the tests share
one stack and run in any order.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error, Page, expect

from chalicelib.errors import SESSION_ENDED
from tests.browser.helpers import (PHONE, alert, chromium_path, expect_greeting,
                                   horizontal_overflow, log_in_on_page, other_code, path_of,
                                   save_screenshot, session_storage, sign_up, unique)
from tests.helpers import PASSWORD, page_paths
from tests.running import RunningStack


TRICKY_NAME = "Ada <b>Bold</b> & O'Brien"


# --- The whole journey ------------------------------------------------------------------

def test_a_new_person_signs_up_verifies_is_greeted_by_name_logs_out_and_back_in(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    username = unique("ada")
    email = f"{username}@example.com"

    page.goto(stack.app_url)
    expect(page).to_have_title(re.compile("Comm-IT"))
    page.get_by_role("main").get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(path_of(stack, "signup"))

    page.get_by_label("Name", exact=True).fill(TRICKY_NAME)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    mark = stack.mark()
    page.get_by_role("button", name="Sign up").click()

    # The verify step, with the username carried over; the password is in no storage.
    expect(page).to_have_url(path_of(stack, "confirm"))
    expect(page.get_by_role("heading", name="Verify your email")).to_be_visible()
    expect(page).to_have_title(re.compile("^Verify your email"))
    expect(page.get_by_label("Username", exact=True)).to_have_value(username)
    expect(page.get_by_label("Verification code")).to_be_focused()
    # Where the code went (Cognito's masked address), and a way out if it is the wrong one;
    # Resend code waits: a code was just sent.
    sent_to = re.compile(r"^We emailed a 6-digit code to \w\*\*\*@")
    expect(page.get_by_text(sent_to)).to_be_visible()
    expect(page.get_by_role("link", name="Sign up again")).to_be_visible()
    expect(page.get_by_role("button", name="Resend code")).to_be_disabled()
    wait = re.compile(r"^You can ask for another code in \d+ s\.$")
    expect(page.get_by_text(wait)).to_be_visible()
    assert page.get_by_label("Password", exact=True).count() == 0
    stored = page.evaluate("() => JSON.stringify([sessionStorage, localStorage, document.cookie])")
    assert PASSWORD not in stored, stored
    code = stack.wait_for_code(email, since=mark)

    # A wrong code first (a complete code sends itself): an error the person can read, on
    # the code's field, and they stay on the step.
    page.get_by_label("Verification code").fill(other_code(code))
    expect(alert(page)).to_be_visible()
    expect(alert(page)).to_contain_text("code")
    expect(page.get_by_label("Verification code")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(path_of(stack, "confirm"))

    # Straight in after verifying: no second typing of the password.
    page.get_by_label("Verification code").fill(code)
    expect_greeting(page, stack, TRICKY_NAME)
    next_step = page.get_by_role("link", name="Set up two-step verification")
    expect(next_step).to_be_visible()  # the greeting's next step while it is off
    # The markup in the name is text on the page, never HTML.
    assert page.locator("#greeting b").count() == 0
    assert page.locator("#greeting h1").inner_text() == f"Hello, {TRICKY_NAME}"
    save_screenshot(page, "greeting")
    assert any("idToken" in value for value in session_storage(page).values())
    stored = page.evaluate("() => JSON.stringify([sessionStorage, localStorage, document.cookie])")
    assert PASSWORD not in stored and "refresh" not in stored.lower(), stored

    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(path_of(stack, "login"))
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    storage = session_storage(page)
    assert not any("Token" in key or "Token" in value for key, value in storage.items()), storage

    # A wrong password and an unknown user get the same answer: no account enumeration.
    log_in_on_page(page, stack, unique("nobody"), PASSWORD)
    expect(alert(page)).to_be_visible()
    unknown_user_message = alert(page).inner_text()
    log_in_on_page(page, stack, username, "Wr0ng-password")
    expect(alert(page)).to_be_visible()
    expect(alert(page)).to_have_text(unknown_user_message)
    expect(page).to_have_url(path_of(stack, "login"))
    assert "password" in unknown_user_message.lower()

    log_in_on_page(page, stack, username, PASSWORD)
    expect_greeting(page, stack, TRICKY_NAME)
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(path_of(stack, "login"))
    page.goto(stack.app_url + "hello")
    expect(page).to_have_url(path_of(stack, "login"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert not [e for e in page.console_errors
                if "Content Security Policy" in e], page.console_errors


def test_the_verify_page_opened_anew_knows_no_password_and_leads_to_the_login_page(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    username = unique("kat")
    email = f"{username}@example.com"
    page.goto(stack.app_url + "signup")
    page.get_by_label("Name", exact=True).fill("Katherine Johnson")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    mark = stack.mark()
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(path_of(stack, "confirm"))
    # Back from the verify step is the sign-up form again, drawn anew.
    page.go_back()
    expect(page).to_have_url(path_of(stack, "signup"))
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    # Forward is the verify page on its own: the password was only in the old page's memory.
    page.go_forward()
    expect(page).to_have_url(path_of(stack, "confirm"))
    expect(page.get_by_role("heading", name="Verify your email")).to_be_visible()
    expect(page.get_by_label("Username", exact=True)).to_have_value(username)
    expect(page.get_by_text(re.compile("to the address you signed up with"))).to_be_visible()
    page.get_by_label("Verification code").fill(stack.wait_for_code(email, since=mark))
    expect(page).to_have_url(path_of(stack, "login"))
    expect(page.get_by_role("status")).to_have_text("Your account is verified. Log in to continue.")
    expect(page.get_by_label("Username", exact=True)).to_have_value(username)
    expect(page.get_by_label("Password", exact=True)).to_be_focused()  # the first empty field


# --- Sessions -----------------------------------------------------------------------------

def test_visiting_hello_without_a_session_leads_to_the_login_page(
        page: Page, running_stack: RunningStack):
    page.goto(running_stack.app_url + "hello")
    expect(page).to_have_url(path_of(running_stack, "login"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_label("Username", exact=True)).to_be_editable()


def test_visiting_hello_with_a_broken_session_leads_to_login_with_a_notice(
        page: Page, running_stack: RunningStack):
    page.goto(running_stack.app_url)
    page.evaluate("""() => sessionStorage.setItem("comm-it.session", JSON.stringify(
        {idToken: "garbage", accessToken: "a.b.c", refreshToken: "garbage"}))""")
    page.goto(running_stack.app_url + "hello")
    expect(page).to_have_url(path_of(running_stack, "login"))
    expect(page.get_by_role("status")).to_have_text(SESSION_ENDED)
    assert session_storage(page) == {}


def test_a_greeting_that_never_gets_ready_ends_in_an_error_not_an_endless_wait(
        page: Page, running_stack: RunningStack):
    page.clock.install()
    page.route("**/api/greeting/card", lambda route: route.fulfill(
        status=202, content_type="text/html; charset=utf-8",
        body='<p class="status" role="status">Getting your greeting ready…</p>'))
    page.goto(running_stack.app_url)
    page.evaluate("""() => sessionStorage.setItem("comm-it.session", JSON.stringify(
        {idToken: "x.y.z", accessToken: "x.y.z", refreshToken: "r"}))""")
    page.goto(running_stack.app_url + "hello")
    expect(page.get_by_text("Getting your greeting ready…")).to_be_visible()
    expect(alert(page)).to_be_hidden()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url)
            if "greeting/card" in request.url else None)
    waited = 0
    while not alert(page).is_visible() and waited < 45_000:  # sooner at first, then once a second
        page.clock.run_for(500)
        waited += 500
    expect(alert(page)).to_contain_text("taking longer than usual")
    # ~30 s of polling; a step that runs before a real fetch has answered adds fake time
    # without a poll, so a busy machine lands a few seconds later: never an endless wait.
    assert 25_000 <= waited <= 40_000 and len(asked) >= 30, (waited, len(asked))
    expect(page.get_by_text("Getting your greeting ready…")).to_be_hidden()


def test_while_the_greeting_is_pending_the_page_shows_what_the_server_sent(
        page: Page, running_stack: RunningStack):
    page.clock.install()
    page.route("**/api/greeting/card", lambda route: route.fulfill(
        status=202, content_type="text/html; charset=utf-8",
        body='<p class="status" role="status">Warming up the pipeline</p>'))
    page.goto(running_stack.app_url)
    page.evaluate("""() => sessionStorage.setItem("comm-it.session", JSON.stringify(
        {idToken: "x.y.z", accessToken: "x.y.z", refreshToken: "r"}))""")
    page.goto(running_stack.app_url + "hello")
    expect(page.get_by_role("status")).to_have_text("Warming up the pipeline")
    expect(alert(page)).to_be_hidden()


def test_when_the_api_cannot_be_reached_the_greeting_page_says_so(
        page: Page, running_stack: RunningStack):
    page.route("**/api/greeting/card", lambda route: route.abort("internetdisconnected"))
    page.goto(running_stack.app_url)
    page.evaluate("""() => sessionStorage.setItem("comm-it.session", JSON.stringify(
        {idToken: "x.y.z", accessToken: "x.y.z", refreshToken: "r"}))""")
    page.goto(running_stack.app_url + "hello")
    expect(alert(page)).to_have_text("Cannot reach Comm-IT. Check your connection and try again.")


# --- Sign-up errors ------------------------------------------------------------------------

@pytest.mark.parametrize("case, expected", [
    ("weak password", "Password needs an upper-case letter, a number."),
    ("invalid email", "Email is not valid. Use an address like name@example.com."),
    ("taken username", "username is taken"),
])
def test_a_sign_up_error_is_shown_in_the_alert_and_the_person_stays_on_the_form(
        page: Page, running_stack: RunningStack, case: str, expected: str):
    username = unique()
    fields = {"Name": "Katherine Johnson", "Email": f"{username}@example.com",
              "Username": username, "Password": PASSWORD}
    if case == "weak password":
        fields["Password"] = "weakpass"
    elif case == "invalid email":
        fields["Email"] = "not-an-email"
    else:
        fields["Username"] = sign_up(running_stack, verify=False)["username"]

    page.goto(running_stack.app_url + "signup")
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Sign up").click()

    expect(alert(page)).to_be_visible()
    expect(alert(page)).to_contain_text(re.compile(re.escape(expected), re.IGNORECASE))
    expect(page).to_have_url(path_of(running_stack, "signup"))
    # What the person typed is still there to correct.
    expect(page.get_by_label("Name", exact=True)).to_have_value("Katherine Johnson")
    expect(page.get_by_role("button", name="Sign up")).to_be_enabled()


# --- Verification code ----------------------------------------------------------------------

def test_resend_code_emails_a_new_code_that_verifies_the_account(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, verify=False)
    first_code = stack.wait_for_code(person["email"])

    page.clock.install()
    page.goto(f"{stack.app_url}confirm?username={person['username']}")
    mark = stack.mark()
    resend = page.get_by_role("button", name="Resend code")
    resend.click()
    expect(page.get_by_role("status")).to_have_text(
        "We sent a new code. Check your email: codes sent before it no longer work.")
    new_code = stack.wait_for_code(person["email"], since=mark)
    assert len(stack.codes(person["email"])) == 2
    # One more only after a visible countdown of 30 s.
    expect(resend).to_be_disabled()
    countdown = page.get_by_text(re.compile(r"^You can ask for another code in \d+ s\.$"))
    expect(countdown).to_be_visible()
    seconds = int(re.search(r"\d+", countdown.inner_text())[0])
    assert 20 <= seconds <= 30, seconds
    page.clock.run_for(10_000)
    expect(countdown).to_have_text(re.compile(rf"in {seconds - 10}|in {seconds - 11}"))
    page.clock.run_for(21_000)
    expect(resend).to_be_enabled()
    expect(page.get_by_text("You can ask for another code")).to_be_hidden()

    if new_code != first_code:  # the resent code replaces the first one
        page.get_by_label("Verification code").fill(first_code)
        expect(alert(page)).to_be_visible()
        # The error replaces the "we sent a new code" news: never both at once.
        expect(page.get_by_text("We sent a new code")).to_be_hidden()
    page.get_by_label("Verification code").fill(new_code)
    expect(page).to_have_url(path_of(stack, "login"))
    expect(page.get_by_role("status")).to_have_text("Your account is verified. Log in to continue.")


def test_an_unverified_person_who_logs_in_is_sent_to_the_verify_page(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name="Mary Jackson", verify=False)
    log_in_on_page(page, stack, person["username"], PASSWORD)

    expect(page).to_have_url(path_of(stack, "confirm"))
    expect(page.get_by_role("status").first).to_have_text(
        "Your account is not verified yet. Enter the code we emailed you.")
    expect(page.get_by_label("Username", exact=True)).to_have_value(person["username"])

    page.get_by_label("Verification code").fill(stack.wait_for_code(person["email"]))
    expect(page).to_have_url(path_of(stack, "login"))
    log_in_on_page(page, stack, person["username"], PASSWORD)
    expect_greeting(page, stack, "Mary Jackson")


# --- Forgotten password --------------------------------------------------------------------------

def test_a_person_who_forgot_the_password_resets_it_and_logs_in_with_the_new_one(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name="Dorothy Vaughan")
    new_password = "N3w-passphrase"

    page.goto(stack.app_url + "login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(path_of(stack, "forgot"))
    page.get_by_label("Username or email", exact=True).fill(person["username"])
    mark = stack.mark()
    page.get_by_role("button", name="Send reset code").click()

    expect(page).to_have_url(path_of(stack, "reset"))
    expect(page.get_by_role("status")).to_contain_text("We sent a code")
    expect(page.get_by_label("Username or email", exact=True)).to_have_value(person["username"])
    code = stack.wait_for_code(person["email"], since=mark)

    page.get_by_label("Verification code").fill(other_code(code))
    page.get_by_label("New password").fill(new_password)
    page.get_by_role("button", name="Reset password").click()
    expect(alert(page)).to_be_visible()
    expect(page.get_by_label("Verification code")).to_be_focused()
    expect(page).to_have_url(path_of(stack, "reset"))

    # Resend code: a new code, the older one no longer works.
    mark = stack.mark()
    page.get_by_role("button", name="Resend code").click()
    expect(page.locator("#reset-status")).to_contain_text("codes sent before it no longer work")
    code = stack.wait_for_code(person["email"], since=mark)

    # The new password logs the person straight in.
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Reset password").click()
    expect_greeting(page, stack, "Dorothy Vaughan")

    page.get_by_role("button", name="Log out", exact=True).click()
    log_in_on_page(page, stack, person["username"], PASSWORD)
    expect(alert(page)).to_be_visible()
    log_in_on_page(page, stack, person["username"], new_password)
    expect_greeting(page, stack, "Dorothy Vaughan")


def test_a_person_who_forgot_the_password_resets_it_by_email_address(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name="Katherine Johnson")
    new_password = "N3w-passphrase"

    page.goto(stack.app_url + "forgot")
    page.get_by_label("Username or email", exact=True).fill(person["email"].upper())
    mark = stack.mark()
    page.get_by_role("button", name="Send reset code").click()
    expect(page).to_have_url(path_of(stack, "reset"))
    code = stack.wait_for_code(person["email"], since=mark)  # in the local outbox
    page.get_by_label("Verification code").fill(code)
    page.get_by_label("New password").fill(new_password)
    page.get_by_role("button", name="Reset password").click()
    expect_greeting(page, stack, "Katherine Johnson")
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_label("Username", exact=True)).to_be_visible()  # the login keeps its label
    log_in_on_page(page, stack, person["email"], new_password)
    expect_greeting(page, stack, "Katherine Johnson")


# --- Layout ---------------------------------------------------------------------------------------

LONG_NAME = "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff-Wolfeschlegelsteinhausen"
# What a page shows with a query (a prefilled username, a notice): the longest version of it.
PAGE_QUERY = {"/confirm": "?username=someone", "/login": "?notice=verified&username=someone",
              "/reset": "?notice=code-sent&username=someone"}
AFTER_LOG_IN = {"/hello"}  # checked below, with a person's (long) name in it


def test_every_page_fits_a_phone_screen_without_horizontal_scrolling(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name=LONG_NAME)
    page.set_viewport_size(PHONE)
    overflowing = {}
    for path in page_paths():  # read from app.routes: a new page is checked too
        if path in AFTER_LOG_IN:
            continue
        name = path.strip("/") or "home"
        page.goto(stack.app_url + path.lstrip("/") + PAGE_QUERY.get(path, ""))
        # Settled: a signed-out account page asks for its session, then goes to the log-in page.
        page.wait_for_load_state("networkidle")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        save_screenshot(page, f"phone-{name}")
        overflowing[name] = horizontal_overflow(page)

    # An error message and a long name must wrap too.
    log_in_on_page(page, stack, person["username"], "Wr0ng-password")
    expect(alert(page)).to_be_visible()
    overflowing["login with an error"] = horizontal_overflow(page)
    log_in_on_page(page, stack, person["username"], PASSWORD)
    expect_greeting(page, stack, LONG_NAME)
    save_screenshot(page, "phone-hello")
    overflowing["hello"] = horizontal_overflow(page)

    assert set(overflowing) >= {path.strip("/") or "home" for path in page_paths()}
    assert {name: px for name, px in overflowing.items() if px > 0} == {}


# --- The harness itself ---------------------------------------------------------------------------

def test_a_missing_chromium_fails_the_browser_tests_with_a_clear_message(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(pytest.fail.Exception) as failure:
        chromium_path()
    assert "chromium" in str(failure.value)
    assert "never `playwright install`" in str(failure.value)


class _RefusingPage:
    """A page whose Chromium refuses the first captures, as CI's once did."""

    def __init__(self, refusals: int, message: str = "Unable to capture screenshot"):
        self.refusals, self.message, self.captures, self.waits = refusals, message, 0, []

    def screenshot(self, path: str, full_page: bool) -> None:
        self.captures += 1
        if self.captures <= self.refusals:
            raise Error(f"Page.screenshot: Protocol error (Page.captureScreenshot): {self.message}")

    def wait_for_timeout(self, ms: float) -> None:
        self.waits.append(ms)


def test_a_screenshot_chromium_refuses_once_is_asked_for_again():
    page = _RefusingPage(refusals=2)
    save_screenshot(page, "harness-refused-twice")
    assert page.captures == 3 and page.waits == [200, 400]


def test_a_screenshot_chromium_keeps_refusing_or_any_other_error_fails_the_test():
    refusing = _RefusingPage(refusals=3)
    failing = _RefusingPage(refusals=1, message="Target closed")
    for page in (refusing, failing):
        with pytest.raises(Error):
            save_screenshot(page, "harness-refused")
    assert refusing.captures == 3 and refusing.waits == [200, 400]  # asked three times, no more
    assert failing.captures == 1 and failing.waits == []  # another error is not asked again
