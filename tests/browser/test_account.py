"""Your account in a real Chromium, against `make run`'s stack: change the name (it reaches
the greeting through the pipeline) and the email (with the code from the console outbox) on
the Profile page, the password on the Security page, and delete the account there, after which
nothing of the person is left in Cognito, DynamoDB, S3 or Parameter Store. Each answer is said
in the section of the form that asked.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import boto3
import jwt
import pytest
from playwright.sync_api import Page, expect

from chalicelib.errors import SESSION_ENDED
from tests.browser.helpers import (GREETING_TIMEOUT, PHONE, alert, axe_violations, expect_greeting,
                                   horizontal_overflow, log_in_on_page, other_code, path_of,
                                   session_storage, sign_up)
from tests.helpers import PASSWORD, eventually
from tests.running import RunningStack


NEW_PASSWORD = "N3w-passphrase"


def section(page: Page, heading: str):
    """The section under `heading`: its form, its own status and alert."""
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def open_account(page: Page, stack: RunningStack, person: dict, to: str = "Profile") -> None:
    """Log in through the login page, wait for the greeting, follow the Account link (and the
    Account navigation's link `to`)."""
    log_in_on_page(page, stack, person["username"], person["password"])
    expect_greeting(page, stack, person["name"])
    page.get_by_role("link", name="Account").click()
    expect(page).to_have_url(path_of(stack, "account"))
    expect(page.get_by_role("heading", level=1, name="Profile")).to_be_visible()
    expect(page.locator("#who-username")).to_have_text(person["username"])
    if to != "Profile":
        page.get_by_role("navigation", name="Account").get_by_role("link", name=to).click()
        expect(page.get_by_role("heading", level=1, name=to)).to_be_visible()


def log_out(page: Page, stack: RunningStack) -> None:
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    expect(page).to_have_url(path_of(stack, "login"))


def tokens(page: Page) -> dict:
    return json.loads(session_storage(page)["comm-it.session"])


def local_aws(stack: RunningStack, service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", endpoint_url=stack.aws_endpoint,
                        aws_access_key_id="local", aws_secret_access_key="local")


def get(stack: RunningStack, path: str, id_token: str) -> tuple[int, dict]:
    request = urllib.request.Request(stack.app_url + path,
                                     headers={"Authorization": f"{id_token}"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


# --- who you are, your name ------------------------------------------------------------------

def test_the_account_page_shows_who_you_are_and_a_new_name_reaches_the_greeting(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name="Ada Lovelace")
    open_account(page, stack, person)
    expect(page.locator("#who-name")).to_have_text("Ada Lovelace")
    expect(page.locator("#who-email")).to_have_text(person["email"])
    expect(page.locator("#who-last-signed-in")).to_contain_text("1 sign-in in all")
    assert "secret" not in page.content().lower()

    page.get_by_label("Name", exact=True).fill("Ada King")
    page.get_by_role("button", name="Save name").click()
    expect(section(page, "Your name").get_by_role("status")).to_contain_text("Your name is saved")
    expect(page.locator("#who-name")).to_have_text("Ada King")  # a refreshed ID token
    assert axe_violations(page) == []

    page.get_by_role("link", name="Hello").click()
    expect_greeting_after_the_pipeline(page, stack, "Ada King")


def test_a_new_name_reaches_an_already_opened_greeting_without_a_reload(
        page: Page, running_stack: RunningStack):
    """The greeting was answered (and cached by the API) with the old name; after Save name
    the greeting page, knowing the new name from the refreshed ID token, keeps asking."""
    stack = running_stack
    person = sign_up(stack, name="Ada Lovelace")
    open_account(page, stack, person)
    page.get_by_role("link", name="Hello").click()
    expect(page.locator("#greeting h1")).to_have_text("Hello, Ada Lovelace",
                                                      timeout=GREETING_TIMEOUT)
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Name", exact=True).fill("Ada King")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator("#who-name")).to_have_text("Ada King")  # a refreshed ID token
    page.get_by_role("link", name="Hello").click()
    expect(page.locator("#greeting h1")).to_have_text("Hello, Ada King", timeout=GREETING_TIMEOUT)
    expect(page.get_by_text("Last signed in")).to_have_count(0)  # that is the account page's
    page.get_by_role("link", name="Account").click()
    expect(page.locator("#who-last-signed-in")).to_contain_text("sign-in")
    assert axe_violations(page) == []


def expect_greeting_after_the_pipeline(page: Page, stack: RunningStack, name: str) -> None:
    """The greeting page asks once: reload it until the change has travelled the pipeline
    (event -> DynamoDB -> stream -> Parameter Store, then the greeting's 5-second cache)."""
    def greeted() -> bool:
        page.reload()
        heading = page.locator("#greeting h1")
        heading.wait_for(timeout=GREETING_TIMEOUT)
        return heading.inner_text() == f"Hello, {name}"

    try:
        eventually(greeted, timeout=GREETING_TIMEOUT / 1000, what=f"the greeting to say {name}")
    except AssertionError:
        raise AssertionError("\n".join(line for line in stack.lines if "[event]" in line)) from None


def test_an_empty_name_is_refused_in_its_section_without_a_request(
        page: Page, running_stack: RunningStack):
    person = sign_up(running_stack, name="Grace Hopper")
    open_account(page, running_stack, person)
    sent: list[str] = []
    page.on("request", lambda request: "api/account/name" in request.url and sent.append(1))
    name = page.get_by_label("Name", exact=True)
    name.fill("   ")
    page.get_by_role("button", name="Save name").click()
    expect(section(page, "Your name").get_by_role("alert")).to_have_text("Name is required.")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Name is required.")
    assert sent == [] and page.evaluate("() => window.scrollY") == 0
    assert axe_violations(page) == []


def test_the_account_pages_fit_a_phone_screen_with_a_long_name(page: Page,
                                                               running_stack: RunningStack):
    person = sign_up(running_stack,
                     name="Hubert Blaine Wolfeschlegelsteinhausenbergerdorff-"
                          "Wolfeschlegelsteinhausen")
    page.set_viewport_size(PHONE)
    open_account(page, running_stack, person)
    expect(page.locator("#who-name")).to_have_text(person["name"])
    assert horizontal_overflow(page) <= 0
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Security").click()
    page.get_by_role("button", name="Delete account").click()
    expect(page.get_by_role("button", name="Delete my account")).to_be_visible()
    assert horizontal_overflow(page) <= 0


# --- email -----------------------------------------------------------------------------------

def test_a_new_email_is_used_only_after_its_code_from_the_outbox_is_entered(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name="Katherine Johnson")
    new_email = f"kj{uuid.uuid4().hex[:8]}@example.com"
    open_account(page, stack, person)

    page.get_by_label("Email", exact=True).fill(new_email)
    mark = stack.mark()
    page.get_by_role("button", name="Save email").click()
    expect(page.get_by_label("Verification code")).to_be_visible()
    code = stack.wait_for_code(new_email, since=mark)  # to the NEW address
    assert stack.codes(person["email"], since=mark) == []
    expect(page.locator("#who-email")).to_have_text(person["email"])  # still the old one
    assert axe_violations(page) == []

    email = section(page, "Your email address")
    expect(email.get_by_role("status")).to_have_text(
        f"Check {new_email} for the verification code.")
    page.get_by_label("Verification code").fill(other_code(code))
    page.get_by_role("button", name="Verify email").click()
    expect(email.get_by_role("alert")).to_contain_text("code")
    expect(page.get_by_label("Verification code")).to_be_focused()
    expect(page.locator("#who-email")).to_have_text(person["email"])

    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Verify email").click()
    expect(email.get_by_role("status")).to_have_text(f"Your email address is now {new_email}.")
    expect(page.locator("#who-email")).to_have_text(new_email)
    expect(page.get_by_label("Verification code")).to_be_hidden()

    # The new address logs in (in any case); the old one no longer does.
    log_out(page, stack)
    log_in_on_page(page, stack, person["email"], PASSWORD)
    expect(alert(page)).to_be_visible()
    log_in_on_page(page, stack, new_email.upper(), PASSWORD)
    expect_greeting(page, stack, "Katherine Johnson")


# --- password --------------------------------------------------------------------------------

def test_a_password_change_needs_the_current_password_and_the_new_one_logs_in(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name="Dorothy Vaughan")
    open_account(page, stack, person, to="Security")
    password = section(page, "Your password")

    page.get_by_label("Current password").fill("Wr0ng-password")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(password.get_by_role("alert")).to_have_text(
        "That password is not right. Type your current password.")
    expect(page.get_by_label("Current password")).to_be_focused()
    expect(page.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(password.get_by_role("status")).to_contain_text("Your password is changed")
    expect(password.get_by_role("alert")).to_be_hidden()
    expect(page.get_by_label("Current password")).to_have_value("")
    expect(page.get_by_label("Current password")).not_to_have_attribute("aria-invalid", "true")

    log_out(page, stack)
    log_in_on_page(page, stack, person["username"], PASSWORD)
    expect(alert(page)).to_be_visible()
    log_in_on_page(page, stack, person["username"], NEW_PASSWORD)
    expect_greeting(page, stack, "Dorothy Vaughan")


# --- deleting the account --------------------------------------------------------------------

def test_deleting_the_account_leaves_nothing_in_cognito_dynamodb_s3_or_parameter_store(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = sign_up(stack, name="Mary Jackson")
    open_account(page, stack, person, to="Security")
    old = tokens(page)
    sub = jwt.decode(old["idToken"], options={"verify_signature": False})["sub"]

    cognito, ddb, s3, ssm = (local_aws(stack, s) for s in ("cognito-idp", "dynamodb", "s3", "ssm"))
    [pool] = cognito.list_user_pools(MaxResults=10)["UserPools"]
    [bucket] = [b["Name"] for b in s3.list_buckets()["Buckets"]
                if b["Name"].startswith("comm-it-local-users-")]
    table, parameter = "comm-it-local-users", f"/comm-it/local/users/{sub}/name"
    # Everything the pipeline keeps of the person, and a file of theirs in two versions.
    eventually(lambda: ddb.get_item(TableName=table, Key={"sub": {"S": sub}}).get("Item"),
               what="the record")
    eventually(lambda: s3.list_objects_v2(Bucket=bucket, Prefix=f"app/{sub}/profile.json")
               .get("KeyCount"), what="the profile document")
    assert ssm.get_parameter(Name=parameter)["Parameter"]["Value"] == "Mary Jackson"
    for body in (b"first", b"second"):
        s3.put_object(Bucket=bucket, Key=f"users/{sub}/files/notes.txt", Body=body)

    page.get_by_role("button", name="Delete account").click()
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    assert axe_violations(page) == []
    page.get_by_label("Password", exact=True).fill("Wr0ng-password")
    page.get_by_role("button", name="Delete my account").click()
    expect(section(page, "Delete your account").get_by_role("alert")).to_contain_text(
        "password is not right")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()

    expect(page).to_have_url(path_of(stack, "login"))
    expect(page.get_by_role("status")).to_have_text(
        "Your account is deleted, with everything Comm-IT stored about you.")
    assert session_storage(page) == {}

    # Cognito: the user is gone; DynamoDB: a tombstone only; S3: no version of anything under
    # users/<sub>/; Parameter Store: no name.
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=pool["Id"], Username=person["username"])

    def tombstone() -> dict | None:
        item = ddb.get_item(TableName=table, Key={"sub": {"S": sub}}).get("Item") or {}
        return item if "deleted_at" in item else None

    assert set(eventually(tombstone, what="the tombstone")) == {
        "sub", "deleted_at", "details_at", "last_event_id"}

    def nothing_in_s3() -> bool:
        listing = s3.list_object_versions(Bucket=bucket, Prefix=f"users/{sub}/")
        return not listing.get("Versions") and not listing.get("DeleteMarkers")

    eventually(nothing_in_s3, what="every version under users/<sub>/ to go")

    def no_parameter() -> bool:
        try:
            ssm.get_parameter(Name=parameter)
        except ssm.exceptions.ParameterNotFound:
            return True
        return False

    eventually(no_parameter, what="the name to leave Parameter Store")

    # The old password logs in no more; the old, still-signed tokens get no greeting.
    log_in_on_page(page, stack, person["username"], PASSWORD)
    expect(alert(page)).to_have_text("Incorrect username or password.")
    status, body = eventually(lambda: (lambda r: r if r[0] == 401 else None)(
        get(stack, "api/greeting", old["idToken"])), what="the greeting to refuse")
    assert body["error"] == "SessionEnded"
    page.evaluate("tokens => sessionStorage.setItem('comm-it.session', JSON.stringify(tokens))",
                  old)
    page.goto(stack.app_url + "hello")
    expect(page).to_have_url(path_of(stack, "login"))
    expect(page.get_by_role("status")).to_have_text(SESSION_ENDED)

    # A login event redelivered after the deletion brings nothing back.
    sqs = local_aws(stack, "sqs")
    login_event = json.dumps({"type": "user.authenticated", "version": 1,
                              "event_id": str(uuid.uuid4()),
                              "occurred_at": "2000-01-01T00:00:00.000000Z", "sub": sub,
                              "username": person["username"], "email": person["email"],
                              "name": person["name"]})
    mark = stack.mark()
    for queue in ("comm-it-local-save-profile", "comm-it-local-archive-profile"):
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"],
                         MessageBody=login_event)
    for consumer in ("save_profile", "archive_profile"):
        stack.wait_for_line(lambda line, c=consumer: line.startswith(f"[event] {c} <-")
                            and "skipped" in line, timeout=15, since=mark)
    assert tombstone() is not None and nothing_in_s3() and no_parameter()
