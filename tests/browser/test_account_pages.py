"""The account a person expects, in a real Chromium against `make run`'s stack (issue 28): three
pages at their own URLs behind an `Account` navigation, each short enough to read and as wide
as it needs; a developer's details behind the scenes; the header signed in on every page; the
page asked for while signed out is where the login lands; an unknown address is a page.
"""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import (PHONE, axe_violations, expect_greeting, horizontal_overflow,
                                   log_in_on_page, path_of, save_screenshot, sign_up)
from tests.running import RunningStack

ACCOUNT_PAGES = [("account", "Profile"), ("account/security", "Security"),
                 ("account/data", "Your data")]
# Profile and Security fit in three screens of a 1280x800 desktop before any action.
THREE_SCREENS = 2400


def signed_in(page: Page, stack: RunningStack, name: str = "Ada Lovelace") -> dict:
    person = sign_up(stack, name=name)
    log_in_on_page(page, stack, person["username"], person["password"])
    expect_greeting(page, stack, name)
    return person


def account_nav(page: Page):
    return page.get_by_role("navigation", name="Account")


def page_height(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollHeight")


def test_the_three_account_pages_at_both_sizes_with_the_account_navigation(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = signed_in(page, stack)
    for size, viewport in (("desktop", {"width": 1280, "height": 800}), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        for path, heading in ACCOUNT_PAGES:
            page.goto(stack.app_url + path)
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            nav = account_nav(page)
            expect(nav.get_by_role("link")).to_have_text(["Profile", "Security", "Your data"])
            expect(nav.locator("[aria-current=page]")).to_have_text(heading)
            expect(page.locator("header").get_by_role("button", name="Log out")).to_be_visible()
            if path == "account":
                expect(page.locator("#who-username")).to_have_text(person["username"])
                expect(page.get_by_label("Name", exact=True)).to_be_focused()
            elif path == "account/security":
                expect(page.get_by_text("Two-step verification is off")).to_be_visible()
                expect(page.get_by_label("Current password")).to_be_focused()
            else:
                expect(page.locator("#places")).to_have_attribute("aria-busy", "false")
                expect(page.locator("#places-body tr").first).to_be_visible()
                expect(page.get_by_text("You have no files yet.")).to_be_visible()
            page.wait_for_load_state("networkidle")
            save_screenshot(page, f"account-{size}-{path.replace('/', '-')}")
            assert horizontal_overflow(page) <= 0, (size, path)
            if size == "desktop" and path != "account/data":
                assert page_height(page) <= THREE_SCREENS, (path, page_height(page))
            if size == "desktop" and path == "account/data":  # every column, no sideways scroll
                table = page.locator("#places")
                assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
                assert page.locator("#places thead").is_visible()
            if size == "phone" and path == "account/data":  # each place a card of its own
                assert page.locator("#places thead").bounding_box()["height"] <= 1
                assert page.locator("#places-body tr").first.evaluate(
                    "r => getComputedStyle(r).display") == "block"
            assert axe_violations(page) == [], (size, path)
    assert page.console_errors == []


def test_behind_the_scenes_holds_a_developers_details_and_the_profile_none(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    signed_in(page, stack)
    page.goto(stack.app_url + "account")
    expect(page.locator("#who-username")).not_to_have_text("…")
    for hidden in ("AWS identity id", "credentials expire", "IAM", "Lambda"):
        expect(page.get_by_text(hidden)).to_have_count(0)

    page.goto(stack.app_url + "account/data")
    behind = page.locator("details", has_text="Behind the scenes")
    identity = page.locator("#who-identity")
    expect(identity).to_have_text(re.compile(r"^us-east-1:[0-9a-f-]{36}$"))  # loaded, not shown
    expect(identity).to_be_hidden()
    expect(page.get_by_role("button", name="Check my access")).to_be_visible()  # in plain view
    behind.locator("summary").click()
    expect(identity).to_be_visible()
    expect(page.locator("#who-expiry")).to_have_attribute("datetime", re.compile(r"^20\d\d-"))
    expect(page.locator("#access-policy li").first).to_contain_text("Your credentials may")
    expect(page.locator("#access-results li")).to_have_count(8)  # the check ran for it
    save_screenshot(page, "account-desktop-data-behind-the-scenes")
    assert axe_violations(page) == [], "the data page with Behind the scenes open"


def test_the_header_is_signed_in_on_every_page_and_a_page_asked_for_while_signed_out_comes_back(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack)
    page.goto(stack.app_url + "account/security?x=1")
    expect(page).to_have_url(path_of(stack, "login"))
    assert "next=account%2Fsecurity%3Fx%3D1" in page.url
    expect(page.locator("header").get_by_role("link", name="Log in")).to_be_visible()
    log_in_on_page(page, stack, person["username"], person["password"])
    expect(page).to_have_url(stack.app_url + "account/security?x=1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Security")

    header = page.locator("header")
    for path in ("", "login", "how-it-works"):
        page.goto(stack.app_url + path)
        expect(header.get_by_role("link", name="Account")).to_be_visible()
        expect(header.get_by_role("button", name="Log out")).to_be_visible()
        expect(header.get_by_role("link", name="Log in")).to_be_hidden()

    # Only the app's own pages: another site, a scheme or a path outside the app lead to hello.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(path_of(stack, "login"))
    for outside in ("https://example.com/", "//example.com/", "javascript:alert(1)",
                    "/%5Cexample.com", "%09//example.com"):
        page.goto(stack.app_url + "login?next=" + outside)
        log_in_on_page(page, stack, person["username"], person["password"])
        expect(page).to_have_url(path_of(stack, "hello"))
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(path_of(stack, "login"))


def test_an_unknown_address_is_a_page_not_found_that_leads_home(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    response = page.goto(stack.app_url + "account/nothing-here")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    save_screenshot(page, "not-found")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Go to the home page").click()
    expect(page).to_have_url(stack.app_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Comm-IT")
    page.get_by_role("contentinfo").get_by_role("link", name="How it works").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How it works")
    assert page.console_errors == [] or all("404" in e for e in page.console_errors)


PUBLIC_PAGES = ["", "signup", "confirm?username=someone", "login?notice=verified&username=someone",
                "forgot", "reset?notice=code-sent&username=someone", "how-it-works"]


def test_the_public_pages_at_a_desktop_size(page: Page, running_stack: RunningStack):
    """A picture of each for a person to look at (the phone's: test_journey.py); each focuses
    its first empty field."""
    for path in PUBLIC_PAGES:
        page.goto(running_stack.app_url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        focused = page.evaluate("() => document.activeElement.id")
        first_empty = page.evaluate("""() => { const f = [...document.querySelectorAll(
            "main input")].find(i => i.offsetParent && i.type !== "checkbox" && !i.value);
            return f ? f.id : ""; }""")
        assert focused == first_empty, (path, focused, first_empty)
        save_screenshot(page, "desktop-" + (path.split("?")[0] or "home"))
