"""`python -m local.run.serve` (make run's app server) answers like API Gateway and holds up
under hostile and bursty clients: 404 NotFound for unknown paths, HEAD without a body,
malformed framing refused in JSON without a traceback, a real listen backlog.

The server runs as a subprocess, exactly as `make run` starts it, and is spoken to with
raw sockets where an HTTP library would hide what goes over the wire.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from chalicelib.headers import SECURITY_HEADERS
from infra import gateway
from tests.helpers import ROOT, eventually
from tests.running import connections_queued, free_port, listening

# What API Gateway answers deployed (its template has no $context variable to fill).
NOT_FOUND = json.loads(gateway.body_template("MISSING_AUTHENTICATION_TOKEN"))


class Server:
    def __init__(self, port: int, process: subprocess.Popen, out: Path, err: Path) -> None:
        self.port, self.process, self.out, self.err = port, process, out, err

    def console(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def raw(self, request: bytes, timeout: float = 10) -> bytes:
        """Send `request` as is; everything the server answers until it closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    folder = tmp_path_factory.mktemp("serve")
    out, err = folder / "stdout", folder / "stderr"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "local.run.serve", "--port", str(port)],
                                   cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=stdout, stderr=stderr)
    running = Server(port, process, out, err)

    try:
        eventually(lambda: listening(process, port, running.console), timeout=60,
                   what="python -m local.run.serve to listen")
        yield running
    finally:
        process.terminate()
        process.wait(timeout=10)


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def assert_json_error(raw: bytes, status: int, error: str) -> dict[str, str]:
    code, headers, body = parse(raw)
    assert code == status, raw[:500]
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    answer = json.loads(body)
    assert set(answer) == {"error", "message"} and answer["error"] == error, answer
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == value, (name, headers)
    return headers


# --- unknown paths --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api", "/api/auth", "/api/auth/login/extra",
                                  "/api/greetings"])
def test_an_unknown_api_path_is_404_not_found_as_deployed(server, path):
    raw = server.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert_json_error(raw, 404, "NotFound")
    assert json.loads(parse(raw)[2]) == NOT_FOUND


@pytest.mark.parametrize("path", ["/nothing-here", "/account/nothing?x=1", "/hello/there"])
def test_an_unknown_page_is_an_html_404_that_leads_home(server, path):
    """Only /api/... answers JSON: a person's address the app does not have is a page."""
    code, headers, body = parse(server.raw(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()))
    html = body.decode()
    assert code == 404 and headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Page not found</h1>" in html and '<a class="button" href="./">' in html
    assert int(headers["content-length"]) == len(body)
    nonce = re.search(r"'nonce-([^']+)'", headers["content-security-policy"])[1]
    assert f'<script nonce="{nonce}">' in html
    for name, value in SECURITY_HEADERS.items():
        if name != "Content-Security-Policy":
            assert headers[name.lower()] == value, name


def test_an_unknown_path_with_a_token_is_the_same_404_without_echoing_the_token(server):
    raw = server.raw(b"POST /api/nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret.tok.en"
                     b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    assert_json_error(raw, 404, "NotFound")
    assert b"s3cret" not in raw


def test_the_answer_to_a_preflight_carries_the_security_headers(server):
    code, headers, _ = parse(server.raw(b"OPTIONS /login HTTP/1.1\r\nHost: x\r\n"
                                        b"Connection: close\r\n\r\n"))
    assert code == 200
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == value, name


# --- methods a route lacks ----------------------------------------------------------------

@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW", "PATCH", "PUT"])
def test_a_method_a_route_lacks_is_405_with_allow_naming_the_routes_methods(server, method):
    """Every route of app.py, also for methods http.server has no handler for (RFC 9110:
    a 405 MUST carry Allow)."""
    from app import app

    for path, methods in app.routes.items():
        if method in methods:
            continue
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        raw = server.raw(f"{method} {concrete} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                         f"Connection: close\r\n\r\n".encode())
        headers = assert_json_error(raw, 405, "MethodNotAllowed")
        assert sorted(headers.get("allow", "").split(", ")) == sorted(methods), (path, headers)


def test_a_method_the_server_has_no_handler_for_is_404_on_an_unknown_path(server):
    raw = server.raw(b"BREW /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert_json_error(raw, 404, "NotFound")


# --- HEAD -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/login", "/api/greeting", "/nothing-here"])
def test_a_head_answer_has_no_body_and_the_connection_stays_usable(server, path):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("HEAD", path)
        head = connection.getresponse()
        assert head.read() == b""
        # The next answer on the same keep-alive connection parses: no stray body before it.
        connection.request("GET", "/login")
        page = connection.getresponse()
        assert page.status == 200 and b"<html" in page.read()
    finally:
        connection.close()
    raw = server.raw(f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert raw.endswith(b"\r\n\r\n"), raw  # headers only: nothing after them


# --- framing ----------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [b"Content-Length: abc", b"Content-Length: -1",
                                    b"Content-Length: 1e3", b"Content-Length: \xd9\xa1",
                                    b"Content-Length: 2\r\nContent-Length: 3"])
def test_an_unreadable_content_length_is_400_json_not_a_dropped_connection(server, header):
    raw = server.raw(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n{}")
    headers = assert_json_error(raw, 400, "BadRequest")
    assert headers["connection"] == "close"  # the body's end is unknown: close, cleanly
    assert "Traceback" not in server.console()


def test_a_chunked_body_is_411_length_required(server):
    raw = server.raw(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                     b"\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    assert_json_error(raw, 411, "LengthRequired")


def test_a_body_over_api_gateways_quota_is_413_before_it_is_read(server):
    raw = server.raw(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n"
                     b"Content-Type: application/json\r\n\r\n{")
    assert_json_error(raw, 413, "PayloadTooLarge")


@pytest.mark.parametrize("request_line,status,error", [
    (b"GARBAGE\r\n\r\n", 400, "BadRequest"),
    (b"GET / HTTP/1.1 extra\r\n\r\n", 400, "BadRequest"),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414, "URITooLong"),
])
def test_what_the_server_answers_itself_is_json_with_the_security_headers(server, request_line,
                                                                          status, error):
    assert_json_error(server.raw(request_line), status, error)


def test_control_characters_in_a_request_reach_the_console_escaped(server):
    server.raw(b"GET /\x1b[31mred\x07 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    console = eventually(lambda: (text := server.console()) and "red" in text and text,
                         what="the access log line")
    assert "\x1b" not in console and "\x07" not in console
    assert "\\x1b[31mred" in console


# --- clients that hang up ------------------------------------------------------------------

def test_a_client_that_hangs_up_before_a_large_answer_is_one_console_line_not_a_traceback(
        server):
    """A closed tab: the request arrives, the client is gone before the page is written."""
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    page = server.raw(request[:-2] + b"Connection: close\r\n\r\n")
    assert len(page) > 10_000 and page.startswith(b"HTTP/1.1 200")  # more than one write

    def hung_up() -> bool:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(request)  # and closed at once, nothing read
        return "hung up before its answer was sent" in server.console()

    eventually(hung_up, timeout=30, what="the server to notice a client that hung up")
    console = server.console()
    assert "Traceback" not in console and "BrokenPipeError:" not in console, console[-3000:]
    assert "local gateway error" not in console


# --- the listen backlog -------------------------------------------------------------------

def test_a_burst_of_connections_queues_while_the_server_is_busy_instead_of_failing(server):
    """64 people connect while the server accepts nobody (it is stopped): the kernel
    completes every connection into the listen backlog, none is dropped or reset."""
    connected = connections_queued(server.process.pid, server.port, 64)
    assert connected == 64, f"{connected} of 64 connected"
    assert eventually(lambda: server.raw(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close"
                                         b"\r\n\r\n").startswith(b"HTTP/1.1 200"),
                      what="the server to answer again")
