"""Your data in AWS in a real Chromium against `make run`'s stack: the table names every
place with the values the services hold, `Download all my data` gives a ZIP whose
data.json and files match, `Check my access` shows the allowed and denied lines; axe-core
is clean in each state."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_account import local_aws, tokens
from tests.browser.test_files import choose, on_account_page
from tests.browser.helpers import axe_violations
from tests.running import RunningStack


NOBODY = "00000000-0000-0000-0000-000000000000"


def sub_of(page: Page) -> str:
    import jwt

    return jwt.decode(tokens(page)["idToken"], options={"verify_signature": False})["sub"]


def ready(page: Page, stack: RunningStack) -> dict:
    """On /account/data with the pipeline's work done (the profile archived) and one file."""
    person = on_account_page(page, stack)
    expect(page.locator("#profile-document")).to_be_visible(timeout=20_000)
    choose(page, "notes.txt", b"my notes")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#files-list")).to_contain_text("notes.txt")
    page.reload()
    expect(page.locator("#places")).to_have_attribute("aria-busy", "false")
    return person


def named(stack: RunningStack, service: str, suffix: str) -> str:
    if service == "dynamodb":
        names = local_aws(stack, "dynamodb").list_tables()["TableNames"]
    else:
        names = [b["Name"] for b in local_aws(stack, "s3").list_buckets()["Buckets"]]
    [name] = [n for n in names if n.startswith("comm-it-") and suffix in n]
    return name


def test_the_table_names_every_place_with_what_the_services_hold(page: Page,
                                                                running_stack: RunningStack):
    stack = running_stack
    person = ready(page, stack)
    sub = sub_of(page)
    table = named(stack, "dynamodb", "-users")
    bucket = named(stack, "s3", "-users-")
    rows = page.locator("#places-body tr")
    expect(rows).to_have_count(8)
    security = rows.filter(has_text=f"keys security#{sub} and recovery#{sub}")
    expect(security).to_contain_text("signed-in session(s): device, IP, started, last active")
    expect(security).to_contain_text("line(s) of activity")
    expect(security).to_contain_text("the app's own role")
    item = local_aws(stack, "dynamodb").get_item(TableName=table, Key={"sub": {"S": sub}})["Item"]
    dynamo = rows.filter(has_text=f"Table {table}, key sub = {sub}")
    for name, value in item.items():
        expect(dynamo).to_contain_text(f"{name}: {next(iter(value.values()))}")
    expect(dynamo).to_contain_text("your AWS credentials")
    expect(dynamo).to_contain_text("tombstone")
    versions = [v for v in local_aws(stack, "s3").list_object_versions(
        Bucket=bucket, Prefix=f"app/{sub}/profile.json")["Versions"]]
    document = local_aws(stack, "s3").get_object(Bucket=bucket, Key=f"app/{sub}/profile.json")
    profile = rows.filter(has_text=f"Bucket {bucket}, key app/{sub}/profile.json")
    expect(profile).to_contain_text(
        f"{document['ContentLength']} bytes, {len(versions)} version(s)")
    expect(profile).to_contain_text("Older versions 30 days")
    files = rows.filter(has_text=f"prefix users/{sub}/files/")
    expect(files).to_contain_text("1 file(s), 8 bytes")
    expect(files).to_contain_text("notes.txt: 8 bytes")
    name = f"/comm-it/local/users/{sub}/name"
    history = local_aws(stack, "ssm").get_parameter_history(Name=name)["Parameters"]
    parameter = rows.filter(has_text=f"Parameter {name}")
    expect(parameter).to_contain_text(f"value: {history[-1]['Value']}")
    expect(parameter).to_contain_text(f"{len(history)} version(s)")
    pool = rows.filter(has_text="Amazon Cognito user pool")
    expect(pool).to_contain_text(f"username {person['username']}")
    expect(pool).to_contain_text(f"email: {person['email']}")
    identity = page.locator("#who-identity").text_content()
    expect(rows.filter(has_text="identity pool")).to_contain_text(f"identity id {identity}")
    expect(rows.filter(has_text="CloudWatch Logs")).to_contain_text("30 days.")
    assert axe_violations(page) == [], "the account page with every place of your data"


def test_download_all_my_data_gives_a_zip_whose_data_and_files_match(
        page: Page, running_stack: RunningStack):
    stack = running_stack
    person = ready(page, stack)
    sub = sub_of(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download all my data").click()
    download = info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename == f"comm-it-{person['username']}.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    assert sorted(archive.namelist()) == ["data.json", "files/notes.txt"]
    assert archive.read("files/notes.txt") == b"my notes"
    data = json.loads(archive.read("data.json"))
    assert data["files"]["files"] == [{"name": "notes.txt", "size": 8,
                                       "inArchive": "files/notes.txt",
                                       "sha256": hashlib.sha256(b"my notes").hexdigest()}]
    bucket = named(stack, "s3", "-users-")
    stored = local_aws(stack, "s3").get_object(Bucket=bucket, Key=f"app/{sub}/profile.json")
    assert data["profile"]["document"] == json.loads(stored["Body"].read())
    item = local_aws(stack, "dynamodb").get_item(TableName=named(stack, "dynamodb", "-users"),
                                                 Key={"sub": {"S": sub}})["Item"]
    assert set(data["dynamodb"]["item"]) == set(item)
    assert data["dynamodb"]["item"]["sub"] == sub
    history = local_aws(stack, "ssm").get_parameter_history(
        Name=f"/comm-it/local/users/{sub}/name")["Parameters"]
    assert [h["value"] for h in data["parameter"]["history"]] == [h["Value"] for h in history]
    assert data["identity"]["identityId"] == page.locator("#who-identity").text_content()
    assert data["cognito"]["username"] == person["username"]
    assert data["cognito"]["attributes"]["email"] == person["email"]
    expect(page.locator("#download-link")).to_contain_text(download.suggested_filename)
    places = page.locator("section", has=page.get_by_role("heading",
                                                           name="Every place your data lives"))
    expect(places.get_by_role("status")).to_have_text(
        f"Your data is ready: {download.suggested_filename} is downloading.")
    assert axe_violations(page) == [], "the account page after Download all my data"


def test_check_my_access_shows_the_allowed_and_denied_lines(page: Page,
                                                           running_stack: RunningStack):
    ready(page, running_stack)
    sub = sub_of(page)
    page.get_by_role("button", name="Check my access").click()
    results = page.locator("#access-results li")
    expect(results).to_have_count(8)
    for label in ("Read your profile document: allowed", "List your files: allowed",
                  "Read your item in the users table: allowed",
                  "Read another person's profile document: denied (AccessDenied)",
                  "Read another person's item in the users table: denied (AccessDeniedException)",
                  "Read another person's name parameter: denied (AccessDeniedException)",
                  f"Write outside users/{sub}/files/: denied (AccessDenied)"):
        expect(results.filter(has_text=label)).to_have_count(1)
    expect(page.locator("#access-results")).not_to_contain_text("not as expected")
    expect(page.locator("#access-results")).to_contain_text(NOBODY)
    expect(page.locator("#access-policy")).to_contain_text(
        f"Your credentials may read your profile document, app/{sub}/profile.json.")
    assert axe_violations(page) == [], "the account page with Check my access's answers"
