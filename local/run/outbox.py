"""The console outbox: every email Cognito would send, printed on one line.

Like Django's console email backend: a person running `make run` reads the
verification code off the console; tests read it from `messages`. Each email is
one whole console line, its text escaped (local/run/console.py).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TextIO

from local.run import console


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
        # One write, escaped: the address is whatever reached Cognito (the local AWS can
        # be called directly, past the app's checks).
        console.say(f'[outbox] email to={to} subject="{subject}" code={code}', self._stream)

    def last_code(self, to: str) -> str:
        with self._lock:
            for email in reversed(self.messages):
                if email.to.casefold() == to.casefold():  # addresses are stored in lower case
                    return email.code
        raise LookupError(f"no email to {to}")
