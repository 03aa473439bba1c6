"""A passkey for the throwaway person, made by a software authenticator
(infra/smoke/soft_authenticator.py): added through the Security page's calls, used to log in,
removed. SKIP where the stage has no relying party (PasskeyRelyingPartyId, docs/deploy.md)."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from infra.smoke import app_api
from infra.smoke.outcomes import Failed, Skipped
from infra.smoke.state import Run


def passkey(run: Run) -> str:
    from infra.smoke.soft_authenticator import SoftAuthenticator

    if run.target.env.get("PASSKEYS") != "on":
        raise Skipped("the stage has no passkey relying party (PasskeyRelyingPartyId is empty: "
                      "docs/deploy.md)")
    device = SoftAuthenticator()

    def call(path: str, body: dict, signed_in: bool = True) -> dict:
        if signed_in:
            body = {"accessToken": run.tokens["accessToken"], **body}
        status, answer = app_api.http(run.target, "POST", path, body,
                                      token=run.tokens["idToken"] if signed_in else "")
        if status != 200 or not isinstance(answer, dict):
            raise Failed(f"POST {path} answered {status} {answer}")
        return answer

    options = call("/api/account/passkeys/start", {})["options"]
    rp_id = options["rp"]["id"]
    # The page's origin under the relying party's name (locally localhost, not 127.0.0.1).
    app = urlsplit(run.target.app_url)
    origin = f"{app.scheme}://{rp_id}" + (f":{app.port}" if app.port else "")
    created = device.create(options, origin)
    [added] = call("/api/account/passkeys/add", {"credential": json.dumps(created)})["passkeys"]
    request = call("/api/auth/passkey", {"username": run.username}, signed_in=False)["options"]
    tokens = call("/api/auth/login/passkey", {"username": run.username, "credential": json.dumps(
        device.get(request, origin))}, signed_in=False)
    if app_api.claims_of(tokens["idToken"]).get("sub") != run.sub:
        raise Failed("the passkey's log-in gave tokens of another person")
    left = call("/api/account/passkeys/remove", {"credentialId": added["id"]})["passkeys"]
    if left:
        raise Failed(f"the passkey removed is still listed: {left}")
    return (f"a passkey for relying party {rp_id} added, used to log in ({origin}), removed")
