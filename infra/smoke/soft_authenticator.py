"""A software passkey authenticator, for `make smoke` (infra/smoke/passkeys.py) and the tests
without a browser: it answers WebAuthn creation and request options (their JSON form) as a
platform authenticator would, with an ES256 key pair per passkey, "none" attestation, user
presence and verification flags, and a sign count that grows. Enough for Cognito's WebAuthn
calls (locally local/cognito/passkeys.py checks what it makes with the `webauthn` library)."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftAuthenticator:
    def __init__(self, verifies_user: bool = True) -> None:
        self.verifies_user = verifies_user
        self.keys: dict[str, tuple[ec.EllipticCurvePrivateKey, str, int]] = {}  # id -> key, rp, n

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin,
                           "crossOrigin": False}).encode()

    def _flags(self) -> int:
        return UP | (UV if self.verifies_user else 0)

    def create(self, options: dict[str, Any], origin: str, rp_id: str | None = None) -> dict:
        """The RegistrationResponseJSON for PublicKeyCredentialCreationOptionsJSON `options`."""
        rp_id = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})
        credential_id = os.urandom(16)
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags() | AT])
                     + struct.pack(">I", 0) + bytes(16) + struct.pack(">H", len(credential_id))
                     + credential_id + cose)
        self.keys[b64url(credential_id)] = (key, rp_id, 0)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(credential_id), "rawId": b64url(credential_id), "type": "public-key",
                "authenticatorAttachment": "platform", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "attestationObject": b64url(attestation),
                             "transports": ["internal"]}}

    def get(self, options: dict[str, Any], origin: str, credential_id: str | None = None,
            rp_id: str | None = None) -> dict:
        """The AuthenticationResponseJSON for PublicKeyCredentialRequestOptionsJSON `options`,
        with the passkey `credential_id` (else the first one the options allow that it has)."""
        allowed = [c["id"] for c in options.get("allowCredentials", [])]
        credential_id = credential_id or next(i for i in allowed if i in self.keys)
        key, own_rp, count = self.keys[credential_id]
        count += 1
        self.keys[credential_id] = (key, own_rp, count)
        auth_data = (hashlib.sha256((rp_id or options.get("rpId") or own_rp).encode()).digest()
                     + bytes([self._flags()]) + struct.pack(">I", count))
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = key.sign(auth_data + hashlib.sha256(client_data).digest(),
                             ec.ECDSA(hashes.SHA256()))
        return {"id": credential_id, "rawId": credential_id, "type": "public-key",
                "authenticatorAttachment": "platform", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature), "userHandle": None}}
