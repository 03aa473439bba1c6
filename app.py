"""Comm-IT: every route and every Lambda of the app, at a glance.

Handlers only translate HTTP into calls of chalicelib/, which owns the logic.
"""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Chalice, CognitoUserPoolAuthorizer, Response

from chalicelib import (account, changes, cognito_credentials, cognito_sign_in, devices,
                        email_sign_in, ended_sessions, greeting, guard, inputs, lambdas, login,
                        logs, my_access, my_data, my_data_export, my_files, pages, passkeys,
                        pipeline, session_cookie, two_step)
from chalicelib.config import APP_NAME, deploy_value
from chalicelib.errors import json_errors, json_response
from chalicelib.headers import security_headers

app = Chalice(app_name=APP_NAME)
# Outermost first: every log line carries the request or event id, every answer gets the
# security headers, every error the JSON shape, every oversized body a 413 (per route:
# inputs.max_body), and guarded routes a token check; the account's activity names the
# asking device and IP (devices).
app.register_middleware(logs.middleware, "all")
app.register_middleware(devices.middleware, "http")
app.register_middleware(security_headers, "http")
app.register_middleware(json_errors, "http")
app.register_middleware(inputs.body_limit(app), "http")
app.register_middleware(guard.guard(app), "http")

user_pool = CognitoUserPoolAuthorizer(
    "CommItUserPool", provider_arns=[deploy_value("USER_POOL_ARN")])


def _body(*fields: str) -> dict:
    """The request body's fields, as keyword arguments of chalicelib ("accessToken" ->
    access_token): every body reaches chalicelib/ as `**_body(...)`."""
    return inputs.arguments(app.current_request.raw_body, *fields)


def _ok(body: dict | None = None, status: int = 200) -> Response:
    return json_response(status, body or {"ok": True})


def _session(tokens: dict) -> Response:
    """An answer with a new session's tokens: the page's refresh token goes in its cookie."""
    return session_cookie.signed_in(app.current_request, tokens)


# --- Pages (public shells; the data behind /hello needs a token) ----------------

@app.route("/")
def home():
    return pages.page("index.html", app.current_request)


@app.route("/signup")
def signup_page():
    return pages.page("signup.html", app.current_request)


@app.route("/confirm")
def confirm_page():
    return pages.page("confirm.html", app.current_request)


@app.route("/login")
def login_page():
    return pages.page("login.html", app.current_request, email_codes=email_sign_in.offered(),
                      passkeys=passkeys.offered())


@app.route("/forgot")
def forgot_page():
    return pages.page("forgot.html", app.current_request)


@app.route("/reset")
def reset_page():
    return pages.page("reset.html", app.current_request)


@app.route("/hello")
def hello_page():
    return pages.page("hello.html", app.current_request)


@app.route("/account")
def account_page():
    return pages.page("account.html", app.current_request)


@app.route("/account/security")
def account_security_page():
    return pages.page("account_security.html", app.current_request, passkeys=passkeys.offered())


@app.route("/account/data")
def account_data_page():
    return pages.page("account_data.html", app.current_request)


@app.route("/how-it-works")
def how_it_works_page():
    return pages.page("how_it_works.html", app.current_request)


# --- Account API -------------------------------------------------------------------

@app.route("/api/auth/signup", methods=["POST"])
def sign_up():
    return _ok(cognito_sign_in.sign_up(**_body("name", "email", "username", "password")), 201)


@app.route("/api/auth/confirm", methods=["POST"])
def confirm():
    cognito_sign_in.confirm(**_body("username", "code"))
    return _ok()


@app.route("/api/auth/resend", methods=["POST"])
def resend():
    cognito_sign_in.resend(**_body("username"))
    return _ok()


@app.route("/api/auth/login", methods=["POST"])
def log_in():
    # The page's own call gets its refresh token as an HttpOnly cookie (session_cookie).
    return _session(login.authenticate(**_body("username", "password")))


@app.route("/api/auth/login/code", methods=["POST"])
def log_in_with_code():
    return _session(login.answer_challenge(**_body("username", "session", "appCode")))


@app.route("/api/auth/email-code", methods=["POST"])
def email_sign_in_code():
    return _ok(email_sign_in.send_code(**_body("username")))


@app.route("/api/auth/login/email-code", methods=["POST"])
def log_in_with_email_code():
    return _session(email_sign_in.log_in(**_body("username", "signInCode")))


@app.route("/api/auth/passkey", methods=["POST"])
def passkey_sign_in_options():
    return _ok(passkeys.begin(**_body("username")))


@app.route("/api/auth/login/passkey", methods=["POST"])
def log_in_with_passkey():
    return _session(passkeys.log_in(**_body("username", "credential")))


@app.route("/api/auth/login/recovery", methods=["POST"])
def log_in_with_recovery_code():
    fields = _body("username", "session", "password", "recoveryCode")
    return _session(login.answer_with_recovery_code(**fields))


@app.route("/api/auth/refresh", methods=["POST"])
def refresh():
    tokens = login.refresh(session_cookie.refresh_token(app.current_request))
    return session_cookie.renewed(app.current_request, tokens)


@app.route("/api/auth/logout", methods=["POST"])
def log_out():
    session_cookie.log_out(app.current_request)
    # The ID token the page sends with it stops reaching files and credentials at once.
    ended_sessions.end_one(guard.claims_if_signed_in(app.current_request))
    return session_cookie.signed_out(app.current_request)


@app.route("/api/auth/forgot", methods=["POST"])
def forgot_password():
    cognito_sign_in.forgot_password(**_body("username"))
    return _ok()


@app.route("/api/auth/reset", methods=["POST"])
def reset_password():
    cognito_sign_in.reset_password(**_body("username", "code", "password"))
    return _ok()


# --- Guarded API: a valid Cognito ID token or 401 ------------------------------------

@app.route("/api/auth/credentials", methods=["POST"], authorizer=user_pool)
def aws_credentials():
    return _ok(cognito_credentials.aws_credentials(guard.id_token(app.current_request)).as_json())


@app.route("/api/greeting", authorizer=user_pool)
def get_greeting():
    return greeting.as_json(guard.claims(app.current_request))


@app.route("/api/greeting/card", authorizer=user_pool)
def get_greeting_card():
    return greeting.as_html(guard.claims(app.current_request))


# --- Your account: guarded; the user-pool calls take the access token from the body ---

def _claims() -> dict:
    return guard.claims(app.current_request)


@app.route("/api/account", authorizer=user_pool)
def get_account():
    return _ok(account.overview(_claims(), guard.id_token(app.current_request)))


@app.route("/api/account/name", methods=["POST"], authorizer=user_pool)
def change_name():
    return _ok(account.change_name(_claims(), **_body("accessToken", "name")))


@app.route("/api/account/changes/{event_id}", authorizer=user_pool)
def my_change(event_id):
    return _ok(changes.journey(_me(), unquote(event_id)))


@app.route("/api/account/email", methods=["POST"], authorizer=user_pool)
def change_email():
    return _ok(account.change_email(_claims(), **_body("accessToken", "email")))


@app.route("/api/account/email/verify", methods=["POST"], authorizer=user_pool)
def verify_email():
    return _ok(account.verify_email(_claims(), **_body("accessToken", "code")))


@app.route("/api/account/password", methods=["POST"], authorizer=user_pool)
def change_password():
    fields = _body("accessToken", "currentPassword", "newPassword")
    return _session(account.change_password(_claims(), **fields))


@app.route("/api/account/security", authorizer=user_pool)
def my_security():
    return _ok(account.security(_claims()))


@app.route("/api/account/sessions/sign-out", methods=["POST"], authorizer=user_pool)
def sign_out_session():
    return _ok(account.sign_out_session(_claims(), **_body("accessToken", "sessionId")))


@app.route("/api/account/logout-everywhere", methods=["POST"], authorizer=user_pool)
def log_out_everywhere():
    account.log_out_everywhere(_claims(), **_body("accessToken"))
    return session_cookie.signed_out(app.current_request)


@app.route("/api/account", methods=["DELETE"], authorizer=user_pool)
def delete_account():
    account.delete(_claims(), id_token=guard.id_token(app.current_request),
                   **_body("accessToken", "password"))
    return session_cookie.signed_out(app.current_request)


@app.route("/api/account/two-step", methods=["POST"], authorizer=user_pool)
def two_step_status():
    return _ok(two_step.status(_claims(), **_body("accessToken")))


@app.route("/api/account/two-step/setup", methods=["POST"], authorizer=user_pool)
def two_step_set_up():
    return _ok(two_step.set_up(_claims(), **_body("accessToken", "password")))


@app.route("/api/account/two-step/on", methods=["POST"], authorizer=user_pool)
def two_step_on():
    return _ok(two_step.turn_on(_claims(), **_body("accessToken", "appCode")))


@app.route("/api/account/two-step/off", methods=["POST"], authorizer=user_pool)
def two_step_off():
    return _ok(two_step.turn_off(_claims(), **_body("accessToken", "appCode")))


@app.route("/api/account/two-step/recovery-codes", methods=["POST"], authorizer=user_pool)
def new_recovery_codes():
    return _ok(two_step.new_recovery_codes(_claims(), **_body("accessToken", "appCode")))


@app.route("/api/account/passkeys", methods=["POST"], authorizer=user_pool)
def list_passkeys():
    return _ok(passkeys.listing(_claims(), **_body("accessToken")))


@app.route("/api/account/passkeys/start", methods=["POST"], authorizer=user_pool)
def start_passkey():
    return _ok(passkeys.start(_claims(), **_body("accessToken")))


@app.route("/api/account/passkeys/add", methods=["POST"], authorizer=user_pool)
def add_passkey():
    return _ok(passkeys.add(_claims(), **_body("accessToken", "credential")))


@app.route("/api/account/passkeys/remove", methods=["POST"], authorizer=user_pool)
def remove_passkey():
    return _ok(passkeys.remove(_claims(), **_body("accessToken", "credentialId")))


# --- Your files: S3 signed with the person's own credentials, so IAM decides (my_files) ---

def _me() -> my_files.Person:
    request = app.current_request
    return my_files.Person(sub=guard.claims(request)["sub"], id_token=guard.id_token(request))


@app.route("/api/account/files", authorizer=user_pool)
def list_my_files():
    return _ok(my_files.listing(_me()))


@app.route("/api/account/files", methods=["POST"], authorizer=user_pool)
@inputs.max_body(inputs.MAX_UPLOAD_BODY_BYTES)  # one file of 1 MiB, in base64, in JSON
def upload_my_file():
    return _ok(my_files.upload(_me(), app.current_request.raw_body), 201)


@app.route("/api/account/files/{name}", methods=["DELETE"], authorizer=user_pool)
def delete_my_file(name):
    # API Gateway (REST) and chalice local both pass path parameters still %-encoded.
    my_files.delete(_me(), unquote(name))
    return _ok()


@app.route("/api/account/profile-document", authorizer=user_pool)
def my_profile_document():
    return _ok(my_files.profile_document(_me()))


# --- Your data in AWS: every place, one ZIP, your access proven (my_data, my_access) -------

@app.route("/api/account/data", methods=["POST"], authorizer=user_pool)
def my_data_places():
    return _ok(my_data.places(_me(), **_body("accessToken")))


@app.route("/api/account/data/export", methods=["POST"], authorizer=user_pool)
def export_my_data():
    return _ok(my_data_export.export(_me(), **_body("accessToken")))


@app.route("/api/account/access-check", methods=["POST"], authorizer=user_pool)
def check_my_access():
    return _ok(my_access.check(_me()))


# --- The pipeline: Lambdas fed by SQS (fan-out of the login event) and the table stream ---

@app.on_sqs_message(queue=deploy_value("PROFILE_QUEUE_NAME"), batch_size=10, maximum_concurrency=5,
                    name=lambdas.SAVE_PROFILE)
def save_profile(event):
    """User events -> the user's record in DynamoDB (a tombstone once deleted)."""
    return pipeline.save_profiles(event)


@app.on_sqs_message(queue=deploy_value("ARCHIVE_QUEUE_NAME"), batch_size=10, maximum_concurrency=5,
                    name=lambdas.ARCHIVE_PROFILE)
def archive_profile(event):
    """User events -> the user's JSON document in S3 (everything under users/<sub>/ goes
    when the account is deleted)."""
    return pipeline.archive_profiles(event)


@app.on_dynamodb_record(stream_arn=deploy_value("USERS_TABLE_STREAM_ARN"), batch_size=10,
                       starting_position="TRIM_HORIZON", name=lambdas.SYNC_NAME)
def sync_name(event):
    """Users table changed -> the user's name in Parameter Store (removed with the account)."""
    return pipeline.sync_names(event)


@app.on_sqs_message(queue=deploy_value("QUOTA_QUEUE_NAME"), batch_size=10, maximum_concurrency=5,
                    name=lambdas.ENFORCE_QUOTA)
def enforce_quota(event):
    """Objects created in the users bucket -> a file past the size or count limit goes, every
    version (written around the app too, e.g. with the AWS CLI and the person's credentials)."""
    return pipeline.enforce_quotas(event)


@app.on_sqs_message(queue=deploy_value("SIGN_IN_QUEUE_NAME"), batch_size=10, maximum_concurrency=5,
                    name=lambdas.RECORD_SIGN_IN)
def record_sign_in(event):
    """Log-ins (user events of that type only) -> the session, `Signed in` and `New device` on
    the person's Security page, off the log-in's path (chalicelib/sign_ins.py)."""
    return pipeline.record_sign_ins(event)
