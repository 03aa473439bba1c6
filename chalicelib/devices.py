"""Who is asking: the browser and system of a request (from its User-Agent) and its IP address,
as the Security page shows them ("Chrome on Linux", 203.0.113.7).

`middleware` (registered in app.py for every route) holds the request for as long as it runs,
so what the account's activity records (chalicelib/my_security.py) names the device and IP of the
request that caused it, without every call passing them down. The User-Agent is read when
`current()` is first asked in a request, never in the many that record nothing (a cold page
compiled its 14 patterns for nothing: ~1.5 ms). Outside a request (the pipeline's Lambdas, a test
calling chalicelib directly) `current()` is UNKNOWN.

The IP is API Gateway's `requestContext.identity.sourceIp` (chalice local gives 127.0.0.1): the
address that reached AWS, never a header a client can write.
"""
from __future__ import annotations

import contextvars
import re
from typing import Any, Callable, NamedTuple

MAX_AGENT = 512  # what is read of a User-Agent; a longer one names nothing more


class Client(NamedTuple):
    device: str  # "Chrome on Linux"
    ip: str


UNKNOWN = Client("Unknown browser on an unknown system", "")


class _Asking:
    """The request being answered, and its Client once described."""

    __slots__ = ("event", "client")

    def __init__(self, event: Any = None, client: Client | None = None) -> None:
        self.event, self.client = event, client


_current: contextvars.ContextVar[_Asking | None] = contextvars.ContextVar("asking", default=None)

# First match wins: Edge and Opera say "Chrome" too, Chrome says "Safari" too.
_BROWSERS = (
    ("Edge", r"\bEdg(e|A|iOS)?/"), ("Opera", r"\bOPR/|\bOpera\b"),
    ("Samsung Internet", r"\bSamsungBrowser/"), ("Firefox", r"\bFirefox/|\bFxiOS/"),
    ("Chrome", r"\bChrome/|\bCriOS/|\bChromium/|HeadlessChrome/"),
    ("Safari", r"\bSafari/"), ("curl", r"^curl/"), ("Python", r"python-requests|^Python|urllib"),
)
_SYSTEMS = (
    ("Android", r"\bAndroid\b"), ("iOS", r"\biPhone|\biPad|\biPod"),
    ("ChromeOS", r"\bCrOS\b"), ("Windows", r"\bWindows\b"), ("macOS", r"\bMac OS X\b|Macintosh"),
    ("Linux", r"\bLinux\b|X11"),
)


def describe(user_agent: str) -> str:
    """A User-Agent as a person reads it: "Chrome on Linux", "Safari on iOS"."""
    agent = (user_agent or "")[:MAX_AGENT]
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, agent)), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, agent)), "")
    if not browser and not system:
        return UNKNOWN.device
    return f"{browser or 'Unknown browser'} on {system or 'an unknown system'}"


def of(event: Any) -> Client:
    """The Client of a Chalice request event (or request)."""
    headers = getattr(event, "headers", None) or {}
    identity = (getattr(event, "context", None) or {}).get("identity") or {}
    return Client(describe(str(headers.get("user-agent") or "")),
                  str(identity.get("sourceIp") or ""))


def current() -> Client:
    asking = _current.get()
    if asking is None:
        return UNKNOWN
    if asking.client is None:
        asking.client = of(asking.event)
    return asking.client


def middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    token = _current.set(_Asking(event))
    try:
        return get_response(event)
    finally:
        _current.reset(token)


def asking(client: Client) -> Any:
    """A context manager under which `current()` is `client` (tests, and code outside a route)."""
    import contextlib

    @contextlib.contextmanager
    def scope() -> Any:
        token = _current.set(_Asking(client=client))
        try:
            yield client
        finally:
            _current.reset(token)

    return scope()
