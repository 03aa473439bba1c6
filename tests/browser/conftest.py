"""Fixtures of the real-browser tests: one `make run` stack and one Chromium per session.

Debian's chromium is driven by PyPI's playwright (never `playwright install`).
Each test gets a new browser context, so sessionStorage never leaks between
tests; a failing test leaves a screenshot in test-artifacts/.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.helpers import chromium_path, save_screenshot
from tests.running import RunningStack

CHROMIUM_ARGS = [
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium's own lookups of Google hosts go nowhere; the app on 127.0.0.1 is reached.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


@pytest.fixture(scope="session")
def running_stack():
    stack = RunningStack().start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("The browser tests need the `playwright` package (requirements-dev.txt).",
                    pytrace=False)
    expect.set_options(timeout=10_000)  # 5 s by default: tight on a busy 2-core CI machine
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:150]


@pytest.fixture
def context(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context, running_stack, request):
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error"
            and console_errors.append(message.text))
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.console_errors = console_errors
    # The page's calls to the API as they end, said when the test fails (a flaky one's clue).
    calls: list[str] = []
    page.on("response", lambda response: "/api/" in response.url and calls.append(
        f"{response.request.method} {response.url} -> {response.status}"))
    page.on("requestfailed", lambda request: "/api/" in request.url and calls.append(
        f"{request.method} {request.url} -> failed: {request.failure}"))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not page.is_closed():
        print("the page's API calls, in the order they ended:", *calls[-30:], sep="\n  ")
        print("its console errors:", *console_errors, sep="\n  ")
        try:
            save_screenshot(page, f"FAILED-{_artifact_name(request.node.nodeid)}")
        except Exception as exc:  # noqa: BLE001 (the screenshot must not hide the real failure)
            print(f"could not save a screenshot: {exc}")


@pytest.fixture(scope="session")
def app_url(running_stack) -> str:
    return running_stack.app_url

