"""The identity pool's DescribeIdentity and DeleteIdentities in the local AWS, as AWS
documents them.

moto 5.2.5's cognito-identity has neither (its server answers NotImplemented).
Over the identities local/iam/identity_pool.py keeps (one per pool, provider and user
pool `sub`), following the Cognito Identity API reference:

- DescribeIdentity {IdentityId} -> {IdentityId, Logins: [provider names],
  CreationDate, LastModifiedDate} (epoch seconds); an identity that does not exist
  (never made, or deleted) is ResourceNotFoundException.
- DeleteIdentities {IdentityIdsToDelete: 1-60 ids} -> {UnprocessedIdentityIds: []}:
  each identity is gone (DescribeIdentity and GetCredentialsForIdentity answer
  ResourceNotFoundException), and the same user's next GetId makes a new identity
  id, as in AWS. An id that is not (or no longer) there is no error. Ids that break
  the documented constraints (pattern `[\\w-]+:[0-9a-f-]+`, at most 55 characters,
  1-60 of them) are InvalidParameterException.

Installed by local/iam/__init__.py after identity_pool.py (its GetId wraps that one);
its patches are listed in local/moto_patches/.
"""
from __future__ import annotations

import json
import re
from typing import Any

from local import moto_patches
from local.server import clock
from local.iam import identity_pool

MAX_IDS = 60  # DeleteIdentities: "A list of 1-60 identities"
IDENTITY_ID = re.compile(r"[\w-]+:[0-9a-f-]+")


def install() -> None:
    from moto.cognitoidentity.responses import CognitoIdentityResponse

    if moto_patches.is_applied(CognitoIdentityResponse, "get_id", by=__name__):
        return

    def get_id(self: Any) -> str:
        answer = original_get_id(self)
        identity_id = json.loads(answer).get("IdentityId", "")
        dates = _dates(identity_pool._identity_backend(self.current_account, identity_id))
        with identity_pool._LOCK:  # when it was made: the first GetId that returned it
            dates.setdefault(identity_id, clock.now())
        return answer

    original_get_id = moto_patches.replace(CognitoIdentityResponse, "get_id", get_id, by=__name__)
    moto_patches.replace(CognitoIdentityResponse, "describe_identity", _describe_identity,
                         by=__name__)
    moto_patches.replace(CognitoIdentityResponse, "delete_identities", _delete_identities,
                         by=__name__)


def _dates(backend: Any) -> dict[str, float]:
    # In the identity pool's state on the moto backend: reset and saved with it. Call it
    # outside identity_pool._LOCK (_state takes that lock, which is not reentrant).
    state = identity_pool._state(backend)
    with identity_pool._LOCK:
        return state.setdefault("created", {})


def _invalid(message: str) -> Exception:
    return identity_pool._cognito_error("InvalidParameterException", message)


def _check(identity_id: Any) -> str:
    if not isinstance(identity_id, str) or not 1 <= len(identity_id) <= 55 \
            or not IDENTITY_ID.fullmatch(identity_id):
        raise _invalid(f"1 validation error detected: Value '{identity_id}' at 'identityId' "
                       "failed to satisfy constraint: Member must satisfy regular expression "
                       "pattern: [\\w-]+:[0-9a-f-]+")
    return identity_id


def _describe_identity(self: Any) -> str:
    from moto.cognitoidentity.exceptions import ResourceNotFoundError

    identity_id = _check(self._get_param("IdentityId"))
    backend = identity_pool._identity_backend(self.current_account, identity_id)
    state, dates = identity_pool._state(backend), _dates(backend)
    with identity_pool._LOCK:
        key = state["by_id"].get(identity_id)
        created = dates.get(identity_id, clock.now())
    if key is None:
        raise ResourceNotFoundError(f"Identity '{identity_id}' not found.")
    _, provider, _ = key
    return json.dumps({"IdentityId": identity_id, "Logins": [provider],
                       "CreationDate": created, "LastModifiedDate": created})


def _delete_identities(self: Any) -> str:
    ids = self._get_param("IdentityIdsToDelete")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_IDS:
        raise _invalid(f"IdentityIdsToDelete must list 1 to {MAX_IDS} identity ids.")
    for identity_id in ids:
        _check(identity_id)
    for identity_id in ids:
        backend = identity_pool._identity_backend(self.current_account, identity_id)
        state, dates = identity_pool._state(backend), _dates(backend)
        with identity_pool._LOCK:
            key = state["by_id"].pop(identity_id, None)
            dates.pop(identity_id, None)
            if key is None:
                continue  # not there: nothing to do, and no error
            state["identities"].pop(key, None)
            listed = backend.pools_identities.get(key[0], {}).get("Identities", [])
            listed[:] = [i for i in listed
                         if not (isinstance(i, dict) and i.get("IdentityId") == identity_id)]
    return json.dumps({"UnprocessedIdentityIds": []})
