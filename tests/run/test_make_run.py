"""`make run` (`python -m local`) as a person runs it: a real process, real ports, real signals."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from local.run.ports import is_free as port_is_free
from tests.helpers import eventually
from tests.running import ROOT, RunningStack, free_port, group_pids


@pytest.fixture(scope="module")
def running():
    stack = RunningStack().start()
    yield stack
    stack.stop()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- What it prints ---------------------------------------------------------------------

def test_make_run_prints_one_app_line_and_one_aws_endpoint_line_with_the_ports_it_was_given(
        running):
    app_lines = [line for line in running.lines if line.startswith("App:")]
    aws_lines = [line for line in running.lines if line.startswith("AWS endpoint:")]
    assert app_lines == [f"App: http://127.0.0.1:{running.port}/"], running.output()
    assert aws_lines == [f"AWS endpoint: http://127.0.0.1:{running.aws_port}"], running.output()
    assert running.lines.index(app_lines[0]) < running.lines.index(aws_lines[0])
    assert not any("Traceback" in line
                   for line in running.lines + running.err_lines), running.output()


def test_make_run_prints_the_passkeys_address_under_localhost_and_the_app_answers_there(
        running):
    lines = [line for line in running.lines if line.startswith("Passkeys:")]
    assert lines == [f"Passkeys: http://localhost:{running.port}/ "
                     "(the same app, where passkeys work)"], running.output()
    status, _, body = get(f"http://localhost:{running.port}/login")
    assert status == 200
    assert b"Sign in with a passkey" in body and b"Email me a sign-in code" in body


def test_the_printed_addresses_answer(running):
    status, headers, body = get(running.app_url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"Comm-IT" in body
    # The AWS endpoint is the moto server, with the stack's user pool in it.
    status, _, body = get(f"{running.aws_endpoint}/moto-api/data.json")
    assert status == 200
    pools = json.loads(body)["cognitoidp"]["CognitoIdpUserPool"]
    assert len(pools) == 1


# --- The token guard behind the real `chalice local` ----------------------------------------

@pytest.mark.parametrize("authorization", [None, "", "garbage", "a.b.c", "Bearer garbage",
                                           "Bearer a.b.c", "x.y", "....", "e30.e30.e30"])
@pytest.mark.parametrize("route", ["api/greeting", "api/greeting/card"])
def test_a_missing_or_malformed_authorization_header_gets_a_401_json_answer(
        running, route, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    status, response_headers, body = get(running.app_url + route, headers)
    assert status == 401, body
    assert response_headers["Content-Type"].startswith("application/json")
    answer = json.loads(body)
    assert answer["error"] and answer["message"]
    assert "Traceback" not in body.decode()
    # The local gateway survived: the next request is answered too.
    assert get(running.app_url)[0] == 200


# --- Stopping ---------------------------------------------------------------------------------

def test_sigterm_to_the_process_group_stops_everything_and_frees_both_ports():
    stack = RunningStack().start()
    try:
        pids = group_pids(stack.pgid)
        assert stack.process.pid in pids
        assert len(pids) >= 2, f"expected `python -m local` and `chalice local`, found {pids}"
        # How soon is the bench's (bench/README.md, greeting.stop_s); here, that it happens.
        os.killpg(stack.pgid, signal.SIGTERM)
        stack.process.wait(timeout=60)
        assert stack.process.returncode == 0, stack.output()
        eventually(lambda: not any(alive(pid) for pid in pids), 30,
                   what=f"every process to end: {[pid for pid in pids if alive(pid)]} still alive")
        assert group_pids(stack.pgid) == []
        eventually(lambda: port_is_free(stack.port) and port_is_free(stack.aws_port), 30,
                   what="both ports to be free")
    finally:
        stack.stop()
    assert not stack.killed


def test_sigterm_to_the_parent_alone_stops_chalice_local_too():
    stack = RunningStack().start()
    try:
        children = [pid for pid in group_pids(stack.pgid) if pid != stack.process.pid]
        assert children
        stack.process.send_signal(signal.SIGTERM)
        stack.process.wait(timeout=60)
        assert stack.process.returncode == 0, stack.output()
        eventually(lambda: not any(alive(pid) for pid in children), 30, what="chalice local to end")
        eventually(lambda: port_is_free(stack.port) and port_is_free(stack.aws_port), 30,
                   what="both ports to be free")
    finally:
        stack.stop()


def test_chalice_local_does_not_outlive_a_killed_parent():
    stack = RunningStack().start()
    try:
        children = [pid for pid in group_pids(stack.pgid) if pid != stack.process.pid]
        assert children
        stack.process.send_signal(signal.SIGKILL)
        stack.process.wait(timeout=10)
        eventually(lambda: not any(alive(pid) for pid in children), 30,
                   what="chalice local to end after `python -m local` was killed")
        eventually(lambda: port_is_free(stack.port), 30, what="PORT to be free")
    finally:
        stack.stop()


def test_the_stack_starts_again_on_the_same_ports_after_a_stop():
    port, aws_port = free_port(), free_port()
    for attempt in range(2):
        stack = RunningStack(port=port, aws_port=aws_port).start()
        try:
            assert stack.app_url == f"http://127.0.0.1:{port}/", attempt
            assert get(stack.app_url)[0] == 200
        finally:
            assert stack.stop() == 0, stack.output()
        assert not stack.killed


# --- Starting on a taken port --------------------------------------------------------------------

@pytest.mark.parametrize("busy", ["LOCAL_AWS_PORT", "PORT"])
def test_a_taken_port_gives_a_clear_error_and_a_non_zero_exit_without_a_traceback(busy):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = {"PORT": str(free_port()), "LOCAL_AWS_PORT": str(free_port()),
                 busy: str(taken.getsockname()[1])}
        env = {**os.environ, **ports}
        env.pop("AWS_ENDPOINT_URL", None)
        result = subprocess.run([sys.executable, "-m", "local"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60,
                                start_new_session=True)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert busy in result.stderr, output
    assert ports[busy] in result.stderr, output
    assert "Traceback" not in output
    assert "App:" not in result.stdout
