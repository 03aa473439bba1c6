"""Your files on the account's data page, in a real Chromium against `make run`'s stack.

Upload, download (the link is a presigned S3 URL: the browser fetches the file
straight from the local AWS), delete (asked first, in a dialog titled with the file's
name), each answered in the files section: news in its role="status", refusals in its
role="alert".
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.helpers import axe_violations, save_screenshot
from tests.helpers import PASSWORD, call
from tests.running import RunningStack


MIB = 1024 * 1024


def on_account_page(page: Page, stack: RunningStack) -> dict:
    """A verified person (made through the API), logged in on the login page, on the account's
    data page (/account/data)."""
    username = f"files{uuid.uuid4().hex[:10]}"
    person = {"name": "Ada Lovelace", "email": f"{username}@example.com", "username": username,
              "password": PASSWORD}
    status, body = call(stack, "POST", "api/auth/signup", person)
    assert status == 201, body
    status, body = call(stack, "POST", "api/auth/confirm",
                        {"username": username, "code": stack.wait_for_code(person["email"])})
    assert status == 200, body
    page.goto(stack.app_url + "login")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#greeting h1")).to_have_text("Hello, Ada Lovelace", timeout=20_000)
    page.goto(stack.app_url + "account/data")
    expect(page.get_by_label("File", exact=True)).to_be_visible()
    return person


def files_section(page: Page):
    return page.locator("#files")


def delete(page: Page, name: str) -> None:
    """Delete, then `Delete file` in the dialog titled with the file's name."""
    page.get_by_role("button", name=f"Delete {name}", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Delete “{name}”?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete file").click()
    expect(dialog).to_be_hidden()


def choose(page: Page, name: str, data: bytes) -> None:
    page.get_by_label("File", exact=True).set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": data})


def downloaded(page: Page, link) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None, download.failure()
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_a_person_uploads_downloads_and_deletes_a_file(page: Page, running_stack: RunningStack):
    on_account_page(page, running_stack)
    files = page.locator("#files")
    expect(files.get_by_text("You have no files yet.")).to_be_visible()
    expect(files.get_by_text("Up to 20 files, 1 MiB each.")).to_be_visible()

    name = "Notes für Grace 📝.bin"
    data = bytes(range(256)) * 1000 + "ünïcode".encode()  # binary, every byte value
    choose(page, name, data)
    page.get_by_role("button", name="Upload").click()

    link = page.get_by_role("link", name=name, exact=True)
    expect(link).to_be_visible()
    expect(files.get_by_role("status")).to_have_text(f"Uploaded “{name}”.")
    assert link.get_attribute("href").startswith(running_stack.aws_endpoint + "/")
    expect(page.get_by_label("File", exact=True)).to_have_value("")  # ready for the next one
    assert downloaded(page, link) == (name, data)

    # Asked first: Cancel (or Escape) keeps the file, the focus back on its Delete.
    remove = page.get_by_role("button", name=f"Delete {name}", exact=True)
    remove.click()
    dialog = page.get_by_role("dialog", name=f"Delete “{name}”?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    assert axe_violations(page) == [], "the data page with the delete dialog open"
    save_screenshot(page, "desktop-data-delete-dialog")
    page.set_viewport_size({"width": 390, "height": 844})
    save_screenshot(page, "phone-data-delete-dialog")
    page.set_viewport_size({"width": 1280, "height": 800})
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(remove).to_be_focused()
    remove.click()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(link).to_be_visible()

    delete(page, name)
    expect(link).to_have_count(0)
    expect(files.get_by_role("status")).to_have_text(f"Deleted “{name}”.")
    expect(files.get_by_text("You have no files yet.")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    assert page.console_errors == []


def test_the_archived_profile_document_downloads_from_the_account_page(
        page: Page, running_stack: RunningStack):
    person = on_account_page(page, running_stack)
    link = page.get_by_role("link", name="Download your profile document")
    expect(link).to_be_visible(timeout=20_000)  # the pipeline archives it after the login
    filename, body = downloaded(page, link)
    document = json.loads(body)
    assert filename == "profile.json"
    assert (document["username"], document["email"], document["name"]) == (
        person["username"], person["email"], person["name"])


def test_a_file_over_the_limit_is_refused_in_the_files_section(
        page: Page, running_stack: RunningStack):
    on_account_page(page, running_stack)
    files = files_section(page)
    expect(files.get_by_text("Up to 20 files, 1 MiB each.")).to_be_visible()
    page.get_by_role("button", name="Upload").click()
    expect(files.get_by_role("alert")).to_have_text("Choose a file to upload.")
    expect(page.get_by_label("File", exact=True)).to_have_attribute("aria-invalid", "true")
    choose(page, "too big.bin", b"x" * (MIB + 1))
    page.get_by_role("button", name="Upload").click()
    expect(files.get_by_role("alert")).to_have_text(
        "The file “too big.bin” is larger than 1 MiB, the most one file may be.")
    expect(page.get_by_label("File", exact=True)).to_be_focused()
    expect(page.get_by_role("link", name="too big.bin")).to_have_count(0)
    assert axe_violations(page) == [], "the account page with an error shown"


def test_a_name_that_exists_is_refused_by_the_server_on_the_file_field(
        page: Page, running_stack: RunningStack):
    on_account_page(page, running_stack)
    choose(page, "report.txt", b"first")
    page.get_by_role("button", name="Upload").click()
    link = page.get_by_role("link", name="report.txt", exact=True)
    expect(link).to_be_visible()

    choose(page, "report.txt", b"second")
    page.get_by_role("button", name="Upload").click()
    expect(files_section(page).get_by_role("alert")).to_contain_text(
        "You already have a file named “report.txt”")
    expect(page.get_by_label("File", exact=True)).to_have_attribute("aria-invalid", "true")
    assert downloaded(page, link) == ("report.txt", b"first")
    assert axe_violations(page) == [], "the account page with a file listed"


def test_a_file_uploaded_before_the_sign_in_check_answers_stays_on_the_page(
        page: Page, running_stack: RunningStack):
    """The account page renews its tokens first (a network call); its forms work meanwhile.

    Held, that call leaves a window in which an Upload clicked before its handler was wired
    would submit the form natively: the page reloaded as /account?file=<name>, nothing sent.
    """
    on_account_page(page, running_stack)
    held = []
    page.route("**/api/auth/refresh", lambda route: held.append(route))
    with page.expect_request("**/api/auth/refresh"):
        page.reload()
    choose(page, "early.txt", b"early")
    page.get_by_role("button", name="Upload").click()
    link = page.get_by_role("link", name="early.txt", exact=True)
    expect(link).to_be_visible()
    assert page.url == running_stack.app_url + "account/data"
    assert len(held) == 1  # the sign-in check is still out
    held[0].continue_()
    page.unroute("**/api/auth/refresh")
    expect(page.locator("#places")).to_have_attribute("aria-busy", "false")
    expect(link).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_a_listing_answered_late_never_hides_a_file_just_uploaded(
        page: Page, running_stack: RunningStack):
    """Listings may cross: the page's first one, read before an upload, arriving after the one
    that follows it, must not show the files as they were before."""
    on_account_page(page, running_stack)
    late: list = []

    def answer_late(route) -> None:
        if route.request.method == "GET" and not late:
            late.append((route, route.fetch()))  # read now, delivered after the upload
        else:
            route.continue_()
    page.route("**/api/account/files", answer_late)
    page.reload()
    while not late:
        page.wait_for_timeout(50)
    choose(page, "late.txt", b"late")
    page.get_by_role("button", name="Upload").click()
    link = page.get_by_role("link", name="late.txt", exact=True)
    expect(link).to_be_visible()
    route, before_the_upload = late[0]
    route.fulfill(response=before_the_upload)
    page.wait_for_load_state("networkidle")
    expect(link).to_be_visible()
    expect(files_section(page).get_by_text("You have no files yet.")).to_be_hidden()


def test_the_files_section_fits_a_phone_screen_with_a_long_file_name(
        page: Page, running_stack: RunningStack):
    page.set_viewport_size({"width": 390, "height": 844})
    on_account_page(page, running_stack)
    name = "A-very-long-file-name-without-any-spaces-" * 4 + ".txt"
    choose(page, name, b"long")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    button = page.get_by_role("button", name=f"Delete {name}", exact=True)
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["width"] > box["height"], box  # "Delete" on one line, not a letter a line
    save_screenshot(page, "phone-account-files")
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_an_expired_id_token_is_refreshed_once_and_the_files_still_load(
        page: Page, running_stack: RunningStack):
    on_account_page(page, running_stack)
    choose(page, "kept.txt", b"kept")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name="kept.txt", exact=True)).to_be_visible()
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem("comm-it.session"));
        s.idToken = "expired.garbage.token";
        sessionStorage.setItem("comm-it.session", JSON.stringify(s)); }""")
    refreshes = []
    page.on("request", lambda request: "api/auth/refresh" in request.url and refreshes.append(1))
    with page.expect_response("**/api/auth/refresh") as refreshed:
        page.reload()
    assert refreshed.value.status == 200
    expect(page.get_by_role("link", name="kept.txt", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    token = page.evaluate("() => JSON.parse(sessionStorage.getItem('comm-it.session')).idToken")
    assert token.count(".") == 2 and token != "expired.garbage.token"
    assert len(refreshes) == 1  # the two loads that met the 401 shared one refresh
