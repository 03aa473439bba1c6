"""The asking device as the Security page names it (chalicelib/devices.py): the browser and
system of common User-Agents, something readable for the rest, and the IP API Gateway saw."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib import devices

AGENTS = {
    "Chrome on Linux": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/131.0.0.0 Safari/537.36",
    "Chrome on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                         "like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Edge on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                       "Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Firefox on macOS": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 "
                        "Firefox/133.0",
    "Safari on iOS": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                     "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Chrome on Android": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Samsung Internet on Android": "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 "
                                  "(KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 "
                                  "Mobile Safari/537.36",
    "Opera on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                        "Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
    "Chrome on Linux (headless)": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, "
                                  "like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
    "curl on an unknown system": "curl/8.5.0",
    "Python on an unknown system": "python-requests/2.32.3",
}


@pytest.mark.parametrize("expected", sorted(AGENTS))
def test_a_common_user_agent_is_named_by_browser_and_system(expected):
    assert devices.describe(AGENTS[expected]) == expected.replace(" (headless)", "")


@pytest.mark.parametrize("agent", ["", "x" * 5000, "\x1b[31m", "Mozilla/5.0"])
def test_anything_else_is_an_unknown_browser_on_an_unknown_system(agent):
    assert devices.describe(agent) == devices.UNKNOWN.device


def test_the_ip_is_api_gateways_source_ip_never_a_header():
    event = SimpleNamespace(headers={"user-agent": AGENTS["Chrome on Linux"],
                                     "x-forwarded-for": "198.51.100.1"},
                            context={"identity": {"sourceIp": "203.0.113.7"}})
    assert devices.of(event) == devices.Client("Chrome on Linux", "203.0.113.7")


def test_the_middleware_holds_the_client_for_the_request_only():
    event = SimpleNamespace(headers={"user-agent": "curl/8.5.0"},
                            context={"identity": {"sourceIp": "127.0.0.1"}})
    seen = devices.middleware(event, lambda _: devices.current())
    assert seen == devices.Client("curl on an unknown system", "127.0.0.1")
    assert devices.current() == devices.UNKNOWN


class _Watched(SimpleNamespace):
    """A request event that counts how often its headers are read."""

    reads = 0

    @property
    def headers(self):
        type(self).reads += 1
        return {"user-agent": "curl/8.5.0"}


def test_a_request_that_never_asks_who_is_asking_reads_no_user_agent():
    _Watched.reads = 0
    event = _Watched(context={"identity": {"sourceIp": "127.0.0.1"}})
    assert devices.middleware(event, lambda _: "a page") == "a page"
    assert _Watched.reads == 0
    twice = devices.middleware(event, lambda _: (devices.current(), devices.current()))
    assert twice == (devices.Client("curl on an unknown system", "127.0.0.1"),) * 2
    assert _Watched.reads == 1  # described once a request
