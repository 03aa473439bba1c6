"""Logging in with an emailed code in a real Chromium, against `make run`'s stack: `Email me a
sign-in code`, the code read off the console outbox, `Sign in` lands on the greeting; a wrong
code and an expired one are refused in the section's alert, on the field; axe-core finds
nothing on each new state of the log-in page."""
from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from chalicelib import email_sign_in
from tests.browser.helpers import alert, axe_violations, expect_greeting, sign_up
from tests.browser.test_account import local_aws
from tests.running import RunningStack


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** 8:08d}"


def ask_for_a_code(page: Page, stack: RunningStack, username: str) -> None:
    page.goto(stack.app_url + "login")
    page.locator("#login-form").get_by_label("Username", exact=True).fill(username)
    page.get_by_role("button", name="Email me a sign-in code").click()
    expect(page.get_by_role("status")).to_have_text(email_sign_in.SENT)
    expect(page.get_by_label("Sign-in code")).to_be_focused()


def expire_the_waiting_code(stack: RunningStack) -> None:
    """Three minutes pass for every code step waiting in the security table (its item's time
    is moved into the past: the app reads it as Cognito's session over)."""
    dynamodb = local_aws(stack, "dynamodb")
    [table] = [n for n in dynamodb.list_tables()["TableNames"] if n.endswith("-security")]
    items = dynamodb.scan(TableName=table, FilterExpression="begins_with(pk, :p)",
                          ExpressionAttributeValues={":p": {"S": "email-sign-in#"}})["Items"]
    for item in items:
        dynamodb.put_item(TableName=table, Item={
            **item, "expires_at": {"N": str(int(time.time()) - 1)}})


def test_sign_in_with_the_emailed_code_after_a_wrong_and_an_expired_one(
        page: Page, running_stack: RunningStack):
    person = sign_up(running_stack)
    page.goto(running_stack.app_url + "login")
    page.get_by_role("button", name="Email me a sign-in code").click()
    expect(alert(page)).to_have_text("Username is required.")
    expect(page.locator("#login-form").get_by_label("Username", exact=True)).to_be_focused()

    since = running_stack.mark()
    ask_for_a_code(page, running_stack, person["username"])
    assert axe_violations(page) == []
    code = running_stack.wait_for_code(person["email"], since=since)
    assert len(code) == 8

    field = page.get_by_label("Sign-in code")
    field.fill(wrong(code))  # a complete code sends itself
    expect(alert(page)).to_have_text(email_sign_in.WRONG_CODE)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    assert axe_violations(page) == []

    expire_the_waiting_code(running_stack)
    field.fill(code)
    expect(alert(page)).to_have_text(email_sign_in.EXPIRED)
    assert axe_violations(page) == []

    since = running_stack.mark()
    page.get_by_role("button", name="Email me a sign-in code").click()
    fresh = running_stack.wait_for_code(person["email"], since=since)
    field.fill(fresh)
    expect_greeting(page, running_stack, person["name"])
