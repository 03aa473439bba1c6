"""Helpers of the browser tier: a person in a real Chromium against `make run`'s stack.
What other tiers share too is in tests/helpers.py."""
from __future__ import annotations

import json
import re
import shutil
import uuid
from typing import Any

import pytest

from tests.helpers import PASSWORD, ROOT, call

ARTIFACTS = ROOT / "test-artifacts"
GREETING_TIMEOUT = 20_000  # ms: the name reaches the greeting through an async pipeline
PHONE = {"width": 390, "height": 844}
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def chromium_path() -> str:
    """Debian's chromium, or a failure that says how to install it (never a skip)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("The browser tests need Debian's chromium, and it is not on PATH. "
                    "Install it with `make chromium` (apt-get install chromium); "
                    "never `playwright install`.", pytrace=False)
    return path


# Chromium now and then refuses one capture ("Unable to capture screenshot") and takes the
# same picture when asked again a moment later (CI saw it once in ~1,650 tests, on a phone page).
CAPTURE_REFUSED = "Unable to capture screenshot"
CAPTURE_ATTEMPTS = 3


def save_screenshot(page: Any, name: str) -> None:
    """A full-page picture in test-artifacts/ for a person to look at (never an assertion)."""
    from playwright.sync_api import Error

    ARTIFACTS.mkdir(exist_ok=True)
    for attempt in range(1, CAPTURE_ATTEMPTS + 1):
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            return
        except Error as error:
            if CAPTURE_REFUSED not in str(error) or attempt == CAPTURE_ATTEMPTS:
                raise
            page.wait_for_timeout(200 * attempt)


def unique(prefix: str = "user") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def sign_up(stack: Any, name: str = "Grace Hopper", verify: bool = True) -> dict:
    """A user made through the API (not the UI under test): verified unless told not to."""
    username = unique()
    person = {"name": name, "email": f"{username}@example.com", "username": username,
              "password": PASSWORD}
    status, body = call(stack, "POST", "api/auth/signup", person)
    assert status == 201, body
    if verify:
        code = stack.wait_for_code(person["email"])
        status, body = call(stack, "POST", "api/auth/confirm", {"username": username, "code": code})
        assert status == 200, body
    return person


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def path_of(stack: Any, path: str) -> re.Pattern:
    """The URL of an app page, with any query string."""
    return re.compile("^" + re.escape(stack.app_url + path) + r"(\?.*)?$")


def alert(page: Any) -> Any:
    return page.get_by_role("alert")


def log_in_on_page(page: Any, stack: Any, username: str, password: str) -> None:
    """Log in through the login page's form."""
    if not path_of(stack, "login").match(page.url):
        page.goto(stack.app_url + "login")
    form = page.locator("#login-form")  # the page's other steps have fields of their own
    form.get_by_label("Username", exact=True).fill(username)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Log in").click()


def expect_greeting(page: Any, stack: Any, name: str) -> None:
    from playwright.sync_api import expect

    expect(page).to_have_url(path_of(stack, "hello"))
    expect(page.locator("#greeting h1")).to_have_text(f"Hello, {name}", timeout=GREETING_TIMEOUT)


def session_storage(page: Any) -> dict:
    return page.evaluate("() => Object.fromEntries(Object.entries(sessionStorage))")


def horizontal_overflow(page: Any) -> int:
    """How far the page is wider than the window, once it has settled: a signed-out account
    page asks for its session, then goes to the log-in page (measuring while it goes fails)."""
    page.wait_for_load_state("networkidle")
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def axe_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2 A/AA and best-practice violations on the page as it is now."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make test` (it runs `npm ci`) or `npm ci`.",
                    pytrace=False)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # CDP evaluation: the page's CSP allows it
    found = page.evaluate(
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))", AXE_TAGS)
    return [json.dumps(violation) for violation in found]
