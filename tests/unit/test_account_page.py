"""The account page (/account): a public shell like /hello (its script calls the guarded
API), with the fields and buttons the account flows name, linked from /hello."""
from __future__ import annotations

import re
from pathlib import Path

import pytest


@pytest.fixture
def page_client():
    """Pages need no AWS: a bare test client."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local", project_dir=str(Path(__file__).resolve().parents[2])) as client:
        yield client


def labels(html: str) -> dict[str, str]:
    """label text -> the id of the control it names."""
    return {re.sub(r"\s+", " ", text).strip(): target
            for target, text in re.findall(r'<label for="([^"]+)">([^<]+)</label>', html)}


def test_the_account_page_has_every_field_and_button_the_flows_name(page_client):
    response = page_client.http.get("/account")
    html = response.body.decode()
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<h1>Your account</h1>" in html and 'role="alert"' in html
    found = labels(html)
    for label in ("Name", "Email", "Verification code", "Current password", "New password",
                  "Password"):
        assert re.search(rf'id="{found[label]}"', html), label
    buttons = [re.sub(r"\s+", " ", b).strip() for b in re.findall(r"<button[^>]*>([^<]+)</button>", html)]
    for button in ("Save name", "Save email", "Verify email", "Change password",
                   "Delete account", "Delete my account", "Log out"):
        assert button in buttons, button
    # The confirmation and the code field wait until they are asked for.
    assert re.search(r'<form id="delete-form"[^>]*hidden', html)
    assert re.search(r'<form id="verify-form"[^>]*hidden', html)


def test_the_greeting_page_links_to_the_account(page_client):
    html = page_client.http.get("/hello").body.decode()
    assert '<a href="account">Account</a>' in html


def test_the_login_page_says_the_account_is_deleted(page_client):
    html = page_client.http.get("/login?notice=account-deleted").body.decode()
    assert "Your account is deleted, with everything Comm-IT stored about you." in html

