"""File names for a person's files (chalicelib/my_files.py), checked and stored one way.

1-255 bytes of UTF-8 (what file systems allow), normalised to NFC (the same name
typed on macOS and Windows is one file), no "/" or "\\", no "..", no control
characters, no bidirectional overrides (they make "txt.exe" display as "exe.txt"),
no leading or trailing space. Any other Unicode is fine.

Names stored around the app (the person's own credentials and the AWS CLI) obey none of
this: `archive_names` makes each of them a name every common extractor (Windows, macOS,
Linux; unzip, 7-Zip, Explorer, Python's zipfile) writes as one plain file, and no two alike.
"""
from __future__ import annotations

import re

from chalicelib.errors import ApiError, BadRequest

MAX_NAME_BYTES = 255
# Bidirectional formatting characters: they reorder how a name is displayed.
BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def file_name(raw: object) -> str:
    """A file name as stored (NFC), or 400 BadFileName saying what is wrong with it."""
    import unicodedata  # only uploads and deletes need it, not every Lambda's cold start

    if not isinstance(raw, str) or raw == "":
        raise _bad_name("Give the file a name.")
    name = unicodedata.normalize("NFC", raw)
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a JSON "\ud800" escape
        raise _bad_name("The file name contains characters that are not valid text.") from None
    if size > MAX_NAME_BYTES:
        raise _bad_name(f"The file name is too long: at most {MAX_NAME_BYTES} bytes of UTF-8 "
                        f"({MAX_NAME_BYTES} Latin letters, fewer in other scripts).")
    if "/" in name or "\\" in name:
        raise _bad_name("A file name cannot contain / or \\.")
    if ".." in name or name == ".":
        raise _bad_name('A file name cannot be "." or contain "..".')
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise _bad_name("A file name cannot contain control characters such as line breaks "
                        "or tabs.")
    if any(char in BIDI_CONTROLS for char in name):
        raise _bad_name("A file name cannot contain characters that change the direction of "
                        "text.")
    if name != name.strip():
        raise _bad_name("A file name cannot start or end with a space.")
    return name


# What Windows refuses in a file name, besides control characters; its device names (with
# any extension, any case); and what it drops from a name's end.
WINDOWS_RESERVED = set('<>:"/\\|?*')
WINDOWS_DEVICES = ({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
                   | {f"{port}{n}" for port in ("COM", "LPT")
                      for n in "123456789\u00b9\u00b2\u00b3"})
FALLBACK_NAME = "file"


def archive_names(stored: list[str]) -> dict[str, str]:
    """Each stored name (any text, "a/b" and "..\\..\\evil.txt" too) -> one safe file name:
    no directory, no control, bidirectional or Windows-reserved character, not a device
    name, no leading or trailing space or trailing dot, at most MAX_NAME_BYTES of UTF-8;
    and unique, ignoring case (Windows and macOS do), " (2)" before the extension if need be."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in stored:
        safe = _safe_name(name)
        stem, extension = _split(safe)
        candidate, number = safe, 1
        while candidate.casefold() in taken:
            number += 1
            candidate = _fit(f"{stem} ({number})", extension)
        taken.add(candidate.casefold())
        out[name] = candidate
    return out


def _safe_name(name: str) -> str:
    import unicodedata

    name = unicodedata.normalize("NFC", name).encode("utf-8", "replace").decode("utf-8")
    name = "".join("_" if char in WINDOWS_RESERVED or char in BIDI_CONTROLS
                   or unicodedata.category(char) in ("Cc", "Cs") else char for char in name)
    name = re.sub(r"\.{2,}", "_", name)  # no "..", even where no separator is left
    name = name.strip().rstrip(". ")  # Windows drops trailing dots and spaces
    if not name:
        return FALLBACK_NAME
    if name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_DEVICES:
        name = "_" + name
    return _fit(*_split(name))


def _split(name: str) -> tuple[str, str]:
    """"report.final.pdf" -> ("report.final", ".pdf"); ".profile" and "README" have none."""
    stem, dot, extension = name.rpartition(".")
    return (stem, dot + extension) if stem.strip(".") else (name, "")


def _fit(stem: str, extension: str) -> str:
    """stem + extension in at most MAX_NAME_BYTES of UTF-8, cut at a character, never ending
    in a space or a dot; a too long extension is cut too."""
    if len(extension.encode("utf-8")) > MAX_NAME_BYTES // 2:
        stem, extension = stem + extension, ""
    room = MAX_NAME_BYTES - len(extension.encode("utf-8"))
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(". ") or "_"
    return stem + extension


def _bad_name(message: str) -> ApiError:
    return BadRequest(message, code="BadFileName")
