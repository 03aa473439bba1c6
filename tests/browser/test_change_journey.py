"""Your change's journey in a real Chromium, against `make run`'s stack: after `Save name`,
one click away (`Follow its journey`), the data page's Behind the scenes follows the "user
updated" event stage by stage (SNS, DynamoDB, S3, Parameter Store, the greeting), each with
its time, names a stage that gave up and the dead-letter queue its message is in, and every
state of it passes axe-core.
"""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_account import open_account
from tests.browser.helpers import GREETING_TIMEOUT, axe_violations, sign_up
from tests.helpers import http_json
from tests.running import RunningStack


STAGES = ["Published to SNS", "Saved to DynamoDB (save_profile)",
          "Archived to S3 (archive_profile)", "Name in Parameter Store (sync_name)", "Greeting"]


def stage(page: Page, stage_id: str):
    return page.locator(f"#journey-stages li[data-stage={stage_id}]")


def follow(page: Page, stack: RunningStack) -> None:
    """Save name's `Follow its journey`: the data page, Behind the scenes open."""
    page.get_by_role("link", name="Follow its journey").click()
    expect(page).to_have_url(re.compile(re.escape(stack.app_url + "account/data?change=")))
    expect(page.locator("#behind-the-scenes")).to_have_attribute("open", "")


def test_a_name_change_travels_to_parameter_store_and_the_greeting(page: Page,
                                                                   running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name="Ada Lovelace")
    open_account(page, stack, person)
    page.get_by_label("Name", exact=True).fill("Ada Journey")
    page.get_by_role("button", name="Save name").click()
    follow(page, stack)

    journey = page.get_by_role("list", name="Your change's journey")
    expect(journey).to_be_visible()
    expect(journey.locator("li strong")).to_have_text(STAGES)
    expect(stage(page, "published")).to_have_attribute("data-state", "done")
    expect(stage(page, "published").locator("time")).to_have_attribute(
        "datetime", re.compile(r"^20\d\d-\d\d-\d\dT"))
    assert axe_violations(page) == [], "the journey as it starts"

    expect(stage(page, "parameter")).to_have_attribute("data-state", "done",
                                                       timeout=GREETING_TIMEOUT)
    expect(stage(page, "parameter")).to_contain_text(re.compile(r"version \d+"))
    expect(stage(page, "greeting")).to_have_attribute("data-state", "done",
                                                      timeout=GREETING_TIMEOUT)
    expect(stage(page, "greeting")).to_contain_text("Hello, Ada Journey")
    for stage_id in ("saved", "archived", "parameter"):
        expect(stage(page, stage_id)).to_have_attribute("data-state", "done")
        expect(stage(page, stage_id).locator("time")).to_have_attribute(
            "datetime", re.compile(r"^20\d\d-"))
    expect(stage(page, "archived")).to_contain_text("profile.json version")
    expect(page.locator("#journey-end")).to_have_text("Every stage is done.")
    assert axe_violations(page) == [], "the journey complete"


# S3 answering 5xx for longer than the pump's five receives of a message (about 2 s apart):
# archive_profile gives up on the change, and SQS moves its message to the dead-letter queue.
S3_FAULT_SECONDS = 13


def test_a_stage_that_gave_up_shows_failed_and_its_dead_letter_queue(page: Page,
                                                                    running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name="Ada Archive")
    open_account(page, stack, person)
    page.get_by_label("Name", exact=True).fill("Ada Unarchived")
    status, body = http_json(stack.aws_endpoint, "POST", "/_local/faults",
                             {"service": "s3", "kind": "5xx", "seconds": S3_FAULT_SECONDS})
    assert status == 201, body
    try:
        page.get_by_role("button", name="Save name").click()
        follow(page, stack)
        # The page rides out the journey route's 503s (S3 does not answer) meanwhile.
        expect(stage(page, "archived")).to_have_attribute(
            "data-state", "failed", timeout=(S3_FAULT_SECONDS + 30) * 1000)
    finally:
        http_json(stack.aws_endpoint, "DELETE", "/_local/faults")
    expect(stage(page, "archived")).to_contain_text(
        "failed its message is in the dead-letter queue comm-it-local-archive-profile-dlq")
    for stage_id in ("published", "saved", "parameter", "greeting"):
        expect(stage(page, stage_id)).to_have_attribute("data-state", "done")
    expect(stage(page, "greeting")).to_contain_text("Hello, Ada Unarchived")
    expect(page.locator("#journey-end")).to_have_text(re.compile(
        r"^Stopped at archive_profile: it gave up, and its message waits in a dead-letter queue"))
    assert axe_violations(page) == [], "the journey with a failed stage"
