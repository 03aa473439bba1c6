"""The console of `make run` (local/run/console.py, local/run/outbox.py): every line is written
whole, however many threads print at once, and nothing a person or client chose reaches
the terminal as a control character.
"""
from __future__ import annotations

import io
import logging
import threading

import pytest

from local.run import console
from local.run.outbox import Outbox

HOSTILE = ["\x1b[31m", "\x00", "\x07", "\x7f", "\x9b2J", "\r", "\n", "\u202e", "\u2028"]


class RecordingStream(io.StringIO):
    """A stream that remembers every single write call."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.writes.append(text)
        return super().write(text)


def assert_terminal_safe(text: str) -> None:
    for line in text.split("\n"):
        assert line.isprintable(), repr(line)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_escape_shows_control_characters_instead_of_obeying_them(hostile):
    escaped = console.escape(f"ada{hostile}@example.com")
    assert_terminal_safe(escaped)
    assert escaped.startswith("ada\\") and escaped.endswith("@example.com")


@pytest.mark.parametrize("text", ["Ada Lovelace", "Zoë 🙂 李小龍", "a.b+tag@sub.example.co.uk",
                                  'subject="Your code"'])
def test_escape_keeps_printable_text_of_any_script_as_it_is(text):
    assert console.escape(text) == text


def test_an_escape_cannot_be_faked_with_a_backslash():
    assert console.escape("\\x1b") != console.escape("\x1b")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_an_outbox_line_escapes_the_address_and_stays_one_line(hostile):
    stream = RecordingStream()
    Outbox(stream).send(f"ada{hostile}@example.com", "Your Comm-IT verification code", "012345")
    [line] = stream.writes
    assert line.endswith("\n") and line.count("\n") == 1
    assert_terminal_safe(line[:-1])
    assert line.startswith("[outbox] email to=ada\\") and line.endswith(" code=012345\n")


def test_outbox_lines_from_many_threads_are_each_written_whole():
    stream, outbox = RecordingStream(), Outbox(RecordingStream())
    outbox = Outbox(stream)
    start = threading.Barrier(16)

    def send(n: int) -> None:
        start.wait()
        for i in range(50):
            outbox.send(f"user{n}-{i}@example.com", "Your Comm-IT verification code", f"{i:06d}")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stream.writes) == 16 * 50
    for write in stream.writes:  # one write per line: nobody's text lands inside another's
        assert write.startswith("[outbox] email to=user") and write.count("\n") == 1, repr(write)
        assert write.endswith("\n")
    assert len(stream.getvalue().splitlines()) == 16 * 50


def test_say_writes_each_line_once_whole():
    stream = RecordingStream()
    console.say("[event] save_profile <- sqs: applied", stream)
    assert stream.writes == ["[event] save_profile <- sqs: applied\n"]


def test_log_records_reach_the_console_escaped_and_whole():
    stream = RecordingStream()
    logger = logging.getLogger("tests.console.records")
    handler = console.ConsoleHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("cognito-idp sign_up failed: %s", "bad \x1b]0;pwned\x07 value\nFAKE LINE")
        try:
            raise ValueError("email \x1b[2J\nInjected: line")
        except ValueError:
            logger.exception("unhandled error on %s", "/api/\x1b[31m")
    finally:
        logger.removeHandler(handler)
    first, second = stream.writes
    assert first.count("\n") == 1 and "FAKE LINE" in first  # the forged line break is escaped
    assert_terminal_safe(first[:-1])
    assert "Traceback (most recent call last):" in second
    assert_terminal_safe(second)
    assert "Injected: line" in second and "\nInjected" not in second


def test_install_logging_routes_records_through_one_console_handler(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.WARNING)
    console.install_logging(logging.INFO)
    console.install_logging(logging.INFO)
    assert [type(h) for h in root.handlers] == [console.ConsoleHandler]
    # chalice local's basicConfig now keeps ours (it adds none when the root has one).
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    assert [type(h) for h in root.handlers] == [console.ConsoleHandler]


def test_print_from_many_threads_through_whole_lines_never_splits_a_line():
    """`print` writes the text and the newline apart; WholeLines passes on whole lines only."""
    sink = RecordingStream()
    stream = console.WholeLines(sink)
    start = threading.Barrier(16)

    def talk(n: int) -> None:
        start.wait()
        for i in range(50):
            print(f"[event] save_profile <- sqs: message {n}-{i}: applied", file=stream)

    threads = [threading.Thread(target=talk, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = sink.getvalue().split("\n")
    assert lines.pop() == ""
    assert len(lines) == 16 * 50
    for line in lines:
        assert (line.startswith("[event] save_profile <- sqs: message ")
                and line.endswith(": applied"))
    for write in sink.writes:
        assert write.endswith("\n")


def test_whole_lines_escapes_what_it_passes_on_but_not_twice():
    sink = RecordingStream()
    stream = console.WholeLines(sink)
    print("[event] FAILED ValueError: bad \x1b[31mname\x07", file=stream)
    console.say("[outbox] email to=ada\x1b@example.com", stream)
    first, second = sink.getvalue().splitlines()
    assert first == "[event] FAILED ValueError: bad \\x1b[31mname\\x07"
    assert second == "[outbox] email to=ada\\x1b@example.com"  # said escaped once, kept as is


def test_install_makes_the_process_streams_whole_lines(monkeypatch, app_logging):
    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.setattr("sys.stderr", io.StringIO())
    console.install()
    console.install()
    import sys

    assert isinstance(sys.stdout, console.WholeLines)
    assert isinstance(sys.stderr, console.WholeLines)
    assert not isinstance(sys.stdout.stream, console.WholeLines)


# --- one line per happening: the app's records once, readable ----------------------------------

@pytest.fixture
def app_logging(monkeypatch):
    """The root and the app's loggers as a fresh process has them (restored afterwards)."""
    from chalicelib import logs

    root, app = logging.getLogger(), logging.getLogger(logs.LOGGER)
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.WARNING)
    monkeypatch.setattr(app, "handlers", [])
    monkeypatch.setattr(app, "level", logging.NOTSET)
    monkeypatch.setattr(logs, "_configured", False)
    return logs


def test_an_app_record_is_one_readable_line_with_its_fields_and_no_secret():
    from chalicelib import logs

    stream = RecordingStream()
    record = logging.makeLogRecord({"name": "chalicelib.user_events", "levelname": "INFO",
                                    "levelno": logging.INFO, "msg": "published %s",
                                    "args": ("user.authenticated",), "event_id": "e-1",
                                    "access_token": "eyJ.secret"})
    with logs.fields(request_id="r-1"):
        console.ConsoleHandler(stream).handle(record)
    assert stream.writes == [
        "INFO chalicelib.user_events: published user.authenticated request_id=r-1 event_id=e-1\n"]


def test_the_console_shows_each_app_record_once_not_its_json_copy_too(monkeypatch, app_logging):
    stream = RecordingStream()
    monkeypatch.setattr("sys.stdout", stream)  # where the app's JSON handler writes
    console.install_logging(logging.INFO, stream)
    console.show_app_logs_once()
    console.show_app_logs_once()
    with app_logging.fields(request_id="r-1"):
        logging.getLogger("chalicelib.names").info("saved the name of %s", "sub-1")
    assert stream.writes == ["INFO chalicelib.names: saved the name of sub-1 request_id=r-1\n"]


def test_without_the_local_console_the_app_still_logs_json(monkeypatch, app_logging):
    import json

    stream = RecordingStream()
    monkeypatch.setattr("sys.stdout", stream)
    console.show_app_logs_once()  # a process that later has no console handler (as in Lambda)
    logging.getLogger("chalicelib.names").info("saved")
    [line] = stream.writes
    assert json.loads(line)["message"] == "saved" and json.loads(line)["level"] == "INFO"
