"""The passkeys' relying party: the site's host, which `make deploy` knows only once
`chalice deploy` has made the REST API.

infra/template.yaml's `PasskeyRelyingPartyId` parameter (empty: no passkeys) becomes the
user pool's WebAuthnRelyingPartyID, and its `Passkeys` output the functions' PASSKEYS
variable. After `chalice deploy` the stage's host is `<api id>.execute-api.<region>.<suffix>`
(Chalice's record): `make deploy` gives the stack that host when it has none, or the host of
an API that is gone (re-created), and deploys the functions again only if that changed an
output. A value the deployer gave (PASSKEY_RP_ID, a custom domain) wins and is kept by every
later deploy; so is one found in the stack that is not an API Gateway host.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Callable
from urllib.parse import urlsplit

from infra.errors import DeployError

PARAMETER = "PasskeyRelyingPartyId"  # the template's parameter
OUTPUT = "Passkeys"  # the template's output: "on" when the pool has a relying party
MAX_LENGTH = 63  # CloudFormation's WebAuthnRelyingPartyID (AWS::Cognito::UserPool)
# The host API Gateway gives a REST API: what `make deploy` set, never a deployer's choice.
_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.[a-z0-9-]+\.[a-z0-9.-]+$")
_HOST = re.compile(r"^(?=.{1,63}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def check_given(value: str | None) -> None:
    """A deployer's PASSKEY_RP_ID is a host name (WebAuthn refuses an IP address), refused
    before anything is changed."""
    if value is None:
        return
    try:
        ipaddress.ip_address(value)
        is_ip = True
    except ValueError:
        is_ip = False
    if is_ip or not _HOST.match(value):
        raise DeployError(
            f"PASSKEY_RP_ID={value!r}: give the site's host name alone, in lower case, at "
            f"most {MAX_LENGTH} characters (e.g. example.com; no https://, path or port; "
            "WebAuthn refuses an IP address). Nothing was changed.")


def host(url: str) -> str:
    """The host of the stage's URL (Chalice's rest_api_url)."""
    return urlsplit(url).hostname or ""


def wanted(current: str, given: str | None, api_host: str) -> str:
    """The relying party the stack should have: the deployer's, else one the stack has that
    is not an API Gateway host (a custom domain given earlier), else the API's host."""
    if given:
        return given
    if current and not _API_HOST.match(current):
        return current
    return api_host


def settle(current: str | None, given: str | None, api_host: str,
           update: Callable[[str], None], say: Callable[[str], None]) -> bool:
    """Give the stack its relying party (`update(value)`, an update of the stack with only
    that parameter changed) when it lacks it; say what was found or done. True when the
    stack was updated. `current` None: the stack has no such parameter (left alone)."""
    if current is None:
        say(f"Passkeys: the stack has no {PARAMETER} parameter; left as it is.")
        return False
    value = wanted(current, given, api_host)
    if value == current:
        how = ("given (PASSKEY_RP_ID)" if given else
               "the API's host" if value == api_host else
               "a custom domain, kept (PASSKEY_RP_ID=<host> changes it)")
        say(f"Passkeys: relying party {value}, {how}: the stack has it already.")
        return False
    say(f"Passkeys: relying party {value} ({'given' if given else 'the API host'}; the stack "
        f"has {current or 'none'}): updating the stack's {PARAMETER}, every other "
        "parameter as it is.")
    update(value)
    return True
