"""The HTML pages: rendered from templates/, escaped, safe headers, working
behind API Gateway's stage prefix as well as at the root locally."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib import pages
from tests.helpers import app_paths_first_segments, page_paths

# The heading each page shows. Which pages exist is read from app.routes (page_paths):
# a new page fails these tests until its heading is added here.
PAGES = {
    "/": "Welcome to Comm-IT",
    "/signup": "Create your account",
    "/confirm": "Verify your email",
    "/login": "Log in",
    "/forgot": "Forgot your password?",
    "/reset": "Choose a new password",
    "/hello": "Loading your greeting",
    "/account": "Profile",
    "/account/security": "Security",
    "/account/data": "Your data",
    "/how-it-works": "How it works",
}


@pytest.mark.parametrize("path", page_paths())
def test_every_page_renders_from_its_template_with_the_shared_layout(client, path):
    assert path in PAGES, f"{path} is a page: add its heading to PAGES"
    heading = PAGES[path]
    response = client.http.get(path)
    html = response.body.decode()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert heading in html
    assert '<a class="brand" href="./">Comm-IT</a>' in html  # layout.html
    assert 'role="alert"' in html  # where errors appear
    assert '<meta name="viewport"' in html  # readable on a phone


def test_every_heading_listed_belongs_to_a_page_of_the_app():
    assert sorted(PAGES) == page_paths()


@pytest.mark.parametrize("path", page_paths())
def test_pages_send_a_strict_content_security_policy_with_a_fresh_nonce(client, path):
    first, second = client.http.get(path), client.http.get(path)
    policy = first.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'<script nonce="{nonce}">' in first.body.decode()
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert second.headers["Content-Security-Policy"] != policy
    assert first.headers["X-Content-Type-Options"] == "nosniff"


def test_every_page_inlines_the_stylesheet_and_its_scripts_as_they_are_under_its_nonce(client):
    """templates/style.css and the page's files of templates/js/, byte for byte (inlined, never
    parsed as templates: the cold page's Jinja compile), inside the elements the page's nonce
    allows: the shared files first, in one strict function scope, the page's start last."""
    style = (Path(pages.TEMPLATES_DIR) / "style.css").read_text().removesuffix("\n")
    shared = [(Path(pages.TEMPLATES_DIR) / "js" / name).read_text().removesuffix("\n")
              for name in pages.SHARED_SCRIPTS]
    for path in page_paths():
        response = client.http.get(path)
        html = response.body.decode()
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
        assert f'<style nonce="{nonce}">{style}</style>' in html, path
        assert html.count("<script") == 1, path
        script = html[html.index(f'<script nonce="{nonce}">'):html.index("</script>")]
        assert script.startswith(f'<script nonce="{nonce}">(function () {{\n"use strict";\n'
                                 + "\n".join(shared)), path
        assert script.endswith("\nstart();\n})();"), path


def test_each_script_file_is_used_by_a_page_and_none_could_close_its_element():
    used = {name for template in Path(pages.TEMPLATES_DIR).glob("*.html")
            for call in re.findall(r"script\(([^)]*)\)", template.read_text())
            for name in re.findall(r'"([\w.]+)"', call)}
    files = {path.name for path in (Path(pages.TEMPLATES_DIR) / "js").glob("*.js")}
    assert files == used | set(pages.SHARED_SCRIPTS)
    for name in files:
        assert "</script" not in (Path(pages.TEMPLATES_DIR) / "js" / name).read_text().lower(), name


def test_forms_have_the_labelled_fields_and_buttons_of_the_journey(client):
    signup = client.http.get("/signup").body.decode()
    for label in ("Name", "Email", "Username", "Password"):
        assert f">{label}</label>" in signup
    assert ">Sign up</button>" in signup
    confirm = client.http.get("/confirm").body.decode()
    assert ">Verification code</label>" in confirm and ">Verify</button>" in confirm
    assert ">Resend code</button>" in confirm
    assert ">Log in</button>" in client.http.get("/login").body.decode()
    assert ">Send reset code</button>" in client.http.get("/forgot").body.decode()
    # Forgot and reset take a username or an email address; the login keeps its label.
    assert ">Username or email</label>" in client.http.get("/forgot").body.decode()
    assert ">Username or email</label>" in client.http.get("/reset").body.decode()
    assert ">Username</label>" in client.http.get("/login").body.decode()
    reset = client.http.get("/reset").body.decode()
    assert ">New password</label>" in reset and ">Reset password</button>" in reset
    assert ">Log out</button>" in client.http.get("/hello").body.decode()


def test_the_username_from_the_query_is_prefilled_and_escaped(client):
    html = client.http.get('/confirm?username=%22%3E%3Cscript%3Ex%3C/script%3E').body.decode()
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert "<script>x</script>" not in html


def test_notices_come_from_a_fixed_list_and_never_reflect_query_text(client):
    verified = client.http.get("/login?notice=verified").body.decode()
    assert pages.NOTICES["verified"] in verified
    forged = client.http.get("/login?notice=%3Cb%3Eowned%3C/b%3E").body.decode()
    assert "owned" not in forged and 'class="notice"' not in forged


def test_links_are_relative_to_the_base_so_pages_work_behind_a_stage_prefix():
    class Request:
        path = "/signup"
        context = {"path": "/api/signup"}
        query_params = None

    assert pages.base_href(Request) == "/api/"
    Request.path, Request.context = "/", {"path": "/api/"}
    assert pages.base_href(Request) == "/api/"
    Request.path, Request.context = "/login", {}
    assert pages.base_href(Request) == "/"  # chalice local: no prefix


def test_pages_use_no_absolute_app_paths_that_would_miss_the_stage_prefix():
    segments = app_paths_first_segments()  # "api", "login", ...: read from app.routes
    assert {"api", "login"} <= segments
    absolute = re.compile(r'["\']/(%s)\b' % "|".join(sorted(segments)))
    for template in (p for p in Path(pages.TEMPLATES_DIR).rglob("*") if p.is_file()):
        text = template.read_text()
        assert not re.search(r'(href|action)="/(?!/)', text), template.name
        assert not absolute.search(text), template.name


def test_the_greeting_template_escapes_the_name():
    html = pages.render("greeting.html", name="<img src=x onerror=alert(1)>")
    assert "Hello, &lt;img src=x onerror=alert(1)&gt;" in html


# --- the account page (/account): a public shell like /hello (its script calls the guarded
# API), with the fields and buttons the account flows name, linked from /hello ---

def labels(html: str) -> dict[str, str]:
    """label text -> the id of the control it names."""
    return {re.sub(r"\s+", " ", text).strip(): target
            for target, text in re.findall(r'<label for="([^"]+)">([^<]+)</label>', html)}


ACCOUNT_PAGES = {  # page -> (its labels, its buttons)
    "/account": (("Name", "Email", "Verification code"),
                 ("Save name", "Save email", "Verify email")),
    "/account/security": (("Current password", "New password", "Your password", "Password"),
                          ("Change password", "Set up two-step verification",
                           "Log out everywhere", "Delete account", "Delete my account")),
    "/account/data": (("File",), ("Upload", "Download all my data", "Check my access")),
}


def buttons(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", b).strip()
            for b in re.findall(r"<button[^>]*>([^<]+)</button>", html)]


@pytest.mark.parametrize("path", sorted(ACCOUNT_PAGES))
def test_each_account_page_has_the_account_navigation_and_the_fields_and_buttons_the_flows_name(
        client, path):
    response = client.http.get(path)
    html = response.body.decode()
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert f"<h1>{PAGES[path]}</h1>" in html
    nav = re.search(r'<nav class="account-nav" aria-label="Account">(.*?)</nav>', html, re.S)[1]
    links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav)
    assert [(href, text) for href, _, text in links] == [
        ("account", "Profile"), ("account/security", "Security"), ("account/data", "Your data")]
    assert [href for href, current, _ in links if current] == [path.lstrip("/")]
    found = labels(html)
    wanted_labels, wanted_buttons = ACCOUNT_PAGES[path]
    for label in wanted_labels:
        assert re.search(rf'id="{found[label]}"', html), label
    for button in (*wanted_buttons, "Log out"):
        assert button in buttons(html), button
    # Each form's section says its own news and errors.
    for section in re.findall(r"<section.*?</section>", html, re.S):
        if "<form" in section:
            assert 'role="status"' in section and 'role="alert"' in section, section[:80]


def test_the_confirmation_and_the_code_field_wait_until_they_are_asked_for(client):
    assert re.search(r'<form id="delete-form"[^>]*hidden',
                     client.http.get("/account/security").body.decode())
    assert re.search(r'<form id="verify-form"[^>]*hidden',
                     client.http.get("/account").body.decode())


def test_the_password_rules_on_the_pages_are_the_user_pools(client):
    """The rules the pages tick off (chalicelib/cognito.py) are the PasswordPolicy Cognito
    checks (infra/template.yaml)."""
    from chalicelib import cognito
    from infra.template import load

    [pool] = [r for r in load()["Resources"].values() if r["Type"] == "AWS::Cognito::UserPool"]
    policy = pool["Properties"]["Policies"]["PasswordPolicy"]
    rules = dict(cognito.PASSWORD_RULES)
    expected = {f"At least {policy['MinimumLength']} characters":
                rf"^[\s\S]{{{policy['MinimumLength']},}}$"}
    for setting, text, pattern in (("RequireLowercase", "A lower-case letter", "[a-z]"),
                                   ("RequireUppercase", "An upper-case letter", "[A-Z]"),
                                   ("RequireNumbers", "A number", "[0-9]")):
        if policy[setting]:
            expected[text] = pattern
    assert not policy["RequireSymbols"]
    assert rules == expected
    for path in ("/signup", "/reset", "/account/security"):
        html = client.http.get(path).body.decode()
        listed = re.findall(r'<li data-pattern="([^"]+)" data-met="false">([^<]+)<', html)
        assert [(text, pattern.replace("&#92;", "\\")) for pattern, text in listed] == list(
            cognito.PASSWORD_RULES), path


def test_the_greeting_page_links_to_the_account(client):
    html = client.http.get("/hello").body.decode()
    assert '<a href="account">Account</a>' in html
    assert re.search(r'<span class="nav-group" data-signed-out hidden>', html)


def test_the_login_page_says_the_account_is_deleted(client):
    html = client.http.get("/login?notice=account-deleted").body.decode()
    assert "Your account is deleted, with everything Comm-IT stored about you." in html

