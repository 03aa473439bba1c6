"""A smoke run's state: the stage, the throwaway person, and what the checks learnt of them
(a check that needs the person's sub or credentials runs only once an earlier one gave them)."""
from __future__ import annotations

import secrets

from infra.smoke.targets import Target

WAIT_SECONDS = 90.0  # the pipeline in AWS: SQS polling, a cold start or two, the stream


class Run:
    def __init__(self, target: Target, wait_seconds: float = WAIT_SECONDS) -> None:
        self.target = target
        self.wait_seconds = wait_seconds
        token = secrets.token_hex(5)
        self.username = f"smoke-{token}"
        self.email = f"smoke-{token}@example.com"
        self.name = f"Smoke Test {token}"
        self.password = f"Sm0ke-{secrets.token_urlsafe(12)}-aA1"
        self.decoy_sub = f"smoke-other-{token}"  # another person's key, never a real sub
        # what the checks learn, in order
        self.created = False
        self.tokens: dict[str, str] = {}
        self.sub = ""
        self.credentials: dict[str, str] = {}
        self.deleted = False
