"""The console of `make run`: whole lines, and no raw control character from anyone.

Threads (the local AWS's request handlers, the pump) print at the same time, so a
line is one `write` under one lock: never a line split by another's (`print` writes
the text and its newline separately). `install()` makes that true of everything the
process prints, whoever prints it. Whatever a line holds that a person or a client
chose (an email address, a path, an AWS error message) reaches the terminal escaped:
`\\x1b[31m` is shown, never obeyed.

One line per happening: the app logs JSON (its format in Lambda, chalicelib/logs.py)
to stdout, and the same record reaches the root logger. Here the console shows it once,
readable (`INFO chalicelib.user_events: published ... request_id=...`), and the JSON
copy is not printed; Lambda's output is unchanged.
"""
from __future__ import annotations

import io
import logging
import sys
import threading
from typing import TextIO

_LOCK = threading.RLock()  # reentrant: say() writes through a WholeLines stream


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(text: str) -> str:
    """`text` safe for a terminal: every non-printable character (controls, escape
    sequences, bidi overrides, line breaks) as a visible escape; backslashes doubled
    so an escape cannot be faked."""
    return "".join("\\\\" if char == "\\" else char if char.isprintable() else _escaped(char)
                   for char in str(text))


def printable(text: str) -> str:
    """`text` with every non-printable character escaped (backslashes kept as they are)."""
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def write_line(text: str, stream: TextIO | None = None) -> None:
    """Write `text` (already safe) and its newline in one write, under the console lock."""
    stream = stream or sys.stdout
    with _LOCK:
        stream.write(text + "\n")
        stream.flush()


def say(line: str, stream: TextIO | None = None) -> None:
    """Print one console line, escaped, whole."""
    write_line(escape(line), stream)


class EscapingFormatter(logging.Formatter):
    """Log records with their message escaped; a traceback keeps its lines, each escaped."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.msg, record.args = escape(record.getMessage()), None
        return super().format(record)

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        """The traceback, line by line; an exception's own message (which may hold a
        client's text, line breaks included) escaped whole, so it cannot forge a line."""
        import traceback

        report = traceback.TracebackException(*ei)
        messages, seen = set(), report
        while seen is not None:
            messages.update(seen.format_exception_only())
            seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
        lines = []
        for chunk in report.format():
            if chunk in messages:
                lines.append(escape(chunk.removesuffix("\n")))
            else:
                lines.extend(escape(line) for line in chunk.removesuffix("\n").split("\n"))
        return "\n".join(lines)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return "\n".join(escape(line) for line in super().formatStack(stack_info).split("\n"))


class ReadableFormatter(EscapingFormatter):
    """The app's records as one readable line: level, logger, message, then the fields the
    JSON line would carry (request_id, event_id, ...: chalicelib/logs.py chooses them, and
    drops any that could hold a secret). Other records (chalice local, moto): the message."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        from chalicelib import logs

        line = super().format(record)
        if not record.name.startswith(logs.LOGGER):
            return line
        document = json.loads(logs.JsonFormatter().format(record))
        fields = " ".join(f"{key}={escape(str(value))}" for key, value in document.items()
                          if key not in ("time", "level", "logger", "message") and value != "")
        return f"{record.levelname} {record.name}: {line}" + (f" {fields}" if fields else "")


class ConsoleHandler(logging.Handler):
    """A logging handler that writes each record whole, through the console lock."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.setFormatter(ReadableFormatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            write_line(self.format(record), self.stream)
        except Exception:  # noqa: BLE001 (logging must never take the server down)
            self.handleError(record)


def install_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Route every log record of this process to the console, escaped and whole.

    Done before `chalice local` configures logging, whose basicConfig then keeps ours.
    """
    root = logging.getLogger()
    if not any(isinstance(handler, ConsoleHandler) for handler in root.handlers):
        root.addHandler(ConsoleHandler(stream))
    root.setLevel(level)


def _console_is_installed() -> bool:
    return any(isinstance(handler, ConsoleHandler) for handler in logging.getLogger().handlers)


class _ShownByTheConsole(logging.Filter):
    """On the app's own JSON handler: while this console shows the app's records, their
    JSON copy is not printed as well."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _console_is_installed()


def show_app_logs_once() -> None:
    """The app's records once, through the console (see the module's docstring)."""
    from chalicelib import logs

    logs.configure()  # its JSON handler exists from now on (configure() runs once)
    for handler in logging.getLogger(logs.LOGGER).handlers:
        if not any(isinstance(f, _ShownByTheConsole) for f in handler.filters):
            handler.addFilter(_ShownByTheConsole())


class WholeLines(io.TextIOBase):
    """A text stream that passes on only whole lines, each in one write under the console
    lock, non-printable characters escaped. A thread's unfinished line waits for its
    newline in that thread's own buffer, so no other thread's text can land inside it."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._pending = threading.local()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def write(self, text: str) -> int:
        *lines, rest = (getattr(self._pending, "text", "") + text).split("\n")
        self._pending.text = rest
        if lines:
            whole = "".join(printable(line) + "\n" for line in lines)
            with _LOCK:
                self.stream.write(whole)
                self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def install(level: int = logging.WARNING) -> None:
    """This process's stdout, stderr and logging: whole lines, escaped (see WholeLines)."""
    if not isinstance(sys.stdout, WholeLines):
        sys.stdout = WholeLines(sys.stdout)
    if not isinstance(sys.stderr, WholeLines):
        sys.stderr = WholeLines(sys.stderr)
    install_logging(level)
    show_app_logs_once()
