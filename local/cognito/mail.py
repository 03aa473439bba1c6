"""What the local Cognito emails, and how it says where: the one home of the codes'
generator, their check, the subjects and the masked address (local/cognito/codes.py
and local/cognito/attributes.py both send codes)."""
from __future__ import annotations

import secrets

VERIFY_SUBJECT = "Your Comm-IT verification code"
RESET_SUBJECT = "Your Comm-IT password reset code"
WRONG_CODE = "Invalid verification code provided, please try again."


def new_code() -> str:
    """A 6-digit code, like Cognito's."""
    return f"{secrets.randbelow(1_000_000):06d}"


def codes_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and secrets.compare_digest(expected or "", given or "")


def delivery(address: str) -> dict[str, str]:
    """CodeDeliveryDetails as Cognito answers them: the address masked (a***@example.com)."""
    masked = f"{address[:1]}***@{address.split('@')[-1]}" if "@" in address else "***"
    return {"Destination": masked, "DeliveryMedium": "EMAIL", "AttributeName": "email"}
