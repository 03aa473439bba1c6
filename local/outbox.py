"""The console outbox: every email Cognito would send, printed on one line.

Like Django's console email backend: a person running `make run` reads the
verification code off the console; tests read it from `messages`.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    code: str


class Outbox:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.messages: list[Email] = []

    def send(self, to: str, subject: str, code: str) -> None:
        email = Email(to=to, subject=subject, code=code)
        with self._lock:
            self.messages.append(email)
        stream = self._stream or sys.stdout
        print(f'[outbox] email to={to} subject="{subject}" code={code}', file=stream, flush=True)

    def last_code(self, to: str) -> str:
        with self._lock:
            for email in reversed(self.messages):
                if email.to.casefold() == to.casefold():  # addresses are stored in lower case
                    return email.code
        raise LookupError(f"no email to {to}")
